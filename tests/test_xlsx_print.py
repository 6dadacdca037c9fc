"""The XLSX workbook a practitioner prints and reads (``ratetool.exporters.xlsx``), read back
from the file: the Summary sheet first with a severity and a native sparkline per client, the
percents of maximum below the cutoff filled red by conditional formatting, a chart of at most 8
clients and the cutoff line, and a print setup on every sheet.

openpyxl reads the cells, the conditional formats and the page setup; it drops the sparklines
(Excel's x14 extension) on load, so these are read from the sheet's XML in the zip.
"""

from __future__ import annotations

import re
import uuid
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
from openpyxl.utils import column_index_from_string, get_column_letter

from ratetool.exporters import collect, xlsx
from ratetool.instruments import load_builtin
from ratetool.model import Rating
from ratetool.scoring import Thresholds

CHECKIN = load_builtin("checkin")
CET = timezone(timedelta(hours=1))
X14 = "{http://schemas.microsoft.com/office/spreadsheetml/2009/9/main}"
XM = "{http://schemas.microsoft.com/office/excel/2006/main}"
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
SPARKLINES_URI = "{05C60535-1F16-4fd2-B633-F4F36F0B64E0}"


def resolve(instrument_id: str, version: int):
    return CHECKIN if instrument_id == "checkin" else None


def rating(client: str, session: int, answer: int | tuple[int, ...], **changes) -> Rating:
    """A check-in rating with every item at ``answer`` (or the answers given, item by item)."""
    answers = answer if isinstance(answer, tuple) else (answer,) * len(CHECKIN.item_ids)
    base = {
        "id": str(uuid.uuid4()),
        "client": client,
        "session": session,
        "rated_at": datetime(2026, 10, 6, 10, 50, tzinfo=CET) + timedelta(days=7 * session),
        "instrument": "checkin",
        "instrument_version": 1,
        "answers": dict(zip(CHECKIN.item_ids, answers)),
        "practitioner": "AB",
    }
    base.update(changes)
    return Rating(**base)


def caseload() -> list[Rating]:
    """Four clients, two sessions each; the latest percent of maximum and severity in the name:
    50 % and 80 % below the cutoff (alert), 97.5 % a drop of 2.5 points (watch), 100 % (ok)."""
    latest = {
        "A-100": 10,
        "B-050": 5,
        "C-975": (10, 10, 10, 9),
        "D-080": 8,
    }
    ratings = []
    for client, answer in latest.items():
        ratings += [rating(client, 1, 10), rating(client, 2, answer)]
    return ratings


def export(tmp_path: Path, ratings: list[Rating], thresholds: Thresholds = Thresholds()) -> Path:
    out = tmp_path / "out.xlsx"
    out.write_bytes(xlsx.to_xlsx(collect(ratings, resolve, thresholds)))
    return out


def part(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(name).decode()


def sheet_xml(path: Path, title: str) -> ElementTree.Element:
    """The sheet named ``title``: its part is numbered by its place among the tabs."""
    return ElementTree.fromstring(
        part(path, f"xl/worksheets/sheet{xlsx.SHEETS.index(title) + 1}.xml")
    )


def sparklines(path: Path) -> list[tuple[str, str]]:
    """``(data range, cell)`` of every sparkline on the Summary sheet."""
    root = sheet_xml(path, "Summary")
    [ext] = [e for e in root.iter(f"{MAIN}ext") if e.get("uri") == SPARKLINES_URI]
    return [
        (line.findtext(f"{XM}f") or "", line.findtext(f"{XM}sqref") or "")
        for line in ext.iter(f"{X14}sparkline")
    ]


def rows_of(ws) -> list[dict[str, object]]:
    header = [c.value for c in ws[1]]
    return [dict(zip(header, (c.value for c in row))) for row in ws.iter_rows(min_row=2)]


def red_rules(ws) -> list[tuple[str, str]]:
    """``(cells, formula)`` of every conditional format with a red fill."""
    found = []
    for formatting in ws.conditional_formatting:
        for rule in formatting.rules:
            if rule.dxf is not None and rule.dxf.fill is not None:
                if rule.dxf.fill.bgColor.rgb.endswith("FFC7CE"):
                    found += [(str(formatting.sqref), f) for f in rule.formula]
    return found


# -- the Summary sheet ----------------------------------------------------------------------------


def test_summary_is_the_first_sheet(tmp_path):
    out = export(tmp_path, caseload())
    assert openpyxl.load_workbook(out).sheetnames == ["Summary", "Ratings", "Chart"]
    workbook = part(out, "xl/workbook.xml")
    assert re.findall(r'<sheet name="(\w+)"', workbook) == ["Summary", "Ratings", "Chart"]
    assert "activeTab" not in workbook  # it opens on the Summary


def test_summary_orders_by_severity_then_latest_percent_and_names_the_severity(tmp_path):
    out = export(tmp_path, caseload())
    rows = rows_of(openpyxl.load_workbook(out)["Summary"])
    assert [(r["client"], r["severity"], r["latest_pomp"]) for r in rows] == [
        ("B-050", "alert", 50.0),
        ("D-080", "alert", 80.0),
        ("C-975", "watch", 97.5),
        ("A-100", "ok", 100.0),
    ]


def test_every_client_has_a_sparkline_of_its_own_ratings_rows(tmp_path):
    out = export(tmp_path, caseload())
    wb = openpyxl.load_workbook(out)
    summary, ratings = wb["Summary"], wb["Ratings"]
    header = [c.value for c in summary[1]]
    trend = get_column_letter(header.index("trend") + 1)
    pomp = get_column_letter([c.value for c in ratings[1]].index("pomp") + 1)
    lines = sparklines(out)
    assert len(lines) == 4
    by_cell = dict((cell, data) for data, cell in lines)
    for row, values in enumerate(rows_of(summary), start=2):
        data = by_cell[f"{trend}{row}"]
        match = re.fullmatch(rf"Ratings!\$?{pomp}\$?(\d+):\$?{pomp}\$?(\d+)", data)
        assert match, data
        first, last = int(match[1]), int(match[2])
        clients = {ratings.cell(r, 2).value for r in range(first, last + 1)}
        assert clients == {values["client"]} and last - first + 1 == values["sessions"]
        drawn = [ratings[f"{pomp}{r}"].value for r in range(first, last + 1)]
        assert drawn == [100.0, values["latest_pomp"]]


def test_a_voided_rating_is_not_in_the_sparkline(tmp_path):
    """With ``--include-voided`` a voided rating is a row of the Ratings sheet, so the client's
    sparkline draws its own numbers, kept in hidden cells beside the Summary table."""
    kept = [rating("A-1", 1, 10), rating("A-1", 2, 7)]
    voided = [rating("A-1", 3, 2, status="entered-in-error")]
    data = collect(kept, resolve, voided=voided)
    out = tmp_path / "out.xlsx"
    out.write_bytes(xlsx.to_xlsx(data))
    [(data_range, cell)] = sparklines(out)
    summary = openpyxl.load_workbook(out)["Summary"]
    sheet, cells = data_range.split("!")
    assert sheet == "Summary"
    first, last = (c.replace("$", "") for c in cells.split(":"))
    numbers = [summary[ref].value for ref in (first, last)]
    assert numbers == [100.0, 70.0]  # not the voided 20 %
    hidden = column_index_from_string(re.sub(r"\d", "", first))
    assert summary.column_dimensions[get_column_letter(hidden)].hidden
    assert cell == "E2"
    assert summary.print_area == "'Summary'!$A$1:$K$2"  # the hidden numbers are not printed


# -- the cutoff -----------------------------------------------------------------------------------


def test_percent_of_maximum_below_the_cutoff_is_filled_red(tmp_path):
    out = export(tmp_path, caseload())
    wb = openpyxl.load_workbook(out)
    summary = wb["Summary"]
    column = get_column_letter([c.value for c in summary[1]].index("latest_pomp") + 1)
    assert red_rules(summary) == [
        (f"{column}2:{column}5", f"AND(ISNUMBER({column}2),{column}2<90)")
    ]
    ratings = wb["Ratings"]
    column = get_column_letter([c.value for c in ratings[1]].index("pomp") + 1)
    assert red_rules(ratings) == [
        (f"{column}2:{column}9", f"AND(ISNUMBER({column}2),{column}2<90)")
    ]


def test_the_cutoff_is_the_exports_low_threshold(tmp_path):
    out = export(tmp_path, caseload(), Thresholds(low=80))
    wb = openpyxl.load_workbook(out)
    rows = rows_of(wb["Summary"])
    assert [(r["client"], r["severity"]) for r in rows][:2] == [
        ("B-050", "alert"),
        ("D-080", "watch"),
    ]
    for title in ("Summary", "Ratings", "Chart"):
        [(_cells, formula)] = red_rules(wb[title])
        assert formula.endswith("<80)"), title
    assert "<c:v>cutoff 80%</c:v>" in part(out, "xl/charts/chart1.xml")


# -- the chart ------------------------------------------------------------------------------------


def chart_series_names(path: Path) -> list[str]:
    chart = part(path, "xl/charts/chart1.xml")
    return re.findall(r"<c:ser>.*?<c:tx>.*?<c:v>(.*?)</c:v>", chart)


def test_chart_draws_each_client_and_the_cutoff_line(tmp_path):
    out = export(tmp_path, caseload())
    chart = part(out, "xl/charts/chart1.xml")
    assert chart.count("<c:ser>") == 5 <= 9
    assert chart_series_names(out) == ["B-050", "D-080", "C-975", "A-100", "cutoff 90%"]
    cutoff = chart[chart.rindex("<c:ser>") :]
    assert '<a:prstDash val="dash"/>' in cutoff and '<c:symbol val="none"/>' in cutoff
    ws = openpyxl.load_workbook(out)["Chart"]
    top = xlsx.CHART_DATA_ROW + 1
    assert ws.cell(top, 6).value == "cutoff 90%"
    assert [ws.cell(r, 6).value for r in (top + 1, top + 2)] == [90, 90]


def test_a_25_client_export_charts_the_8_needing_attention_most(tmp_path):
    ratings = []
    for i in range(25):
        latest = 10 - i % 6  # 100 % down to 50 %: a mix of ok, watch and alert
        ratings += [rating(f"C-{i:02d}", 1, 10), rating(f"C-{i:02d}", 2, latest)]
    out = export(tmp_path, ratings)
    chart = part(out, "xl/charts/chart1.xml")
    assert chart.count("<c:ser>") == 9
    summary_order = [r["client"] for r in rows_of(openpyxl.load_workbook(out)["Summary"])]
    assert len(summary_order) == 25
    names = chart_series_names(out)
    assert names == [*summary_order[:8], "cutoff 90%"]
    assert "8 of 25 lines" in chart


# -- printing -------------------------------------------------------------------------------------


def test_every_sheet_prints_landscape_one_page_wide_with_its_header_row_repeated(tmp_path):
    out = export(tmp_path, caseload())
    wb = openpyxl.load_workbook(out)
    titles = {
        "Summary": "$1:$1",
        "Ratings": "$1:$1",
        "Chart": f"${xlsx.CHART_DATA_ROW + 1}:${xlsx.CHART_DATA_ROW + 1}",
    }
    for title, rows in titles.items():
        ws = wb[title]
        setup = ws.page_setup
        assert setup.orientation == "landscape", title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, title
        assert setup.fitToWidth in (None, 1) and setup.fitToHeight == 0, title  # 1 is the default
        assert setup.paperSize == 9, title  # A4
        assert ws.print_title_rows == rows, title
        assert ws.oddHeader.left.text == "&A", title  # the sheet's name
        assert ws.oddHeader.right.text == "Page &P of &N", title
        xml = ElementTree.tostring(sheet_xml(out, title), encoding="unicode")
        assert 'fitToHeight="0"' in xml and "fitToWidth" not in xml, title


def test_a_one_client_summary_fits_one_readable_page(tmp_path):
    """One page wide and one row: one page. Readable: the printed columns are at most 1.4
    landscape A4 widths, so Excel shrinks them to fit to no less than about 70 % of full size."""
    out = export(tmp_path, [rating("A-1", 1, 9), rating("A-1", 2, 6)])
    summary = openpyxl.load_workbook(out)["Summary"]
    assert summary.max_row == 2
    widths = [summary.column_dimensions[get_column_letter(c)].width for c in range(1, 12)]
    page = 148  # characters of Calibri 11 across landscape A4 with 0.4" margins
    assert sum(widths) <= 1.4 * page
