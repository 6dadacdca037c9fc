"""Severity and who needs attention first: the order of the caseload.

The rules, as docs/scoring.md ("Severity" and "Who needs attention first") state them for
practitioners, from the scores alone:

- ``alert``: the session is below the low cutoff (a "low" alert), or shows a reliable worsening.
- ``watch``: a drop while still at or above the cutoff, or an item alert only.
- ``ok``: neither. A reliable improvement is good news, never an alert.

A client's severity is the most severe of its latest session (the highest session number; every
instrument rated in that session counts). Clients are listed by severity (alert, watch, ok), then
by their lowest percent of maximum in that session, lowest first (clients without one come after
those with one), then by client code. Clients with no sessions come last. So a client at 50 %
always comes before a client at 97.5 %, whatever their alerts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from ratetool.places import PLACES
from ratetool.scoring.client import ClientScores, SessionScore
from ratetool.scoring.rounding import round_score

#: Severities, most severe first (docs/scoring.md, "Severity").
SEVERITIES: tuple[str, ...] = ("alert", "watch", "ok")
#: Alert kinds that make a session an ``alert``; any other alert makes it a ``watch``.
ALERT_SEVERITY_KINDS = frozenset({"low", "reliable-worsening"})


def session_severity(scores: ClientScores, session: SessionScore) -> str:
    """``alert`` (below the low cutoff, or a reliable worsening), ``watch`` (a drop while still
    at or above the cutoff, or an item alert only) or ``ok``: from the session's scores alone.
    A reliable improvement is good news, never an alert. ``scores`` is the client's (kept for
    callers; the session's alerts decide)."""
    return severity_of(alert.kind for alert in session.alerts)


def severity_of(kinds: Iterable[str]) -> str:
    """The severity of a session with alerts of these ``kinds`` (an iterable of strings)."""
    found = set(kinds)
    if found & ALERT_SEVERITY_KINDS:
        return "alert"
    return "watch" if found else "ok"


def client_severity(scores: ClientScores) -> str:
    """The most severe ``session_severity`` of the client's latest session (every instrument
    rated in it); ``ok`` without sessions."""
    found = {session_severity(scores, s) for s in scores.latest_sessions}
    return next((level for level in SEVERITIES if level in found), "ok")


def attention_key(scores: ClientScores) -> tuple[int, int, float, str]:
    """The sort key of ``attention_order`` for one client (the caseload cache keeps it):
    (no sessions, severity rank, lowest % max of the latest session, client code)."""
    latest = scores.latest_sessions
    if not latest:
        return (1, 0, 0.0, scores.client)
    severity = SEVERITIES.index(client_severity(scores))
    shown = [round_score(s.pomp, PLACES["pomp"]) for s in latest if s.pomp is not None]
    lowest = min(p for p in shown if p is not None) if shown else math.inf
    return (0, severity, lowest, scores.client)


def attention_order(clients: list[ClientScores]) -> list[ClientScores]:
    """Clients who need attention first (see the module docstring): by severity (alert, watch,
    ok), then lowest percent of maximum in the latest session (none last), then client code;
    clients without sessions last. Returns a new list.
    """
    return sorted(clients, key=attention_key)
