"""XLSX export (optional extra ``ratetool[xlsx]``: XlsxWriter), for Excel, LibreOffice, Numbers.

Three sheets, in this order:

- **Summary** (``xlsx_summary``, as is the Chart): one row per client, clients needing
  attention first (``xlsx_summary.triage_order``: severity, then latest percent of maximum,
  lowest first): severity (alert, watch, ok), latest percent of maximum, a native Excel
  sparkline of the percent of maximum over the client's sessions (drawn from the client's rows
  of the Ratings sheet), sessions, first and latest date, latest session and its instrument, its
  alerts.
- **Ratings**: the CSV layout as a real Excel table (header row, filter buttons, banded rows)
  with the header row frozen, plus a ``date`` column after ``session``: the moment of rating as
  an Excel date cell. Excel has no time zones, so ``date`` is the wall-clock time where and when
  the session was rated (10:50 for ``2026-11-03T10:50:00+01:00``); ``rated_at`` keeps the exact
  ISO text with its offset. Numbers are number cells with the places every table shows.
- **Chart**: a native line chart of overall alliance (``pomp``, percent of maximum, 0-100) by
  session number, one line per client (per client and instrument when a client was rated with
  more than one), and the low cutoff as a dashed line, with the numbers it draws below it. At
  most ``MAX_CHART_SERIES`` (8) client lines, those needing attention first: more is spaghetti.
  The sheet says so when some are left out.

A percent of maximum below the low cutoff (``Thresholds.low``, from the export's thresholds) is
filled red by conditional formatting, on every sheet (the Chart's numbers too); the severity
word is beside it on the Summary. Every sheet prints landscape on A4, one page wide, its header row
repeated on every page, the sheet's name and the page number in the page header.

Every cell is written with XlsxWriter's public API. Text is written as text (never as a formula,
URL or number; the workbook turns those conversions off), and text that starts like a formula is
marked as text the way Excel marks a typed leading apostrophe (``quote_prefix``): it shows
exactly as typed and stays text even when the cell is edited. ``_write`` is the rule for every
cell: text, a date (none before 1900, which Excel cannot show), a number with its column's
places, nothing for a missing value.

The Ratings rows go through ``write_row``, one call per session, with the number formats set
per column (``set_column``) and ``default_date_format`` for the ``date`` cells, so the common
cell needs no format of its own. The rare text that needs one (formula-like, too long, or
looking like XlsxWriter's rich-text markup ``<r>...</r>``, which it would copy into the file
unescaped) is written on its own afterwards (``_write_text``).

XlsxWriter keeps the cells until ``close()`` (an Excel table cannot be added in its
``constant_memory`` mode), so ``to_xlsx`` consumes its data, dropping each session once its row
is written, for the cells to take its memory (see ``to_xlsx``). XlsxWriter writes each sheet to a temporary file before zipping: these are
health data, so the temporary files go to a private folder (``tempfile.TemporaryDirectory``,
0700 on POSIX) that is removed afterwards, not to the shared temp folder.

More ratings than a sheet has rows (1,048,575) are refused with a message (XlsxWriter drops
the rows past the last one with only a warning).
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from ratetool.csvformat import (
    ALERTS_COLUMN,
    COMMENT_COLUMN,
    DATE_COLUMN,
    FORMULA_TRIGGERS,
    SCORE_COLUMNS,
    TEXT_COLUMNS,
    Layout,
    alerts_cell,
    dimension_column,
    is_formula_like,
    score_value,
)
from ratetool.errors import ExportError
from ratetool.exporters import ExportData
from ratetool.scoring import SessionScore

INSTALL_HINT = (
    "XLSX export needs the optional XlsxWriter package. Install it with:\n"
    '    pip install "ratetool[xlsx]"\n'
    "or, if ratetool was installed with pipx:\n"
    "    pipx inject ratetool XlsxWriter\n"
    "or export CSV for Excel instead: ratetool export --format csv --excel --output FILE.csv. "
    "Nothing was written."
)

RATINGS_SHEET = "Ratings"
SUMMARY_SHEET = "Summary"
CHART_SHEET = "Chart"
#: The sheets, in the order of their tabs.
SHEETS = (SUMMARY_SHEET, RATINGS_SHEET, CHART_SHEET)
#: Client lines drawn at most on the chart (the cutoff line comes on top).
MAX_CHART_SERIES = 8
#: First row (0-based) of the numbers below the chart.
CHART_DATA_ROW = 28
#: Rows of a worksheet, header included (Excel's limit).
MAX_ROWS = 1_048_576
#: Characters of a cell, in UTF-16 units (Excel's limit).
MAX_TEXT = 32_767
#: The ``date`` cells' number format.
DATE_FORMAT = "yyyy-mm-dd hh:mm"
#: The column of the percent of maximum.
POMP = "pomp"
#: XlsxWriter's ``set_paper`` index of A4 (the paper of the clinics this was tried in).
PAPER_A4 = 9
#: Page header and footer codes: the sheet's name and the page (&A, &P, &N), the file's name
#: and the day it is printed (&F, &D).
PAGE_HEADER = "&L&A&RPage &P of &N"
PAGE_FOOTER = "&L&F&R&D"
#: Ratings rows written between two progress reports.
PROGRESS_EVERY = 1_000

#: ``progress(stage, done, total)``: what the export is doing, and how far it is.
Progress = Callable[[str, int, int], None]
WRITING = "Writing the ratings"
SAVING = "Saving the workbook"

SUMMARY_COLUMNS: tuple[str, ...] = (
    "client",
    "sessions",
    "severity",
    "latest_pomp",
    "trend",
    "first_date",
    "latest_date",
    "latest_session",
    "latest_instrument",
    "alerts",
    "alert_details",
)

_WIDTHS = {
    "id": 37,
    "rated_at": 26,
    DATE_COLUMN: 17,
    "comment": 60,
    "alert_details": 45,
    "trend": 18,
    "first_date": 17,
    "latest_date": 17,
}

#: Ratings columns that hold the rating's attribute of the same name (``rating_values``).
_RATING_FIELDS = (
    "id",
    "client",
    "session",
    "instrument",
    "instrument_version",
    "practitioner",
    "status",
    COMMENT_COLUMN,
)
#: First characters of a Ratings text that `_write_text` writes on its own (formula, `<r>`).
_SPECIAL_START = frozenset({*(trigger[0] for trigger in FORMULA_TRIGGERS), "<"})


class _Styles:
    def __init__(self, workbook: Any) -> None:
        self.workbook = workbook
        self.text_as_typed = workbook.add_format({"quote_prefix": True})
        #: The header cells' own (General) format, so a column's number format is not theirs.
        self.header = workbook.add_format()
        self.date = workbook.add_format({"num_format": DATE_FORMAT})
        #: A percent of maximum below the low cutoff: Excel's "light red fill, dark red text".
        self.below_cutoff = workbook.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
        self.wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
        self._numbers: dict[int, Any] = {}

    def number(self, places: int) -> Any:
        """The format that shows ``places`` decimal places; ``None`` (General) for 0 places:
        General shows a whole number as it is, and a cell without a format is less to write."""
        if places == 0:
            return None
        if places not in self._numbers:
            pattern = "0." + "0" * places
            self._numbers[places] = self.workbook.add_format({"num_format": pattern})
        return self._numbers[places]


def _fit(text: str) -> str:
    """``text`` cut to the ``MAX_TEXT`` UTF-16 units a cell holds."""
    if len(text) <= MAX_TEXT // 2:
        return text
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > MAX_TEXT:
            return text[:index]
    return text


def _write_text(ws: Any, row: int, col: int, text: str, styles: _Styles) -> None:
    text = _fit(text)
    fmt = styles.text_as_typed if is_formula_like(text) else None
    if text.startswith("<r>") and text.endswith("</r>"):
        # XlsxWriter copies such a string into the file as rich-text XML; written as a rich
        # string of three plain runs ("<", "r", ">...") it is escaped like any text and reads
        # back the same.
        ws.write_rich_string(row, col, text[:1], text[1:2], text[2:], *([fmt] if fmt else []))
    else:
        ws.write_string(row, col, text, fmt)


def _write(ws: Any, row: int, col: int, value: object, places: int, styles: _Styles) -> None:
    if value is None:
        return
    if isinstance(value, str):
        _write_text(ws, row, col, value, styles)
    elif isinstance(value, datetime):
        if value.year >= 1900:  # Excel has no dates before 1900
            ws.write_datetime(row, col, value, styles.date)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        ws.write_number(row, col, value, styles.number(places))
    else:  # pragma: no cover - every value above is one of these
        raise TypeError(f"cannot write {type(value).__name__} to a cell")


def _table(
    ws: Any,
    name: str,
    header: Sequence[str],
    n_rows: int,
    styles: _Styles,
    formats: Sequence[Any] | None = None,
) -> None:
    """An Excel table over the header and ``n_rows`` rows (at least one), header frozen, columns
    sized (with ``formats``, each column's format for cells written without one)."""
    columns = [
        {
            "header": h,
            "header_format": styles.text_as_typed if is_formula_like(h) else styles.header,
        }
        for h in header
    ]
    status = ws.add_table(
        0,
        0,
        max(n_rows, 1),
        len(header) - 1,
        {"name": name, "columns": columns, "style": "Table Style Medium 2"},
    )
    if status != 0:  # pragma: no cover - the rows are checked before
        raise RuntimeError(f"XlsxWriter refused the {name} table ({status})")
    ws.freeze_panes(1, 0)
    for col, h in enumerate(header):
        fmt = formats[col] if formats is not None else None
        ws.set_column(col, col, _WIDTHS.get(h, max(len(h) + 4, 9)), fmt)


def _print_setup(ws: Any, header_row: int = 0) -> None:
    """Landscape A4, one page wide (as many tall as it takes), ``header_row`` repeated at the top
    of every page, the sheet's name and "Page N of M" in the page header."""
    ws.set_landscape()
    ws.set_paper(PAPER_A4)
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.75, bottom=0.6)
    ws.repeat_rows(header_row)
    ws.set_header(PAGE_HEADER)
    ws.set_footer(PAGE_FOOTER)


def _mark_below_cutoff(
    ws: Any,
    first_row: int,
    last_row: int,
    cols: tuple[int, int],
    cutoff: float,
    styles: _Styles,
) -> None:
    """Fill red the numbers below ``cutoff`` in the columns ``cols`` (first, last) of these
    rows: a conditional format, so a number typed in later is marked too. An empty cell is no
    number (Excel would compare it as 0)."""
    from xlsxwriter.utility import xl_rowcol_to_cell

    cell = xl_rowcol_to_cell(first_row, cols[0])  # relative: each cell tests itself
    ws.conditional_format(
        first_row,
        cols[0],
        max(last_row, first_row),
        cols[1],
        {
            "type": "formula",
            "criteria": f"=AND(ISNUMBER({cell}),{cell}<{cutoff:g})",
            "format": styles.below_cutoff,
        },
    )


def ratings_header(layout: Layout) -> tuple[str, ...]:
    """The Ratings sheet's columns: the CSV layout with ``date`` after ``session``."""
    columns = list(layout.columns)
    columns.insert(columns.index("session") + 1, DATE_COLUMN)
    return tuple(columns)


class RatingsCells:
    """One session's Ratings cells in ``header`` order: what
    ``{**rating_values(rating), **score_values(score)}`` gives (``csvformat`` defines the
    columns), with the wall-clock ``rated_at`` as ``date`` (``None`` before 1900, which Excel
    cannot show). Put in place by position, each distinct score rounded once: 100,000 sessions
    are 2 million cells (``tests/test_xlsx_sheet.py`` checks the two agree)."""

    def __init__(self, layout: Layout, header: Sequence[str]) -> None:
        self.at = {column: index for index, column in enumerate(header)}
        self.width = len(header)
        self.fields = [(self.at[c], c) for c in _RATING_FIELDS if c in self.at]
        self.scores = [(self.at[key], key) for key in SCORE_COLUMNS if key in self.at]
        self.item_at = {item: self.at[item] for item in layout.items}
        self.dimension_at = {d: self.at[dimension_column(d)] for d in layout.dimensions}
        self.shown: dict[tuple[str, float], float | int | None] = {}
        self.alerts: dict[tuple[str, ...], str | None] = {}

    def _shown(self, value: float | None, key: str) -> float | int | None:
        if value is None:
            return None
        try:
            return self.shown[key, value]
        except KeyError:  # rounding never gives -0.0, so 0.0 and -0.0 may share an entry
            shown = self.shown[key, value] = score_value(value, key)
            return shown

    def of(self, score: SessionScore) -> list[object]:
        rating = score.rating
        at = self.at
        row: list[object] = [None] * self.width
        for index, name in self.fields:
            row[index] = getattr(rating, name)
        row[at["rated_at"]] = rating.rated_at.isoformat()
        wall_clock = rating.rated_at.replace(tzinfo=None)
        row[at[DATE_COLUMN]] = wall_clock if wall_clock.year >= 1900 else None
        item_at, dimension_at = self.item_at, self.dimension_at
        for item, answer in rating.answers.items():
            if item in item_at:
                row[item_at[item]] = answer
        for dimension, value in score.dimensions.items():
            if dimension in dimension_at:
                row[dimension_at[dimension]] = self._shown(value, "dimension")
        for index, key in self.scores:
            row[index] = self._shown(getattr(score, key), key)
        if score.alerts:
            kinds = tuple(a.kind for a in score.alerts)
            if kinds not in self.alerts:
                self.alerts[kinds] = alerts_cell(kinds) or None
            row[at[ALERTS_COLUMN]] = self.alerts[kinds]
        return row


def _ratings_sheet(
    ws: Any,
    sessions: list[SessionScore],
    layout: Layout,
    styles: _Styles,
    progress: Progress | None,
    cutoff: float,
) -> None:
    """The Ratings table: one ``write_row`` per session, the number formats per column.

    Empties ``sessions`` as it goes: each session is dropped once its row is written."""
    header = ratings_header(layout)
    formats = [
        None
        if column in TEXT_COLUMNS or column == DATE_COLUMN
        else styles.number(layout.places(column))
        for column in header
    ]
    total = len(sessions)
    _table(ws, RATINGS_SHEET, header, total, styles, formats)
    _print_setup(ws)
    if POMP in header:
        pomp_col = header.index(POMP)
        _mark_below_cutoff(ws, 1, total, (pomp_col, pomp_col), cutoff, styles)
    text_columns = [col for col, column in enumerate(header) if column in TEXT_COLUMNS]
    cells = RatingsCells(layout, header)
    sessions.reverse()  # popped from the end, first session first
    for row in range(1, total + 1):
        values = cells.of(sessions.pop())
        special: list[tuple[int, str]] = []
        for col in text_columns:
            text = values[col]
            if (
                isinstance(text, str)
                and text
                and (text[0] in _SPECIAL_START or len(text) > MAX_TEXT // 2)
            ):
                special.append((col, text))
                values[col] = None
        ws.write_row(row, 0, values)
        for col, text in special:
            _write_text(ws, row, col, text, styles)
        if progress is not None and row % PROGRESS_EVERY == 0:
            progress(WRITING, row, total)
    if progress is not None:
        progress(WRITING, total, total)


def _add_sheets(workbook: Any) -> tuple[Any, Any, Any]:
    """The Summary, Ratings and Chart sheets, in this order (the order of the tabs)."""
    summary, ratings, chart = (workbook.add_worksheet(name) for name in SHEETS)
    return summary, ratings, chart


def to_xlsx(data: ExportData, progress: Progress | None = None) -> bytes:
    """The workbook as bytes. Raises ``ExportError`` with the install command without XlsxWriter.

    Consumes ``data`` (``ExportData.take``): once its row is written, each session (with its
    rating) is dropped, so that Python reuses its memory for XlsxWriter's cells, which stay until
    ``close()``. The Summary and Chart sheets' few cells are worked out first, from the clients,
    which are dropped before the rows are written. With 1,000 clients x 100 sessions this took
    the export's peak memory (maximum resident set size) from 561 MiB to 466 MiB, 1.41x to 1.17x
    the XLSX floor of benchmarks/ (399 MiB), at the same speed. Afterwards ``data`` holds nothing
    (using it raises ``RuntimeError``); its counts stay.

    ``progress(stage, done, total)``, if given, hears how far the export is: every
    ``PROGRESS_EVERY`` Ratings rows (``WRITING``), then ``SAVING`` 0 of 1 and 1 of 1 around the
    time XlsxWriter writes and zips the sheets.

    The percents of maximum below ``data.thresholds.low`` are marked red, and the chart draws
    that cutoff."""
    try:
        import xlsxwriter
    except ImportError:
        raise ExportError(INSTALL_HINT) from None
    if data.session_count >= MAX_ROWS:
        raise ExportError(
            f"An XLSX sheet holds at most {MAX_ROWS - 1:,} ratings below its header; these are "
            f"{data.session_count:,}. Export CSV instead (--format csv), or fewer ratings "
            "(--client, --since, --until). Nothing was written."
        )
    from ratetool.exporters.xlsx_summary import (
        _chart_sheet,
        _summary_rows,
        _summary_sheet,
        chart_series,
        ratings_rows,
        triage_order,
    )

    layout = data.layout
    cutoff = data.thresholds.low
    sessions, clients = data.take()
    clients = triage_order(clients)
    summary = _summary_rows(clients, ratings_rows(sessions))
    series, total = chart_series(clients)
    del clients  # the last reference to the clients (each session's is in ``sessions``)
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="ratetool-xlsx-") as private:
        workbook = xlsxwriter.Workbook(
            buffer,
            {
                "tmpdir": private,
                "default_date_format": DATE_FORMAT,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        styles = _Styles(workbook)
        summary_ws, ratings_ws, chart_ws = _add_sheets(workbook)
        header = ratings_header(layout)
        pomp_col = header.index(POMP) if POMP in header else None
        _summary_sheet(summary_ws, summary, styles, cutoff, pomp_col)
        del summary
        _ratings_sheet(ratings_ws, sessions, layout, styles, progress, cutoff)
        _chart_sheet(workbook, chart_ws, series, total, styles, cutoff)
        if progress is not None:
            progress(SAVING, 0, 1)
        workbook.close()
        if progress is not None:
            progress(SAVING, 1, 1)
    return buffer.getvalue()
