"""The caseload: ``ratetool summary`` and ``summary --by month``, drawn from the rows of
``report.caseload_json`` and ``report.months_json`` (the very rows ``--json`` prints)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from ratetool.render.tables import (
    ColumnSpec,
    console,
    fixed,
    num,
    print_fitted,
    print_notes,
    say,
    table,
)
from ratetool.render.text import (
    INSTRUMENT_WIDTH,
    UNICODE,
    Glyphs,
    band_text,
    fmt,
    glyphs,
    plural,
    pomp_text,
    short_id,
    spark_range,
    sparkline,
    status_legend,
    thresholds_line,
    zoned,
)

#: The instrument column's width at the most compact (``compact=2``).
NARROW_INSTRUMENT_WIDTH = 8


def caseload_table(
    rows: Sequence[dict[str, Any]],
    g: Glyphs = UNICODE,
    *,
    low: float | None = None,
    compact: int = 0,
) -> Table:
    """One row per client from ``report.caseload_json``, in the order given (the alerts' words
    are listed under the table). With ``low`` (the cutoff), a % max below it is red and the
    sparkline is coloured by zone. For narrow terminals, ``compact=1`` shortens headers;
    ``compact=2`` also leaves out the sessions and overall, writes dates as yy-mm-dd, cuts
    instrument ids shorter and lets a long client code fold over lines."""
    from ratetool.caseload import RECENT

    several = len({r["instrument"] for r in rows}) > 1
    narrowest = compact >= 2
    columns: list[ColumnSpec] = [num("#"), "Client" if narrowest else fixed("Client")]
    if not narrowest:
        columns.append(num("Sess." if compact else "Sessions"))
    columns.append(fixed("Last"))
    if several:
        columns.append(fixed("Instr."))
    if not narrowest:
        columns.append(num("Over." if compact else "Overall"))
    columns += [num("% max"), fixed(f"Last {RECENT}"), fixed("Status")]
    width = NARROW_INSTRUMENT_WIDTH if narrowest else INSTRUMENT_WIDTH
    out = []
    spark_low, spark_high = spark_range("pomp")
    for r in rows:
        day = r["last_rated_at"][:10]
        row: list[Any] = [r["attention"], r["client"]]
        if not narrowest:
            row.append(r["sessions"])
        row.append(day[2:] if narrowest else day)
        if several:
            row.append(short_id(r["instrument"], width))
        if not narrowest:
            row.append(fmt(r["latest_overall"], "overall", g))
        recent = r["recent_pomp"][-RECENT:]
        row += [
            pomp_text(r["latest_pomp"], low, g)
            if low is not None
            else fmt(r["latest_pomp"], "pomp", g),
            zoned(sparkline(recent, spark_low, spark_high, g), recent, low),
            band_text(r["band"], g),
        ]
        out.append(row)
    return table(columns, out)


def print_caseload(
    rows: Sequence[dict[str, Any]],
    thresholds: dict[str, Any],
    *,
    limit: int | None,
    filters: str = "",
    con: Console | None = None,
) -> None:
    """Print ``summary`` (no client) from ``report.caseload_json`` rows: at most ``limit`` rows
    (``None``: all), saying how many were left out."""
    from ratetool.caseload import RECENT

    con = con or console()
    g = glyphs(con)
    shown_rows = list(rows if limit is None else rows[:limit])
    say(con, f"Caseload{filters}: {plural(len(rows), 'client')}, who needs attention first")
    say(
        con,
        "Order: the latest session's status (alert, watch, ok), then lowest % max.",
        "dim",
    )
    say(con, thresholds_line(thresholds), "dim")
    say(con)
    low = thresholds.get("low")
    drawn = print_fitted(
        con,
        caseload_table(shown_rows, g, low=low),
        lambda: caseload_table(shown_rows, g, low=low, compact=1),
        lambda: caseload_table(shown_rows, g, low=low, compact=2),
    )
    if drawn == 2:
        say(con, "Dates as yy-mm-dd; sessions and overall left out to fit the terminal.", "dim")
    say(con)
    say(con, status_legend(g))
    say(
        con,
        f"Last {RECENT}: % max of the latest instrument's last sessions, from 50 (or "
        f"lower) to 100; {g.missing_spark} = no score.",
    )
    width = NARROW_INSTRUMENT_WIDTH if drawn == 2 else INSTRUMENT_WIDTH
    cut = sorted(
        {r["instrument"] for r in shown_rows if short_id(r["instrument"], width) != r["instrument"]}
    )
    if cut and len({r["instrument"] for r in shown_rows}) > 1:
        say(con, "Instr.: " + "; ".join(f"{short_id(i, width)} = {i}" for i in cut) + ".")
    reasons = []
    for r in shown_rows:
        who = f"{r['client']} (session {r['latest_session']})"
        for i, reason in enumerate(r["alert_reasons"]):
            reasons.append((who if i == 0 else "", reason))
    if reasons:
        say(con)
        say(con, "Alerts on the latest session", "bold")
        print_notes(con, reasons)
    if len(shown_rows) < len(rows):
        say(con)
        say(
            con,
            f"Showing {len(shown_rows)} of {len(rows)} clients, those who need attention "
            "first; --all lists every client, --json prints them all.",
        )


def print_months(
    rows: Sequence[dict[str, Any]], filters: str = "", con: Console | None = None
) -> None:
    """Print ``summary --by month`` from ``report.months_json`` rows."""
    con = con or console()
    g = glyphs(con)
    say(con, f"Sessions by month{filters}: mean % max across all clients, and alerts")
    say(con)
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
    columns = [
        fixed("Month"),
        num("Sessions"),
        num("Clients"),
        num("Mean % max"),
        num("With alerts"),
        "Alerts by kind",
    ]
    print_fitted(con, table(columns, out))
    say(con)
    say(
        con,
        "Mean % max: the mean of the % max of every session that month that has one (each "
        "session counts once). With alerts: sessions with at least one alert of any kind.",
    )
