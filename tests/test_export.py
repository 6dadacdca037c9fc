"""``ratetool export``: CSV, XLSX and JSON Lines, formula escaping, and where files go.

XLSX files are read back with openpyxl (a test dependency) and, where openpyxl hides something,
by looking inside the zip.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
import subprocess
import sys
import uuid
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from ratetool.cli import app
from ratetool.csvformat import (
    FIXED_COLUMNS,
    ColumnNameError,
    Layout,
    escape_text,
    is_reserved,
    unescape_text,
)
from ratetool.instruments import load_builtin
from ratetool.model import Rating
from ratetool.scoring import places_for, round_score, score_client
from ratetool.store import open_store

FIXTURES = Path(__file__).parent / "fixtures"
CET = timezone(timedelta(hours=1))
EST = timezone(timedelta(hours=-5))
POSIX = os.name == "posix"
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
CHECKIN_ITEMS = ("empathy", "warmth", "genuineness", "trust")
CORE_ITEMS = load_builtin("core").item_ids


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def hostile_comments() -> list[str]:
    """The fixture's lines with ``\\t``, ``\\r`` and ``\\\\`` turned into the real characters."""
    lines = (FIXTURES / "hostile-comments.txt").read_text(encoding="utf-8").splitlines()
    escapes = {"t": "\t", "r": "\r", "\\": "\\", "n": "\n"}
    return [re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(0)), line) for line in lines]


def checkin(client: str = "C-014", n: int = 0, **changes) -> Rating:
    answers = dict(zip(CHECKIN_ITEMS, ((8 + n) % 11, 9, 7, 10)))
    base = dict(
        id=str(uuid.uuid4()),
        client=client,
        session=0,
        rated_at=datetime(2026, 10, 6, 10, 50, tzinfo=CET) + timedelta(days=7 * n),
        instrument="checkin",
        instrument_version=1,
        answers=answers,
        practitioner="AB",
    )
    base.update(changes)
    return Rating(**base)


def core(client: str = "C-021", n: int = 0, skip: tuple[str, ...] = ("warmth_2",)) -> Rating:
    answers = {item: 1 + (i + n) % 5 for i, item in enumerate(CORE_ITEMS) if item not in skip}
    return Rating(
        id=str(uuid.uuid4()),
        client=client,
        session=0,
        rated_at=datetime(2026, 10, 7, 16, 5, tzinfo=EST) + timedelta(days=7 * n),
        instrument="core",
        instrument_version=1,
        answers=answers,
        skipped=tuple(i for i in CORE_ITEMS if i in skip),
    )


def seed(data_dir: Path, ratings: list[Rating]) -> list[Rating]:
    store = open_store(data_dir)
    store.add(ratings)
    return store.read_all().ratings


def read_csv(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    text = path.read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))


def export(tmp_path: Path, *args: str, name: str = "out.csv") -> tuple[Path, object]:
    out = tmp_path / name
    result = run("export", "--output", str(out), *args)
    return out, result


# -- the column layout ----------------------------------------------------------------------------


def test_layout_union_of_items_and_dimension_columns():
    checkin_def, core_def = load_builtin("checkin"), load_builtin("core")
    layout = Layout.build(
        [
            ("checkin", checkin_def.item_ids, checkin_def.dimension_ids),
            ("core", core_def.item_ids, core_def.dimension_ids),
            ("checkin", checkin_def.item_ids, checkin_def.dimension_ids),
        ]
    )
    assert layout.columns == (
        *FIXED_COLUMNS,
        "status",
        *CHECKIN_ITEMS,
        *CORE_ITEMS,
        "empathy_score",
        "warmth_score",
        "genuineness_score",
        "trust_score",
        "overall",
        "pomp",
        "total",
        "alerts",
        "comment",
    )
    assert len(set(layout.columns)) == len(layout.columns)


@pytest.mark.parametrize(
    "name",
    ["total", "Comment", "date", "id", "session", "empathy_score", "x_SCORE", "skipped", "Status"],
)
def test_reserved_item_ids_are_refused(name):
    assert is_reserved(name)
    with pytest.raises(ColumnNameError, match=re.escape(repr(name))):
        Layout.build([("mine", ("a", name), ("d",))])


def test_ordinary_item_ids_are_not_reserved():
    for name in (*CHECKIN_ITEMS, *CORE_ITEMS, "scores", "totals", "score"):
        assert not is_reserved(name)


@pytest.mark.parametrize(
    "text", ["=1+1", "+1", "-2+3", "@SUM(1)", "\t=1", "\r=1", "\n=1", "\0x", "'quoted", "''"]
)
def test_escaping_is_reversible(text):
    escaped = escape_text(text)
    assert escaped == "'" + text
    assert unescape_text(escaped) == text


@pytest.mark.parametrize("text", ["plain", "8", "C-014", " =not first", "", "a'b"])
def test_harmless_text_is_not_escaped(text):
    assert escape_text(text) == text
    assert unescape_text(text) == text


def test_excel_mode_also_escapes_text_that_excel_would_turn_into_numbers_or_dates():
    for text in ("0412", "3-11", "1,5", "10/10", "2026-11-03"):
        assert escape_text(text, for_excel=True) == "'" + text
        assert escape_text(text) == text
    assert escape_text("C-014", for_excel=True) == "C-014"


# -- CSV ------------------------------------------------------------------------------------------


def test_csv_has_the_layout_numbers_as_numbers_and_empty_cells(tmp_path, data_dir):
    stored = seed(data_dir, [checkin(n=0), checkin(n=1), core()])
    out, result = export(tmp_path, "--format", "csv")
    assert result.exit_code == 0, result.output
    raw = out.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert raw.count(b"\r\n") == 4 and raw.count(b"\n") == 4  # CRLF, one line per row
    rows = read_csv(out)
    header = raw.decode().split("\r\n")[0].split(",")
    assert header[:8] == [*FIXED_COLUMNS, "status"]
    assert header[8:12] == list(CHECKIN_ITEMS)
    assert header[12:24] == list(CORE_ITEMS)
    assert header[24:] == [
        "empathy_score",
        "warmth_score",
        "genuineness_score",
        "trust_score",
        "overall",
        "pomp",
        "total",
        "alerts",
        "comment",
    ]
    first, second, third = rows
    assert (first["client"], first["session"], second["session"]) == ("C-014", "1", "2")
    assert first["rated_at"] == "2026-10-06T10:50:00+01:00"
    assert (first["empathy"], first["warmth"], first["genuineness"], first["trust"]) == (
        "8",
        "9",
        "7",
        "10",
    )
    assert all(first[i] == "" for i in CORE_ITEMS)  # another instrument's items: empty
    assert all(third[i] == "" for i in CHECKIN_ITEMS)
    assert third["warmth_2"] == ""  # skipped
    assert third["empathy_1"] == "1"
    # scores: rounded exactly as every table shows them
    by_id = {r.id: r for r in stored}
    for row in rows:
        rating = by_id[row["id"]]
        scores = score_client(
            [r for r in stored if r.client == rating.client], load_version
        ).sessions
        s = next(x for x in scores if x.rating.id == rating.id)
        for key in ("overall", "pomp", "total"):
            value = getattr(s, key)
            places = places_for(key)
            want = "" if value is None else f"{round_score(value, places):.{places}f}"
            assert row[key] == want, key
        for dim, value in s.dimensions.items():
            want = "" if value is None else f"{round_score(value, 2):.2f}"
            assert row[f"{dim}_score"] == want
    assert first["overall"] == "8.50" and first["pomp"] == "85.0" and first["total"] == "34"
    assert third["total"] == ""  # a skipped item: no total
    assert first["alerts"] == "low;item"
    for row in rows:
        for name, cell in row.items():
            assert not cell.startswith("'"), (name, cell)  # nothing here needs escaping


def load_version(instrument_id: str, version: int):
    inst = load_builtin(instrument_id)
    return inst if inst.version == version else None


def test_csv_quotes_commas_quotes_and_line_breaks(tmp_path, data_dir):
    comment = 'She said "fine, I guess"\nthen left;\r\nok'
    seed(data_dir, [checkin(comment=comment)])
    out, result = export(tmp_path)
    assert result.exit_code == 0, result.output
    text = out.read_bytes().decode()
    assert '"She said ""fine, I guess""\nthen left;\r\nok"' in text
    assert read_csv(out)[0]["comment"] == comment


def test_excel_option_writes_a_bom_and_no_sep_line(tmp_path, data_dir):
    seed(data_dir, [checkin(comment="Grüße – très bien"), checkin(client="0412")])
    out, result = export(tmp_path, "--excel")
    assert result.exit_code == 0, result.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfid,client,")
    assert b"sep=" not in raw
    rows = read_csv(out)
    assert {r["client"] for r in rows} == {"'0412", "C-014"}
    assert "0412" in result.stderr  # the note about the escaped code
    assert "Grüße – très bien" in {r["comment"] for r in rows}


def test_semicolon_delimiter_writes_decimal_commas(tmp_path, data_dir):
    seed(data_dir, [checkin(answers=dict(zip(CHECKIN_ITEMS, (8, 9, 7, 9))))])
    out, result = export(tmp_path, "--delimiter", ";")
    assert result.exit_code == 0, result.output
    row = read_csv(out, ";")[0]
    assert (row["overall"], row["pomp"], row["empathy"]) == ("8,25", "82,5", "8")


def test_hostile_comments_are_escaped_text_in_csv(tmp_path, data_dir):
    comments = hostile_comments()
    assert len(comments) >= 9 and "\t=1+1" in comments and "\r=1+1" in comments
    seed(data_dir, [checkin(client=f"H-{i}", comment=c) for i, c in enumerate(comments)])
    out, result = export(tmp_path)
    assert result.exit_code == 0, result.output
    rows = read_csv(out)
    got = {r["client"]: r for r in rows}
    for i, comment in enumerate(comments):
        row = got[f"H-{i}"]
        assert row["comment"] == "'" + comment  # every hostile line starts like a formula
        assert unescape_text(row["comment"]) == comment
        for name, cell in row.items():
            if NUMBER.fullmatch(cell):
                continue  # a number cell, written as a number
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (name, cell)
        for name in ("session", "instrument_version", *CHECKIN_ITEMS, "total", "pomp"):
            assert NUMBER.fullmatch(row[name]), (name, row[name])
    assert got["H-8"]["comment"] == "'-3 is text here, not a number"


def test_negative_looking_client_codes_and_practitioners_are_escaped(tmp_path, data_dir):
    seed(data_dir, [checkin(client="-5", practitioner="+AB")])
    out, result = export(tmp_path)
    assert result.exit_code == 0, result.output
    row = read_csv(out)[0]
    assert (row["client"], row["practitioner"]) == ("'-5", "'+AB")


# -- JSON Lines -----------------------------------------------------------------------------------


def test_json_lines_export(tmp_path, data_dir):
    seed(data_dir, [checkin(comment="=1+1\nsecond line"), core()])
    out, result = export(tmp_path, name="out.jsonl")
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == ""
    first, second = (json.loads(line) for line in lines[:-1])
    assert first["comment"] == "=1+1\nsecond line"  # JSON is not a spreadsheet: no escaping
    assert first["answers"] == {"empathy": 8, "warmth": 9, "genuineness": 7, "trust": 10}
    assert first["overall"] == 8.5 and first["pomp"] == 85.0 and first["total"] == 34
    assert isinstance(first["total"], int)
    assert first["dimensions"]["empathy"] == 8.0
    assert [a["kind"] for a in first["alerts"]] == ["low", "item"]
    assert second["skipped"] == ["warmth_2"] and "warmth_2" not in second["answers"]
    assert second["total"] is None
    assert second["rated_at"] == "2026-10-07T16:05:00-05:00"


def test_json_to_stdout(data_dir):
    seed(data_dir, [checkin()])
    result = run("export", "--format", "json", "--output", "-")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["client"] == "C-014"
    assert "Exported 1 rating" in result.stderr


def test_csv_to_stdout_keeps_crlf(data_dir):
    seed(data_dir, [checkin()])
    result = run("export", "--output", "-")
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.startswith(b"id,client,session,")
    assert result.stdout_bytes.count(b"\r\n") == 2
    assert b"\r\r\n" not in result.stdout_bytes


# -- XLSX -----------------------------------------------------------------------------------------


def ooxml_text(value: str) -> str:
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), value)


def load_xlsx(path: Path):
    return openpyxl.load_workbook(path)


def test_xlsx_ratings_sheet_is_a_real_table_with_numbers_and_dates(tmp_path, data_dir):
    seed(data_dir, [checkin(n=0), checkin(n=1), core()])
    out, result = export(tmp_path, name="out.xlsx")
    assert result.exit_code == 0, result.output
    wb = load_xlsx(out)
    assert wb.sheetnames == ["Summary", "Ratings", "Chart"]
    ws = wb["Ratings"]
    assert ws.freeze_panes == "A2"
    assert "Ratings" in ws.tables
    table = ws.tables["Ratings"]
    assert table.autoFilter is not None
    header = [c.value for c in ws[1]]
    assert header[:4] == ["id", "client", "session", "date"]
    assert header[4] == "rated_at"
    assert table.ref == f"A1:{openpyxl.utils.get_column_letter(len(header))}4"
    col = {name: i for i, name in enumerate(header)}
    row = [c for c in ws[2]]
    assert row[col["date"]].is_date
    assert row[col["date"]].value == datetime(2026, 10, 6, 10, 50)  # wall-clock time, no zone
    assert row[col["rated_at"]].value == "2026-10-06T10:50:00+01:00"
    assert row[col["rated_at"]].data_type == "s"
    numeric = (
        "session",
        "instrument_version",
        *CHECKIN_ITEMS,
        "empathy_score",
        "overall",
        "pomp",
        "total",
    )
    for name in numeric:
        assert row[col[name]].data_type == "n", name
        assert isinstance(row[col[name]].value, int | float), name
    assert row[col["overall"]].value == 8.5
    assert row[col["overall"]].number_format == "0.00"
    assert row[col["pomp"]].number_format == "0.0"
    core_row = [c for c in ws[4]]
    assert core_row[col["warmth_2"]].value is None  # skipped: an empty cell
    assert core_row[col["empathy"]].value is None  # another instrument's item
    assert core_row[col["rated_at"]].value.endswith("-05:00")
    assert core_row[col["date"]].value == datetime(2026, 10, 7, 16, 5)


def test_xlsx_summary_and_chart(tmp_path, data_dir):
    seed(data_dir, [checkin(n=0), checkin(n=1), core(), core(n=1)])
    out, result = export(tmp_path, name="out.xlsx")
    assert result.exit_code == 0, result.output
    wb = load_xlsx(out)
    summary = wb["Summary"]
    assert summary.freeze_panes == "A2" and "Summary" in summary.tables
    header = [c.value for c in summary[1]]
    rows = [[c.value for c in r] for r in summary.iter_rows(min_row=2)]
    assert header[:2] == ["client", "sessions"]
    assert {r[0]: r[1] for r in rows} == {"C-014": 2, "C-021": 2}
    pomp = header.index("latest_pomp")
    assert all(isinstance(r[pomp], float) for r in rows)
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        assert "xl/charts/chart1.xml" in names
        chart = z.read("xl/charts/chart1.xml").decode()
    assert "<c:lineChart>" in chart
    assert chart.count("<c:ser>") == 3  # one line per client, and the cutoff
    assert wb["Chart"]._charts  # openpyxl sees the chart too


def test_xlsx_summary_lists_clients_needing_attention_first(tmp_path, data_dir):
    good = dict(zip(CHECKIN_ITEMS, (10, 10, 10, 10)))
    low = dict(zip(CHECKIN_ITEMS, (2, 3, 2, 3)))
    seed(
        data_dir,
        [
            checkin(client="A-001", answers=good),
            checkin(client="M-005", answers=good),
            checkin(client="Z-009", answers=low),
        ],
    )
    out, result = export(tmp_path, name="out.xlsx")
    assert result.exit_code == 0, result.output
    summary = load_xlsx(out)["Summary"]
    assert [r[0].value for r in summary.iter_rows(min_row=2)] == ["Z-009", "A-001", "M-005"]
    assert summary.tables["Summary"].ref == "A1:K4"
    header = [c.value for c in summary[1]]
    first_date = summary.cell(2, header.index("first_date") + 1)
    assert first_date.is_date and first_date.number_format == "yyyy-mm-dd hh:mm"
    assert summary.cell(2, header.index("latest_pomp") + 1).number_format == "0.0"


def test_xlsx_chart_draws_at_most_8_clients_those_needing_attention_first(tmp_path, data_dir):
    ratings = []
    for i in range(35):
        low = i % 7 == 0  # some clients with low scores need attention
        answers = dict(zip(CHECKIN_ITEMS, (3, 3, 3, 3) if low else (10, 10, 10, 10)))
        ratings.append(checkin(client=f"C-{i:03d}", answers=answers))
    seed(data_dir, ratings)
    out, result = export(tmp_path, name="out.xlsx")
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as z:
        chart = z.read("xl/charts/chart1.xml").decode()
    assert chart.count("<c:ser>") == 9  # 8 clients and the cutoff
    ws = load_xlsx(out)["Chart"]
    names = [c.value for c in ws[29][1:] if c.value is not None]  # the numbers below the chart
    assert len(names) == 9
    assert names[:5] == ["C-000", "C-007", "C-014", "C-021", "C-028"]
    assert names[-1] == "cutoff 90%"
    notes = [c.value for c in ws[28] if c.value]
    assert any("8 lines of the clients who need attention first, of 35" in n for n in notes)


def test_hostile_comments_are_text_in_xlsx_and_no_cell_is_a_formula(tmp_path, data_dir):
    comments = hostile_comments()
    seed(data_dir, [checkin(client=f"H-{i}", comment=c) for i, c in enumerate(comments)])
    out, result = export(tmp_path, name="out.xlsx")
    assert result.exit_code == 0, result.output
    wb = load_xlsx(out)
    ws = wb["Ratings"]
    header = [c.value for c in ws[1]]
    col = {name: i for i, name in enumerate(header)}
    seen = {}
    for row in ws.iter_rows(min_row=2):
        cell = row[col["comment"]]
        assert cell.data_type == "s"
        assert cell.quotePrefix  # Excel's own "this is text", as typing a leading '
        seen[row[col["client"]].value] = cell.value
        for name in ("session", *CHECKIN_ITEMS, "overall", "pomp", "total"):
            assert row[col[name]].data_type == "n", name
    for i, comment in enumerate(comments):
        # the cell holds exactly the comment, marked as text (a CR is stored as _x000D_, the
        # file format's escape, which Excel reads back as CR and openpyxl leaves as it is)
        assert ooxml_text(seen[f"H-{i}"]) == comment
    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    with zipfile.ZipFile(out) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert "<f>" not in z.read(name).decode(), name


def test_xlsx_without_xlsxwriter_says_how_to_install(tmp_path, data_dir, monkeypatch):
    seed(data_dir, [checkin()])
    monkeypatch.setitem(sys.modules, "xlsxwriter", None)  # import fails
    out, result = export(tmp_path, name="out.xlsx")
    assert result.exit_code == 1
    assert 'pip install "ratetool[xlsx]"' in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()


def test_xlsx_to_stdout_is_refused(data_dir):
    seed(data_dir, [checkin()])
    result = run("export", "--format", "xlsx", "--output", "-")
    assert result.exit_code == 1
    assert "binary" in result.stderr and "--output ratings.xlsx" in result.stderr
    assert result.stdout == ""


# -- where the file goes --------------------------------------------------------------------------


def test_existing_output_is_not_replaced_without_force(tmp_path, data_dir):
    seed(data_dir, [checkin()])
    out = tmp_path / "out.csv"
    out.write_bytes(b"precious")
    result = run("export", "--output", str(out))
    assert result.exit_code == 1
    assert "already exists" in result.stderr and "--force" in result.stderr
    assert out.read_bytes() == b"precious"
    result = run("export", "--output", str(out), "--force")
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"id,client,")
    if POSIX:
        assert stat.S_IMODE(out.stat().st_mode) == 0o600


@pytest.mark.posix_only  # file modes
@pytest.mark.parametrize("name", ["new.csv", "new.xlsx", "new.jsonl"])
def test_exports_are_private_files(tmp_path, data_dir, name):
    seed(data_dir, [checkin()])
    out, result = export(tmp_path, name=name)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path, data_dir, monkeypatch):
    seed(data_dir, [checkin()])
    out = tmp_path / "out.csv"
    out.write_bytes(b"old export")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device", str(dst))

    monkeypatch.setattr(os, "replace", broken_replace)
    result = run("export", "--output", str(out), "--force")
    assert result.exit_code == 1
    assert "No space left on device" in result.stderr
    assert out.read_bytes() == b"old export"
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["out.csv"]


def test_output_inside_the_data_folder_is_refused(data_dir):
    seed(data_dir, [checkin()])
    before = sorted(p.name for p in (data_dir / "clients").iterdir())
    target = data_dir / "clients" / "C-014.toml"
    result = run("export", "--output", str(target), "--force")
    assert result.exit_code == 1
    assert "inside the data folder" in result.stderr
    assert sorted(p.name for p in (data_dir / "clients").iterdir()) == before


def test_missing_folder_and_mismatched_format_are_refused(tmp_path, data_dir):
    seed(data_dir, [checkin()])
    result = run("export", "--output", str(tmp_path / "nope" / "out.csv"))
    assert result.exit_code == 1 and "does not exist" in result.stderr
    result = run("export", "--format", "csv", "--output", str(tmp_path / "out.xlsx"))
    assert result.exit_code == 1 and "does not match" in result.stderr
    result = run("export")
    assert result.exit_code == 1 and "--output" in result.stderr
    result = run("export", "--format", "pdf", "--output", "-")
    assert result.exit_code == 1 and "csv, xlsx or json" in result.stderr
    assert list(tmp_path.glob("out.*")) == []


def test_no_data_is_a_clear_message(tmp_path, data_dir):
    out, result = export(tmp_path)
    assert result.exit_code == 1
    assert "No ratings to export" in result.stderr and "Nothing was written" in result.stderr
    assert not out.exists()
    assert not data_dir.exists()


# -- which sessions -------------------------------------------------------------------------------


def test_client_since_and_until_filters(tmp_path, data_dir):
    seed(data_dir, [checkin(n=n) for n in range(4)] + [checkin(client="C-099")])
    out, result = export(
        tmp_path, "--client", "C-014", "--since", "2026-10-13", "--until", "2026-10-20"
    )
    assert result.exit_code == 0, result.output
    rows = read_csv(out)
    assert [(r["client"], r["session"]) for r in rows] == [("C-014", "2"), ("C-014", "3")]
    # alerts come from the full history: session 2 is compared with session 1, left out here
    out, result = export(tmp_path, "--client", "C-099", "--client", "C-000", "--force")
    assert result.exit_code == 0
    assert "no ratings for C-000" in result.stderr
    out, result = export(tmp_path, "--since", "2030-01-01", "--force")
    assert result.exit_code == 1 and "No ratings to export" in result.stderr
    result = run("export", "--output", "-", "--since", "yesterday")
    assert result.exit_code == 1 and "--since 'yesterday' is not a date" in result.stderr
    result = run("export", "--output", "-", "--client", "../x")
    assert result.exit_code == 1


def test_period_bounds_with_a_time(tmp_path, data_dir):
    seed(data_dir, [checkin(n=0), checkin(n=1)])
    # 2026-10-06T10:50+01:00 is 09:50 UTC
    out, result = export(
        tmp_path, "--since", "2026-10-06T09:50:00+00:00", "--until", "2026-10-06T09:50:00Z"
    )
    assert result.exit_code == 0, result.output
    assert [r["session"] for r in read_csv(out)] == ["1"]


# -- instruments ----------------------------------------------------------------------------------

CLASHING = """
id = "clash"
version = 1
title = "Clash"
intro = "An item named like a column."
[scale]
min = 0
max = 4
min_label = "no"
max_label = "yes"
[dimensions]
all = "All"
[[items]]
id = "total"
dimension = "all"
text = "Everything?"
"""


def test_an_item_named_like_a_column_is_refused_for_csv_but_json_works(
    tmp_path, data_dir, config_dir
):
    (config_dir / "instruments").mkdir(parents=True)
    (config_dir / "instruments" / "clash.toml").write_text(CLASHING, encoding="utf-8")
    assert run("rate", "C-1", "--instrument", "clash", "--answers", "3", "--yes").exit_code == 0
    out, result = export(tmp_path)
    assert result.exit_code == 1
    assert "'total' of instrument 'clash'" in result.stderr and "--format json" in result.stderr
    assert not out.exists()
    out, result = export(tmp_path, name="out.jsonl")
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["answers"] == {"total": 3}


def test_several_instruments_in_one_export_share_dimension_columns(tmp_path, data_dir):
    seed(data_dir, [checkin(client="C-1"), core(client="C-1")])
    out, result = export(tmp_path)
    assert result.exit_code == 0, result.output
    rows = read_csv(out)
    assert [r["instrument"] for r in rows] == ["checkin", "core"]
    # each row's dimension scores are on its own instrument's scale; pomp compares them
    assert float(rows[0]["empathy_score"]) > 5 and float(rows[1]["empathy_score"]) <= 5


# -- lazy imports ---------------------------------------------------------------------------------


def test_export_and_import_help_load_no_format_library():
    code = (
        "import sys\n"
        "from ratetool.cli import main\n"
        "for argv in (['export', '--help'], ['import', '--help']):\n"
        "    sys.argv = ['ratetool', *argv]\n"
        "    try:\n"
        "        main()\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print([m for m in ('xlsxwriter', 'openpyxl', 'ratetool.importer',\n"
        "       'ratetool.exporters', 'ratetool.csvformat') if m in sys.modules])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"


DASHED = """
id = "dashed"
version = 1
title = "Dashed"
intro = "Item ids that start like a formula."
[scale]
min = -2
max = 2
min_label = "no"
max_label = "yes"
[dimensions]
-all = "All"
[[items]]
id = "-a"
dimension = "-all"
text = "A?"
[[items]]
id = "1"
dimension = "-all"
text = "B?"
"""


def test_header_cells_and_negative_answers(tmp_path, data_dir, config_dir):
    (config_dir / "instruments").mkdir(parents=True)
    (config_dir / "instruments" / "dashed.toml").write_text(DASHED, encoding="utf-8")
    result = run("rate", "C-1", "--instrument", "dashed", "--answers=-a=-2,1=1", "--yes")
    assert result.exit_code == 0, result.output
    out, result = export(tmp_path, "--excel")
    assert result.exit_code == 0, result.output
    header = out.read_bytes().decode("utf-8-sig").split("\r\n")[0].split(",")
    assert header[8:11] == ["'-a", "'1", "'-all_score"]
    row = read_csv(out)[0]
    assert (row["'-a"], row["'1"]) == ("-2", "1")  # numbers stay numbers, even negative ones
    target = tmp_path / "again"
    result = run("--data-dir", str(target), "import", str(out))
    assert result.exit_code == 0, result.output
    (rating,) = open_store(target).read_all().ratings
    assert rating.answers == {"-a": -2, "1": 1}
