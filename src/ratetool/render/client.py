"""One client: ``ratetool summary CLIENT``, drawn from ``report.client_json``'s dict (the very
dict ``--json`` prints), so a table and the JSON always show the same numbers."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
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
    SPARK_MAX,
    UNICODE,
    Glyphs,
    band_text,
    change_text,
    fmt,
    glyphs,
    kind_of,
    plural,
    pomp_text,
    ranges,
    short_id,
    spark_range,
    sparkline,
    status_legend,
    thresholds_line,
    zoned,
)

JSON = dict[str, Any]

#: After the session number of an amended session (plain ASCII: it shows in every encoding).
AMENDED_MARK = "*"


def _dimension_columns(data: JSON, definitions: Mapping[str, Any]) -> list[tuple[str, str]]:
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
    data: JSON,
    definitions: Mapping[str, Any],
    g: Glyphs = UNICODE,
    *,
    short: bool = False,
    dates: bool = True,
    dimensions: bool = True,
    total: bool = True,
) -> Table:
    """The sessions table of ``summary CLIENT``: one row per rating, from ``client_json`` (each
    alert's kind and words are listed under the table). A % max below the low cutoff is red.
    For narrow terminals: ``short`` cuts long headers, ``dates=False`` writes dates without the
    century (25-03-12), ``total=False`` leaves out the total (the % max says it), and
    ``dimensions=False`` leaves the dimension scores to the trend table."""
    several = len(data["instruments"]) > 1
    dims = _dimension_columns(data, definitions) if dimensions else []
    head = _short if short else str
    low = data["thresholds"]["low"]
    columns: list[ColumnSpec] = [fixed("Date"), num("#")]
    if several:
        columns.append(fixed("Instr."))
    columns += [num(head(label)) for _, label in dims]
    columns += [num(head("Overall")), num("% max")]
    columns += [num("Total")] if total else []
    columns += [fixed("Status")]
    rows = []
    for s in data["sessions"]:
        number = f"{s['session']}{AMENDED_MARK}" if s.get("status") == "amended" else s["session"]
        day = s["rated_at"][:10]
        row: list[Any] = [day if dates else day[2:], number]
        if several:
            row.append(short_id(s["instrument"]))
        own = s["dimensions"]
        row += [fmt(own[d], "dimension", g) if d in own else "" for d, _ in dims]
        row += [fmt(s["overall"], "overall", g), pomp_text(s["pomp"], low, g)]
        row += [fmt(s["total"], "total", g)] if total else []
        row += [band_text(s["band"], g)]
        rows.append(row)
    return table(columns, rows)


def local_time(iso: str) -> str:
    """An ISO date-time with offset as the local date and time, to the minute."""
    from datetime import datetime

    return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")


def corrections_note(data: JSON) -> list[str]:
    """Under the sessions table: which sessions were amended (and when), and how many ratings
    were voided, so a corrected history never surprises."""
    lines = []
    amended = [s for s in data["sessions"] if s.get("status") == "amended"]
    if amended:
        parts = [
            f"session {s['session']} on {local_time(s['amended_at'])[:10]}"
            if s.get("amended_at")
            else f"session {s['session']}"
            for s in amended
        ]
        lines.append(
            f"{AMENDED_MARK} amended: {', '.join(parts)}; the scores are those of the corrected "
            "answers (see --history)."
        )
    voided = data.get("voided", 0)
    if voided:
        lines.append(f"{plural(voided, 'voided rating')} not counted (see --history).")
    return lines


def history_table(corrections: list[JSON]) -> Table:
    """``summary CLIENT --history``: one row per correction, in the order made (the
    ``corrections`` of ``client_json(..., history=True)``)."""
    rows = [
        (local_time(c["made_at"]), c["description"], c["reason"] or "", c["practitioner"] or "")
        for c in corrections
    ]
    return table([fixed("When"), "What", "Reason", fixed("Practitioner")], rows)


def print_history(data: JSON, con: Console | None = None) -> None:
    """The corrections of ``client_json(..., history=True)``, or "No corrections."."""
    con = con or console()
    say(con)
    say(con, "Corrections", "bold")
    corrections = data.get("corrections") or []
    if not corrections:
        say(con, "No corrections.")
        return
    print_fitted(con, history_table(corrections))
    say(
        con,
        "Times are local. A correction is a record of its own: the rating it corrects stays "
        "stored as it was.",
        "dim",
    )


def _client_reasons(data: JSON) -> list[tuple[str, str, str]]:
    several = len(data["instruments"]) > 1
    rows = []
    for s in data["sessions"]:
        who = f"Session {s['session']} ({s['rated_at'][:10]}"
        who += f", {s['instrument']})" if several else ")"
        for i, (kind, reason) in enumerate(zip(s["alerts"], s["alert_reasons"])):
            rows.append((who if i == 0 else "", kind, reason))
    return rows


def trend_table(
    trend: JSON,
    definition: Any,
    g: Glyphs = UNICODE,
    *,
    low: float | None = None,
    compact: bool = False,
) -> Table:
    """Per dimension, overall, % max and total: a sparkline, the first and latest values and the
    change since the first and the previous session (``client_json``'s ``trends[instrument]``).
    A change is red when worse and green when better; with ``low`` (the cutoff, a percent of
    the scale), each sparkline is red below it. ``compact`` (for narrow terminals) shows at most
    ``SPARK_MAX // 2`` sessions and puts the headers on two lines."""
    spark_max = SPARK_MAX // 2 if compact else SPARK_MAX
    n = len(trend["sessions"])
    spark_head = f"Last {spark_max}" if n > spark_max else ("Sessions" if n > 1 else "Session")
    labels = {"overall": "Overall", "pomp": "% max", "total": "Total"}
    if definition is not None:
        labels.update({d.id: d.label for d in definition.dimensions})
    rows = []
    for key, values in trend["series"].items():
        kind = kind_of(key)
        spark: Any = ""
        if definition is not None:
            recent = values[-spark_max:]
            spark = sparkline(recent, *spark_range(key, definition), g)
            if low is not None:
                spark = zoned(spark, recent, _cutoff(key, definition, low))
        rows.append(
            [
                labels.get(key, key),
                spark,
                fmt(trend["first"][key], kind, g),
                fmt(trend["latest"][key], kind, g),
                change_text(trend["change_since_first"][key], kind, g),
                change_text(trend["change_since_previous"][key], kind, g),
            ]
        )
    since = "Since\n" if compact else "Since "
    columns = [
        "",
        fixed(spark_head),
        num("First"),
        num("Latest"),
        num(since + "first"),
        num(since + "previous"),
    ]
    return table(columns, rows)


def _cutoff(key: str, definition: Any, low: float) -> float:
    """The low cutoff (a percent) on the scale of ``key``: 90 for % max, 9.0 on 0-10, the
    total's items times that."""
    if key == "pomp":
        return low
    scale = definition.scale
    at: float = scale.min + low / 100 * (scale.max - scale.min)
    return at * len(definition.items) if key == "total" else at


def rc_line(iid: str, rc: JSON | None, note: str) -> str:
    """Reliable change in one sentence (``note`` says why there is none)."""
    from ratetool.scoring.alerts import baseline_words  # only when there is reliable change

    if rc is None:
        return f"Reliable change ({iid}): {note}."
    if rc["reliable"]:
        verdict = (
            "a reliable improvement" if rc["direction"] == "improved" else "a reliable worsening"
        )
    else:
        verdict = "no reliable change"
    smallest = rc["smallest_reliable_change"]
    need = (
        f", smallest reliable change {smallest:.2f} points of the total"
        if smallest is not None
        else ""
    )
    return (
        f"Reliable change ({iid}): RC {rc['rc']:.2f}, {verdict}: total {rc['first_total']} at "
        f"session {rc['first_session']} ({baseline_words(iid, rc['version'])}), "
        f"{rc['latest_total']} at session {rc['latest_session']} (S_diff {rc['s_diff']:.2f}{need})."
    )


def item_tables(
    data: JSON, definitions: Mapping[str, Any], width: int, g: Glyphs = UNICODE
) -> list[tuple[str, Table]]:
    """Per instrument, items down and sessions across: the answers as the client gave them, in
    as many tables as it takes to fit ``width`` (needs ``client_json(..., items=True)``), each
    with its title."""
    tables = []
    for iid in data["instruments"]:
        sessions = [s for s in data["sessions"] if s["instrument"] == iid]
        definition = definitions.get(iid)
        items: list[tuple[str, bool]]
        if definition is not None:
            items = [(i.id, i.reverse) for i in definition.items]
        else:
            items = [(k, False) for k in dict.fromkeys(k for s in sessions for k in s["answers"])]
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
            columns = [fixed("Item"), *[num(f"#{s['session']}") for s in chunk]]
            tables.append((title, table(columns, rows)))
    return tables


def print_client_summary(
    data: JSON,
    definitions: Mapping[str, Any],
    notes: Mapping[str, str],
    *,
    items: bool = False,
    comments: bool = False,
    con: Console | None = None,
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
    say(
        con,
        f"{data['client']}: {plural(len(sessions), 'session')}, {min(dates)} to {max(dates)}; "
        f"{'instruments' if several else 'instrument'} {', '.join(described)}",
    )
    say(con, thresholds_line(data["thresholds"]), "dim")
    if hidden:
        say(con, f"Showing the last {limit} of {len(sessions)} sessions; --all shows every one.")
    say(con)
    narrow = {"short": True, "dates": False}
    drawn = print_fitted(
        con,
        client_sessions_table(data, definitions, g),
        lambda: client_sessions_table(data, definitions, g, short=True),
        lambda: client_sessions_table(data, definitions, g, **narrow),
        lambda: client_sessions_table(data, definitions, g, **narrow, total=False),
        lambda: client_sessions_table(
            data, definitions, g, **narrow, total=False, dimensions=False
        ),
    )
    if drawn >= 2:
        say(con, "Dates as yy-mm-dd, to fit the terminal.", "dim")
    if drawn == 4:
        say(con, "Dimension scores: in the trend tables below (a wider terminal shows them here).")
    for line in corrections_note(data):
        say(con, line)
    say(con)
    say(con, status_legend(g))
    reasons = _client_reasons(data)
    if reasons:
        say(con)
        say(con, "Alerts", "bold")
        print_notes(con, reasons)
    if items:
        for title, t in item_tables(data, definitions, con.width, g):
            say(con)
            say(con, title, "bold")
            print_fitted(con, t)
        say(con)
        say(
            con,
            "Answers as the client gave them; s = skipped; (r) = reverse-worded, scored "
            "min + max - answer.",
        )
    if comments:
        say(con)
        say(con, "Comments", "bold")
        said = [s for s in data["sessions"] if s.get("comment")]
        if said:
            rows = [(f"Session {s['session']} ({s['rated_at'][:10]})", s["comment"]) for s in said]
            print_notes(con, rows)
        else:
            say(con, "No comments.")
    if several:
        parts = [
            f"{iid} (sessions {ranges(data['trends'][iid]['sessions'])})"
            for iid in data["instruments"]
        ]
        say(con)
        say(
            con,
            "Trends and reliable change are per instrument, as scores of different "
            f"instruments do not compare: {', '.join(parts)}.",
        )
    for iid in data["instruments"]:
        trend = data["trends"][iid]
        say(con)
        say(con, f"Trend, {iid} (sessions {ranges(trend['sessions'])})", "bold")
        definition = definitions.get(iid)
        low = data["thresholds"]["low"]
        print_fitted(
            con,
            trend_table(trend, definition, g, low=low),
            partial(trend_table, trend, definition, g, low=low, compact=True),
        )
        say(con, rc_line(iid, data["reliable_changes"][iid], notes.get(iid, "none")))
    say(con)
    say(
        con,
        "Sparklines: one block per session, from the middle of the scale (or lower) to the "
        f"top; {g.missing_spark} = no score. A change is the difference of the numbers shown.",
    )
