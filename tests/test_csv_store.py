"""The CSV store's own file layout: bytes, truncation at every offset, hand edits, newer formats,
formula escaping, the header fixed at creation, and the derived index (a cache that must never
hide a rating). Interface-level tests run against both stores in ``test_store.py``."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
import zlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers.store_kit import (
    CET,
    CLIENT,
    assert_newer_format_refused,
    chop,
    corrupt_files,
    make_rating,
    same_rating,
    snapshot,
    write_config,
)
from ratetool.cli import app
from ratetool.errors import DamagedFileError, StoreError
from ratetool.model import Rating
from ratetool.store import open_store
from ratetool.store.csv_format import RATINGS_NAME
from ratetool.store.csv_index import CACHE_DIR, INDEX_NAME, Index
from ratetool.store.csv_parse import parse_csv_bytes
from ratetool.store.csv_store import CsvStore

FIXTURES = Path(__file__).parent / "fixtures"
POSIX = os.name == "posix"
HEADER = (
    "id,client,session,rated_at,instrument,instrument_version,practitioner,"
    "empathy,warmth,genuineness,trust,"
    "empathy_1,warmth_1,genuineness_1,trust_1,empathy_2,warmth_2,genuineness_2,trust_2,"
    "empathy_3,warmth_3,genuineness_3,trust_3,skipped,comment,correction,target,reason,format\r\n"
)
CORE_EMPTY = ",,,,,,,,,,,,"  # the 12 item cells of the core instrument


@pytest.fixture
def store(data_dir: Path) -> CsvStore:
    return open_store(data_dir, "csv")  # type: ignore[return-value]


@pytest.fixture
def cli_store(config_dir: Path, data_dir: Path) -> CsvStore:
    write_config(config_dir, "csv")
    return open_store(data_dir, "csv")  # type: ignore[return-value]


def cli(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input)


def rows_of(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8"), newline="")))


def index_file(data_dir: Path) -> Path:
    return data_dir / CACHE_DIR / INDEX_NAME


# ------------------------------------------------------------------------------------------------
# The file


def test_file_layout_is_header_then_one_row_per_rating(store: CsvStore):
    rating = make_rating(
        CLIENT,
        0,
        id="6f1c3a52-0000-4000-8000-000000000001",
        practitioner="AB",
        comment='She said "better"\nthan last week',
        answers={"empathy": 8, "warmth": 9, "genuineness": 7},
        skipped=("trust",),
    )
    store.add([rating])
    path = store.path
    assert path == store.data_dir / RATINGS_NAME
    assert store.files() == [path]
    first = path.read_bytes()
    assert not first.startswith(b"\xef\xbb\xbf")  # no byte-order mark from ratetool
    assert first.decode("utf-8") == (
        HEADER
        + "6f1c3a52-0000-4000-8000-000000000001,C-014,1,2026-11-03T10:50:00+01:00,checkin,1,AB,"
        + "8,9,7,"
        + ","
        + CORE_EMPTY
        + 'trust,"She said ""better""\nthan last week",,,,2\r\n'
    )
    store.add([make_rating("C-020", 1, id="second")])
    second = path.read_bytes()
    assert second.startswith(first)  # appended; the header is not repeated
    tail = second[len(first) :].decode("utf-8")
    assert tail.startswith("second,C-020,1,2026-11-10T10:50:00+01:00,checkin,1,,9,10,8,0,")
    assert tail.endswith(",,,,,2\r\n") and tail.count("\r\n") == 1
    assert second.count(b"format") == 1


def test_text_cells_are_escaped_and_numbers_are_not(store: CsvStore):
    """Formula injection: every line of hostile-comments.txt is written as escaped text and
    reads back exactly; a text cell starting with ' gets one more; numbers stay bare."""
    hostile = [
        line.replace("\\t", "\t").replace("\\r", "\r")
        for line in (FIXTURES / "hostile-comments.txt").read_text("utf-8").splitlines()
        if line
    ]
    ratings = [
        make_rating(CLIENT, i, comment=text, practitioner="-AB", id=f"'id{i}")
        for i, text in enumerate(hostile)
    ]
    ratings.append(make_rating("-X", 50, comment="'quoted", practitioner="@me"))
    store.add(ratings)
    rows = rows_of(store.path)
    header, body = rows[0], rows[1:]
    col = {name: i for i, name in enumerate(header)}
    for row, rating in zip(body, ratings):
        for name in ("id", "client", "practitioner", "comment"):
            cell, value = row[col[name]], getattr(rating, name)
            if value[:1] in ("=", "+", "-", "@", "\t", "\r", "\n", "\0", "'"):
                assert cell == "'" + value, (name, value)
            else:
                assert cell == value
        for name in ("session", "instrument_version", "empathy", "warmth", "format"):
            assert re.fullmatch(r"[0-9]+", row[col[name]]), (name, row[col[name]])
    got = {r.id: r for r in store.read_all().ratings}
    for rating in ratings:
        assert got[rating.id].comment == rating.comment
        assert got[rating.id].practitioner == rating.practitioner
        assert got[rating.id].client == rating.client


def test_a_byte_order_mark_and_lf_line_ends_are_read(store: CsvStore):
    """A file saved by another program: BOM, LF instead of CRLF. It reads; appending keeps
    working (CRLF rows after LF rows read fine)."""
    store.add([make_rating(CLIENT, 0, comment="a\r\nb"), make_rating(CLIENT, 1)])
    text = store.path.read_bytes().replace(b",1\r\n", b",1\n")
    store.path.write_bytes(b"\xef\xbb\xbf" + text)
    result = store.read_client(CLIENT)
    assert result.problems == [] and [r.session for r in result.ratings] == [1, 2]
    assert result.ratings[0].comment == "a\r\nb"
    assert [r.session for r in store.add([make_rating(CLIENT, 2)]).added] == [3]
    assert store.check() == []
    assert [r.session for r in store.read_all().ratings] == [1, 2, 3]


def test_a_hand_typed_row_follows_the_toml_rules(store: CsvStore):
    """A row not as ratetool writes it (date only, naive time, no format quirks) is judged by
    the same rules as a TOML block: a date alone is noon local time, a time without offset is
    local time."""
    store.add([make_rating(CLIENT, 0)])
    cells = rows_of(store.path)[1]
    cells[0], cells[2], cells[3] = "typed-1", "2", "2026-11-10"
    other = list(cells)
    other[0], other[2], other[3] = "typed-2", "3", "2026-11-17T09:30"
    with open(store.path, "a", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows([cells, other])
    result = store.read_client(CLIENT)
    assert result.problems == []
    typed = {r.id: r for r in result.ratings}
    assert typed["typed-1"].rated_at.hour == 12 and typed["typed-1"].rated_at.tzinfo is not None
    assert typed["typed-2"].rated_at.hour == 9 and typed["typed-2"].rated_at.tzinfo is not None


# ------------------------------------------------------------------------------------------------
# Truncation at every byte offset


def _three() -> list[Rating]:
    return [
        make_rating(CLIENT, 0, practitioner="ÅB", comment='Très "bien" 😀 , \\ =1\r\nx'),
        make_rating(
            CLIENT, 1, answers={"empathy": 10, "warmth": 0, "genuineness": 5}, skipped=("trust",)
        ),
        make_rating(CLIENT, 2, comment="ok", rated_at=datetime(2026, 12, 1, 8, 0, tzinfo=UTC)),
    ]


def test_truncation_at_every_offset_never_misreads(store: CsvStore):
    """Cut the file at every byte: each complete row still reads (only complete rows, exactly as
    written); a cut is only ever 'torn', never 'damaged'; the torn part starts after the last
    complete row, so repair can never move a saved rating aside."""
    store.add(_three())
    full = store.path.read_bytes()
    stored = store.read_client(CLIENT).ratings
    assert [r.session for r in stored] == [1, 2, 3]
    header_end = full.index(b"\r\n") + 2
    ends = [m.end() for m in re.finditer(rb",2\r\n", full)]
    assert len(ends) == 3 and header_end < ends[0]

    for off in range(len(full) + 1):
        cut = full[:off]
        parsed = parse_csv_bytes(store.path, cut)
        complete = sum(end <= off for end in ends)
        assert parsed.ratings == stored[:complete], off
        assert all(same_rating(g, w) for g, w in zip(parsed.ratings, stored)), off
        kinds = [p.kind for p in parsed.problems]
        assert kinds in ([], ["torn"]), (off, parsed.problems)
        anchor = ends[complete - 1] if complete else (header_end if off >= header_end else 0)
        expect_torn = off > anchor
        assert (kinds == ["torn"]) == expect_torn, (off, cut[anchor:], parsed.problems)
        if expect_torn:
            assert parsed.torn_offset == anchor, off  # exactly the cut-short part, no more
            assert parsed.problems[0].line is not None, off
        else:
            assert parsed.torn_offset is None


def _repair_cycle_at(folder: Path, cut: bytes, stored: list[Rating], complete: int) -> None:
    store = open_store(folder, "csv")
    path = folder / RATINGS_NAME
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():  # one folder for every cut (fast): start empty
        if old.is_file() and old.name != ".ratetool.lock":
            old.unlink()
    path.write_bytes(cut)
    torn = any(p.kind == "torn" for p in store.read_client(CLIENT).problems)
    if torn:
        with pytest.raises(DamagedFileError, match="check --repair"):
            store.add([make_rating(CLIENT, 9)])
        assert path.read_bytes() == cut
    done = store.repair()
    moved = corrupt_files(folder)
    left = path.read_bytes()
    if torn:
        assert len(done) == 1 and len(moved) == 1
        assert moved[0].name.startswith(f"{path.name}.corrupt-")
        assert left + moved[0].read_bytes() == cut  # not one byte lost
        moved[0].unlink()
    else:
        assert done == [] and moved == [] and left == cut
    assert store.check() == []
    assert store.read_client(CLIENT).ratings == stored[:complete]
    new = store.add([make_rating(CLIENT, 9)]).added[0]
    assert new.session == complete + 1
    assert path.read_bytes().startswith(left)
    after = store.read_client(CLIENT)
    assert after.problems == [] and after.ratings == stored[:complete] + [new]


def test_repair_after_truncation_keeps_every_byte(
    store: CsvStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Cuts at every offset of the last row and every 7th before it: repair moves exactly the
    torn bytes aside, then appending works with the next session number and check() is clean."""
    store.add(_three())
    full = store.path.read_bytes()
    stored = store.read_client(CLIENT).ratings
    ends = [m.end() for m in re.finditer(rb",2\r\n", full)]
    offsets = sorted(set(range(0, ends[1], 7)) | set(range(ends[1], len(full) + 1)))
    monkeypatch.setattr(os, "fsync", lambda fd: None)  # about which bytes go where: fast
    for off in offsets:
        complete = sum(end <= off for end in ends)
        _repair_cycle_at(tmp_path / "cuts", full[:off], stored, complete)


def test_a_blank_tail_without_line_break_is_torn_and_never_glued_to_a_new_row(store: CsvStore):
    """Spaces or a lone CR after the last row (a cut-short blank line): torn, so the next row
    cannot start mid-line; repair moves exactly those bytes."""
    store.add([make_rating(CLIENT, 0)])
    good = store.path.read_bytes()
    for tail in (b"  ", b"\r", b"\r\n\r"):
        store.path.write_bytes(good + tail)
        problems = store.check()
        assert [p.kind for p in problems] == ["torn"], tail
        with pytest.raises(DamagedFileError):
            store.add([make_rating(CLIENT, 1)])
        assert len(store.repair()) == 1
        assert store.path.read_bytes().startswith(good)
        assert store.check() == []
    assert [r.session for r in store.add([make_rating(CLIENT, 1)]).added] == [2]


# ------------------------------------------------------------------------------------------------
# Hand-damaged rows and headers


def _damage(path: Path, row: int, change) -> tuple[bytes, int]:
    """Apply ``change(line_bytes) -> bytes`` to physical line ``row`` (0 = header)."""
    lines = path.read_bytes().split(b"\r\n")
    lines[row] = change(lines[row])
    data = b"\r\n".join(lines)
    path.write_bytes(data)
    return data, row + 1


@pytest.mark.parametrize(
    "damage",
    ["cells", "value", "format-word", "quote", "utf8", "client", "both"],
)
def test_damaged_middle_row_is_reported_not_repaired(store: CsvStore, data_dir: Path, damage: str):
    r1, r2, r3, r4 = (make_rating(CLIENT, i) for i in range(4))
    store.add([r1, r2, r3, r4])
    changes = {
        "cells": lambda b: b.replace(b",checkin,", b",checkin,extra,"),
        "value": lambda b: b.replace(b",C-014,2,", b",C-014,two,"),
        "format-word": lambda b: b[:-1] + b"x",
        # A quote opened and never closed: the rows after it are not swallowed.
        "quote": lambda b: b.replace(b",C-014,", b',"C-014,'),
        "utf8": lambda b: b.replace(b"C-014", b"C-\xff14"),
        "client": lambda b: b.replace(b"C-014", b"C 014"),
        "both": lambda b: b.replace(b",,,,,,,,,,,,,,,,,,2", b",,,,,,,,,,,,,trust,,,,,2"),
    }
    damaged, line = _damage(store.path, 2, changes[damage])
    result = store.read_client(CLIENT)
    assert {r.id for r in result.ratings} == {r1.id, r3.id, r4.id}
    [problem] = result.problems
    assert (problem.kind, problem.line, problem.path) == ("damaged", line, store.path)
    assert f"line {line}" in str(problem)
    assert problem in store.check()
    assert {r.id for r in store.read_all().ratings} == {r1.id, r3.id, r4.id}

    with pytest.raises(DamagedFileError) as refused:
        store.add([make_rating(CLIENT, 5)])
    assert f"line {line}" in str(refused.value) and "text editor" in str(refused.value)
    assert store.repair() == []
    assert store.path.read_bytes() == damaged and corrupt_files(data_dir) == []


def test_a_damaged_last_row_with_a_line_break_is_damaged_not_torn(store: CsvStore):
    """A complete last row (it ends with its line break) holding a wrong value was edited, not
    cut short: repair must not move it away."""
    store.add([make_rating(CLIENT, 0), make_rating(CLIENT, 1)])
    damaged, line = _damage(store.path, 2, lambda b: b.replace(b",C-014,2,", b",C-014,0,"))
    [problem] = store.check()
    assert problem.kind == "damaged" and problem.line == line
    assert store.repair() == [] and store.path.read_bytes() == damaged


@pytest.mark.parametrize(
    "change",
    [
        lambda b: b.replace(b"trust,", b"trust,trust,", 1),  # a column twice
        lambda b: b.replace(b",format", b""),  # no format column
        lambda b: b.replace(b"empathy_1", b"overall"),  # a reserved name
        lambda b: b.replace(b"empathy_1", b"empathy 1"),  # not an item id
    ],
)
def test_a_damaged_header_is_reported_and_blocks_appending(store: CsvStore, change):
    store.add([make_rating(CLIENT, 0)])
    damaged, _ = _damage(store.path, 0, change)
    result = store.read_all()
    assert result.ratings == []
    [problem] = result.problems
    assert problem.kind == "damaged" and problem.line == 1 and "header" in problem.message
    with pytest.raises(DamagedFileError):
        store.add([make_rating(CLIENT, 1)])
    assert store.repair() == [] and store.path.read_bytes() == damaged


# ------------------------------------------------------------------------------------------------
# A newer format


def _newer(store: CsvStore, *, new_column: bool) -> None:
    store.add([make_rating(CLIENT, 0), make_rating(CLIENT, 1)])
    text = store.path.read_bytes()
    if new_column:  # a newer layout: a column this ratetool does not know, rows in format 3
        text = text.replace(b",format\r\n", b",mood,format\r\n").replace(b",2\r\n", b",x,3\r\n")
    else:  # the same layout, the last row written by a newer ratetool
        head, _, last = text.rstrip(b"\r\n").rpartition(b"\r\n")
        text = head + b"\r\n" + last[:-1] + b"3\r\n"
    store.path.write_bytes(text)


@pytest.mark.parametrize("new_column", [False, True])
def test_newer_format_is_refused_everywhere(store: CsvStore, data_dir: Path, config_dir: Path,
                                            new_column: bool):  # fmt: skip
    _newer(store, new_column=new_column)
    write_config(config_dir, "csv")
    before = snapshot(data_dir)
    operations = {
        "read_client": lambda: store.read_client(CLIENT),
        "read_all": store.read_all,
        "check": store.check,
        "existing_ids": store.existing_ids,
        "client_codes": store.client_codes,
        "add": lambda: store.add([make_rating(CLIENT, 1)]),
        "add-skip": lambda: store.add([make_rating(CLIENT, 1)], skip_existing_ids=True),
        "repair": store.repair,
    }
    assert_newer_format_refused(
        operations, store.path, unchanged=lambda: snapshot(data_dir) == before
    )
    for args in (
        ["rate", CLIENT, "--answers", "8,9,7,10", "--yes"],
        ["clients"],
        ["summary"],
        ["check", "--repair"],
        ["migrate", "--to", "toml"],
    ):
        result = cli(*args)
        assert result.exit_code == 1, (args, result.output)
        assert "format 3" in result.stderr and "format 2" in result.stderr, args
    assert snapshot(data_dir) == before


# ------------------------------------------------------------------------------------------------
# The header is fixed when the file is created


def test_header_has_columns_for_every_known_instrument(cli_store: CsvStore, config_dir: Path):
    folder = config_dir / "instruments"
    folder.mkdir(parents=True)
    example = Path(__file__).parent.parent / "examples" / "instruments" / "brief-alliance.toml"
    (folder / "brief-alliance.toml").write_bytes(example.read_bytes())
    assert cli("rate", CLIENT, "--answers", "8,9,7,10", "--yes").exit_code == 0
    header = rows_of(cli_store.path)[0]
    assert {"empathy", "trust_3"} <= set(header)  # built-ins
    custom = ["at_ease", "same_side", "distant", "useful", "had_a_say", "take_away"]
    assert header[23:29] == custom  # the custom instrument's items, after the built-ins'
    answers = ",".join(["3"] * 6)
    result = cli("rate", "C-020", "--instrument", "brief-alliance", "--answers", answers, "--yes")
    assert result.exit_code == 0, result.output
    assert cli_store.check() == []


def test_an_instrument_without_columns_is_refused_until_migrate_widens_the_file(
    cli_store: CsvStore, config_dir: Path, data_dir: Path
):
    assert cli("rate", CLIENT, "--answers", "8,9,7,10", "--yes").exit_code == 0
    folder = config_dir / "instruments"
    folder.mkdir(parents=True)
    example = Path(__file__).parent.parent / "examples" / "instruments" / "brief-alliance.toml"
    (folder / "brief-alliance.toml").write_bytes(example.read_bytes())
    before = snapshot(data_dir)
    args = ["rate", "C-020", "--instrument", "brief-alliance", "--answers", "3,3,3,3,3,3", "--yes"]
    refused = cli(*args)
    assert refused.exit_code == 1
    assert "no column" in refused.stderr and "ratetool migrate --to csv" in refused.stderr
    assert snapshot(data_dir) == before

    old_bytes = cli_store.path.read_bytes()
    dry = cli("migrate", "--to", "csv", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "Nothing was written" in dry.stdout and snapshot(data_dir) == before
    widened = cli("migrate", "--to", "csv")
    assert widened.exit_code == 0, widened.output
    [kept] = sorted(data_dir.glob(f"{RATINGS_NAME}.migrated-*"))
    assert kept.read_bytes() == old_bytes  # the old file is kept, byte for byte
    assert str(kept) in widened.stdout
    old_header = rows_of(kept)[0]
    new_header = rows_of(cli_store.path)[0]
    assert new_header[: len(old_header) - 6] == old_header[:-6]  # old columns first, in order
    assert len(new_header) > len(old_header)
    again = cli(*args)
    assert again.exit_code == 0, again.output
    assert {r.client for r in cli_store.read_all().ratings} == {CLIENT, "C-020"}
    assert cli("migrate", "--to", "csv").stdout.count("nothing to do") == 1


def test_item_names_a_csv_file_cannot_hold_are_refused(store: CsvStore, data_dir: Path):
    for bad in ("comment", "overall", "x_score", "a b", "reason", "target", "correction"):
        with pytest.raises(StoreError):
            store.add([make_rating(CLIENT, 0, answers={bad: 1})])
    assert not store.path.exists()


# ------------------------------------------------------------------------------------------------
# The index: derived, never the only copy, never hiding a rating


def _summary(client: str | None = None) -> dict:
    args = ["summary", "--json"] if client is None else ["summary", client, "--json"]
    result = cli(*args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _sessions(client: str) -> list[int]:
    """The client's sessions as ``summary CLIENT`` shows them, checked against the caseload
    ``summary`` (whose cache is keyed by the store's client fingerprints) and the file itself."""
    sessions = [s["session"] for s in _summary(client)["sessions"]]
    caseload = {row["client"]: row["sessions"] for row in _summary()}
    assert caseload.get(client, 0) == len(sessions), (client, caseload)
    fresh = CsvStore(Path(os.environ["RATETOOL_DATA_DIR"])).parse()
    assert sorted(r.session for r in fresh.ratings if r.client == client) == sessions
    return sessions


def test_index_is_private_and_derived(cli_store: CsvStore, data_dir: Path):
    for _n in range(3):
        assert cli("rate", CLIENT, "--answers", "8,9,7,10", "--yes").exit_code == 0
    index = index_file(data_dir)
    assert index.exists()
    if POSIX:
        assert stat.S_IMODE(index.stat().st_mode) == 0o600
        assert stat.S_IMODE(index.parent.stat().st_mode) == 0o700
    want = _sessions(CLIENT)
    assert want == [1, 2, 3]
    index.unlink()  # deleted: rebuilt from the file
    assert _sessions(CLIENT) == want and index.exists()
    for garbage in (
        b"",
        b"junk",
        index.read_bytes()[:-7],
        index.read_bytes().replace(b"C-014", b"C-999"),
    ):
        index.write_bytes(garbage)  # corrupted: its checksum fails, so it is rebuilt
        assert _sessions(CLIENT) == want
        assert cli("rate", CLIENT, "--answers", "8,9,7,10", "--yes").exit_code == 0
        want.append(len(want) + 1)
        assert _sessions(CLIENT) == want
    assert cli_store.check() == []


def test_a_rating_appended_by_another_program_is_seen(cli_store: CsvStore, data_dir: Path):
    """Another process (or an older ratetool) appends without updating the index: the file
    grew, the indexed part is unchanged, so only the new rows are read, and they count."""
    assert cli("rate", CLIENT, "--answers", "8,9,7,10", "--yes").exit_code == 0
    assert _sessions(CLIENT) == [1]
    other = CsvStore(data_dir)
    rows = other.path.read_bytes()
    other.add([make_rating(CLIENT, 1), make_rating("C-020", 2)])
    appended = other.path.read_bytes()[len(rows) :]
    other.path.write_bytes(rows)
    index_before = index_file(data_dir).read_bytes()
    with open(other.path, "ab") as fh:  # the same bytes, but no index update
        fh.write(appended)
    assert index_file(data_dir).read_bytes() == index_before
    assert _sessions(CLIENT) == [1, 2]
    assert _sessions("C-020") == [1]
    assert cli_store.client_codes() == [CLIENT, "C-020"]
    result = cli("rate", CLIENT, "--answers", "8,9,7,10", "--yes")
    assert "session 3 for" in result.stdout  # the next number counts the unindexed row
    assert cli_store.check() == []


def test_a_file_edited_by_hand_is_read_again(cli_store: CsvStore, data_dir: Path):
    """An edit in the middle that keeps the size (a client code changed) and an edit that makes
    the file shorter: the index no longer matches, so the whole file is read again."""
    for client in (CLIENT, CLIENT, "C-020"):
        assert cli("rate", client, "--answers", "8,9,7,10", "--yes").exit_code == 0
    assert _sessions(CLIENT) == [1, 2] and _sessions("C-020") == [1]
    data = cli_store.path.read_bytes()
    lines = data.split(b"\r\n")
    lines[2] = lines[2].replace(b",C-014,2,", b",C-020,2,")  # same size, another client
    cli_store.path.write_bytes(b"\r\n".join(lines))
    assert _sessions(CLIENT) == [1]
    assert _sessions("C-020") == [1, 2]
    assert "session 3 for C-020" in cli("rate", "C-020", "--answers", "8,9,7,10", "--yes").stdout
    assert _sessions("C-020") == [1, 2, 3]
    lines = cli_store.path.read_bytes().split(b"\r\n")
    del lines[1]  # shorter: a row removed by hand
    cli_store.path.write_bytes(b"\r\n".join(lines))
    assert cli_store.read_client(CLIENT).ratings == []
    assert "No ratings for client C-014" in cli("summary", CLIENT).stderr
    assert [row["client"] for row in _summary()] == ["C-020"]
    assert _sessions("C-020") == [1, 2, 3]
    assert cli_store.client_codes() == ["C-020"]
    assert cli_store.check() == []


def test_an_index_that_lies_cannot_hide_a_rating(cli_store: CsvStore, data_dir: Path):
    """Even an index with a valid checksum and the file's own size and time stamp, but wrong
    spans, cannot make read_client return another client's rows or miss its own; the store's
    check() (run by `ratetool check`) reports it as a cache problem and rebuilds it."""

    for client in (CLIENT, "C-020", CLIENT):
        assert cli("rate", client, "--answers", "8,9,7,10", "--yes").exit_code == 0
    index = index_file(data_dir)
    real = Index.from_bytes(index.read_bytes())
    assert real is not None
    lying = real._replace(clients={CLIENT: real.clients["C-020"], "C-020": real.clients[CLIENT]})
    index.write_bytes(lying.to_bytes())
    assert [r.session for r in cli_store.read_client(CLIENT).ratings] == [1, 2]
    assert [r.session for r in cli_store.read_client("C-020").ratings] == [1]
    index.write_bytes(lying.to_bytes())
    problems = cli_store.check()  # the data is fine, the cache is not: reported and rebuilt
    assert [p.kind for p in problems] == ["cache"]
    assert "rebuilt" in problems[0].message
    assert cli_store.check() == []
    index.write_bytes(lying.to_bytes())
    checked = cli("check")  # `ratetool check` runs the same verification
    assert checked.exit_code == 1 and "the index did not match ratings.csv" in checked.stderr
    assert cli("check").exit_code == 0
    fixed = Index.from_bytes(index.read_bytes())
    assert fixed is not None and fixed.clients == real.clients


def test_read_client_parses_only_its_own_line_of_the_index(cli_store: CsvStore, data_dir: Path):
    """``read_client`` reads one client's line of the index, with every check the whole index
    gets (its checksum, the facts line); a line given twice makes the index unusable."""

    for client in (CLIENT, "C-020", CLIENT, "C-0201"):
        assert cli("rate", client, "--answers", "8,9,7,10", "--yes").exit_code == 0
    raw = index_file(data_dir).read_bytes()
    whole = Index.from_bytes(raw)
    assert whole is not None and len(whole.clients) == 3
    for client in (CLIENT, "C-020", "C-0201"):
        one = Index.from_bytes(raw, client)
        assert one == whole._replace(clients={client: whole.clients[client]})
    none = Index.from_bytes(raw, "C-999")
    assert none == whole._replace(clients={})
    for garbage in (b"", b"junk", raw[:-7], raw.replace(b"C-014", b"C-999")):
        assert Index.from_bytes(garbage, CLIENT) is None
    twice = whole._replace(clients={**whole.clients, "C-0201": whole.clients["C-020"]}).to_bytes()
    twice = twice.replace(b"C-0201\t", b"C-020\t")  # written by hand: the checksum still holds
    first, _, body = twice.partition(b"\n")
    twice = first[:-8] + f"{zlib.crc32(body):08x}".encode() + b"\n" + body
    assert Index.from_bytes(twice, "C-020") is None
    index_file(data_dir).write_bytes(twice)
    assert [r.session for r in cli_store.read_client("C-020").ratings] == [1]
    assert Index.from_bytes(index_file(data_dir).read_bytes()) == whole  # rebuilt


def test_a_grown_file_read_for_one_client_updates_the_whole_index(
    cli_store: CsvStore, data_dir: Path
):
    """Reading one client when the file grew brings the index up to date for every client."""
    for client in (CLIENT, "C-020"):
        assert cli("rate", client, "--answers", "8,9,7,10", "--yes").exit_code == 0
    index_before = index_file(data_dir).read_bytes()
    assert cli("rate", "C-030", "--answers", "8,9,7,10", "--yes").exit_code == 0
    index_file(data_dir).write_bytes(index_before)  # as if another program had appended
    assert [r.session for r in CsvStore(data_dir).read_client(CLIENT).ratings] == [1]
    index = Index.from_bytes(index_file(data_dir).read_bytes())
    assert index is not None and sorted(index.clients) == [CLIENT, "C-020", "C-030"]
    assert index.size == cli_store.path.stat().st_size


def test_no_index_is_written_for_a_file_with_problems(store: CsvStore, data_dir: Path):
    store.add([make_rating(CLIENT, 0), make_rating(CLIENT, 1)])
    index_file(data_dir).unlink()
    chop(store.path, 5)
    assert [p.kind for p in store.read_client(CLIENT).problems] == ["torn"]
    assert store.client_codes() == [CLIENT]
    assert not index_file(data_dir).exists()
    store.repair()
    assert store.read_client(CLIENT).problems == []
    assert index_file(data_dir).exists()


def test_append_reads_only_the_index_not_the_history(store: CsvStore, monkeypatch):
    """With a current index an append does not parse the rows already in the file."""
    import ratetool.store.csv_store as csv_store

    store.add([make_rating(CLIENT, n) for n in range(50)])
    calls: list[int] = []
    real = csv_store.parse_csv_bytes

    def spy(path, data, **kw):
        calls.append(len(data))
        return real(path, data, **kw)

    monkeypatch.setattr(csv_store, "parse_csv_bytes", spy)
    fresh = open_store(store.data_dir, "csv")
    assert [r.session for r in fresh.add([make_rating(CLIENT, 99)]).added] == [51]
    assert len(fresh.read_client(CLIENT).ratings) == 51
    assert calls == []


def test_two_timestamps_offsets_survive(store: CsvStore):
    """Offsets in seconds (local mean time) and microseconds are kept exactly in CSV."""
    lmt = timezone(timedelta(minutes=19, seconds=32))
    rating = make_rating(CLIENT, 0, rated_at=datetime(1890, 5, 1, 10, 0, 0, 250, tzinfo=lmt))
    store.add([rating, make_rating(CLIENT, 1, rated_at=datetime(2026, 1, 1, tzinfo=CET))])
    got = store.read_client(CLIENT).ratings[0]
    assert got.rated_at.isoformat() == "1890-05-01T10:00:00.000250+00:19:32"


def test_a_torn_tail_seen_without_the_lock_is_looked_at_again_under_it(
    store: CsvStore, monkeypatch
):
    """Outside the lock, a row being appended by another ratetool looks cut short; the store
    looks again holding the lock (when that writer has finished) before reporting it."""
    store.add([make_rating(CLIENT, 0)])
    whole = store.path.read_bytes()
    store.add([make_rating(CLIENT, 1)])
    complete = store.path.read_bytes()
    store.path.write_bytes(complete[: len(whole) + 20])  # the other writer is mid-write...
    real = CsvStore._view_once
    calls: list[int] = []

    def watch(self, **how):
        calls.append(self._held)
        if self._held:  # ...and has finished by the time this process holds the lock
            self.path.write_bytes(complete)
        return real(self, **how)

    monkeypatch.setattr(CsvStore, "_view_once", watch)
    result = store.read_client(CLIENT)
    assert calls == [0, 1]
    assert result.problems == [] and [r.session for r in result.ratings] == [1, 2]
