"""``ratetool migrate``: converting a data folder between the TOML and CSV stores keeps every
rating, switches config.toml only after the new layout read back the same, keeps the old files,
and leaves the old layout in use whatever goes wrong. Also: every command gives the same output
on either store, and ``init --store`` refuses to hide data in the other layout."""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from helpers.store_kit import CLIENT, chop, make_rating, snapshot, write_config
from ratetool.cli import app
from ratetool.config import load_config
from ratetool.errors import StoreError
from ratetool.instruments import Instrument, load_builtin
from ratetool.model import Rating
from ratetool.store import migrate as migrate_module
from ratetool.store import open_store
from ratetool.store.migrate import STAGING, differences, migrate

EXAMPLES = Path(__file__).parent.parent / "examples" / "data"
FIXTURES = Path(__file__).parent / "fixtures"
CHECKIN = load_builtin("checkin")
CORE = load_builtin("core")


def resolve(instrument_id: str, version: int) -> Instrument | None:
    inst = {"checkin": CHECKIN, "core": CORE}.get(instrument_id)
    return inst if inst is not None and inst.version == version else None


def cli(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input)


def everything(root: Path) -> dict[str, bytes]:
    """Every file and folder under ``root`` except the lock file and derived caches (which any
    read may rebuild): what a failed or refused migrate must leave exactly as it was."""
    return {
        str(p.relative_to(root)): p.read_bytes() if p.is_file() else b"<dir>"
        for p in sorted(root.rglob("*"))
        if p.name != ".ratetool.lock" and ".ratetool-cache" not in p.relative_to(root).parts
    }


def copy_examples(data_dir: Path) -> None:
    shutil.copytree(EXAMPLES, data_dir)


def by_id(ratings: list[Rating]) -> dict[str, Rating]:
    return {r.id: r for r in ratings}


# ------------------------------------------------------------------------------------------------
# Every record survives both ways (Hypothesis)

NASTY = ["", "=", "+1", "-3", "@x", "'", "''", "\t", "\r", "\n", "\r\n", '"', "\0", ",", ";",
         "\u2028", "\x85", "\ufeff", "😀", "[[sessions]]", "format = 2"]  # fmt: skip
texts = st.one_of(
    st.none(),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=30),
    st.lists(st.sampled_from(NASTY), min_size=1, max_size=5).map("".join),
)
zones = st.one_of(
    st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m))),
    st.integers(-(24 * 3600 - 1), 24 * 3600 - 1).map(lambda s: timezone(timedelta(seconds=s))),
)
moments = st.builds(
    lambda naive, tz: naive.replace(tzinfo=tz),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2026, 10, 31)),
    zones,
)


@st.composite
def ratings(draw) -> Rating:
    inst = draw(st.sampled_from([CHECKIN, CORE]))
    answers: dict[str, int] = {}
    skipped: list[str] = []
    for item in inst.item_ids:
        if inst.allow_skip and draw(st.integers(0, 4)) == 0:  # reading holds skips to this
            skipped.append(item)
        else:
            answers[item] = draw(st.integers(inst.scale.min, inst.scale.max))
    return Rating(
        id=draw(st.one_of(st.uuids().map(str), st.sampled_from(["'x", "=id", " spaced "]))),
        client=draw(st.sampled_from(["C-1", "C-2", "-lead", "x_9"])),
        session=draw(st.integers(1, 2000)),
        rated_at=draw(moments),
        instrument=inst.id,
        instrument_version=inst.version,
        answers=answers,
        practitioner=draw(texts),
        comment=draw(texts),
        skipped=tuple(skipped),
    )


def assert_same(got: list[Rating], want: list[Rating]) -> None:
    assert differences(want, got) == []
    mine = by_id(got)
    for rating in want:
        other = mine[rating.id]
        assert other == replace(
            rating, practitioner=rating.practitioner or None, comment=rating.comment or None
        )


@given(
    caseload=st.lists(
        ratings(),
        min_size=1,
        max_size=8,
        # a store holds each id once and each (client, session) once; migrate refuses otherwise
        unique_by=(lambda r: r.id, lambda r: (r.client, r.session)),
    )
)
@settings(max_examples=25)
def test_migrate_both_ways_keeps_every_record(tmp_path: Path, monkeypatch, caseload):
    monkeypatch.setattr(os, "fsync", lambda fd: None)  # about content, not durability
    root = tmp_path / uuid.uuid4().hex
    data, config = root / "data", root / "config"
    open_store(data, "toml", resolve).add(caseload, number_sessions=False)
    want = open_store(data, "toml", resolve).read_all().ratings
    assert len(want) == len(caseload)

    to_csv = migrate(data, config, "csv", current="toml", resolve=resolve)
    assert (to_csv.ratings, to_csv.switched) == (len(caseload), True)
    assert load_config(config).store == "csv"
    csv_side = open_store(data, "csv", resolve)
    assert csv_side.check() == []
    assert_same(csv_side.read_all().ratings, want)
    [kept] = to_csv.kept
    assert kept.name.startswith("clients.migrated-") and kept.is_dir()

    back = migrate(data, config, "toml", current="csv", resolve=resolve)
    assert back.switched and load_config(config).store == "toml"
    toml_side = open_store(data, "toml", resolve)
    assert toml_side.check() == []
    assert_same(toml_side.read_all().ratings, want)
    assert not (data / STAGING).exists()


def test_examples_to_csv_and_back_give_identical_output(data_dir: Path):
    copy_examples(data_dir)
    commands = [
        ["summary", "--json"],
        ["summary"],
        ["clients", "--json"],
        ["export", "--format", "csv", "--output", "-"],
        *(["summary", c, "--json"] for c in ("C-101", "C-102", "C-103", "C-104")),
    ]

    def outputs() -> list[str]:
        results = [cli(*args) for args in commands]
        assert all(r.exit_code == 0 for r in results), [r.output for r in results]
        return [r.stdout for r in results]

    before = outputs()
    files_before = everything(data_dir / "clients")
    assert cli("migrate", "--to", "csv").exit_code == 0
    assert outputs() == before
    assert cli("migrate", "--to", "toml").exit_code == 0
    assert outputs() == before
    [kept] = data_dir.glob("clients.migrated-*")
    assert everything(kept) == files_before  # the original files, byte for byte
    assert everything(data_dir / "clients").keys() == files_before.keys()


# ------------------------------------------------------------------------------------------------
# Every command works the same on either store


@pytest.fixture
def both_stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[Path, Path]]:
    """The examples in a TOML data folder and, converted, in a CSV one."""
    roots = {}
    for kind in ("toml", "csv"):
        root = tmp_path / kind
        copy_examples(root / "data")
        write_config(root / "config", "toml")
        roots[kind] = (root / "data", root / "config")
    data, config = roots["csv"]
    migrate(data, config, "csv", current="toml")
    return roots


def run_in(folders: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, *args: str):
    monkeypatch.setenv("RATETOOL_DATA_DIR", str(folders[0]))
    monkeypatch.setenv("RATETOOL_CONFIG_DIR", str(folders[1]))
    result = cli(*args)
    where = str(folders[0])
    return (
        result.exit_code,
        result.stdout.replace(where, "<data>"),
        result.stderr.replace(where, "<data>"),
    )


@pytest.mark.parametrize(
    "args",
    [
        ["summary"],
        ["summary", "--json"],
        ["summary", "C-103"],
        ["summary", "C-103", "--json"],
        ["chart", "C-104"],
        ["clients"],
        ["clients", "--json"],
        ["export", "--format", "csv", "--output", "-"],
        ["export", "--format", "json", "--output", "-"],
        ["summary", "C-999"],
    ],
)
def test_every_command_gives_the_same_output_on_either_store(both_stores, monkeypatch, args):
    toml_out = run_in(both_stores["toml"], monkeypatch, *args)
    csv_out = run_in(both_stores["csv"], monkeypatch, *args)
    assert csv_out == toml_out


def test_check_import_and_rate_work_the_same_on_either_store(both_stores, monkeypatch, tmp_path):
    export = tmp_path / "export.csv"
    code, _, _ = run_in(both_stores["toml"], monkeypatch, "export", "--format", "csv",
                        "--output", str(export))  # fmt: skip
    assert code == 0
    steps = [
        ["check"],
        ["import", str(export)],  # everything is there already: all duplicates
        ["import", str(FIXTURES / "paper-forms-typed.csv"), "--dry-run"],
        ["import", str(FIXTURES / "paper-forms-typed.csv")],
        ["import", str(FIXTURES / "paper-forms-typed.csv")],  # the same again: all duplicates
        ["import", str(FIXTURES / "bad-rows.csv")],
        ["rate", "C-101", "--answers", "8,9,7,10", "--yes", "--date", "2025-03-17"],
        ["rate", "C-200", "--answers", "8,s,7,10", "--yes", "--date", "2025-03-17"],
        ["summary", "--json"],
        ["summary", "C-101", "--json"],
        ["clients", "--json"],
        ["check"],
    ]
    for args in steps:
        toml_code, toml_stdout, toml_err = run_in(both_stores["toml"], monkeypatch, *args)
        csv_code, csv_stdout, csv_err = run_in(both_stores["csv"], monkeypatch, *args)
        assert csv_code == toml_code, (args, toml_err, csv_err)
        if args[0] == "check":  # one file per client against one file: the count differs
            assert "no problems" in toml_stdout and "no problems" in csv_stdout
        elif args[0] == "rate":
            assert csv_stdout.replace("ratings.csv", "X") == toml_stdout.replace(
                f"clients/{args[1]}.toml", "X"
            )
        else:
            assert csv_stdout == toml_stdout, args
            assert csv_err == toml_err, args


# ------------------------------------------------------------------------------------------------
# Refusals, dry runs, crashes


def test_dry_run_writes_nothing(data_dir: Path, config_dir: Path):
    copy_examples(data_dir)
    write_config(config_dir, "toml")
    before = snapshot(data_dir.parent)
    result = cli("migrate", "--to", "csv", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "39 ratings for 4 clients" in result.stdout and "Nothing was written" in result.stdout
    assert snapshot(data_dir.parent) == before


def test_problems_stop_the_migration_and_say_what_to_do(data_dir: Path, config_dir: Path):
    copy_examples(data_dir)
    write_config(config_dir, "toml")
    chop(data_dir / "clients" / "C-102.toml", 9)
    before = everything(data_dir.parent)
    result = cli("migrate", "--to", "csv")
    assert result.exit_code == 1
    assert "check --repair" in result.stderr and "Nothing was changed" in result.stderr
    assert "C-102.toml" in result.stderr
    assert everything(data_dir.parent) == before


def test_duplicate_ids_stop_the_migration(data_dir: Path, config_dir: Path):
    store = open_store(data_dir, "toml")
    first = make_rating(CLIENT, 0)
    store.add([first, replace(make_rating("C-020", 1), id=first.id)])
    before = everything(data_dir.parent)
    result = cli("migrate", "--to", "csv")
    assert result.exit_code == 1 and first.id in result.stderr
    assert everything(data_dir.parent) == before


@pytest.mark.parametrize("target", ["csv", "toml"])
def test_existing_target_files_are_never_overwritten(data_dir: Path, config_dir: Path, target):
    source = "toml" if target == "csv" else "csv"
    write_config(config_dir, source)
    open_store(data_dir, source).add([make_rating(CLIENT, 0)])
    open_store(data_dir, target).add([make_rating("C-020", 1)])  # already there, somehow
    before = everything(data_dir.parent)
    result = cli("migrate", "--to", target)
    assert result.exit_code == 1
    assert "already exists" in result.stderr and "Move it out" in result.stderr
    assert everything(data_dir.parent) == before


def test_already_toml_is_nothing_to_do(data_dir: Path, config_dir: Path):
    open_store(data_dir, "toml").add([make_rating()])
    before = everything(data_dir.parent)
    result = cli("migrate", "--to", "toml")
    assert result.exit_code == 0 and "nothing to do" in result.stdout
    assert everything(data_dir.parent) == before


def test_an_unknown_target_is_a_usage_error(data_dir: Path):
    result = cli("migrate", "--to", "xlsx")
    assert result.exit_code == 2 and "csv or toml" in result.output


def test_a_config_switched_by_hand_is_converted_from_where_the_data_is(
    data_dir: Path, config_dir: Path
):
    """store = "csv" written by hand while the ratings are still in clients/: migrate --to csv
    converts them instead of finding an empty ratings.csv."""
    open_store(data_dir, "toml").add([make_rating(CLIENT, 0), make_rating(CLIENT, 1)])
    write_config(config_dir, "csv")
    result = cli("migrate", "--to", "csv")
    assert result.exit_code == 0, result.output
    assert "2 ratings for 1 client" in result.stdout
    assert len(open_store(data_dir, "csv").read_all().ratings) == 2


@pytest.mark.parametrize("fail_at", ["write", "verify", "config"])
def test_a_failure_halfway_leaves_the_old_layout_in_use_and_intact(
    data_dir: Path, config_dir: Path, monkeypatch: pytest.MonkeyPatch, fail_at: str
):
    copy_examples(data_dir)
    write_config(config_dir, "toml")
    before = everything(data_dir.parent)
    from ratetool.store.csv_store import CsvStore

    class Crash(Exception):
        pass

    def boom(*args, **kwargs):
        raise Crash(fail_at)

    with pytest.MonkeyPatch.context() as patch:
        if fail_at == "write":
            real_add = CsvStore.add_locked

            def half(self, ratings, *rest):  # half the rows are written, then it stops
                real_add(self, ratings[: len(ratings) // 2], *rest)
                raise Crash("write")

            patch.setattr(CsvStore, "add_locked", half)
        elif fail_at == "verify":
            patch.setattr(migrate_module, "differences", lambda want, got: ["made up"])
        else:
            import ratetool.config

            patch.setattr(ratetool.config, "save_config", boom)
        with pytest.raises((Crash, StoreError)):
            migrate(data_dir, config_dir, "csv", current="toml")
    assert everything(data_dir.parent) == before  # nothing in place, nothing left behind
    assert load_config(config_dir).store == "toml"
    assert cli("summary", "C-101", "--json").exit_code == 0
    assert cli("migrate", "--to", "csv").exit_code == 0  # and it works afterwards


def test_a_staging_folder_left_by_a_crash_is_removed_next_time(data_dir: Path, config_dir: Path):
    copy_examples(data_dir)
    write_config(config_dir, "toml")
    staging = data_dir / STAGING
    staging.mkdir()
    (staging / "ratings.csv").write_bytes(b"id,client\r\npartial")  # a killed migrate
    result = cli("migrate", "--to", "csv")
    assert result.exit_code == 0, result.output
    assert not staging.exists()
    assert len(open_store(data_dir, "csv").read_all().ratings) == 39


def test_new_files_in_place_but_config_not_switched(data_dir: Path, config_dir: Path):
    """A crash after the new layout was moved in but before config.toml was switched: the old
    layout is still in use (a rating goes there), and migrate refuses until the stale copy is
    moved out, then converts everything, the new rating included."""
    copy_examples(data_dir)
    write_config(config_dir, "toml")
    scratch = data_dir.parent / "scratch"
    shutil.copytree(data_dir, scratch / "data")
    migrate(scratch / "data", scratch / "config", "csv", current="toml")
    shutil.copy(scratch / "data" / "ratings.csv", data_dir / "ratings.csv")
    rated = cli("rate", "C-101", "--answers", "8,9,7,10", "--yes")
    assert "clients" in rated.stdout and "session 11" in rated.stdout
    refused = cli("migrate", "--to", "csv")
    assert refused.exit_code == 1 and "ratings.csv already exists" in refused.stderr
    (data_dir / "ratings.csv").rename(data_dir.parent / "stale.csv")
    assert cli("migrate", "--to", "csv").exit_code == 0
    assert len(open_store(data_dir, "csv").read_client("C-101").ratings) == 11


def test_migrate_output_says_where_the_old_files_are(data_dir: Path, config_dir: Path):
    copy_examples(data_dir)
    result = cli("migrate", "--to", "csv")
    assert result.exit_code == 0, result.output
    [kept] = data_dir.glob("clients.migrated-*")
    assert f"Kept the old files as {kept}" in result.stdout
    assert 'store = "csv"' in result.stdout
    assert 'store = "csv"' in (config_dir / "config.toml").read_text("utf-8")
    back = cli("migrate", "--to", "toml")
    [kept_csv] = data_dir.glob("ratings.csv.migrated-*")
    assert f"Kept the old files as {kept_csv}" in back.stdout
    assert not (data_dir / "ratings.csv").exists()


# ------------------------------------------------------------------------------------------------
# init --store


@pytest.mark.parametrize(("has", "switch_to"), [("toml", "csv"), ("csv", "toml")])
def test_init_store_refuses_to_hide_data_in_the_other_layout(
    data_dir: Path, config_dir: Path, has: str, switch_to: str
):
    write_config(config_dir, has)
    open_store(data_dir, has).add([make_rating()])
    before = everything(config_dir)
    result = cli("init", "--store", switch_to)
    assert result.exit_code == 1
    assert f"ratetool migrate --to {switch_to}" in result.stderr
    assert "Nothing was changed" in result.stderr
    assert everything(config_dir) == before
    assert cli("init", "--store", has).exit_code == 0  # the store that holds the data: fine


def test_init_store_switches_freely_without_data(data_dir: Path, config_dir: Path):
    assert cli("init", "--store", "csv").exit_code == 0
    assert load_config(config_dir).store == "csv"
    assert cli("rate", CLIENT, "--answers", "8,9,7,10", "--yes").exit_code == 0
    assert (data_dir / "ratings.csv").exists() and not (data_dir / "clients").exists()
    assert cli("init", "--practitioner", "AB").exit_code == 0  # other settings: no check
