"""Who needs attention first: the order of the caseload.

The rule, as docs/scoring.md ("Who needs attention first") states it for practitioners:

Clients are listed by the alerts on their latest session (the highest session number; every
instrument rated in that session counts), most severe first: a reliable worsening, then a drop,
then low, then an item alert, then no alert (a reliable improvement does not count as needing
attention). Clients with equally severe alerts are ordered by their lowest percent of maximum in
that session, lowest first (clients without one come after those with one), then by client code.
Clients with no sessions come last.
"""

from __future__ import annotations

import math

from ratetool.places import PLACES
from ratetool.scoring.client import ClientScores, SessionScore
from ratetool.scoring.rounding import round_score

_SEVERITY = {"drop": 3, "low": 2, "item": 1}
_WORSENING = 4


def _session_severity(scores: ClientScores, session: SessionScore) -> int:
    worst = 0
    for alert in session.alerts:
        if alert.kind == "reliable-change":
            change = scores.reliable_change.get(session.rating.instrument)
            rank = _WORSENING if change is not None and change.direction == "worsened" else 0
        else:
            rank = _SEVERITY.get(alert.kind, 0)
        worst = max(worst, rank)
    return worst


#: Severities, most severe first (docs/scoring.md, "Severity").
SEVERITIES: tuple[str, ...] = ("alert", "watch", "ok")


def session_severity(scores: ClientScores, session: SessionScore) -> str:
    """``alert`` (below the low cutoff, or a reliable worsening), ``watch`` (a drop while still
    at or above the cutoff, or an item alert only) or ``ok``: from the session's scores alone.
    A reliable improvement is good news, never an alert."""
    kinds = {alert.kind for alert in session.alerts}
    if "low" in kinds or "reliable-worsening" in kinds:
        return "alert"
    if "reliable-change" in kinds:
        change = scores.reliable_change.get(session.rating.instrument)
        if change is not None and change.direction == "worsened":
            return "alert"
    if "drop" in kinds or "item" in kinds:
        return "watch"
    return "ok"


def client_severity(scores: ClientScores) -> str:
    """The most severe ``session_severity`` of the client's latest session (every instrument
    rated in it); ``ok`` without sessions."""
    found = {session_severity(scores, s) for s in scores.latest_sessions}
    return next((level for level in SEVERITIES if level in found), "ok")


def attention_key(scores: ClientScores) -> tuple[int, int, float, str]:
    """The sort key of ``attention_order`` for one client (the caseload cache keeps it)."""
    latest = scores.latest_sessions
    if not latest:
        return (1, 0, 0.0, scores.client)
    severity = max(_session_severity(scores, s) for s in latest)
    shown = [round_score(s.pomp, PLACES["pomp"]) for s in latest if s.pomp is not None]
    lowest = min(p for p in shown if p is not None) if shown else math.inf
    return (0, -severity, lowest, scores.client)


def attention_order(clients: list[ClientScores]) -> list[ClientScores]:
    """Clients who need attention first (see "Who needs attention first" in the module docstring).

    Ordered by the most severe alert on the latest session (reliable worsening, drop, low, item,
    none), then lowest percent of maximum in that session (none last), then client code; clients
    without sessions last. Returns a new list.
    """
    return sorted(clients, key=attention_key)
