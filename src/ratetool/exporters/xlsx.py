"""XLSX export (optional extra ``ratetool[xlsx]``: XlsxWriter), for Excel, LibreOffice, Numbers.

Three sheets:

- **Ratings**: the CSV layout as a real Excel table (header row, filter buttons, banded rows)
  with the header row frozen, plus a ``date`` column after ``session``: the moment of rating as
  an Excel date cell. Excel has no time zones, so ``date`` is the wall-clock time where and when
  the session was rated (10:50 for ``2026-11-03T10:50:00+01:00``); ``rated_at`` keeps the exact
  ISO text with its offset. Numbers are number cells with the places every table shows.
- **Summary**: one row per client, clients needing attention first (as ``ratetool summary``
  orders them): sessions, first and latest date, latest session, its instrument and percent of
  maximum, its alerts.
- **Chart**: a native line chart of overall alliance (``pomp``, percent of maximum, 0-100) by
  session number, one line per client (per client and instrument when a client was rated with
  more than one), with the numbers it draws below it. Readable up to about 30 lines, so at most
  ``MAX_CHART_SERIES`` are drawn: the clients needing attention first; the sheet says so when
  some are left out.

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
    ALERT_SEPARATOR,
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
from ratetool.scoring import ClientScores, SessionScore, attention_order

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
#: Lines drawn at most on the chart.
MAX_CHART_SERIES = 30
#: First row (0-based) of the numbers below the chart.
CHART_DATA_ROW = 28
#: Rows of a worksheet, header included (Excel's limit).
MAX_ROWS = 1_048_576
#: Characters of a cell, in UTF-16 units (Excel's limit).
MAX_TEXT = 32_767
#: The ``date`` cells' number format.
DATE_FORMAT = "yyyy-mm-dd hh:mm"
#: Ratings rows written between two progress reports.
PROGRESS_EVERY = 1_000

#: ``progress(stage, done, total)``: what the export is doing, and how far it is.
Progress = Callable[[str, int, int], None]
WRITING = "Writing the ratings"
SAVING = "Saving the workbook"

SUMMARY_COLUMNS: tuple[str, ...] = (
    "client",
    "sessions",
    "first_date",
    "latest_date",
    "latest_session",
    "latest_instrument",
    "latest_pomp",
    "alerts",
    "alert_details",
)

_WIDTHS = {
    "id": 37,
    "rated_at": 26,
    DATE_COLUMN: 17,
    "comment": 60,
    "alert_details": 70,
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
        self._numbers: dict[int, Any] = {}

    def number(self, places: int) -> Any:
        if places not in self._numbers:
            pattern = "0" if places == 0 else "0." + "0" * places
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
    workbook: Any,
    sessions: list[SessionScore],
    layout: Layout,
    styles: _Styles,
    progress: Progress | None,
) -> None:
    """The Ratings table: one ``write_row`` per session, the number formats per column.

    Empties ``sessions`` as it goes: each session is dropped once its row is written."""
    ws = workbook.add_worksheet(RATINGS_SHEET)
    header = ratings_header(layout)
    formats = [
        None
        if column in TEXT_COLUMNS or column == DATE_COLUMN
        else styles.number(layout.places(column))
        for column in header
    ]
    total = len(sessions)
    _table(ws, RATINGS_SHEET, header, total, styles, formats)
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


def _summary_rows(clients: Sequence[ClientScores]) -> list[dict[str, object]]:
    rows = []
    for cs in attention_order(list(clients)):
        latest = cs.sessions[-1]
        dates = [s.rating.rated_at for s in cs.sessions]
        rows.append(
            {
                "client": cs.client,
                "sessions": len(cs.sessions),
                "first_date": min(dates).replace(tzinfo=None),
                "latest_date": latest.rating.rated_at.replace(tzinfo=None),
                "latest_session": latest.session,
                "latest_instrument": latest.rating.instrument,
                "latest_pomp": score_value(latest.pomp, "pomp"),
                "alerts": alerts_cell(a.kind for a in latest.alerts) or None,
                "alert_details": f"{ALERT_SEPARATOR} ".join(
                    f"{a.kind}: {a.reason}" for a in latest.alerts
                )
                or None,
            }
        )
    return rows


def _summary_sheet(workbook: Any, rows: Sequence[dict[str, object]], styles: _Styles) -> None:
    ws = workbook.add_worksheet(SUMMARY_SHEET)
    _table(ws, SUMMARY_SHEET, SUMMARY_COLUMNS, len(rows), styles)
    places = {"latest_pomp": 1}
    for row, values in enumerate(rows, start=1):
        for col, column in enumerate(SUMMARY_COLUMNS):
            _write(ws, row, col, values.get(column), places.get(column, 0), styles)


def chart_series(
    clients: Sequence[ClientScores],
) -> tuple[list[tuple[str, dict[int, float]]], int]:
    """``(name, {session: pomp})`` per line, clients needing attention first, and how many lines
    there would be without the ``MAX_CHART_SERIES`` limit."""
    series: list[tuple[str, dict[int, float]]] = []
    left_out = 0
    for cs in attention_order(list(clients)):
        instruments = cs.instruments
        several = len(instruments) > 1
        for instrument_id in instruments:
            sessions = cs.sessions_of(instrument_id)
            if len(series) >= MAX_CHART_SERIES:
                # Only counted: a line has a point for every session with a pomp (score_value
                # is None exactly when the pomp is).
                left_out += any(s.pomp is not None for s in sessions)
                continue
            points: dict[int, float] = {}
            for s in sessions:
                value = score_value(s.pomp, "pomp")
                if value is not None:
                    points[s.session] = float(value)
            if points:
                name = f"{cs.client} ({instrument_id})" if several else cs.client
                series.append((name, points))
    return series, len(series) + left_out


def _chart_sheet(
    workbook: Any, series: Sequence[tuple[str, dict[int, float]]], total: int, styles: _Styles
) -> None:
    """The chart of ``series`` (``chart_series``: the lines drawn, and of how many)."""
    ws = workbook.add_worksheet(CHART_SHEET)
    if not series:
        ws.write_string(0, 0, "No session has a percent of maximum to draw.")
        return
    sessions = sorted({n for _, points in series for n in points})
    top = CHART_DATA_ROW
    note = "Overall alliance: percent of maximum (pomp) by session, the numbers the chart draws."
    if total > len(series):
        note += (
            f" Showing the {len(series)} lines of the clients who need attention first, of "
            f"{total}; every client is on the {SUMMARY_SHEET} sheet."
        )
    ws.write_string(top - 1, 0, note)
    ws.write_string(top, 0, "session")
    for col, (name, _points) in enumerate(series, start=1):
        _write(ws, top, col, name, 0, styles)
    for row, session in enumerate(sessions, start=top + 1):
        ws.write_number(row, 0, session)
        for col, (_name, points) in enumerate(series, start=1):
            _write(ws, row, col, points.get(session), 1, styles)
    last = top + len(sessions)

    chart = workbook.add_chart({"type": "line"})
    for col in range(1, len(series) + 1):
        chart.add_series(
            {
                "name": [CHART_SHEET, top, col],
                "categories": [CHART_SHEET, top + 1, 0, last, 0],
                "values": [CHART_SHEET, top + 1, col, last, col],
                "marker": {"type": "circle", "size": 5},
                "line": {"width": 1.75},
            }
        )
    title = "Overall alliance by session"
    if total > len(series):
        title += f" ({len(series)} of {total} lines: those needing attention first)"
    chart.set_title({"name": title, "name_font": {"size": 13}})
    chart.set_x_axis({"name": "Session"})
    chart.set_y_axis(
        {
            "name": "Percent of maximum",
            "min": 0,
            "max": 100,
            "major_unit": 10,
            "major_gridlines": {"visible": True},
        }
    )
    chart.set_legend({"position": "right"})
    chart.show_blanks_as("span")
    chart.set_size({"width": 1000, "height": 540})
    ws.insert_chart(0, 0, chart)


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
    time XlsxWriter writes and zips the sheets."""
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
    layout = data.layout
    sessions, clients = data.take()
    summary = _summary_rows(clients)
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
        _ratings_sheet(workbook, sessions, layout, styles, progress)
        _summary_sheet(workbook, summary, styles)
        _chart_sheet(workbook, series, total, styles)
        if progress is not None:
            progress(SAVING, 0, 1)
        workbook.close()
        if progress is not None:
            progress(SAVING, 1, 1)
    return buffer.getvalue()
