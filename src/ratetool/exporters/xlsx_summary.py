"""The XLSX Summary and Chart sheets (``ratetool.exporters.xlsx`` writes the workbook).

- **Summary**: one row per client in ``triage_order`` (severity, then the latest percent of
  maximum, lowest first), with a native Excel sparkline of the client's percents of maximum.
  The sparkline draws the client's rows of the Ratings sheet (they are together: the rows come
  in client-code order); when those rows hold voided ratings too (``--include-voided``), it
  draws the client's own numbers, written in hidden cells right of the table (not printed).
- **Chart**: at most ``MAX_CHART_SERIES`` client lines, those needing attention first, and the
  low cutoff as a dashed line.

The percents of maximum below the cutoff are filled red by conditional formatting.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ratetool.csvformat import ALERT_SEPARATOR, alerts_cell, score_value
from ratetool.exporters.xlsx import (
    CHART_DATA_ROW,
    CHART_SHEET,
    MAX_CHART_SERIES,
    POMP,
    RATINGS_SHEET,
    SUMMARY_COLUMNS,
    SUMMARY_SHEET,
    _mark_below_cutoff,
    _print_setup,
    _Styles,
    _table,
    _write,
)
from ratetool.places import PLACES
from ratetool.scoring import ClientScores, SessionScore, round_score
from ratetool.scoring.attention import client_severity

#: ``client_severity``'s words, most severe first.
SEVERITY_RANK = {"alert": 0, "watch": 1, "ok": 2}


def _lowest_latest_pomp(scores: ClientScores) -> float:
    """The lowest percent of maximum of the latest session, as shown; none sorts last."""
    shown = [round_score(s.pomp, PLACES[POMP]) for s in scores.latest_sessions]
    found = [p for p in shown if p is not None]
    return min(found) if found else math.inf


def triage_key(scores: ClientScores) -> tuple[int, float, str]:
    """Severity (alert, watch, ok), then the latest percent of maximum, lowest first, then the
    client code: the caseload's order, so a client at 50 % comes before one at 97.5 %."""
    return (
        SEVERITY_RANK.get(client_severity(scores), len(SEVERITY_RANK)),
        _lowest_latest_pomp(scores),
        scores.client,
    )


def triage_order(clients: Sequence[ClientScores]) -> list[ClientScores]:
    """Clients needing attention first (``triage_key``); a new list."""
    return sorted(clients, key=triage_key)


#: A client's rows on the Ratings sheet: ``(first, last, count)``, 1-based below the header.
RowSpan = tuple[int, int, int]


def ratings_rows(sessions: Sequence[SessionScore]) -> dict[str, RowSpan]:
    """Where each client's rows are on the Ratings sheet (its rows are together: the sessions
    come in client-code order)."""
    spans: dict[str, RowSpan] = {}
    for row, score in enumerate(sessions, start=1):
        client = score.rating.client
        first, _last, count = spans.get(client, (row, row, 0))
        spans[client] = (first, row, count + 1)
    return spans


def _summary_rows(
    clients: Sequence[ClientScores], spans: dict[str, RowSpan] | None = None
) -> list[dict[str, object]]:
    """One row per client, in the order given (``triage_order``). ``"trend"`` is where its
    sparkline's numbers are:
    the rows ``(first, last)`` of the Ratings sheet when these are exactly its sessions, else
    its percents of maximum (voided ratings among its rows, with ``--include-voided``)."""
    rows: list[dict[str, object]] = []
    for cs in clients:
        latest = cs.sessions[-1]
        dates = [s.rating.rated_at for s in cs.sessions]
        span = (spans or {}).get(cs.client)
        trend: tuple[int, int] | list[float | int | None]
        if span is not None and span[2] == len(cs.sessions):
            trend = (span[0], span[1])
        else:
            trend = [score_value(s.pomp, POMP) for s in cs.sessions]
        rows.append(
            {
                "client": cs.client,
                "severity": client_severity(cs),
                "latest_pomp": score_value(latest.pomp, POMP),
                "trend": trend,
                "sessions": len(cs.sessions),
                "first_date": min(dates).replace(tzinfo=None),
                "latest_date": latest.rating.rated_at.replace(tzinfo=None),
                "latest_session": latest.session,
                "latest_instrument": latest.rating.instrument,
                "alerts": alerts_cell(a.kind for a in latest.alerts) or None,
                "alert_details": f"{ALERT_SEPARATOR} ".join(
                    f"{a.kind}: {a.reason}" for a in latest.alerts
                )
                or None,
            }
        )
    return rows


def _summary_sheet(
    ws: Any,
    rows: Sequence[dict[str, object]],
    styles: _Styles,
    cutoff: float,
    pomp_col: int | None = None,
) -> None:
    """The Summary table, a sparkline per client (``pomp_col``: the Ratings sheet's column of
    the percents of maximum), the percents below ``cutoff`` red.

    The sparklines are one group (one ``add_sparkline`` call: one style, worked out once), each
    scaled to its own client's numbers."""
    from xlsxwriter.utility import xl_range_abs, xl_rowcol_to_cell

    formats = [styles.wrap if column == "alert_details" else None for column in SUMMARY_COLUMNS]
    _table(ws, SUMMARY_SHEET, SUMMARY_COLUMNS, len(rows), styles, formats)
    _print_setup(ws)
    places = {"latest_pomp": 1}
    trend_col = SUMMARY_COLUMNS.index("trend")
    # Numbers a sparkline cannot take from the Ratings sheet: hidden, right of the table.
    spare_col = len(SUMMARY_COLUMNS) + 1
    spare_width = 0
    locations: list[str] = []
    ranges: list[str] = []
    for row, values in enumerate(rows, start=1):
        for col, column in enumerate(SUMMARY_COLUMNS):
            if column != "trend":
                _write(ws, row, col, values.get(column), places.get(column, 0), styles)
        trend = values["trend"]
        if isinstance(trend, tuple) and pomp_col is not None:
            first, last = trend
            numbers = f"{RATINGS_SHEET}!{xl_range_abs(first, pomp_col, last, pomp_col)}"
        elif isinstance(trend, list) and trend:
            for col, value in enumerate(trend, start=spare_col):
                _write(ws, row, col, value, 1, styles)
            spare_width = max(spare_width, len(trend))
            numbers = xl_range_abs(row, spare_col, row, spare_col + len(trend) - 1)
        else:
            continue
        locations.append(xl_rowcol_to_cell(row, trend_col))
        ranges.append(numbers)
    if locations:
        ws.add_sparkline(
            1,
            trend_col,
            {
                "location": locations,
                "range": ranges,
                "markers": True,
                "low_point": True,
                "last_point": True,
                "series_color": "#1F4E79",
                "low_color": "#C00000",
                "last_color": "#000000",
                "empty_cells": "connect",
            },
        )
    if spare_width:
        ws.set_column(spare_col, spare_col + spare_width - 1, None, None, {"hidden": True})
    ws.print_area(0, 0, max(len(rows), 1), len(SUMMARY_COLUMNS) - 1)
    pomp = SUMMARY_COLUMNS.index("latest_pomp")
    _mark_below_cutoff(ws, 1, len(rows), (pomp, pomp), cutoff, styles)


def chart_series(
    clients: Sequence[ClientScores],
) -> tuple[list[tuple[str, dict[int, float]]], int]:
    """``(name, {session: pomp})`` per line, in the order of ``clients`` (``triage_order``: those
    needing attention first), and how many lines there would be without the
    ``MAX_CHART_SERIES`` limit."""
    series: list[tuple[str, dict[int, float]]] = []
    left_out = 0
    for cs in clients:
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
                value = score_value(s.pomp, POMP)
                if value is not None:
                    points[s.session] = float(value)
            if points:
                name = f"{cs.client} ({instrument_id})" if several else cs.client
                series.append((name, points))
    return series, len(series) + left_out


def cutoff_name(cutoff: float) -> str:
    """The cutoff line's name on the chart: ``cutoff 90%``."""
    return f"cutoff {cutoff:g}%"


def _chart_sheet(
    workbook: Any,
    ws: Any,
    series: Sequence[tuple[str, dict[int, float]]],
    total: int,
    styles: _Styles,
    cutoff: float,
) -> None:
    """The chart of ``series`` (``chart_series``: the lines drawn, and of how many) and the
    cutoff line, with the numbers it draws below it."""
    top = CHART_DATA_ROW
    _print_setup(ws, top)
    if not series:
        ws.write_string(0, 0, "No session has a percent of maximum to draw.")
        return
    sessions = sorted({n for _, points in series for n in points})
    note = (
        "Overall alliance: percent of maximum (pomp) by session, the numbers the chart draws; "
        f"the dashed line is the low cutoff ({cutoff:g}%)."
    )
    if total > len(series):
        note += (
            f" Showing the {len(series)} lines of the clients who need attention first, of "
            f"{total}; every client is on the {SUMMARY_SHEET} sheet."
        )
    ws.write_string(top - 1, 0, note)
    ws.write_string(top, 0, "session")
    for col, (name, _points) in enumerate(series, start=1):
        _write(ws, top, col, name, 0, styles)
    cutoff_col = len(series) + 1
    ws.write_string(top, cutoff_col, cutoff_name(cutoff))
    for row, session in enumerate(sessions, start=top + 1):
        ws.write_number(row, 0, session)
        for col, (_name, points) in enumerate(series, start=1):
            _write(ws, row, col, points.get(session), 1, styles)
        ws.write_number(row, cutoff_col, cutoff)
    last = top + len(sessions)
    _mark_below_cutoff(ws, top + 1, last, (1, len(series)), cutoff, styles)

    chart = workbook.add_chart({"type": "line"})
    categories = [CHART_SHEET, top + 1, 0, last, 0]
    for col in range(1, len(series) + 1):
        chart.add_series(
            {
                "name": [CHART_SHEET, top, col],
                "categories": categories,
                "values": [CHART_SHEET, top + 1, col, last, col],
                "marker": {"type": "circle", "size": 5},
                "line": {"width": 1.75},
            }
        )
    chart.add_series(
        {
            "name": [CHART_SHEET, top, cutoff_col],
            "categories": categories,
            "values": [CHART_SHEET, top + 1, cutoff_col, last, cutoff_col],
            "marker": {"type": "none"},
            "line": {"width": 2, "color": "#C00000", "dash_type": "dash"},
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
