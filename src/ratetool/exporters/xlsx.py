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

Every text cell is written as text (never as a formula, URL or number; the workbook also turns
those conversions off), and text that starts like a formula is marked as text the way Excel marks
a typed leading apostrophe (``quote_prefix``): it shows exactly as typed and stays text even when
the cell is edited. ``_write`` is the rule for every cell: text, a date (none before 1900, which
Excel cannot show), a number with its column's places, nothing for a missing value.

How the workbook is made
------------------------

XlsxWriter builds the workbook: styles, the three sheets, both tables, frozen headers, column
widths, the Summary and Chart cells and the native chart. Only the Ratings *rows* are written by
ratetool itself (``ratetool.exporters.xlsx_sheetdata``), because XlsxWriter's way of writing a
cell (a Python object per cell, kept until ``close()``, then written through several layers of
calls) took most of the time: 100,000 sessions are 2.1 million Ratings cells, and the export took
31-35 s and 785-816 MB (median of 3 runs per store, 1,000 clients x 100 sessions; the CSV export
of the same data takes 1.3 s). So:

1. XlsxWriter gets the Ratings sheet with its header only, and its table over the header and one
   row (a table over 100,000 rows alone took XlsxWriter 2.7 s and 420 MB, for a dict entry per
   cell). The formats the rows use are given their style index before ``close()``.
2. After ``close()``, ``xlsx_sheetdata.splice`` copies the workbook into a new zip member by
   member. The Ratings sheet is XlsxWriter's XML with its ``<dimension>`` widened and the rows
   streamed in after the header; the Ratings table gets its real range; the rest is copied as is.
3. The rows come ``BATCH`` sessions at a time: ``_RatingsColumns`` reads each column for all of
   them with C-level ``map``s (each distinct score rounded once, by ``score_value``), and
   ``SheetRows`` turns them into the cells XlsxWriter would write, as inline strings (each
   distinct value's cell made once per column). A second thread compresses while the next batch
   is made.

The cells are those ``_write`` gives; ``tests/test_xlsx_sheet.py`` compares the workbook with
the one XlsxWriter writes cell by cell, and the cell XML with XlsxWriter's byte for byte. Measured
the same way after the change: 6.3 s median (5.8-6.6) and 241-248 MB for the TOML store, 6.4 s
(5.3-6.6) and 187-205 MB for the CSV store: about 3 s of it reading and scoring, 0.5 s XlsxWriter,
3 s the Ratings rows and the zip. The file is about 10% larger (11.3 MB instead of 10.4 MB): text
is stored in each cell rather than once in the shared strings.

More ratings than a sheet has rows (1,048,575) are refused with a message (XlsxWriter dropped the
rows past the last one without a word), as is a Ratings sheet over 2 GB.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from operator import attrgetter, methodcaller
from typing import Any

from ratetool.csvformat import (
    ALERT_SEPARATOR,
    ALERTS_COLUMN,
    COMMENT_COLUMN,
    DATE_COLUMN,
    SCORE_COLUMNS,
    Layout,
    alerts_cell,
    dimension_column,
    is_formula_like,
    rating_values,
    score_value,
    score_values,
)
from ratetool.errors import ExportError
from ratetool.exporters import ExportData
from ratetool.exporters.xlsx_sheetdata import (
    CACHE,
    MAX_ROWS,
    CellStyles,
    SheetRows,
    splice,
)
from ratetool.scoring import ClientScores, SessionScore, attention_order

INSTALL_HINT = (
    "XLSX export needs the optional XlsxWriter package. Install it with:\n"
    '    pip install "ratetool[xlsx]"\n'
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
#: Ratings rows made (and handed to the zip) at a time.
BATCH = 2_000

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


class _Styles:
    def __init__(self, workbook: Any) -> None:
        self.workbook = workbook
        self.text_as_typed = workbook.add_format({"quote_prefix": True})
        self.date = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        self._numbers: dict[int, Any] = {}

    def number(self, places: int) -> Any:
        if places not in self._numbers:
            pattern = "0" if places == 0 else "0." + "0" * places
            self._numbers[places] = self.workbook.add_format({"num_format": pattern})
        return self._numbers[places]


def _write(ws: Any, row: int, col: int, value: object, places: int, styles: _Styles) -> None:
    if value is None:
        return
    if isinstance(value, str):
        ws.write_string(row, col, value, styles.text_as_typed if is_formula_like(value) else None)
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
) -> None:
    """An Excel table over the header and ``n_rows`` rows (at least one), header frozen, columns
    sized."""
    columns = [
        {"header": h, **({"header_format": styles.text_as_typed} if is_formula_like(h) else {})}
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
        ws.set_column(col, col, _WIDTHS.get(h, max(len(h) + 4, 9)))


def ratings_header(layout: Layout) -> tuple[str, ...]:
    """The Ratings sheet's columns: the CSV layout with ``date`` after ``session``."""
    columns = list(layout.columns)
    columns.insert(columns.index("session") + 1, DATE_COLUMN)
    return tuple(columns)


def _ratings_sheet(workbook: Any, data: ExportData, styles: _Styles) -> _RatingsPlan:
    """The Ratings sheet as XlsxWriter makes it: header, table, frozen pane, column widths. The
    table covers the header and one row for now; ``_ratings_rows`` writes the rows and
    ``splice`` widens the table to them."""
    ws = workbook.add_worksheet(RATINGS_SHEET)
    layout = data.layout
    header = ratings_header(layout)
    _table(ws, RATINGS_SHEET, header, 1, styles)
    places = [0 if column == DATE_COLUMN else layout.places(column) for column in header]
    number_formats = [styles.number(p) for p in places]
    for fmt in (styles.text_as_typed, styles.date, *number_formats):
        CellStyles.reserve(fmt)
    return _RatingsPlan(header, number_formats)


class _RatingsPlan:
    """The Ratings sheet's columns and the number format of each."""

    def __init__(self, header: tuple[str, ...], number_formats: list[Any]) -> None:
        self.header = header
        self.number_formats = number_formats


class _Shown(dict):  # type: ignore[type-arg]
    """score -> ``score_value(score, key)``, worked out once per distinct score (scores come from
    whole-number answers, so the same few recur on thousands of rows). Zero is not kept: ``0.0``
    and ``-0.0`` are one key."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key

    def __missing__(self, value: float | None) -> float | int | None:
        shown = score_value(value, self.key)
        if value != 0:
            if len(self) >= CACHE:
                self.clear()
            self[value] = shown
        return shown


class _AlertsCell(dict):  # type: ignore[type-arg]
    """A session's alerts -> its ``alerts`` cell (``None`` for none), worked out once each."""

    def __missing__(self, alerts: tuple[Any, ...]) -> str | None:
        cell = alerts_cell(a.kind for a in alerts) or None
        if len(self) >= CACHE:
            self.clear()
        self[alerts] = cell
        return cell


_RATING = attrgetter("rating")
_RATED_AT = attrgetter("rated_at")
_ANSWERS = attrgetter("answers")
_DIMENSIONS = attrgetter("dimensions")
_ALERTS = attrgetter("alerts")
_WALL_CLOCK = methodcaller("replace", tzinfo=None)
#: Columns that hold the rating's attribute of the same name (``rating_values``).
_RATING_ATTRIBUTES = frozenset(
    {"id", "client", "session", "instrument", "instrument_version", "practitioner", COMMENT_COLUMN}
)

_Getter = Callable[[list[Any], Sequence[SessionScore]], Iterable[object]]


class _RatingsColumns:
    """The Ratings sheet's values, column by column for a run of sessions.

    Row by row they are ``{**rating_values(rating), **score_values(score)}`` with the
    wall-clock ``rated_at`` as ``date`` (``csvformat`` defines the columns; ``_row_values``
    does exactly that, and ``tests/test_xlsx_sheet.py`` checks the two agree). Here each known
    column is read with C-level ``map``s over the sessions, each distinct score rounded once;
    a column this does not know is read from ``_row_values``.
    """

    def __init__(self, layout: Layout, header: Sequence[str]) -> None:
        self.dimension = _Shown("dimension")
        self.scores = {key: _Shown(key) for key in SCORE_COLUMNS}
        self.alerts = _AlertsCell()
        dimensions = {dimension_column(d): d for d in layout.dimensions}
        #: Columns read row by row through ``_row_values`` (none for ratetool's own layout).
        self.slow: list[str] = []
        self.getters = [self._getter(column, layout.items, dimensions) for column in header]

    def _getter(self, column: str, items: Sequence[str], dimensions: dict[str, str]) -> _Getter:
        if column in _RATING_ATTRIBUTES:
            attribute = attrgetter(column)
            return lambda ratings, sessions: map(attribute, ratings)
        if column == "rated_at":
            return lambda ratings, sessions: map(datetime.isoformat, map(_RATED_AT, ratings))
        if column == DATE_COLUMN:
            return lambda ratings, sessions: map(_WALL_CLOCK, map(_RATED_AT, ratings))
        if column in items:
            answer = methodcaller("get", column)
            return lambda ratings, sessions: map(answer, map(_ANSWERS, ratings))
        if column in dimensions:
            score = methodcaller("get", dimensions[column])
            shown = self.dimension.__getitem__
            return lambda ratings, sessions: map(shown, map(score, map(_DIMENSIONS, sessions)))
        if column in self.scores:
            value = attrgetter(column)
            shown = self.scores[column].__getitem__
            return lambda ratings, sessions: map(shown, map(value, sessions))
        if column == ALERTS_COLUMN:
            cell = self.alerts.__getitem__
            return lambda ratings, sessions: map(cell, map(_ALERTS, sessions))
        self.slow.append(column)
        return lambda ratings, sessions: (_row_values(s).get(column) for s in sessions)

    def of(self, sessions: Sequence[SessionScore]) -> list[list[object]]:
        ratings = list(map(_RATING, sessions))
        return [list(get(ratings, sessions)) for get in self.getters]


def _row_values(score: SessionScore) -> dict[str, object]:
    """One session's Ratings values by column, as ``csvformat`` defines them."""
    values: dict[str, object] = {**rating_values(score.rating), **score_values(score)}
    values[DATE_COLUMN] = score.rating.rated_at.replace(tzinfo=None)
    return values


def _ratings_rows(data: ExportData, plan: _RatingsPlan, styles: _Styles) -> Iterator[str]:
    """The ``<row>`` elements of every session from row 2 on, ``BATCH`` rows at a time, with the
    cells ``_write`` gives the values (``xlsx_sheetdata.SheetRows``)."""
    rows = SheetRows(
        [CellStyles.of(fmt) for fmt in plan.number_formats],
        date_style=CellStyles.of(styles.date),
        marked=is_formula_like,
        marked_style=CellStyles.of(styles.text_as_typed),
    )
    columns = _RatingsColumns(data.layout, plan.header)
    sessions = data.sessions
    for start in range(0, len(sessions), BATCH):
        yield rows.rows(start + 2, columns.of(sessions[start : start + BATCH]))


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


def _summary_sheet(workbook: Any, data: ExportData, styles: _Styles) -> None:
    ws = workbook.add_worksheet(SUMMARY_SHEET)
    rows = _summary_rows(data.clients)
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


def _chart_sheet(workbook: Any, data: ExportData, styles: _Styles) -> None:
    ws = workbook.add_worksheet(CHART_SHEET)
    series, total = chart_series(data.clients)
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


def to_xlsx(data: ExportData) -> bytes:
    """The workbook as bytes. Raises ``ExportError`` with the install command without XlsxWriter."""
    try:
        import xlsxwriter
        from xlsxwriter.utility import xl_range
    except ImportError:
        raise ExportError(INSTALL_HINT) from None
    if len(data.sessions) >= MAX_ROWS:
        raise ExportError(
            f"An XLSX sheet holds at most {MAX_ROWS - 1:,} ratings below its header; these are "
            f"{len(data.sessions):,}. Export CSV instead (--format csv), or fewer ratings "
            "(--client, --since, --until). Nothing was written."
        )
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    styles = _Styles(workbook)
    plan = _ratings_sheet(workbook, data, styles)
    _summary_sheet(workbook, data, styles)
    _chart_sheet(workbook, data, styles)
    workbook.close()
    last_col = len(plan.header) - 1
    n_rows = len(data.sessions)
    return splice(
        buffer.getvalue(),
        RATINGS_SHEET,
        _ratings_rows(data, plan, styles),
        header_rows=1,
        last_row=n_rows,
        last_col=last_col,
        table_range=(xl_range(0, 0, 1, last_col), xl_range(0, 0, max(n_rows, 1), last_col)),
    )
