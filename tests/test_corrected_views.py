"""The corrected view as the practitioner and other software see it: ``summary CLIENT`` (marks,
``--history``, JSON ``status``), the exports' ``status`` column and ``--include-voided``, and
imports that turn a ``status`` back into corrections.

The corrections here are given to the store's reads (``corrections.apply``, as every store applies
its stored ones), so these tests hold whatever store keeps them; tests/test_corrections_e2e.py
makes them with the real commands.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from ratetool.cli import app
from ratetool.corrections import (
    AMEND,
    AMENDED,
    COMPLETED,
    ENTERED_IN_ERROR,
    VOID,
    Correction,
    apply,
)
from ratetool.importer import read_import_file
from ratetool.importer.planning import IMPORT_REASONS, _plan
from ratetool.instruments import Registry
from ratetool.model import Rating
from ratetool.store import ReadResult, open_store
from ratetool.store.toml_store import TomlStore

CET = timezone(timedelta(hours=1))
ITEMS = ("empathy", "warmth", "genuineness", "trust")
MADE = datetime(2026, 12, 4, 10, 20, tzinfo=UTC)


def run(*args: str):
    return CliRunner().invoke(app, list(args))


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
        comment=f"words {n}",
    )


def void(client: str, n: int, reason: str = "rated for the wrong client") -> Correction:
    return Correction(
        f"void-{client}-{n}", client, VOID, MADE, rating=f"id-{client}-{n}", session=n,
        reason=reason, practitioner="AB",
    )  # fmt: skip


def amend(client: str, n: int, answers: tuple[int, ...]) -> Correction:
    return Correction(
        f"amend-{client}-{n}", client, AMEND, MADE + timedelta(minutes=5),
        rating=f"id-{client}-{n}", session=n, answers=dict(zip(ITEMS, answers)),
        reason="typed 2 for 9",
    )  # fmt: skip


def given_corrections(monkeypatch: pytest.MonkeyPatch, corrections: list[Correction]) -> None:
    """The store's reads show ``corrections`` applied, as if they were stored."""
    read_all, read_client = TomlStore.read_all, TomlStore.read_client

    def corrected(result: ReadResult, client: str | None = None) -> ReadResult:
        mine = [c for c in corrections if client is None or c.client == client]
        view = apply(result.ratings, mine)
        return ReadResult(
            view.ratings,
            result.problems,
            [*result.voided, *view.voided],
            [*result.corrections, *view.applied],
        )

    monkeypatch.setattr(TomlStore, "read_all", lambda self: corrected(read_all(self)))
    monkeypatch.setattr(
        TomlStore, "read_client", lambda self, c: corrected(read_client(self, c), c)
    )


@pytest.fixture
def seeded(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> list[Rating]:
    """C-7 with sessions 1-4 (3 amended: its answer 2 was meant as 9; 4 voided) and C-8 with
    two completed sessions."""
    stored = [
        rating("C-7", 1),
        rating("C-7", 2),
        rating("C-7", 3, (9, 2, 9, 9)),
        rating("C-7", 4, (1, 1, 1, 1)),
        rating("C-8", 1),
        rating("C-8", 2, (8, 8, 8, 8)),
    ]
    open_store(data_dir).add(stored, number_sessions=False)
    given_corrections(monkeypatch, [void("C-7", 4), amend("C-7", 3, (9, 9, 9, 9))])
    return stored


def read_csv(path: Path) -> list[dict[str, str]]:
    text = path.read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


# -- summary CLIENT ------------------------------------------------------------------------------


def test_summary_marks_the_amended_session_and_counts_the_voided_one_in_one_line(seeded):
    result = run("summary", "C-7")
    assert result.exit_code == 0, result.output
    out = result.output
    rows = [line.split() for line in out.splitlines() if line.startswith("2026-")]
    assert [row[1] for row in rows] == ["1", "2", "3*"]  # session 4 (voided) is not shown
    assert "* amended: session 3 on 2026-12-04" in out
    assert "1 voided rating not counted (see --history)." in out
    assert "Corrections" not in out  # the history only with --history
    # The amended answers are the ones scored: 9 everywhere is 100%, no alert.
    assert rows[2][-2:] == ["✓", "ok"]


def test_summary_of_a_client_without_corrections_says_nothing_of_them(seeded):
    out = run("summary", "C-8").output
    assert "amended" not in out and "voided" not in out and "*" not in out


def test_summary_history_lists_each_correction_after_the_summary(seeded):
    result = run("summary", "C-7", "--history")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.index("Trend, checkin") < out.index("Corrections")
    history = out[out.index("Corrections") :]
    void_at = MADE.astimezone().strftime("%Y-%m-%d %H:%M")
    amend_at = (MADE + timedelta(minutes=5)).astimezone().strftime("%Y-%m-%d %H:%M")
    assert re.search(
        rf"{void_at}\s+session 4 voided \(entered in error\)\s+rated for the wrong client\s+AB",
        history,
    )
    assert re.search(rf"{amend_at}\s+session 3 amended: empathy=9, warmth=9", history)
    assert history.index("session 4 voided") < history.index("session 3 amended")


def test_summary_history_without_corrections_says_so(seeded):
    result = run("summary", "C-8", "--history")
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().endswith("No corrections.")


def test_summary_json_gives_every_session_its_status_and_history_its_corrections(seeded):
    data = json.loads(run("summary", "C-7", "--json").stdout)
    assert [(s["session"], s["status"]) for s in data["sessions"]] == [
        (1, COMPLETED),
        (2, COMPLETED),
        (3, AMENDED),
    ]
    assert data["sessions"][2]["amended_at"] == (MADE + timedelta(minutes=5)).isoformat()
    assert data["sessions"][0]["amended_at"] is None
    assert data["voided"] == 1 and "corrections" not in data
    data = json.loads(run("summary", "C-7", "--json", "--history").stdout)
    want = [
        {**c.as_json(), "description": c.describe()}
        for c in (void("C-7", 4), amend("C-7", 3, (9, 9, 9, 9)))
    ]
    assert data["corrections"] == want
    assert json.loads(run("summary", "C-8", "--json", "--history").stdout)["corrections"] == []


def test_a_client_whose_every_rating_is_voided(data_dir, monkeypatch):
    open_store(data_dir).add([rating("C-9", 1)], number_sessions=False)
    given_corrections(monkeypatch, [void("C-9", 1)])
    result = run("summary", "C-9")
    assert result.exit_code == 1
    assert "Every rating of client C-9 is voided" in result.output
    assert "summary C-9 --history" in result.output
    result = run("summary", "C-9", "--history")
    assert result.exit_code == 0, result.output
    assert "every rating is voided" in result.output
    assert "session 1 voided" in result.output
    data = json.loads(run("summary", "C-9", "--history", "--json").stdout)
    assert data["sessions"] == [] and data["voided"] == 1 and len(data["corrections"]) == 1


def test_history_is_for_one_client():
    result = run("summary", "--history")
    assert result.exit_code == 2
    assert "--history is for one client" in result.output


# -- exports ---------------------------------------------------------------------------------------


def test_csv_export_has_status_after_practitioner_and_leaves_voided_ratings_out(seeded, tmp_path):
    out = tmp_path / "out.csv"
    result = run("export", "--output", str(out))
    assert result.exit_code == 0, result.output
    header = out.read_text(encoding="utf-8").split("\r\n")[0].split(",")
    assert header[header.index("practitioner") + 1] == "status"
    rows = read_csv(out)
    assert [(r["client"], r["session"], r["status"]) for r in rows] == [
        ("C-7", "1", COMPLETED),
        ("C-7", "2", COMPLETED),
        ("C-7", "3", AMENDED),
        ("C-8", "1", COMPLETED),
        ("C-8", "2", COMPLETED),
    ]
    assert [rows[2][i] for i in ITEMS] == ["9", "9", "9", "9"]  # the amended answers
    assert "Note: 1 voided rating left out (--include-voided adds it" in result.stderr


def test_include_voided_adds_them_scored_with_no_alerts_and_changes_no_other_row(seeded, tmp_path):
    plain, full = tmp_path / "plain.csv", tmp_path / "full.csv"
    assert run("export", "--output", str(plain)).exit_code == 0
    result = run("export", "--include-voided", "--output", str(full))
    assert result.exit_code == 0, result.output
    assert "Exported 6 ratings (1 voided) of 2 clients" in result.output
    assert "left out" not in result.stderr
    rows = read_csv(full)
    voided = [r for r in rows if r["status"] == ENTERED_IN_ERROR]
    assert [(r["client"], r["session"]) for r in voided] == [("C-7", "4")]
    # Scored as it was (1 on every item of 0-10: 10%), but with no alert: not low, not a drop.
    assert (voided[0]["pomp"], voided[0]["total"], voided[0]["alerts"]) == ("10.0", "4", "")
    assert [r for r in rows if r["status"] != ENTERED_IN_ERROR] == read_csv(plain)
    assert [r["session"] for r in rows if r["client"] == "C-7"] == ["1", "2", "3", "4"]


def test_include_voided_keeps_the_period_and_the_clients_asked_for(seeded, tmp_path):
    out = tmp_path / "out.csv"
    args = ["--include-voided", "--client", "C-8", "--output", str(out)]
    assert run("export", *args).exit_code == 0
    assert {r["status"] for r in read_csv(out)} == {COMPLETED}
    args = ["--include-voided", "--since", "2026-10-27", "--output", str(out), "--force"]
    assert run("export", *args).exit_code == 0
    assert [(r["client"], r["session"]) for r in read_csv(out)] == [("C-7", "4")]


def test_a_client_with_only_voided_ratings_is_exported_only_when_asked(
    data_dir, tmp_path, monkeypatch
):
    open_store(data_dir).add([rating("C-9", 1), rating("C-8", 1)], number_sessions=False)
    given_corrections(monkeypatch, [void("C-9", 1)])
    out = tmp_path / "out.jsonl"
    assert run("export", "--output", str(out)).exit_code == 0
    assert [json.loads(line)["client"] for line in out.read_text().splitlines()] == ["C-8"]
    result = run("export", "--include-voided", "--output", str(out), "--force")
    assert "Exported 2 ratings (1 voided) of 2 clients" in result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["client"], r["status"]) for r in records] == [
        ("C-8", COMPLETED),
        ("C-9", ENTERED_IN_ERROR),
    ]


def test_json_lines_have_a_status_key(seeded, tmp_path):
    out = tmp_path / "out.jsonl"
    assert run("export", "--include-voided", "--output", str(out)).exit_code == 0
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["session"], r["status"]) for r in records if r["client"] == "C-7"] == [
        (1, COMPLETED),
        (2, COMPLETED),
        (3, AMENDED),
        (4, ENTERED_IN_ERROR),
    ]
    keys = list(records[0])
    assert keys[keys.index("practitioner") + 1] == "status"
    assert records[3]["alerts"] == [] and records[3]["answers"]["empathy"] == 1


def test_xlsx_ratings_sheet_has_the_status_column(seeded, tmp_path):
    out = tmp_path / "out.xlsx"
    assert run("export", "--include-voided", "--output", str(out)).exit_code == 0
    ws = openpyxl.load_workbook(out)["Ratings"]
    header = [c.value for c in ws[1]]
    at = header.index("status")
    assert header[at - 1] == "practitioner"
    statuses = [row[at].value for row in ws.iter_rows(min_row=2)]
    assert statuses == [COMPLETED, COMPLETED, AMENDED, ENTERED_IN_ERROR, COMPLETED, COMPLETED]
    summary = openpyxl.load_workbook(out)["Summary"]
    sessions = {row[0].value: row[1].value for row in summary.iter_rows(min_row=2)}
    assert sessions == {"C-7": 3, "C-8": 2}  # the voided rating counts nowhere


# -- import ----------------------------------------------------------------------------------------

HEADER = "id,client,session,rated_at,instrument,instrument_version,practitioner,status,"
HEADER += ",".join(ITEMS) + ",comment\r\n"


def import_file(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "in.csv"
    path.write_text(HEADER + "".join(row + "\r\n" for row in rows), encoding="utf-8")
    return path


def row(n: int, status: str, answers: str = "9,9,9,9", client: str = "C-7") -> str:
    """The CSV row of ``rating(client, n)`` with that status and those answers."""
    when = rating(client, n).rated_at.isoformat()
    return f"id-{client}-{n},{client},{n},{when},checkin,1,AB,{status},{answers},words {n}"


def test_an_unknown_status_is_refused_naming_row_and_value(tmp_path, data_dir):
    path = import_file(tmp_path, [row(1, "completed"), row(2, "cancelled"), row(3, "")])
    result = run("import", str(path))
    assert result.exit_code == 1
    assert "row 3: status 'cancelled' is not one ratetool knows" in result.output
    assert "completed, amended or entered-in-error" in result.output
    assert "Nothing was written" in result.output
    assert not any(data_dir.glob("*.toml")) if data_dir.exists() else True


def test_statuses_are_read_from_csv_and_json_lines_in_any_case(tmp_path):
    path = import_file(tmp_path, [row(1, "Amended"), row(2, " entered-in-error "), row(3, "")])
    read = read_import_file(path, Registry(tmp_path / "config"))
    assert [r.status for r in read.rows] == [AMENDED, ENTERED_IN_ERROR, COMPLETED]
    assert {r.rating.status for r in read.rows} == {COMPLETED}  # stored as rated
    lines = [
        {"client": "C-7", "rated_at": "2026-10-01T10:00:00+01:00", "status": status,
         "answers": dict(zip(ITEMS, (9, 9, 9, 9))), "skipped": []}
        for status in ("amended", "completed")
    ]  # fmt: skip
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    read = read_import_file(jsonl, Registry(tmp_path / "config"))
    assert [r.status for r in read.rows] == [AMENDED, COMPLETED]
    lines[0]["status"] = "void"
    jsonl.write_text(json.dumps(lines[0]) + "\n", encoding="utf-8")
    read = read_import_file(jsonl, Registry(tmp_path / "config"))
    assert "line 1: status 'void' is not one ratetool knows" in str(read.problems[0])


def plan_for(tmp_path: Path, rows: list[str], stored: list[Rating]):
    read = read_import_file(import_file(tmp_path, rows), Registry(tmp_path / "config"))
    assert not read.problems
    return _plan(read, stored, MADE)


def test_new_rows_with_a_status_become_a_rating_and_its_correction(tmp_path):
    plan = plan_for(
        tmp_path,
        [row(1, "completed"), row(2, "amended", "9,8,7,6"), row(3, "entered-in-error")],
        [],
    )
    assert [r.id for r in plan.to_add] == ["id-C-7-1", "id-C-7-2", "id-C-7-3"]
    assert {r.status for r in plan.to_add} == {COMPLETED}
    amended, voided = plan.corrections
    assert (amended.action, amended.rating, amended.session, amended.client) == (
        AMEND, "id-C-7-2", 2, "C-7",
    )  # fmt: skip
    assert amended.answers == dict(zip(ITEMS, (9, 8, 7, 6))) and amended.comment is None
    assert amended.reason == IMPORT_REASONS[AMENDED] == "imported with status amended"
    assert (voided.action, voided.rating, voided.session) == (VOID, "id-C-7-3", 3)
    assert voided.reason == "imported with status entered-in-error"
    assert amended.made_at == voided.made_at == MADE


def test_a_stored_rating_gets_a_status_only_once(tmp_path):
    view = [
        replace(rating("C-7", 1), status=AMENDED),
        replace(rating("C-7", 2), status=ENTERED_IN_ERROR),
        rating("C-7", 3),
    ]
    rows = [row(1, "amended"), row(2, "entered-in-error"), row(3, "completed")]
    plan = plan_for(tmp_path, rows, view)
    assert plan.to_add == [] and plan.corrections == [] and plan.notes == []
    assert [d[0] for d in plan.duplicates] == [2, 3, 4]
    # A colleague voided session 3 and amended session 1 after the export was taken.
    plan = plan_for(tmp_path, [row(3, "entered-in-error")], view)
    assert [(c.action, c.rating) for c in plan.corrections] == [(VOID, "id-C-7-3")]
    plan = plan_for(tmp_path, [row(3, "amended", "5,5,5,5")], view)
    assert [(c.action, c.answers) for c in plan.corrections] == [
        (AMEND, dict(zip(ITEMS, (5, 5, 5, 5))))
    ]


def test_a_status_that_appending_cannot_give_is_a_note_and_the_stored_rating_stays(tmp_path):
    view = [
        replace(rating("C-7", 1), status=ENTERED_IN_ERROR),
        replace(rating("C-7", 2), status=AMENDED),
    ]
    plan = plan_for(tmp_path, [row(1, "completed"), row(2, "completed")], view)
    assert plan.corrections == [] and plan.to_add == []
    assert "row 2: id id-C-7-1 is completed in the file but entered-in-error here" in plan.notes[0]
    assert "row 3: id id-C-7-2 is completed in the file but amended here" in plan.notes[1]


def test_voided_ratings_keep_their_session_numbers_and_ids_on_import(tmp_path):
    view = [rating("C-7", 1), replace(rating("C-7", 2), status=ENTERED_IN_ERROR)]
    no_number = "new-1,C-7,,2026-10-20T10:50:00+01:00,checkin,1,AB,completed,9,9,9,9,"
    plan = plan_for(tmp_path, [no_number, row(2, "completed")], view)
    assert [(r.id, r.session) for r in plan.to_add] == [("new-1", 3)]


def test_import_appends_the_corrections_after_the_ratings(tmp_path, data_dir, monkeypatch):
    seen: list[tuple[list[Correction], list[str]]] = []

    def add_corrections(self, corrections):
        stored = [r.id for r in self.read_all().ratings]  # the ratings are there already
        seen.append((list(corrections), stored))
        return []

    monkeypatch.setattr(TomlStore, "add_corrections", add_corrections)
    path = import_file(
        tmp_path, [row(1, "completed"), row(2, "amended"), row(3, "entered-in-error")]
    )
    result = run("import", str(path))
    assert result.exit_code == 0, result.output
    summary = "Imported 3, skipped 0 as duplicates, rejected 0; marked 1 amended and 1 entered in"
    assert f"{summary} error." in result.output
    ((corrections, stored),) = seen
    assert stored == ["id-C-7-1", "id-C-7-2", "id-C-7-3"]
    assert [(c.action, c.rating) for c in corrections] == [(AMEND, "id-C-7-2"), (VOID, "id-C-7-3")]
    result = run("import", "--dry-run", str(path))
    assert "Dry run: would import 0, skip 3 as duplicates, reject 0; would mark 1 amended" in (
        result.output
    )  # the monkeypatched store recorded nothing, so the statuses are still to give
    assert len(seen) == 1


def test_statuses_that_cannot_be_recorded_say_the_ratings_were_imported(
    tmp_path, data_dir, monkeypatch
):
    from ratetool.corrections import CorrectionError

    def refuse(self, corrections):
        raise CorrectionError("Client C-7 has no session 2; nothing was written.")

    monkeypatch.setattr(TomlStore, "add_corrections", refuse)
    result = run("import", str(import_file(tmp_path, [row(1, "completed"), row(2, "amended")])))
    assert result.exit_code == 1
    message = " ".join(result.output.split())
    assert (
        "2 ratings were imported, but the statuses (amended, entered-in-error) could not be "
        "recorded: Client C-7 has no session 2. Import the file again" in message
    )
    assert "nothing was written" not in message
    assert [r.id for r in open_store(data_dir).read_all().ratings] == ["id-C-7-1", "id-C-7-2"]


# -- export -> import -> export ------------------------------------------------------------------


@pytest.fixture
def kept(monkeypatch: pytest.MonkeyPatch) -> dict[Path, list[Correction]]:
    """Corrections kept per data folder beside the TOML store: ``add_corrections`` appends them
    (after ``check_new``, as a store does) and the reads apply them. The stores' own keeping is
    tested with the stores; this is the view the exports and imports see."""
    from ratetool.corrections import check_new

    keeps: dict[Path, list[Correction]] = {}
    read_all, read_client = TomlStore.read_all, TomlStore.read_client

    def corrected(self: TomlStore, result: ReadResult, client: str | None = None) -> ReadResult:
        mine = [c for c in keeps.get(self.data_dir, []) if client is None or c.client == client]
        view = apply(result.ratings, mine)
        return ReadResult(view.ratings, result.problems, view.voided, view.applied)

    def add_corrections(self: TomlStore, corrections: list[Correction]) -> list[Path]:
        with self.lock():
            for c in corrections:
                check_new(c, corrected(self, read_client(self, c.client), c.client))
                keeps.setdefault(self.data_dir, []).append(c)
        return []

    monkeypatch.setattr(TomlStore, "read_all", lambda self: corrected(self, read_all(self)))
    monkeypatch.setattr(
        TomlStore, "read_client", lambda self, c: corrected(self, read_client(self, c), c)
    )
    monkeypatch.setattr(TomlStore, "add_corrections", add_corrections)
    return keeps


@pytest.mark.parametrize("ext", ["csv", "jsonl"])
@pytest.mark.parametrize("voided", [True, False])
def test_export_import_export_gives_the_same_file(kept, tmp_path, ext, voided):
    first, second = tmp_path / "first", tmp_path / "second"
    store = open_store(first)
    store.add(
        [rating("C-7", n) for n in (1, 2)]
        + [rating("C-7", 3, (9, 2, 9, 9)), rating("C-7", 4, (1, 1, 1, 1)), rating("C-8", 1)],
        number_sessions=False,
    )
    store.add_corrections([void("C-7", 4), amend("C-7", 3, (9, 9, 8, 9)), void("C-8", 1)])
    extra = ["--include-voided"] if voided else []
    one, two = tmp_path / f"one.{ext}", tmp_path / f"two.{ext}"
    assert run("--data-dir", str(first), "export", "--output", str(one), *extra).exit_code == 0
    result = run("--data-dir", str(second), "import", str(one))
    assert result.exit_code == 0, result.output
    marked = "1 amended and 2 entered in error" if voided else "1 amended"
    imported = 5 if voided else 3
    assert f"Imported {imported}, skipped 0 as duplicates, rejected 0; marked {marked}." in (
        result.output
    )
    assert [(c.action, c.session, c.reason) for c in kept[open_store(second).data_dir]] == [
        (AMEND, 3, "imported with status amended"),
        *([(VOID, 4, "imported with status entered-in-error")] if voided else []),
        *([(VOID, 1, "imported with status entered-in-error")] if voided else []),
    ]
    assert run("--data-dir", str(second), "export", "--output", str(two), *extra).exit_code == 0
    assert two.read_bytes() == one.read_bytes()
    # Importing again, into either folder, adds nothing.
    for folder in (first, second):
        before = list(kept[open_store(folder).data_dir])
        result = run("--data-dir", str(folder), "import", str(one))
        assert f"Imported 0, skipped {5 if voided else 3} as duplicates, rejected 0." in (
            result.output
        )
        assert kept[open_store(folder).data_dir] == before
