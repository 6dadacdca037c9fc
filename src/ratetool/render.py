"""Output at the edge: tables and text for people. JSON never goes through here.

Imported only by commands that print tables. Tables and wrapping come from ``ratetool.term``
(the standard library only: rich's import and table layout alone cost more than the 0.2 s a
client's summary may take). Colour follows the usual rules (``NO_COLOR`` turns it off, and so does
output that is not a terminal); meaning never rests on colour alone.

The summary tables are drawn from the plain dicts of ``ratetool.report`` (the very dicts
``--json`` prints), each number formatted with the places it was rounded to, so a table and the
JSON always show the same numbers. Bands carry a symbol and a word besides their colour, and a
sparkline is plain characters.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from ratetool.places import places_for
from ratetool.term import Column, Styled, Table, Terminal


def console(stderr: bool = False) -> Terminal:
    """The terminal to print to: standard output (or standard error)."""
    import sys

    return Terminal(sys.stderr if stderr else sys.stdout)


def table(
    columns: Sequence[str | tuple[str, dict[str, Any]]],
    rows: Iterable[Sequence[Any]],
    *,
    show_header: bool = True,
) -> Table:
    """A plain table (no borders). A column is its header, or ``(header, options)`` with
    ``justify`` ("right" for numbers) and ``no_wrap``. Cells are text as given (``Styled`` for a
    style); ``None`` is an empty cell."""
    cols = [Column(c[0], **c[1]) if isinstance(c, tuple) else Column(c) for c in columns]
    return Table(cols, rows, show_header=show_header)


def print_table(*args: Any, **kwargs: Any) -> None:
    con = console()
    con.print_table(table(*args, **kwargs))


# ------------------------------------------------------------------------------------------------
# Symbols: bands, sparklines, missing values

#: Blocks for sparklines, lowest first, and what stands for a missing value.
SPARK_BLOCKS = "▁▂▃▄▅▆▇█"
SPARK_MISSING = "·"
#: The same when the output cannot encode them (a legacy code page): still lowest first.
ASCII_SPARK_BLOCKS = "_.-=+*#@"
ASCII_SPARK_MISSING = "?"
#: Most sessions one sparkline shows in a client's trends (the latest ones).
SPARK_MAX = 24

BAND_STYLES = {"alert": "bold red", "watch": "yellow", "ok": "green", "none": "dim"}


class Glyphs(NamedTuple):
    spark: str
    missing_spark: str
    #: Shown in a table cell for a missing number.
    missing: str
    #: band -> (symbol, word)
    bands: dict[str, tuple[str, str]]


UNICODE = Glyphs(
    SPARK_BLOCKS,
    SPARK_MISSING,
    "–",
    {
        "alert": ("!", "alert"),
        "watch": ("▲", "watch"),
        "ok": ("✓", "ok"),
        "none": ("–", "no score"),
    },
)
ASCII = Glyphs(
    ASCII_SPARK_BLOCKS,
    ASCII_SPARK_MISSING,
    "-",
    {
        "alert": ("!", "alert"),
        "watch": ("^", "watch"),
        "ok": ("+", "ok"),
        "none": ("-", "no score"),
    },
)


def glyphs(con: Terminal | Any = None) -> Glyphs:
    """Unicode symbols when the output can encode them, else plain ASCII ones."""
    encoding = (con or console()).encoding or "ascii"
    try:
        (SPARK_BLOCKS + SPARK_MISSING + "✓▲–").encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return ASCII
    return UNICODE


def band_label(band: str, g: Glyphs = UNICODE) -> str:
    """The band as a symbol and a word, e.g. ``"! alert"``: it reads without colour."""
    symbol, word = g.bands[band]
    return f"{symbol} {word}"


def band_text(band: str, g: Glyphs = UNICODE) -> Styled:
    return Styled(band_label(band, g), BAND_STYLES[band])


def sparkline(values: Sequence[float | None], low: float, high: float, g: Glyphs = UNICODE) -> str:
    """One block per value, from ``low`` (lowest block; anything lower too) to ``high`` (highest
    block); ``None`` is shown as a dot.

    Summaries pass a fixed range, the same for every client: from the middle of the scale to its
    top (``spark_range``), where alliance ratings live, so a steady strong alliance reads high,
    a fall shows, and small wiggles are not blown up as a series' own range would."""
    blocks = g.spark
    top = len(blocks) - 1
    out = []
    for v in values:
        if v is None:
            out.append(g.missing_spark)
            continue
        frac = (v - low) / (high - low) if high > low else 1.0
        out.append(blocks[min(top, max(0, int(frac * top + 0.5)))])
    return "".join(out)


def spark_range(key: str, definition: Any = None) -> tuple[float, float]:
    """The fixed range of a sparkline of ``key``: from the middle of its scale to the top (50 to
    100 for % max; 5 to 10 for a 0-10 dimension or overall; the total: items times those)."""
    if key == "pomp":
        return 50.0, 100.0
    scale = definition.scale
    mid = (scale.min + scale.max) / 2
    if key == "total":
        n = len(definition.items)
        return n * mid, float(n * scale.max)
    return mid, float(scale.max)


def fmt(value: float | int | None, kind: str, g: Glyphs = UNICODE) -> str:
    """A rounded number written with exactly the places of its kind (``ratetool.places``)."""
    if value is None:
        return g.missing
    return f"{value:.{places_for(kind)}f}"


def fmt_change(value: float | int | None, kind: str, g: Glyphs = UNICODE) -> str:
    """A change with its sign: ``+1.00``, ``-2.5``; no change is ``0.00``."""
    if value is None:
        return g.missing
    places = places_for(kind)
    if value == 0:
        return f"{0:.{places}f}"
    return f"{value:+.{places}f}"


def _kind(key: str) -> str:
    return key if key in ("overall", "pomp", "total") else "dimension"


def _ranges(numbers: Sequence[int]) -> str:
    """``[1, 2, 3, 5, 7, 8]`` -> ``"1-3, 5, 7-8"``."""
    parts: list[str] = []
    i = 0
    while i < len(numbers):
        j = i
        while j + 1 < len(numbers) and numbers[j + 1] == numbers[j] + 1:
            j += 1
        parts.append(f"{numbers[i]}" if i == j else f"{numbers[i]}-{numbers[j]}")
        i = j + 1
    return ", ".join(parts)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _num(header: str) -> tuple[str, dict[str, Any]]:
    return (header, {"justify": "right", "no_wrap": True})


def _fixed(header: str) -> tuple[str, dict[str, Any]]:
    return (header, {"no_wrap": True})


def _summary_table(columns: Sequence[Any], rows: Iterable[Sequence[Any]]) -> Table:
    return table(columns, rows)


def _print_fitted(con: Terminal, *tables: Table) -> None:
    """Print the first of ``tables`` (each a more compact version of the one before) that fits
    the width: with two spaces between columns, else one, first without wrapping the last
    column, then wrapping it. Numbers are never cut short where it can be helped."""
    for t in tables:
        for wrap, gap in ((False, 2), (False, 1), (True, 2), (True, 1)):
            if t.fits(con.width, gap, wrap_last=wrap):
                con.print_table(t, gap)
                return
    con.print_table(tables[-1], 1)


def _thresholds_line(th: dict) -> str:
    return (
        f"Alerts: low below {th['low']:g}%, drop of {th['drop']:g} points or more, item at or "
        f"below {th['item']:g}%."
    )


def _status_legend(g: Glyphs) -> str:
    return (
        f"Status: {band_label('alert', g)} = low, drop or reliable worsening; "
        f"{band_label('watch', g)} = an item alert only; {band_label('ok', g)} = neither."
    )


def _reasons_table(rows: Sequence[Sequence[str]]) -> Table:
    """Alert reasons or comments: short columns (who, kind) and the words last, wrapping under
    themselves."""
    width = len(rows[0]) if rows else 1
    columns: list[Any] = [("", {"no_wrap": True})] * (width - 1) + [""]
    return table(columns, rows, show_header=False)


# ------------------------------------------------------------------------------------------------
# One client: `ratetool summary CLIENT`


def _dimension_columns(data: dict, definitions: dict) -> list[tuple[str, str]]:
    """(dimension id, label) across every instrument the client was rated with, in order."""
    columns: dict[str, str] = {}
    for iid in data["instruments"]:
        definition = definitions.get(iid)
        if definition is not None:
            for d in definition.dimensions:
                columns.setdefault(d.id, d.label)
    for session in data["sessions"]:
        for dim in session["dimensions"]:
            columns.setdefault(dim, dim)
    return list(columns.items())


def _short(label: str) -> str:
    """A header cut to fit a 5-character number: "Genuineness" -> "Genu."."""
    return label if len(label) <= 5 else label[:4] + "."


def client_sessions_table(
    data: dict, definitions: dict, g: Glyphs = UNICODE, *, short: bool = False
) -> Table:
    """The sessions table of ``summary CLIENT``: one row per rating, from ``client_json``.
    ``short`` cuts long headers (for narrow terminals)."""
    several = len(data["instruments"]) > 1
    dims = _dimension_columns(data, definitions)
    head = _short if short else str
    columns: list[Any] = [_fixed("Date"), _num("#")]
    if several:
        columns.append(_fixed("Instr."))
    columns += [_num(head(label)) for _, label in dims]
    columns += [_num(head("Overall")), _num("% max"), _num("Total"), _fixed("Status"), "Alerts"]
    rows = []
    for s in data["sessions"]:
        row: list[Any] = [s["rated_at"][:10], s["session"]]
        if several:
            row.append(s["instrument"])
        own = s["dimensions"]
        row += [fmt(own[d], "dimension", g) if d in own else "" for d, _ in dims]
        row += [
            fmt(s["overall"], "overall", g),
            fmt(s["pomp"], "pomp", g),
            fmt(s["total"], "total", g),
            band_text(s["band"], g),
            ", ".join(s["alerts"]),
        ]
        rows.append(row)
    return _summary_table(columns, rows)


def _client_reasons(data: dict) -> list[tuple[str, str, str]]:
    several = len(data["instruments"]) > 1
    rows = []
    for s in data["sessions"]:
        who = f"Session {s['session']} ({s['rated_at'][:10]}"
        who += f", {s['instrument']})" if several else ")"
        for i, (kind, reason) in enumerate(zip(s["alerts"], s["alert_reasons"])):
            rows.append((who if i == 0 else "", kind, reason))
    return rows


def trend_table(trend: dict, definition: Any, g: Glyphs = UNICODE) -> Table:
    """Per dimension, overall, % max and total: a sparkline, the first and latest values and the
    change since the first and the previous session (``client_json``'s ``trends[instrument]``)."""
    n = len(trend["sessions"])
    spark_head = f"Last {SPARK_MAX}" if n > SPARK_MAX else ("Sessions" if n > 1 else "Session")
    labels = {"overall": "Overall", "pomp": "% max", "total": "Total"}
    if definition is not None:
        labels.update({d.id: d.label for d in definition.dimensions})
    rows = []
    for key, values in trend["series"].items():
        kind = _kind(key)
        spark = ""
        if definition is not None:
            spark = sparkline(values[-SPARK_MAX:], *spark_range(key, definition), g)
        rows.append(
            [
                labels.get(key, key),
                spark,
                fmt(trend["first"][key], kind, g),
                fmt(trend["latest"][key], kind, g),
                fmt_change(trend["change_since_first"][key], kind, g),
                fmt_change(trend["change_since_previous"][key], kind, g),
            ]
        )
    return _summary_table(
        [
            "",
            _fixed(spark_head),
            _num("First"),
            _num("Latest"),
            _num("Since first"),
            _num("Since previous"),
        ],
        rows,
    )


def rc_line(iid: str, rc: dict | None, note: str) -> str:
    """Reliable change in one sentence (``note`` says why there is none)."""
    if rc is None:
        return f"Reliable change ({iid}): {note}."
    if rc["reliable"]:
        verdict = (
            "a reliable improvement" if rc["direction"] == "improved" else "a reliable worsening"
        )
    else:
        verdict = "no reliable change"
    smallest = rc["smallest_reliable_change"]
    need = f", smallest reliable change {smallest:.2f} points" if smallest is not None else ""
    return (
        f"Reliable change ({iid}): RC {rc['rc']:.2f}, {verdict}: total {rc['first_total']} at "
        f"session {rc['first_session']}, {rc['latest_total']} at session {rc['latest_session']} "
        f"(S_diff {rc['s_diff']:.2f}{need})."
    )


def item_tables(
    data: dict, definitions: dict, width: int, g: Glyphs = UNICODE
) -> list[tuple[str, Table]]:
    """Per instrument, items down and sessions across: the answers as the client gave them, in
    as many tables as it takes to fit ``width`` (needs ``client_json(..., items=True)``), each
    with its title."""
    tables = []
    for iid in data["instruments"]:
        sessions = [s for s in data["sessions"] if s["instrument"] == iid]
        definition = definitions.get(iid)
        if definition is not None:
            items = [(i.id, i.reverse) for i in definition.items]
        else:
            items = list(dict.fromkeys(k for s in sessions for k in s["answers"]).items())
            items = [(k, False) for k, _ in items]
        if not items or not sessions:
            continue
        names = [f"{i} (r)" if rev else i for i, rev in items]
        first_width = max(len(n) for n in [*names, "Item"]) + 1
        per = max(1, (width - first_width) // 4)
        for start in range(0, len(sessions), per):
            chunk = sessions[start : start + per]
            rows = []
            for (item_id, _), name in zip(items, names):
                cells = []
                for s in chunk:
                    value = s["answers"].get(item_id)
                    if item_id in s["skipped"]:
                        cells.append("s")
                    else:
                        cells.append(g.missing if value is None else str(value))
                rows.append([name, *cells])
            title = f"Answers, {iid}" + (" (continued)" if start else "")
            columns = [_fixed("Item"), *[_num(f"#{s['session']}") for s in chunk]]
            tables.append((title, _summary_table(columns, rows)))
    return tables


def print_client_summary(
    data: dict,
    definitions: dict,
    notes: dict[str, str],
    *,
    items: bool = False,
    comments: bool = False,
    con: Terminal | None = None,
    limit: int | None = None,
) -> None:
    """Print ``summary CLIENT`` from ``report.client_json`` (with ``items`` / ``comments`` when
    asked), each instrument's definition (labels and scale), and ``notes``: why an instrument
    has no reliable change. With ``limit``, the tables show only the last ``limit`` sessions
    (the trends still use every session)."""
    con = con or console()
    g = glyphs(con)
    sessions = data["sessions"]
    hidden = 0
    if limit is not None and len(sessions) > limit:
        hidden = len(sessions) - limit
        data = {**data, "sessions": sessions[-limit:]}
    dates = [s["rated_at"][:10] for s in sessions]
    several = len(data["instruments"]) > 1
    described = []
    for iid in data["instruments"]:
        definition = definitions.get(iid)
        if definition is None:
            described.append(f"{iid} (definition not found)")
        else:
            sc = definition.scale
            described.append(f"{iid} ({definition.title}, {sc.min}-{sc.max})")
    con.print(
        Styled(
            f"{data['client']}: {_plural(len(sessions), 'session')}, {min(dates)} to "
            f"{max(dates)}; {'instruments' if several else 'instrument'} {', '.join(described)}"
        )
    )
    con.print(Styled(_thresholds_line(data["thresholds"]), style="dim"))
    if hidden:
        con.print(
            Styled(f"Showing the last {limit} of {len(sessions)} sessions; --all shows every one.")
        )
    con.print()
    _print_fitted(
        con,
        client_sessions_table(data, definitions, g),
        client_sessions_table(data, definitions, g, short=True),
    )
    con.print()
    con.print(Styled(_status_legend(g)))
    reasons = _client_reasons(data)
    if reasons:
        con.print()
        con.print(Styled("Alerts", style="bold"))
        con.print(_reasons_table(reasons))
    if items:
        for title, t in item_tables(data, definitions, con.width, g):
            con.print()
            con.print(Styled(title, style="bold"))
            _print_fitted(con, t)
        con.print()
        con.print(
            Styled(
                "Answers as the client gave them; s = skipped; (r) = reverse-worded, scored "
                "min + max - answer."
            )
        )
    if comments:
        con.print()
        con.print(Styled("Comments", style="bold"))
        said = [s for s in data["sessions"] if s.get("comment")]
        if said:
            con.print(
                _reasons_table(
                    [(f"Session {s['session']} ({s['rated_at'][:10]})", s["comment"]) for s in said]
                )
            )
        else:
            con.print(Styled("No comments."))
    if several:
        parts = [
            f"{iid} (sessions {_ranges(data['trends'][iid]['sessions'])})"
            for iid in data["instruments"]
        ]
        con.print()
        con.print(
            Styled(
                "Trends and reliable change are per instrument, as scores of different "
                f"instruments do not compare: {', '.join(parts)}."
            )
        )
    for iid in data["instruments"]:
        trend = data["trends"][iid]
        con.print()
        con.print(Styled(f"Trend, {iid} (sessions {_ranges(trend['sessions'])})", style="bold"))
        _print_fitted(con, trend_table(trend, definitions.get(iid), g))
        con.print(Styled(rc_line(iid, data["reliable_changes"][iid], notes.get(iid, "none"))))
    con.print()
    con.print(
        Styled(
            "Sparklines: one block per session, from the middle of the scale (or lower) to the "
            f"top; {g.missing_spark} = no score. A change is the difference of the numbers shown."
        )
    )


# ------------------------------------------------------------------------------------------------
# The caseload: `ratetool summary`


def caseload_table(rows: Sequence[dict], g: Glyphs = UNICODE) -> Table:
    """One row per client from ``report.caseload_json``, in the order given."""
    from ratetool.report import RECENT

    several = len({r["instrument"] for r in rows}) > 1
    columns: list[Any] = [_num("#"), _fixed("Client"), _num("Sessions"), _fixed("Last")]
    if several:
        columns.append(_fixed("Instr."))
    columns += [
        _num("Overall"),
        _num("% max"),
        _fixed(f"Last {RECENT}"),
        _fixed("Status"),
        "Alerts",
    ]
    out = []
    low, high = spark_range("pomp")
    for r in rows:
        row: list[Any] = [r["attention"], r["client"], r["sessions"], r["last_rated_at"][:10]]
        if several:
            row.append(r["instrument"])
        row += [
            fmt(r["latest_overall"], "overall", g),
            fmt(r["latest_pomp"], "pomp", g),
            sparkline(r["recent_pomp"][-RECENT:], low, high, g),
            band_text(r["band"], g),
            ", ".join(r["alerts"]),
        ]
        out.append(row)
    return _summary_table(columns, out)


def print_caseload(
    rows: Sequence[dict],
    thresholds: dict,
    *,
    limit: int | None,
    filters: str = "",
    con: Terminal | None = None,
) -> None:
    """Print ``summary`` (no client) from ``report.caseload_json`` rows: at most ``limit`` rows
    (``None``: all), saying how many were left out."""
    from ratetool.report import RECENT

    con = con or console()
    g = glyphs(con)
    shown_rows = list(rows if limit is None else rows[:limit])
    con.print(
        Styled(f"Caseload{filters}: {_plural(len(rows), 'client')}, who needs attention first")
    )
    con.print(
        Styled(
            "Order: the latest session's alerts (reliable worsening, drop, low, item, none), "
            "then lowest % max.",
            style="dim",
        )
    )
    con.print(Styled(_thresholds_line(thresholds), style="dim"))
    con.print()
    _print_fitted(con, caseload_table(shown_rows, g))
    con.print()
    con.print(Styled(_status_legend(g)))
    con.print(
        Styled(
            f"Last {RECENT}: % max of the latest instrument's last sessions, from 50 (or "
            f"lower) to 100; {g.missing_spark} = no score."
        )
    )
    reasons = []
    for r in shown_rows:
        who = f"{r['client']} (session {r['latest_session']})"
        for i, reason in enumerate(r["alert_reasons"]):
            reasons.append((who if i == 0 else "", reason))
    if reasons:
        con.print()
        con.print(Styled("Alerts on the latest session", style="bold"))
        con.print(_reasons_table(reasons))
    if len(shown_rows) < len(rows):
        con.print()
        con.print(
            Styled(
                f"Showing {len(shown_rows)} of {len(rows)} clients, those who need attention "
                "first; --all lists every client, --json prints them all."
            )
        )


def print_months(rows: Sequence[dict], filters: str = "", con: Terminal | None = None) -> None:
    """Print ``summary --by month`` from ``report.months_json`` rows."""
    con = con or console()
    g = glyphs(con)
    con.print(Styled(f"Sessions by month{filters}: mean % max across all clients, and alerts"))
    con.print()
    out = []
    for r in rows:
        kinds = ", ".join(f"{k} {n}" for k, n in r["alerts_by_kind"].items() if n)
        out.append(
            [
                r["month"],
                r["sessions"],
                r["clients"],
                fmt(r["mean_pomp"], "pomp", g),
                r["sessions_with_alerts"],
                kinds,
            ]
        )
    con.print(
        _summary_table(
            [
                _fixed("Month"),
                _num("Sessions"),
                _num("Clients"),
                _num("Mean % max"),
                _num("With alerts"),
                "Alerts by kind",
            ],
            out,
        )
    )
    con.print()
    con.print(
        Styled(
            "Mean % max: the mean of the % max of every session that month that has one (each "
            "session counts once). With alerts: sessions with at least one alert of any kind."
        )
    )


# ------------------------------------------------------------------------------------------------
# The chart: `ratetool chart CLIENT`

#: Colours of chart series when colour is on (the letters tell them apart without it).
CHART_COLOURS = ("blue", "green", "magenta", "cyan", "orange", "gray")
THRESHOLD_MARKER = "-"


def chart_markers(labels: Sequence[str]) -> list[str]:
    """One distinct character per series: its label's initial (E, W, G, T, O for the check-in),
    else the lower-case initial, else a digit."""
    used: set[str] = set()
    out = []
    for label in labels:
        initial = (label.strip() or "?")[0]
        for candidate in (initial.upper(), initial.lower(), *"123456789", *"#@%&+=x"):
            if candidate not in used and candidate != THRESHOLD_MARKER:
                used.add(candidate)
                out.append(candidate)
                break
    return out


def _wrap_entries(entries: Sequence[str], width: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for entry in entries:
        candidate = f"{line}   {entry}" if line else entry
        if line and len(candidate) > width:
            lines.append(line)
            line = entry
        else:
            line = candidate
    if line:
        lines.append(line)
    return lines


def _ticks(low: float, high: float) -> list[float]:
    step = 1.0 if high - low > 3 else 0.5
    first = math.ceil(low / step) * step
    ticks = []
    value = first
    while value <= high + 1e-9:
        ticks.append(round(value, 1))
        value += step
    return ticks


def chart_text(
    *,
    title: str,
    sessions: Sequence[int],
    series: Sequence[tuple[str, Sequence[float | None]]],
    threshold: tuple[float, str] | None,
    y_range: tuple[float, float],
    width: int,
    height: int,
    colour: bool,
) -> str:
    """A line chart (plotext) of ``series`` (label, one value or ``None`` per session) across
    ``sessions``, with ``threshold`` (value, words) drawn as a dashed line, then a legend.

    Each series is drawn as dots joining its sessions and its own letter at every session (see
    ``chart_markers``), so series are told apart without colour; colours are added only when
    ``colour``. Every line is at most ``width`` characters."""
    import plotext as plt

    markers = chart_markers([label for label, _ in series])
    low, high = y_range
    plt.clear_figure()
    plt.plot_size(width, height)
    plt.theme("clear")
    first, last = min(sessions), max(sessions)
    points = []
    for i, (_label, values) in enumerate(series):
        xs = [n for n, v in zip(sessions, values) if v is not None]
        ys = [v for v in values if v is not None]
        if not xs:
            continue
        extra = {"color": CHART_COLOURS[i % len(CHART_COLOURS)]} if colour else {}
        if len(xs) > 1:
            plt.plot(xs, ys, marker="dot", **extra)
        points.append((xs, ys, markers[i], extra))
    if threshold is not None:  # over the joining dots, under the letters
        plt.plot(
            [first, last] if last > first else [first - 0.5, first + 0.5],
            [threshold[0]] * 2,
            marker=THRESHOLD_MARKER,
            **({"color": "red"} if colour else {}),
        )
    for xs, ys, marker, extra in points:
        plt.scatter(xs, ys, marker=marker, **extra)
    plt.ylim(low, high)
    plt.yticks(_ticks(low, high), [f"{t:g}" for t in _ticks(low, high)])
    if last > first:
        plt.xlim(first, last)
    room = max(1, (width - 8) // 6)
    step = max(1, math.ceil(len(sessions) / room))
    xticks = list(sessions[::step])
    plt.xticks(xticks, [str(n) for n in xticks])
    plt.xlabel("session")
    text = plt.build()
    plt.clear_figure()
    if not colour:
        text = plt.uncolorize(text)
    # the title is ours, not plotext's, which leaves out a title wider than the chart
    lines = textwrap.wrap(title, width) + [line.rstrip() for line in text.rstrip("\n").split("\n")]
    entries = [f"{m} {label}" for m, (label, _) in zip(markers, series)]
    if threshold is not None:
        entries.append(f"{THRESHOLD_MARKER * 3} {threshold[1]}")
    lines += _wrap_entries(entries, width)
    return "\n".join(lines) + "\n"
