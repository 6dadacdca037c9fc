"""The XLSX Ratings sheet, whose rows ratetool writes as XML itself (``xlsx_sheetdata``).

Three kinds of check:

- the exported workbook read back with openpyxl, cell by cell, against the ratings and their
  scores (worked out here from the data, not with the exporter's code), for a small data set with
  formula-like text, XML special and control characters, non-ASCII text, skipped answers, two
  instruments and an unknown one, several time zones and an alert;
- the same workbook against one XlsxWriter builds cell by cell, as ratetool did before
  (``reference_workbook``): every sheet, value, type, number format and text mark equal;
- the cell XML against XlsxWriter's own (its ``constant_memory`` mode, which writes inline
  strings too), byte for byte, for hand-picked and for generated values.
"""

from __future__ import annotations

import re
import uuid
import zipfile
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest
import xlsxwriter
from hypothesis import given
from hypothesis import strategies as st
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
from ratetool.exporters import ExportData, collect, xlsx
from ratetool.exporters import xlsx_sheetdata as sheetdata
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
    if column in SCORE_COLUMNS:
        places = places_for(column)
    elif column.endswith("_score"):
        places = places_for("dimension")
    else:
        places = 0
    return "0" if places == 0 else "0." + "0" * places


# -- the exported workbook against the data ------------------------------------------------------


def test_every_ratings_cell_is_the_data_with_its_type_and_format(tmp_path, data_dir, monkeypatch):
    monkeypatch.setattr(xlsx, "BATCH", 4)  # several batches of rows
    stored = seed(data_dir, rich_ratings())
    out = tmp_path / "out.xlsx"
    result = run("export", "--output", str(out))
    assert result.exit_code == 0, result.output
    data = collect(stored, resolve)
    expected = expected_rows(data)
    assert len(expected) == len(rich_ratings()) > 3 * 4

    with zipfile.ZipFile(out) as z:
        assert z.testzip() is None
        for name in z.namelist():
            if name.endswith((".xml", ".rels")):
                ElementTree.fromstring(z.read(name))  # every part is well-formed XML
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    n_cols = len(xlsx.ratings_header(data.layout))
    last = f"{get_column_letter(n_cols)}{len(expected) + 1}"
    assert f'<dimension ref="A1:{last}"/>' in sheet
    assert sheet.count("<row ") == len(expected) + 1

    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Ratings", "Summary", "Chart"]
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
    assert seen == set(by_comment) - {None}  # every comment, exactly, once


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
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    ElementTree.fromstring(sheet)
    assert "<t>&lt;r&gt;&lt;t&gt;x&lt;/t&gt;&lt;/r&gt;</t>" in sheet
    ws = openpyxl.load_workbook(out)["Ratings"]
    col = [c.value for c in ws[1]].index("comment")
    assert [ws.cell(r, col + 1).value for r in (2, 3)] == ["<r><t>x</t></r>", "<r>&</r>"]


# -- the exported workbook against the one XlsxWriter builds cell by cell --------------------------


def reference_workbook(data: ExportData, path: Path) -> None:
    """The workbook as ratetool made it before writing the Ratings rows itself: XlsxWriter
    writes every cell through ``xlsx._write``."""
    workbook = xlsxwriter.Workbook(
        str(path),
        {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
    )
    styles = xlsx._Styles(workbook)
    ws = workbook.add_worksheet(xlsx.RATINGS_SHEET)
    header = xlsx.ratings_header(data.layout)
    xlsx._table(ws, xlsx.RATINGS_SHEET, header, len(data.sessions), styles)
    for row, score in enumerate(data.sessions, start=1):
        values = {**rating_values(score.rating), **score_values(score)}
        values[DATE_COLUMN] = score.rating.rated_at.replace(tzinfo=None)
        for col, column in enumerate(header):
            places = 0 if column == DATE_COLUMN else data.layout.places(column)
            xlsx._write(ws, row, col, values.get(column), places, styles)
    xlsx._summary_sheet(workbook, data, styles)
    xlsx._chart_sheet(workbook, data, styles)
    workbook.close()


def cell_facts(cell) -> tuple:
    value = cell.value
    if isinstance(value, str):
        # openpyxl drops "x005F_" from shared strings (the old workbook's), not from inline ones
        value = value.replace("x005F_", "")
    return (value, cell.data_type, cell.is_date, cell.number_format, bool(cell.quotePrefix))


def test_workbook_equals_the_one_xlsxwriter_writes_cell_by_cell(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx, "BATCH", 5)
    # XlsxWriter passes <r>...</r> through as rich text (see the test above): left out here.
    ratings = [r for r in rich_ratings() if not (r.comment or "").startswith("<r>")]
    ratings += [
        rating(f"C-{i:03d}", 0, answers=dict.fromkeys(CHECKIN.item_ids, i % 11)) for i in range(40)
    ]  # more than the chart draws
    numbered = [replace(r, session=i + 1) for i, r in enumerate(ratings)]
    data = collect(numbered, resolve)
    new = tmp_path / "new.xlsx"
    new.write_bytes(xlsx.to_xlsx(data))
    old = tmp_path / "old.xlsx"
    reference_workbook(data, old)

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
        # Byte for byte the same, the Ratings table (its range set afterwards) included; not
        # the sheets, the shared strings and the styles, which number strings and styles in
        # another order now that the Ratings text is inline, nor docProps/core.xml, which holds
        # the second each workbook was written.
        same = [
            m
            for m in za.namelist()
            if not m.startswith("xl/worksheets/sheet")
            and m not in ("xl/sharedStrings.xml", "xl/styles.xml", "docProps/core.xml")
        ]
        assert "xl/tables/table1.xml" in same and "xl/charts/chart1.xml" in same
        for member in same:
            assert za.read(member) == zb.read(member), member


def test_ratings_columns_equal_rating_values_and_score_values(monkeypatch):
    """The exporter reads the Ratings columns with maps over many sessions at once; row by row
    they must be exactly ``csvformat``'s ``rating_values`` and ``score_values``."""
    ratings = [replace(r, session=i + 1) for i, r in enumerate(rich_ratings())]
    data = collect(ratings, resolve)
    assert any(s.alerts for s in data.sessions) and any(s.overall is None for s in data.sessions)
    header = xlsx.ratings_header(data.layout)
    columns = xlsx._RatingsColumns(data.layout, header)
    assert columns.slow == []  # every column is read the fast way
    for start in range(0, len(data.sessions), 7):
        batch = data.sessions[start : start + 7]
        got = columns.of(batch)
        for i, score in enumerate(batch):
            want = {**rating_values(score.rating), **score_values(score)}
            want[DATE_COLUMN] = score.rating.rated_at.replace(tzinfo=None)
            row = {column: got[c][i] for c, column in enumerate(header)}
            assert row == {column: want.get(column) for column in header}
            for column in header:  # and the same types (8 is not 8.0 for a cell)
                assert type(row[column]) is type(want.get(column)), column


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
    series, total = xlsx.chart_series(collect(ratings, resolve).clients)
    assert len(series) == xlsx.MAX_CHART_SERIES
    assert total == xlsx.MAX_CHART_SERIES + 2
    assert all(points for _name, points in series)


# -- limits ------------------------------------------------------------------------------------


def test_more_ratings_than_a_sheet_has_rows_is_refused(tmp_path, data_dir, monkeypatch):
    seed(data_dir, [rating("C-1", i) for i in range(3)])
    monkeypatch.setattr(xlsx, "MAX_ROWS", 3)  # header + 2
    out = tmp_path / "out.xlsx"
    result = run("export", "--output", str(out))
    assert result.exit_code == 1
    assert "at most 2 ratings" in result.stderr and "these are 3" in result.stderr
    assert "--format csv" in result.stderr and "Nothing was written" in result.stderr
    assert not out.exists()
    monkeypatch.setattr(xlsx, "MAX_ROWS", 4)
    assert run("export", "--output", str(out)).exit_code == 0


def test_a_sheet_too_big_for_the_zip_is_refused(tmp_path, data_dir, monkeypatch):
    seed(data_dir, [rating("C-1", i) for i in range(30)])
    monkeypatch.setattr(sheetdata, "MAX_MEMBER", 5_000)
    out = tmp_path / "out.xlsx"
    result = run("export", "--output", str(out))
    assert result.exit_code == 1
    assert "larger than 2 GB" in result.stderr and "Nothing was written" in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()


def test_an_error_while_compressing_reaches_the_caller():
    def broken(data: bytes) -> None:
        raise OSError("disk gone")

    writer = sheetdata._Writer(broken, "The sheet")
    writer.put("<row/>")
    with pytest.raises(OSError, match="disk gone"):
        writer.close()


# -- the cell XML against XlsxWriter's own -----------------------------------------------------

NUMBERS = [
    0,
    -0.0,
    1,
    8,
    -3,
    8.5,
    93.75,
    0.1 + 0.2,
    1 / 3,
    1e20,
    1e-7,
    2**53 + 1,
    10**16,
    123456789.123456789,
]
DATES = [
    datetime(1900, 1, 1),
    datetime(1900, 1, 1, 12),
    datetime(1900, 2, 28, 23, 59),
    datetime(1900, 3, 1),
    datetime(2026, 11, 3, 10, 50),
    datetime(2026, 11, 3, 10, 50, 7, 5),
    datetime(9999, 12, 31, 23, 59, 59, 999999),
]
TEXTS = [
    *COMMENTS[:15],
    *COMMENTS[16:],
    "",
    " ",
    "plain",
    "a\x00b",
    "\x1c\x1d\x1e\x1f",
    "\x85next line",
    "x\u2028",
    "__x1234__",
    "_xZZZZ_",
    "_x00e9_",
    "a" * 40_000,
    "🙂" * 20_000,
    "é" * 32_767,
    "=" + "b" * 33_000,
]


def xlsxwriter_cells(path: Path, values: list[object]) -> tuple[list[str], dict[str, int]]:
    """The ``<c>`` elements XlsxWriter writes for ``values`` down column A (``constant_memory``
    mode: inline strings), with ``xlsx._write``'s formats, and their style indexes."""
    workbook = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    ws = workbook.add_worksheet()
    formats = {
        "marked": workbook.add_format({"quote_prefix": True}),
        "date": workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
        "number": workbook.add_format({"num_format": "0.00"}),
    }
    for fmt in formats.values():
        sheetdata.CellStyles.reserve(fmt)
    for row, value in enumerate(values):
        if isinstance(value, str):
            ws.write_string(row, 0, value, formats["marked"] if is_formula_like(value) else None)
        elif isinstance(value, datetime):
            ws.write_datetime(row, 0, value, formats["date"])
        else:
            ws.write_number(row, 0, value, formats["number"])
    workbook.close()
    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    return re.findall(r'<c r="A\d+".*?</c>', xml, re.DOTALL), {
        k: sheetdata.CellStyles.of(f) for k, f in formats.items()
    }


def our_cells(values: list[object], styles: dict[str, int], first: int = 1) -> list[str]:
    rows = sheetdata.SheetRows(
        [styles["number"]],
        date_style=styles["date"],
        marked=is_formula_like,
        marked_style=styles["marked"],
    )
    xml = rows.rows(first, [values])
    assert xml.count("<row ") == len(values)
    return re.findall(r'<c r="A\d+".*?</c>', xml, re.DOTALL)


def test_cells_are_xlsxwriters_byte_for_byte(tmp_path):
    values = [*TEXTS, *NUMBERS, *DATES, *TEXTS, *NUMBERS]  # again: now from the cache
    theirs, styles = xlsxwriter_cells(tmp_path / "ref.xlsx", values)
    assert len(theirs) == len(values)
    assert our_cells(values, styles) == theirs


@given(
    st.lists(
        st.text(max_size=30)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.integers(-(2**60), 2**60),
        min_size=1,
        max_size=25,
    )
)
def test_any_text_or_number_cell_is_xlsxwriters(tmp_path_factory, values):
    values = [
        v for v in values if not (isinstance(v, str) and v.startswith("<r>") and v.endswith("</r>"))
    ]
    path = tmp_path_factory.mktemp("ref") / "ref.xlsx"
    theirs, styles = xlsxwriter_cells(path, [*values, "=x", datetime(2026, 1, 1)])
    assert our_cells([*values, "=x", datetime(2026, 1, 1)], styles) == theirs


def test_row_xml_mirrors_xlsxwriter_rows():
    rows = sheetdata.SheetRows([1, 2, 1], date_style=3, marked=is_formula_like, marked_style=4)
    xml = rows.rows(9, [["a", None], [None, None], [8, 2.5]])
    assert xml == (
        '<row r="9"><c r="A9" t="inlineStr"><is><t>a</t></is></c>'
        '<c r="C9" s="1"><v>8</v></c></row>'
        '<row r="10"><c r="C10" s="1"><v>2.5</v></c></row>'
    )


@pytest.mark.parametrize(
    "value",
    [
        True,
        False,
        Decimal(8),
        float("nan"),
        float("inf"),
        -float("inf"),
        datetime(2026, 1, 1, tzinfo=CET),
        datetime(2026, 1, 1).date(),
        b"bytes",
        [1],
    ],
)
def test_values_xlsxwriter_would_refuse_are_refused(value):
    rows = sheetdata.SheetRows([1], date_style=2, marked=is_formula_like, marked_style=3)
    rows.rows(2, [[1, 8]])  # 1 and 8 are now known numbers: True or Decimal(8) must not pass
    with pytest.raises(TypeError):
        rows.rows(2, [[value]])


def test_columns_of_different_lengths_are_refused():
    rows = sheetdata.SheetRows([1, 1], date_style=2, marked=is_formula_like, marked_style=3)
    with pytest.raises(ValueError):
        rows.rows(2, [[1, 2], [1]])
    with pytest.raises(ValueError):
        rows.rows(2, [[1]])
