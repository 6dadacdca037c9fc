"""The caseload rows of ``ratetool summary`` (no client): one per client, who needs attention first.

``caseload_rows`` is what the command asks for. Each client's part (its row as
``report.caseload_json`` shows it, without the rank; its place in the attention order; the last
date each practitioner rated it) comes from the cache (``ratetool.cache``) where the client's
data and the settings are unchanged, else from its file, scored; then the rows are filtered,
ordered and numbered. The same parts, worked out the same way, make the rows when the cache is
bypassed, so both routes give the same rows.

A run answered from the cache imports neither the store's parser nor scoring.
"""

from __future__ import annotations

import math
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ratetool.cache import Settings
    from ratetool.model import Rating
    from ratetool.store import Problem, Store

PART = "caseload"
#: How many recent sessions the caseload sparkline shows.
RECENT = 10


def caseload_part(ratings: list[Rating], settings: Settings) -> tuple[dict[str, Any] | None, bool]:
    """One client's part: ``{"row", "key", "dates"}`` (``None`` without ratings), and whether it
    may be kept (not when an instrument's definition was not found: that warning must show)."""
    from ratetool.report import caseload_row
    from ratetool.scoring import attention_key, score_client

    if not ratings:
        return None, True
    scores = score_client(ratings, settings.resolve, settings.thresholds())
    row = caseload_row(0, scores)
    del row["attention"]
    key = [None if isinstance(v, float) and math.isinf(v) else v for v in attention_key(scores)]
    dates: dict[str, str] = {}
    for r in ratings:
        who = (r.practitioner or "").casefold()
        day = r.rated_at.date().isoformat()
        if dates.get(who, "") < day:
            dates[who] = day
    complete = all(s.instrument is not None for s in scores.sessions)
    return {"row": row, "key": key, "dates": dates}, complete


def caseload_rows(
    store: Store,
    settings: Settings,
    *,
    since: date | None = None,
    practitioner: str | None = None,
) -> tuple[list[dict[str, Any]], list[Problem]]:
    """The caseload rows (``report.caseload_json``'s schema) and the problems met reading."""
    from ratetool import cache

    parts: list[dict[str, Any]] = []
    opened = cache.open_cache(store, settings)
    if opened is None:
        result = store.read_all()
        by_client: dict[str, list[Rating]] = {}
        for rating in result.ratings:
            by_client.setdefault(rating.client, []).append(rating)
        for ratings in by_client.values():
            part, _ = caseload_part(ratings, settings)
            if part is not None:
                parts.append(part)
        return ordered(parts, since=since, practitioner=practitioner), result.problems
    kept, problems = opened
    for code in kept.fingerprints:
        part = kept.get(code, PART)
        if part is None:
            read = store.read_client(code)
            problems.extend(read.problems)
            part, keep = caseload_part(read.ratings, settings)
            if read.problems or not keep:
                kept.forget(code)
            elif part is not None:
                kept.put(code, PART, part)
            if part is None:
                continue
        parts.append(part)
    kept.save()
    return ordered(parts, since=since, practitioner=practitioner), problems


def ordered(
    parts: list[dict[str, Any]], *, since: date | None = None, practitioner: str | None = None
) -> list[dict[str, Any]]:
    """The rows, who needs attention first, filtered by ``since`` / ``practitioner`` (a client
    with a session on or after that date / by that practitioner), numbered from 1."""

    def sort_key(part: dict[str, Any]) -> tuple[Any, ...]:
        first, severity, lowest, client = part["key"]
        return (first, severity, math.inf if lowest is None else lowest, client)

    who = practitioner.casefold() if practitioner is not None else None
    since_iso = since.isoformat() if since is not None else None
    rows: list[dict[str, Any]] = []
    for part in sorted(parts, key=sort_key):
        dates: dict[str, str] = part["dates"]
        if who is not None:
            if who not in dates:
                continue
            last = dates[who]
        else:
            last = max(dates.values())
        if since_iso is not None and last < since_iso:
            continue
        rows.append({"attention": len(rows) + 1, **part["row"]})
    return rows
