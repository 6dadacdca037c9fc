"""Corrections end to end, through both real stores: export -> import into an empty data folder
-> export again gives the same file, statuses included (voided, amended, renamed); importing again
adds nothing; the summary of the imported folder shows what the first one showed.

(tests/test_corrected_views.py tests the same views on any store, the corrections kept beside it.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers.store_kit import STORE_KINDS, write_config
from ratetool.cli import app
from ratetool.corrections import (
    AMEND,
    AMENDED,
    COMPLETED,
    ENTERED_IN_ERROR,
    RENAME,
    VOID,
    Correction,
    new_correction_id,
)
from ratetool.model import Rating
from ratetool.store import open_store

CET = timezone(timedelta(hours=1))
ITEMS = ("empathy", "warmth", "genuineness", "trust")
EXTENSIONS = {"csv": "csv", "json": "jsonl"}


def run(*args: str | Path):
    return CliRunner().invoke(app, [str(a) for a in args])


def rating(client: str, n: int, answers: tuple[int, ...] = (9, 9, 9, 9)) -> Rating:
    return Rating(
        f"id-{client}-{n}",
        client,
        n,
        datetime(2026, 10, 6, 10, 50, tzinfo=CET) + timedelta(days=7 * (n - 1)),
        "checkin",
        1,
        dict(zip(ITEMS, answers)),
        practitioner="AB",
        comment=f"words {n}" if n % 2 else None,
    )


def correction(action: str, client: str, n: int, **fields: object) -> Correction:
    return Correction(
        new_correction_id(),
        client,
        action,
        datetime(2026, 12, 4, 10, 20, tzinfo=UTC),
        rating=f"id-{client}-{n}",
        session=n,
        **fields,  # type: ignore[arg-type]
    )


@pytest.fixture
def first(tmp_path: Path, config_dir: Path, request: pytest.FixtureRequest) -> Path:
    """A data folder with C-7 (session 3 amended, 4 voided) and C-8 (session 1 voided)."""
    kind = request.param
    write_config(config_dir, kind)
    folder = tmp_path / "first"
    store = open_store(folder, kind)
    store.add(
        [
            rating("C-7", 1),
            rating("C-7", 2),
            rating("C-7", 3, (9, 2, 9, 9)),
            rating("C-7", 4, (1, 1, 1, 1)),
            rating("C-8", 1),
            rating("C-8", 2, (8, 8, 8, 8)),
        ],
        number_sessions=False,
    )
    store.add_corrections(
        [
            correction(VOID, "C-7", 4, reason="rated for the wrong client"),
            correction(AMEND, "C-7", 3, answers=dict(zip(ITEMS, (9, 9, 8, 9))), reason="typo"),
            correction(VOID, "C-8", 1, reason="a test"),
        ]
    )
    return folder


def export(folder: Path, out: Path, *args: str) -> None:
    result = run("--data-dir", folder, "export", "--output", out, "--force", *args)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("first", STORE_KINDS, indirect=True)
@pytest.mark.parametrize("fmt", ["csv", "json"])
@pytest.mark.parametrize("voided", [True, False])
def test_export_import_export_gives_the_same_file(first, tmp_path, fmt, voided):
    extra = ["--include-voided"] if voided else []
    one, two = (tmp_path / f"{name}.{EXTENSIONS[fmt]}" for name in ("one", "two"))
    export(first, one, *extra)
    second = tmp_path / "second"
    result = run("--data-dir", second, "import", one)
    assert result.exit_code == 0, result.output
    marked = "; marked 1 amended and 2 entered in error" if voided else "; marked 1 amended"
    imported = 6 if voided else 4
    assert f"Imported {imported}, skipped 0 as duplicates, rejected 0{marked}." in result.output
    export(second, two, *extra)
    assert two.read_bytes() == one.read_bytes()
    if fmt == "json":
        statuses = [json.loads(line)["status"] for line in one.read_text().splitlines()]
        want = [COMPLETED, COMPLETED, AMENDED, ENTERED_IN_ERROR, ENTERED_IN_ERROR, COMPLETED]
        assert statuses == (want if voided else [s for s in want if s != ENTERED_IN_ERROR])


@pytest.mark.parametrize("first", STORE_KINDS, indirect=True)
def test_importing_the_export_again_adds_no_rating_and_no_correction(first, tmp_path, config_dir):
    one = tmp_path / "one.csv"
    export(first, one, "--include-voided")
    second = tmp_path / "second"
    assert run("--data-dir", second, "import", one).exit_code == 0
    kind = "csv" if "csv" in (config_dir / "config.toml").read_text() else "toml"
    before = open_store(second, kind).read_all()
    result = run("--data-dir", second, "import", one)
    assert result.exit_code == 0, result.output
    assert "Imported 0, skipped 6 as duplicates, rejected 0." in result.output
    after = open_store(second, kind).read_all()
    assert after.corrections == before.corrections and len(after.corrections) == 3
    # Into the first folder itself: every status is already there.
    result = run("--data-dir", first, "import", one)
    assert "Imported 0, skipped 6 as duplicates, rejected 0." in result.output


@pytest.mark.parametrize("first", STORE_KINDS, indirect=True)
def test_the_imported_folder_summarises_as_the_first(first, tmp_path):
    one = tmp_path / "one.jsonl"
    export(first, one, "--include-voided")
    second = tmp_path / "second"
    assert run("--data-dir", second, "import", one).exit_code == 0
    for client in ("C-7", "C-8"):
        a = json.loads(run("--data-dir", first, "summary", client, "--json").stdout)
        b = json.loads(run("--data-dir", second, "summary", client, "--json").stdout)
        for data in (a, b):
            for s in data["sessions"]:
                s.pop("amended_at")
        assert a == b
    data = json.loads(run("--data-dir", second, "summary", "C-7", "--history", "--json").stdout)
    assert [(c["action"], c["session"], c["reason"]) for c in data["corrections"]] == [
        (AMEND, 3, "imported with status amended"),
        (VOID, 4, "imported with status entered-in-error"),
    ]
    assert data["corrections"][0]["answers"] == dict(zip(ITEMS, (9, 9, 8, 9)))


@pytest.mark.parametrize("first", STORE_KINDS, indirect=True)
def test_a_renamed_client_round_trips_under_its_new_code(first, tmp_path, config_dir):
    kind = "csv" if "csv" in (config_dir / "config.toml").read_text() else "toml"
    rename = Correction(
        new_correction_id(), "C-8", RENAME, datetime(2026, 12, 4, 11, tzinfo=UTC),
        new_client="C-018", reason="typed wrong",
    )  # fmt: skip
    open_store(first, kind).rename_client(rename)
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    export(first, one, "--include-voided")
    assert {line.split(",")[1] for line in one.read_text().splitlines()[1:]} == {"C-7", "C-018"}
    second = tmp_path / "second"
    assert run("--data-dir", second, "import", one).exit_code == 0
    export(second, two, "--include-voided")
    assert two.read_bytes() == one.read_bytes()
    assert open_store(second, kind).client_codes() == ["C-018", "C-7"]
