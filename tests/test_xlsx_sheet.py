"""The XLSX workbook, written with XlsxWriter's public API (``ratetool.exporters.xlsx``).

- the exported workbook read back with openpyxl, cell by cell, against the ratings and their
  scores (worked out here from the data, not with the exporter's code), for a small data set with
  formula-like text, XML special and control characters, non-ASCII text, skipped answers, two
  instruments and an unknown one, several time zones and an alert;
- the same workbook against one XlsxWriter builds cell by cell with a format on every cell
  (``reference_workbook``): every sheet, value, type, number format and text mark equal;
- the limits (rows, cell length), the private temporary folder, the progress reports and the
  progress bar (only at a terminal), and that no private XlsxWriter name is used.
"""

from __future__ import annotations

import ast
import gc
import os
import re
import shlex
import stat
import subprocess
import sys
import tempfile
import uuid
import weakref
import zipfile
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest
import xlsxwriter
from openpyxl.utils import get_column_letter
from typer.testing import CliRunner

from ratetool.cli import app
from ratetool.csvformat import (
    DATE_COLUMN,
    SCORE_COLUMNS,
    is_formula_like,
    rating_values,
    score_values,
)
from ratetool.exporters import ExportData, collect, render, xlsx, xlsx_summary
from ratetool.instruments import load_builtin
from ratetool.model import Rating
from ratetool.scoring import ALERT_KINDS, places_for, round_score
from ratetool.store import open_store

CET = timezone(timedelta(hours=1))
EST = timezone(timedelta(hours=-5))
NEPAL = timezone(timedelta(hours=5, minutes=45))
CHECKIN = load_builtin("checkin")
CORE = load_builtin("core")

#: Comments that test every rule for text cells.
COMMENTS = [
    "=1+1",
    "+x",
    "-2",
    "@a",
    "'already quoted",
    "\t=1+1",
    "\r=1+1",
    "<&>\"' all five",
    "a\x01b\x08c\x0bd\x0ce\x1ff\x7fg",
    "line one\nline two\r\nthree",
    "_x0041_ looks like an escape, _x005F_ too",
    "\ufffe\uffff non-characters",
    "é 中文 🙂 emoji",
    "  leading and trailing  ",
    "\u00a0no-break space\u3000",
    "<r>looks like rich text</r>",
    "]]> and &amp; stay text",
    "Felt heard.",
]


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def resolve(instrument_id: str, version: int):
    return {"checkin": CHECKIN, "core": CORE}.get(instrument_id)


def rating(client: str, day: int, instrument: str = "checkin", **changes) -> Rating:
    items = {"checkin": CHECKIN.item_ids, "core": CORE.item_ids}.get(instrument, ("q1", "q2"))
    answers = {item: 1 + (day + i) % 5 for i, item in enumerate(items)}
    base = {
        "id": str(uuid.uuid4()),
        "client": client,
        "session": 0,
        "rated_at": datetime(2026, 10, 6, 10, 50, tzinfo=CET) + timedelta(days=7 * day),
        "instrument": instrument,
        "instrument_version": 1,
        "answers": answers,
        "practitioner": "AB",
    }
    base.update(changes)
    return Rating(**base)


def rich_ratings() -> list[Rating]:
    """Ratings that between them touch every kind of cell."""
    ratings = [
        rating("H-01", i, comment=comment, practitioner=None if i % 3 else "=ZZ")
        for i, comment in enumerate(COMMENTS)
    ]
    skipped = ("warmth_2", "trust_1")
    ratings += [
        rating(
            "C-021",
            i,
            "core",
            answers={k: v for k, v in rating("x", i, "core").answers.items() if k not in skipped},
            skipped=skipped,
            rated_at=datetime(2026, 10, 7, 16, 5, 30, tzinfo=EST) + timedelta(days=7 * i),
        )
        for i in range(3)
    ]
    ratings.append(rating("C-021", 5, rated_at=datetime(2026, 12, 31, 23, 59, tzinfo=NEPAL)))
    # A big drop, for an alert.
    ratings.append(rating("C-021", 6, answers=dict.fromkeys(CHECKIN.item_ids, 0)))
    # No definition: listed without scores.
    ratings.append(rating("Z-9", 1, "gone", answers={"q1": 3, "q2": 4}))
    return ratings


def seed(data_dir: Path, ratings: list[Rating]) -> list[Rating]:
    store = open_store(data_dir)
    store.add(ratings)
    return store.read_all().ratings


def ooxml_text(value: str) -> str:
    """A cell's text as Excel reads it: ``_xHHHH_`` is the character U+HHHH."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), value)


def expected_rows(data: ExportData) -> list[dict[str, object]]:
    """Each exported session's cells by column, from its rating and scores."""
    rows = []
    for s in data.sessions:
        r = s.rating
        row: dict[str, object] = {
            "id": r.id,
            "client": r.client,
            "session": r.session,
            DATE_COLUMN: r.rated_at.replace(tzinfo=None),
            "rated_at": r.rated_at.isoformat(),
            "instrument": r.instrument,
            "instrument_version": r.instrument_version,
            "practitioner": r.practitioner,
            "status": r.status,
            "comment": r.comment,
            **r.answers,
        }
        for dim, value in s.dimensions.items():
            row[f"{dim}_score"] = round_score(value, places_for("dimension"))
        for key in SCORE_COLUMNS:
            row[key] = round_score(getattr(s, key), places_for(key))
        kinds = {a.kind for a in s.alerts}
        row["alerts"] = ";".join(k for k in ALERT_KINDS if k in kinds) or None
        rows.append(row)
    return rows


def number_format(column: str) -> str:
    """A column's number format: decimal places shown, whole numbers in General."""
    if column in SCORE_COLUMNS:
        places = places_for(column)
    elif column.endswith("_score"):
        places = places_for("dimension")
    else:
        places = 0
    return "General" if places == 0 else "0." + "0" * places


# -- the exported workbook against the data ------------------------------------------------------


def test_every_ratings_cell_is_the_data_with_its_type_and_format(tmp_path, data_dir):
    stored = seed(data_dir, rich_ratings())
    out = tmp_path / "out.xlsx"
    result = run("export", "--output", str(out))
    assert result.exit_code == 0, result.output
    data = collect(stored, resolve)
    expected = expected_rows(data)
    assert len(expected) == len(rich_ratings())

    with zipfile.ZipFile(out) as z:
        assert z.testzip() is None
        for name in z.namelist():
            if name.endswith((".xml", ".rels")):
                ElementTree.fromstring(z.read(name))  # every part is well-formed XML
        sheet = z.read("xl/worksheets/sheet2.xml").decode()  # Summary first, then Ratings
    n_cols = len(xlsx.ratings_header(data.layout))
    last = f"{get_column_letter(n_cols)}{len(expected) + 1}"
    assert f'<dimension ref="A1:{last}"/>' in sheet
    assert sheet.count("<row ") == len(expected) + 1

    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Summary", "Ratings", "Chart"]
    ws = wb["Ratings"]
    assert ws.freeze_panes == "A2"
    table = ws.tables["Ratings"]
    assert table.ref == f"A1:{last}" and table.autoFilter.ref == f"A1:{last}"
    header = [c.value for c in ws[1]]
    assert header == list(xlsx.ratings_header(data.layout))
    assert [c.name for c in table.tableColumns] == header
    assert ws.max_row == len(expected) + 1 and ws.max_column == n_cols
    assert ws.column_dimensions["A"].width > 30  # id is wide, as before

    for row_number, (want, cells) in enumerate(zip(expected, ws.iter_rows(min_row=2)), start=2):
        assert cells[0].row == row_number
        for column, cell in zip(header, cells):
            value = want.get(column)
            where = (row_number, column, value)
            if value is None:
                assert cell.value is None, where
            elif isinstance(value, str):
                assert cell.data_type == "s", where
                if "_x" not in value:  # openpyxl misreads a protected _xHHHH_ (next test)
                    assert ooxml_text(cell.value) == value, where
                assert bool(cell.quotePrefix) == is_formula_like(value), where
            elif isinstance(value, datetime):
                assert cell.is_date and cell.value == value, where
                assert cell.number_format == "yyyy-mm-dd hh:mm", where
            else:
                assert cell.data_type == "n" and not cell.is_date, where
                assert cell.value == value, where
                assert cell.number_format == number_format(column), where

    by_comment = {r.comment: r for r in stored}
    comment_col = header.index("comment")
    seen = {
        ooxml_text(row[comment_col].value)
        for row in ws.iter_rows(min_row=2)
        if row[comment_col].value is not None
    }
    comments = {c for c in by_comment if c}
    assert len(seen) == len(comments)  # every comment, once
    assert {c for c in comments if "_x" not in c} <= seen


def test_text_like_an_excel_escape_is_protected(tmp_path, data_dir):
    """Excel reads ``_xHHHH_`` in a cell as the character U+HHHH; XlsxWriter protects such text
    with ``_x005F`` (so Excel shows it as typed), and writes control characters as the escape."""
    seed(data_dir, [rating("C-1", 0, comment="_x0041_ and a\x01b")])
    out = tmp_path / "out.xlsx"
    assert run("export", "--output", str(out)).exit_code == 0
    with zipfile.ZipFile(out) as z:
        strings = z.read("xl/sharedStrings.xml").decode()
    assert "<t>_x005F_x0041_ and a_x0001_b</t>" in strings


def test_a_date_before_1900_is_no_cell_but_rated_at_keeps_it(tmp_path, data_dir):
    seed(data_dir, [rating("C-1", 0, rated_at=datetime(1850, 1, 1, 12, 0, tzinfo=CET))])
    out = tmp_path / "out.xlsx"
    assert run("export", "--output", str(out)).exit_code == 0
    ws = openpyxl.load_workbook(out)["Ratings"]
    header = [c.value for c in ws[1]]
    row = ws[2]
    assert row[header.index("date")].value is None
    assert row[header.index("rated_at")].value == "1850-01-01T12:00:00+01:00"


def test_rich_text_lookalike_is_escaped_not_passed_through(tmp_path, data_dir):
    """XlsxWriter copies a text that starts with <r> and ends with </r> into the file as XML (its
    way of passing rich text through); a client's comment is text, so it is escaped."""
    seed(
        data_dir,
        [rating("C-1", 0, comment="<r><t>x</t></r>"), rating("C-1", 1, comment="<r>&</r>")],
    )
    out = tmp_path / "out.xlsx"
    assert run("export", "--output", str(out)).exit_code == 0
    with zipfile.ZipFile(out) as z:
        strings = z.read("xl/sharedStrings.xml").decode()
    ElementTree.fromstring(strings)
    assert "<r><t>x</t></r>" not in strings and "<r>&</r>" not in strings
    # a rich string of plain runs: "<", "r", then the rest, every run escaped
    assert "<t>&gt;&lt;t&gt;x&lt;/t&gt;&lt;/r&gt;</t>" in strings
    ws = openpyxl.load_workbook(out)["Ratings"]
    col = [c.value for c in ws[1]].index("comment")
    assert [ws.cell(r, col + 1).value for r in (2, 3)] == ["<r><t>x</t></r>", "<r>&</r>"]


# -- the exported workbook against the one XlsxWriter builds cell by cell --------------------------


def reference_workbook(data: ExportData, path: Path) -> None:
    """The workbook with a format on every Ratings cell: XlsxWriter writes each cell through
    ``xlsx._write`` (the exporter leaves the formats to the columns)."""
    workbook = xlsxwriter.Workbook(
        str(path),
        {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
    )
    styles = xlsx._Styles(workbook)
    cutoff = data.thresholds.low
    summary_ws, ws, chart_ws = xlsx._add_sheets(workbook)
    header = xlsx.ratings_header(data.layout)
    clients = xlsx_summary.triage_order(data.clients)
    summary = xlsx_summary._summary_rows(clients, xlsx_summary.ratings_rows(data.sessions))
    xlsx_summary._summary_sheet(summary_ws, summary, styles, cutoff, header.index("pomp"))
    xlsx._table(ws, xlsx.RATINGS_SHEET, header, len(data.sessions), styles)
    xlsx._print_setup(ws)
    pomp = header.index("pomp")
    xlsx._mark_below_cutoff(ws, 1, len(data.sessions), (pomp, pomp), cutoff, styles)
    for row, score in enumerate(data.sessions, start=1):
        values = {**rating_values(score.rating), **score_values(score)}
        values[DATE_COLUMN] = score.rating.rated_at.replace(tzinfo=None)
        for col, column in enumerate(header):
            places = 0 if column == DATE_COLUMN else data.layout.places(column)
            xlsx._write(ws, row, col, values.get(column), places, styles)
    xlsx_summary._chart_sheet(
        workbook, chart_ws, *xlsx_summary.chart_series(clients), styles, cutoff
    )
    workbook.close()


def cell_facts(cell) -> tuple:
    value = cell.value
    return (value, cell.data_type, cell.is_date, cell.number_format, bool(cell.quotePrefix))


def test_workbook_equals_the_one_xlsxwriter_writes_cell_by_cell(tmp_path):
    ratings = rich_ratings()
    ratings += [
        rating(f"C-{i:03d}", 0, answers=dict.fromkeys(CHECKIN.item_ids, i % 11)) for i in range(40)
    ]  # more than the chart draws
    numbered = [replace(r, session=i + 1) for i, r in enumerate(ratings)]
    new = tmp_path / "new.xlsx"
    new.write_bytes(xlsx.to_xlsx(collect(numbered, resolve)))  # consumes what it is given
    old = tmp_path / "old.xlsx"
    reference_workbook(collect(numbered, resolve), old)

    a, b = openpyxl.load_workbook(old), openpyxl.load_workbook(new)
    assert a.sheetnames == b.sheetnames
    for name in a.sheetnames:
        wa, wb = a[name], b[name]
        assert (wa.max_row, wa.max_column) == (wb.max_row, wb.max_column), name
        assert wa.freeze_panes == wb.freeze_panes, name
        assert {t: wa.tables[t].ref for t in wa.tables} == {t: wb.tables[t].ref for t in wb.tables}
        for letter, dim in wa.column_dimensions.items():
            assert wb.column_dimensions[letter].width == dim.width, (name, letter)
        for ra, rb in zip(wa.iter_rows(), wb.iter_rows(), strict=True):
            for ca, cb in zip(ra, rb, strict=True):
                assert cell_facts(ca) == cell_facts(cb), (name, ca.coordinate)
    assert len(b["Chart"]._charts) == len(a["Chart"]._charts) == 1
    with zipfile.ZipFile(old) as za, zipfile.ZipFile(new) as zb:
        assert za.namelist() == zb.namelist()
        # Byte for byte the same, the tables and the chart included; not the sheets and the
        # styles (the formats are on the columns here, on every cell there), nor the shared
        # strings (numbered in another order), nor docProps/core.xml, which holds the second
        # each workbook was written.
        same = [
            m
            for m in za.namelist()
            if not m.startswith("xl/worksheets/sheet")
            and m not in ("xl/sharedStrings.xml", "xl/styles.xml", "docProps/core.xml")
        ]
        assert "xl/tables/table1.xml" in same and "xl/charts/chart1.xml" in same
        for member in same:
            assert za.read(member) == zb.read(member), member


class WatchedRating(Rating):
    """A rating whose freeing a test can see (``Rating`` has slots, so no weak references)."""

    __slots__ = ("__weakref__",)


def test_each_session_is_freed_once_its_row_is_written(monkeypatch):
    """``to_xlsx`` consumes its data: a session and its rating are dropped as soon as their row
    is written, so their memory goes to XlsxWriter's cells (which stay until the end)."""
    monkeypatch.setattr(xlsx, "PROGRESS_EVERY", 1)
    ratings = [
        WatchedRating(**{f: getattr(r, f) for f in Rating.__slots__})
        for r in (replace(rating("C-1", i), session=i + 1) for i in range(4))
    ]
    refs = [weakref.ref(r) for r in ratings]
    data = collect(ratings, resolve)
    del ratings
    alive: list[list[bool]] = []

    def progress(stage: str, done: int, total: int) -> None:
        if stage == xlsx.WRITING:
            alive.append([ref() is not None for ref in refs])

    xlsx.to_xlsx(data, progress)
    assert alive[:4] == [
        [False, True, True, True],
        [False, False, True, True],
        [False, False, False, True],
        [False, False, False, False],
    ]


def test_the_export_command_keeps_no_rating_the_writer_has_dropped(tmp_path, data_dir, monkeypatch):
    """Nothing between the store and the writer (the command, ``collect``) holds on to the
    ratings: each is freed once its row is written."""
    seed(data_dir, [rating("C-1", i) for i in range(4)])
    live: list[int] = []
    of = xlsx.RatingsCells.of

    def counting_of(self, score):  # the Ratings alive as each row is written
        live.append(sum(isinstance(o, Rating) for o in gc.get_objects()))
        return of(self, score)

    monkeypatch.setattr(xlsx.RatingsCells, "of", counting_of)
    assert run("export", "--output", str(tmp_path / "out.xlsx")).exit_code == 0
    first = live[0]
    assert live == [first, first - 1, first - 2, first - 3]


def test_data_written_to_xlsx_cannot_be_used_again():
    """What ``to_xlsx`` consumed is not silently empty: any use says so."""
    ratings = [replace(rating("C-1", i), session=i + 1) for i in range(3)]
    ratings.append(replace(rating("C-2", 0), session=1))
    data = collect(ratings, resolve)
    xlsx.to_xlsx(data)
    for use in (
        lambda: data.sessions,
        lambda: data.clients,
        data.take,
        lambda: xlsx.to_xlsx(data),
        lambda: render(data, "csv"),
        lambda: render(data, "json"),
    ):
        with pytest.raises(RuntimeError, match="taken by a writer.*collect them again"):
            use()
    assert (data.session_count, data.client_count) == (4, 2)  # for the closing message


def test_ratings_cells_equal_rating_values_and_score_values():
    """The exporter puts each Ratings cell in place by position; row by row the cells must be
    exactly ``csvformat``'s ``rating_values`` and ``score_values``, types included."""
    ratings = [replace(r, session=i + 1) for i, r in enumerate(rich_ratings())]
    ratings.append(replace(rating("C-3", 1, rated_at=datetime(1850, 1, 1, tzinfo=CET)), session=1))
    data = collect(ratings, resolve)
    assert any(s.alerts for s in data.sessions) and any(s.overall is None for s in data.sessions)
    header = xlsx.ratings_header(data.layout)
    cells = xlsx.RatingsCells(data.layout, header)
    for score in data.sessions * 2:  # twice: then from the rounded scores kept
        want = {**rating_values(score.rating), **score_values(score)}
        wall_clock = score.rating.rated_at.replace(tzinfo=None)
        want[DATE_COLUMN] = wall_clock if wall_clock.year >= 1900 else None
        got = dict(zip(header, cells.of(score)))
        assert got == {column: want.get(column) for column in header}
        for column in header:  # and the same types (8 is not 8.0 for a cell)
            assert type(got[column]) is type(want.get(column)), column


def test_chart_counts_only_lines_that_have_points():
    """Past the lines it draws, the chart only counts lines: a client (or an instrument of a
    client) without any percent of maximum has no line."""
    ratings = [
        rating(f"C-{i:03d}", 0, answers=dict.fromkeys(CHECKIN.item_ids, 3))
        for i in range(xlsx.MAX_CHART_SERIES + 2)
    ]
    ratings += [rating(f"Z-{i}", 0, "gone", answers={"q1": 1}) for i in range(3)]
    ratings.append(rating("C-000", 1, "gone", answers={"q1": 1}))  # a second, unscored line
    ratings = [replace(r, session=i + 1) for i, r in enumerate(ratings)]
    series, total = xlsx_summary.chart_series(collect(ratings, resolve).clients)
    assert len(series) == xlsx.MAX_CHART_SERIES
    assert total == xlsx.MAX_CHART_SERIES + 2
    assert all(points for _name, points in series)


def test_a_text_longer_than_a_cell_holds_is_cut_without_a_warning(tmp_path):
    """Excel holds 32,767 UTF-16 units in a cell; XlsxWriter would warn and cut. The exporter
    cuts (the CSV export and the data files keep all of it)."""
    long = "a" * 40_000
    wide = "\U0001f642" * 20_000  # two UTF-16 units each
    ratings = [
        replace(rating("C-1", i, comment=comment), session=i + 1)
        for i, comment in enumerate([long, wide, "=" + "b" * 33_000])
    ]
    out = tmp_path / "out.xlsx"
    out.write_bytes(xlsx.to_xlsx(collect(ratings, resolve)))  # warnings are errors here
    ws = openpyxl.load_workbook(out)["Ratings"]
    col = [c.value for c in ws[1]].index("comment") + 1
    cells = [ws.cell(row, col) for row in (2, 3, 4)]
    assert cells[0].value == "a" * 32_767
    assert cells[1].value == "\U0001f642" * 16_383
    assert cells[2].value == "=" + "b" * 32_766 and cells[2].quotePrefix


# -- the temporary files, the progress reports and the bar ---------------------------------------


@pytest.mark.posix_only
def test_xlsxwriters_temporary_files_go_to_a_private_folder(tmp_path, monkeypatch):
    """XlsxWriter writes each sheet to a temporary file before zipping it: these are health
    data, so they go to a folder only the user can open (0700), removed afterwards."""
    made: list[tuple[str, int]] = []
    real_mkstemp = tempfile.mkstemp

    def mkstemp(*args, **kwargs):
        fd, name = real_mkstemp(*args, **kwargs)
        folder = os.path.dirname(name)
        made.append((folder, stat.S_IMODE(os.stat(folder).st_mode)))
        return fd, name

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    ratings = [replace(rating("C-1", i), session=i + 1) for i in range(3)]
    xlsx.to_xlsx(collect(ratings, resolve))
    folders = {folder for folder, _mode in made}
    assert len(made) >= 3 and len(folders) == 1  # every sheet, one folder
    (folder,) = folders
    assert os.path.basename(folder).startswith("ratetool-xlsx-")
    assert {mode for _folder, mode in made} == {0o700}
    assert not os.path.exists(folder)  # removed afterwards


def test_progress_reports_the_rows_then_the_saving(monkeypatch):
    monkeypatch.setattr(xlsx, "PROGRESS_EVERY", 2)
    ratings = [replace(rating("C-1", i), session=i + 1) for i in range(5)]
    heard: list[tuple[str, int, int]] = []
    xlsx.to_xlsx(collect(ratings, resolve), lambda *report: heard.append(report))
    writing = [(xlsx.WRITING, n, 5) for n in (2, 4, 5)]
    assert heard == [*writing, (xlsx.SAVING, 0, 1), (xlsx.SAVING, 1, 1)]


def test_no_progress_bar_when_stderr_is_not_a_terminal(tmp_path, data_dir, monkeypatch):
    from ratetool.cli import progress

    monkeypatch.setattr(progress, "MIN_RATINGS", 1)
    seed(data_dir, [rating("C-1", i) for i in range(3)])
    result = run("export", "--output", str(tmp_path / "out.xlsx"))
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_without_a_terminal_no_bar_and_rich_is_not_imported():
    program = (
        "import sys, ratetool.cli.progress as p\n"
        "with p.progress_bar(10**6) as bar: pass\n"
        "print(bar is None, 'rich' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["True", "False"]


PROGRESS_PROGRAM = (
    "import sys; import ratetool.cli.progress as p; p.MIN_RATINGS = int(sys.argv.pop(1)); "
    "from ratetool.cli import main; main()"
)


def export_at_a_terminal(data_dir: Path, out: Path, min_ratings: int) -> str:
    import pexpect

    command = " ".join(
        shlex.quote(part)
        for part in (sys.executable, "-c", PROGRESS_PROGRAM, str(min_ratings), "export")
    )
    env = {**os.environ, "TERM": "xterm-256color", "RATETOOL_DATA_DIR": str(data_dir)}
    output, status = pexpect.run(
        f"{command} --output {shlex.quote(str(out))} --force",
        env=env,
        encoding="utf-8",
        withexitstatus=True,
        timeout=60,
    )
    assert status == 0, output
    return output


@pytest.mark.posix_only
def test_progress_bar_at_a_terminal_only_for_a_big_export(tmp_path, data_dir):
    seed(data_dir, [rating("C-1", i) for i in range(3)])
    out = tmp_path / "out.xlsx"
    shown = export_at_a_terminal(data_dir, out, min_ratings=3)
    assert xlsx.WRITING in shown or xlsx.SAVING in shown
    assert "Exported 3 ratings" in shown
    assert openpyxl.load_workbook(out).sheetnames == ["Summary", "Ratings", "Chart"]
    quiet = export_at_a_terminal(data_dir, out, min_ratings=4)  # fewer than the threshold
    assert xlsx.WRITING not in quiet and xlsx.SAVING not in quiet and "Exporting" not in quiet
    assert "Exported 3 ratings" in quiet


# -- the API used ----------------------------------------------------------------------------


def test_no_private_xlsxwriter_name_is_used():
    """Only XlsxWriter's documented API: no attribute starting with ``_`` is read from any
    object that is not ratetool's own (``self``), and no private module is imported."""
    src = Path(xlsx.__file__).parent.parent
    for path in sorted(src.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if "xlsxwriter" not in path.read_text(encoding="utf-8"):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("xlsxwriter"):
                assert not any(a.name.startswith("_") for a in node.names), path
                assert "._" not in f".{node.module}", path
            if isinstance(node, ast.Attribute) and node.attr[:1] == "_" != node.attr[1:2]:
                owner = node.value
                assert isinstance(owner, ast.Name) and owner.id in ("self", "cls"), (
                    f"{path}:{node.lineno}: .{node.attr}"
                )
