"""``ratetool stats``: per instrument version, counts, a table of items and the total, alpha,
SEM and the smallest reliable change, and the notes. Drawn from the documented JSON
(``scoring.stats.stats_json``), so the table and ``--json`` show the same numbers. Fits 80 columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ratetool.render.tables import console, fixed, num, table


def _f(value: Any, places: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.{places}f}"
    if isinstance(value, float):
        return f"{value:.0f}" if places == 0 else f"{value:.{places}f}"
    return str(value)


def _pct(value: Any) -> str:
    return "–" if value is None else f"{value:.0f}%"


def _alpha_line(label: str, a: Mapping[str, Any]) -> str:
    if a["alpha"] is None:
        return f"{label}: alpha not computed ({a['why_missing']}; n = {a['n']})"
    ci = a["ci95"]
    interval = "" if ci is None else f", 95% CI {ci[0]:.2f} to {ci[1]:.2f}"
    return f"{label}: alpha {a['alpha']:.2f}{interval}, n = {a['n']}"


def stats_lines(data: Mapping[str, Any]) -> list[Any]:
    """What is printed for one instrument version: strings and one table."""
    c = data["counts"]
    out: list[Any] = [
        f"{data['instrument']} version {data['version']}: {data['title']}",
        f"{c['ratings']} ratings of {c['clients']} clients, {c['first_date']} to {c['last_date']}",
        f"{c['complete_ratings']} complete, {c['ratings_with_skipped_items']} with skipped items",
    ]
    first = data["alpha_first_rating_per_client"]
    dropped = first["if_dropped"]
    rows: list[Sequence[Any]] = []
    for item_id, d in data["items"].items():
        rows.append(
            [
                item_id,
                d["n"],
                _f(d["mean"]),
                _f(d["sd"]),
                _f(d["min"], 0),
                _f(d["max"], 0),
                _pct(d["ceiling_pct"]),
                _pct(d["floor_pct"]),
                _f(dropped.get(item_id)),
            ]
        )
    t = data["total"]
    rows.append(
        [
            "total",
            t["n"],
            _f(t["mean"]),
            _f(t["sd"]),
            _f(t["min"], 0),
            _f(t["max"], 0),
            _pct(t["ceiling_pct"]),
            _pct(t["floor_pct"]),
            None,
        ]
    )
    out.append(
        table(
            [
                fixed("item"),
                num("n"),
                num("mean"),
                num("SD"),
                num("min"),
                num("max"),
                num("at max"),
                num("at min"),
                num("alpha if dropped"),
            ],
            rows,
        )
    )
    out.append(_alpha_line("First rating per client (CI: Feldt)", first))
    out.append(_alpha_line("All ratings (not independent)", data["alpha_all_ratings"]))
    rc = data["smallest_reliable_change"]
    if data["sem"] is None or rc["points"] is None:
        out.append("SEM and smallest reliable change: not computed (no usable alpha and SD).")
    else:
        out.append(
            f"SEM {data['sem']:.2f}; smallest reliable change {rc['points']:.2f} points of the "
            f"total ({rc['percent_of_range']:.1f}% of its range)"
        )
    for note in data["notes"]:
        out.append(f"Note: {note}.")
    return out


def print_stats(blocks: Sequence[Mapping[str, Any]]) -> None:
    con = console()
    for i, data in enumerate(blocks):
        if i:
            con.print()
        for part in stats_lines(data):
            con.print(part)
