"""Plain data for ``ratetool summary`` and ``ratetool chart``: no Typer, no rich, no arithmetic of
its own beyond counting and the monthly mean.

Every score comes from ``ratetool.scoring`` and is rounded here once, by ``round_score`` with the
places of ``places_for``; the JSON output *is* these dicts, and the tables are drawn from the very
same dicts (``ratetool.render``), so a table and ``--json`` can never show different numbers.

- ``client_report(...)`` scores one client; ``client_json(report)`` is ``summary CLIENT --json``:
  the sessions (date, number, instrument, status, dimension scores, overall, pomp, total, band,
  alerts and their reasons), trends per instrument (series for sparklines, first and latest
  values, change since the first and the previous session), reliable change per instrument, how
  many ratings were voided and (``--history``) the corrections (``ratetool.corrections``).
- ``caseload(...)`` scores every client; ``caseload_json(...)`` is ``summary --json``: one row
  per client in the order of who needs attention first (``scoring.attention_order``), filtered by
  ``--since`` and ``--practitioner``; ``months_json(...)`` is ``summary --by month``. The command
  gets its rows from ``ratetool.caseload.caseload_rows`` (the same rows, through the cache).

Filters choose which clients (or, for months, which sessions) are listed. Scores, trends and
alerts always come from the client's whole history, so they are the same numbers ``summary
CLIENT`` shows.

Work is linear in the number of ratings: one pass to group them by client, one ``score_client``
per client, and per caseload row only the client's latest sessions and last ``RECENT`` values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, NamedTuple

from ratetool.caseload import RECENT
from ratetool.instruments import Instrument, Norms
from ratetool.model import Rating
from ratetool.scoring import (
    ALERT_KINDS,
    PLACES,
    Alert,
    ClientScores,
    ReliableChange,
    SessionScore,
    Thresholds,
    attention_order,
    places_for,
    round_score,
    score_client,
    smallest_reliable_change,
)
from ratetool.scoring.attention import client_severity, severity_of

if TYPE_CHECKING:
    from ratetool.corrections import Correction
    from ratetool.store import Problem

__all__ = [
    "BANDS",
    "RECENT",
    "SCORE_KEYS",
    "ClientReport",
    "band_of",
    "caseload",
    "caseload_json",
    "caseload_row",
    "client_json",
    "client_report",
    "correction_json",
    "months_json",
    "percent_on_scale",
    "rc_note",
    "shown",
    "thresholds_json",
]

#: Bands, most severe first: a session's severity (``scoring.attention.SEVERITIES``: "alert",
#: below the low cutoff or a reliable worsening; "watch", a drop or an item alert only; "ok",
#: neither), or "none": no score and no alert (an unknown instrument, or too many items skipped).
BANDS: tuple[str, ...] = ("alert", "watch", "ok", "none")

#: Score keys a trend has besides the instrument's dimensions, in the order shown.
SCORE_KEYS: tuple[str, ...] = ("overall", "pomp", "total")


Resolver = Callable[[str, int], "Instrument | None"]


# --------------------------------------------------------------------------------------------
# Numbers as shown


def shown(value: float | None, kind: str) -> float | int | None:
    """``value`` rounded for showing: ``round_score`` with ``places_for(kind)``.

    ``kind`` is ``"dimension"``, ``"overall"``, ``"pomp"``, ``"total"``, ``"item"``, ``"rc"`` or
    ``"s_diff"`` (never a dimension id, which could clash with those names). Kinds shown without
    decimals (totals, items) come back as ``int``.
    """
    places = places_for(kind)
    rounded = round_score(value, places)
    if rounded is None:
        return None
    return int(rounded) if places == 0 else rounded


def _kind(key: str) -> str:
    return key if key in SCORE_KEYS else "dimension"


def percent_on_scale(instrument: Instrument, percent: float) -> float:
    """Where ``percent`` of the way from the scale's minimum to its maximum lies on the scale: the
    ``low`` threshold drawn on a chart of scores (90% of 0-10 is 9.0; of 1-5 it is 4.6)."""
    scale = instrument.scale
    return scale.min + percent / 100 * (scale.max - scale.min)


def band_of(alerts: Sequence[Alert], change: ReliableChange | None, scored: bool) -> str:
    """The session's band (see ``BANDS``): its severity (``scoring.attention.severity_of``,
    decided by its alerts alone so it always agrees with them), or ``none`` for a session with
    no score and no alert. ``change`` is no longer needed (a reliable worsening is an alert kind
    of its own) and is kept for callers."""
    severity = severity_of(a.kind for a in alerts)
    if severity == "ok" and not scored:
        return "none"
    return severity


# --------------------------------------------------------------------------------------------
# One client


class ClientReport(NamedTuple):
    """A scored client with what presenters need besides numbers."""

    scores: ClientScores
    thresholds: Thresholds
    #: Per instrument id (in order of first use), the definition of its latest known version,
    #: or ``None`` when no version of it could be found.
    definitions: dict[str, Instrument | None]

    @property
    def client(self) -> str:
        return self.scores.client

    @property
    def instruments(self) -> tuple[str, ...]:
        return self.scores.instruments

    @property
    def instrument(self) -> str | None:
        """The instrument of the latest session (the last one rated, if several share it)."""
        return self.scores.sessions[-1].rating.instrument if self.scores.sessions else None


def _definitions(scores: ClientScores) -> dict[str, Instrument | None]:
    found: dict[str, Instrument | None] = dict.fromkeys(scores.instruments)
    for s in scores.sessions:
        if s.instrument is not None:
            found[s.rating.instrument] = s.instrument  # sessions are in order: latest wins
    return found


def client_report(
    ratings: Iterable[Rating],
    resolve: Resolver,
    thresholds: Thresholds = Thresholds(),
    *,
    client: str,
) -> ClientReport:
    """Score one client's ratings (``scoring.score_client``)."""
    scores = score_client(ratings, resolve, thresholds, client=client)
    return ClientReport(scores, thresholds, _definitions(scores))


def _session_json(
    s: SessionScore,
    change: ReliableChange | None,
    *,
    items: bool,
    comments: bool,
    amended_at: str | None = None,
) -> dict[str, Any]:
    r = s.rating
    out = {
        "session": r.session,
        "rated_at": r.rated_at.isoformat(),
        "instrument": r.instrument,
        "instrument_version": r.instrument_version,
        "practitioner": r.practitioner,
        "status": r.status,
        "amended_at": amended_at,
        "scored": s.instrument is not None,
        "dimensions": {k: shown(v, "dimension") for k, v in s.dimensions.items()},
        "overall": shown(s.overall, "overall"),
        "pomp": shown(s.pomp, "pomp"),
        "total": shown(s.total, "total"),
        "severity": severity_of(a.kind for a in s.alerts),
        "band": band_of(s.alerts, change, s.pomp is not None),
        "alerts": [a.kind for a in s.alerts],
        "alert_reasons": [a.reason for a in s.alerts],
    }
    if items:
        out["answers"] = {item_id: r.answers.get(item_id) for item_id in s.items}
        out["item_scores"] = {item_id: shown(v, "item") for item_id, v in s.items.items()}
        out["skipped"] = list(r.skipped)
    if comments:
        out["comment"] = r.comment
    return out


def _trend_keys(definition: Instrument | None) -> list[str]:
    dims = list(definition.dimension_ids) if definition is not None else []
    return dims + list(SCORE_KEYS)


def _trend_json(
    scores: ClientScores, instrument_id: str, definition: Instrument | None
) -> dict[str, Any]:
    series: dict[str, list[float | int | None]] = {}
    first: dict[str, float | int | None] = {}
    latest: dict[str, float | int | None] = {}
    since_first: dict[str, float | int | None] = {}
    since_previous: dict[str, float | int | None] = {}
    numbers = [s.session for s in scores.sessions_of(instrument_id)]
    for key in _trend_keys(definition):
        kind = _kind(key)
        places = places_for(kind)
        values = [
            shown(v, kind) for _, v in scores.series(instrument_id, key, include_missing=True)
        ]
        series[key] = values
        first[key] = next((v for v in values if v is not None), None)
        latest[key] = values[-1] if values else None
        since_first[key] = _as_shown(
            scores.change_since_first(instrument_id, key, places=places), places
        )
        since_previous[key] = _as_shown(
            scores.change_since_previous(instrument_id, key, places=places), places
        )
    return {
        "sessions": numbers,
        "series": series,
        "first": first,
        "latest": latest,
        "change_since_first": since_first,
        "change_since_previous": since_previous,
    }


def _as_shown(value: float | None, places: int) -> float | int | None:
    if value is None:
        return None
    return int(value) if places == 0 else value


def _norms_for(scores: ClientScores, change: ReliableChange) -> Norms | None:
    for s in reversed(scores.sessions_of(change.instrument)):
        if s.session == change.latest_session and s.instrument is not None:
            return s.instrument.norms
    return None


def _rc_json(scores: ClientScores, change: ReliableChange | None) -> dict[str, Any] | None:
    if change is None:
        return None
    norms = _norms_for(scores, change)
    smallest = smallest_reliable_change(norms) if norms is not None else None
    return {
        "instrument": change.instrument,
        "version": change.version,
        "first_session": change.first_session,
        "latest_session": change.latest_session,
        "first_total": shown(change.first_total, "total"),
        "latest_total": shown(change.latest_total, "total"),
        "s_diff": shown(change.s_diff, "s_diff"),
        "smallest_reliable_change": round_score(smallest, PLACES["s_diff"]),
        "rc": shown(change.rc, "rc"),
        "reliable": change.reliable,
        "direction": change.direction,
    }


def rc_note(report: ClientReport, instrument_id: str) -> str:
    """Why there is no reliable change for ``instrument_id`` (when there is none), in words."""
    definition = report.definitions.get(instrument_id)
    if definition is None:
        return "not available, the instrument's definition was not found"
    if definition.norms is None:
        return "not available, the instrument has no [norms]"
    return "not yet, it needs two sessions with every item answered (same instrument version)"


def client_json(
    report: ClientReport,
    *,
    items: bool = False,
    comments: bool = False,
    problems: Sequence[Problem] = (),
    corrections: Sequence[Correction] = (),
    voided: int = 0,
    history: bool = False,
) -> dict[str, Any]:
    """``summary CLIENT --json``; the table is drawn from the same dict.

    ``items`` adds each session's ``answers``, ``item_scores`` and ``skipped``; ``comments`` adds
    its ``comment``. ``problems`` are those met reading the client's file (the sessions they
    concern are not in ``sessions``), listed as ``Problem.as_json`` gives them. ``corrections``
    (``ReadResult.corrections``, in the order made) give each amended session its
    ``amended_at``; ``history`` lists them under ``corrections``. ``voided`` is how many of the
    client's ratings were voided (counted nowhere else). docs/summary.md gives the schema.
    """
    from ratetool.corrections import AMEND, AMENDED

    scores = report.scores
    changes = scores.reliable_change
    amended_at = {
        c.rating: c.made_at.isoformat() for c in corrections if c.action == AMEND and c.rating
    }
    sessions = [
        _session_json(
            s,
            changes.get(s.rating.instrument),
            items=items,
            comments=comments,
            amended_at=amended_at.get(s.rating.id) if s.rating.status == AMENDED else None,
        )
        for s in scores.sessions
    ]
    trends = {
        iid: _trend_json(scores, iid, report.definitions.get(iid)) for iid in scores.instruments
    }
    rcs = {iid: _rc_json(scores, changes.get(iid)) for iid in scores.instruments}
    latest = report.instrument
    out: dict[str, Any] = {
        "client": report.client,
        "instrument": latest,
        "instruments": list(scores.instruments),
        "thresholds": thresholds_json(report.thresholds),
        "sessions": sessions,
        "voided": voided,
        "trends": trends,
        "reliable_change": rcs.get(latest) if latest is not None else None,
        "reliable_changes": rcs,
        "problems": [p.as_json() for p in problems],
    }
    if history:
        out["corrections"] = [correction_json(c) for c in corrections]
    return out


def correction_json(correction: Correction) -> dict[str, Any]:
    """One correction in ``summary CLIENT --history --json``: ``Correction.as_json`` and the
    line ``--history`` shows for it (``description``)."""
    return {**correction.as_json(), "description": correction.describe()}


def thresholds_json(thresholds: Thresholds) -> dict[str, Any]:
    """The alert thresholds in force, as shown in JSON and above the tables."""
    return {"low": thresholds.low, "drop": thresholds.drop, "item": thresholds.item}


# --------------------------------------------------------------------------------------------
# The caseload


def caseload(
    ratings: Iterable[Rating], resolve: Resolver, thresholds: Thresholds = Thresholds()
) -> list[ClientScores]:
    """Every client's scores, in order of who needs attention first."""
    by_client: dict[str, list[Rating]] = {}
    for rating in ratings:
        by_client.setdefault(rating.client, []).append(rating)
    cache: dict[tuple[str, int], Instrument | None] = {}

    def cached(instrument_id: str, version: int) -> Instrument | None:
        key = (instrument_id, version)
        if key not in cache:
            cache[key] = resolve(instrument_id, version)
        return cache[key]

    scored = [score_client(of, cached, thresholds, client=code) for code, of in by_client.items()]
    return attention_order(scored)


def _matcher(since: date | None, practitioner: str | None) -> Callable[[Rating], bool] | None:
    if since is None and practitioner is None:
        return None
    who = practitioner.casefold() if practitioner is not None else None

    def matches(r: Rating) -> bool:
        if since is not None and r.rated_at.date() < since:
            return False
        if who is not None and (r.practitioner or "").casefold() != who:
            return False
        return True

    return matches


def _unique(seq: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(seq))


def caseload_row(rank: int, scores: ClientScores) -> dict[str, Any]:
    """One client's caseload row (``summary --json``), numbered ``rank``."""
    sessions = scores.sessions
    latest = sessions[-1]
    latest_group = scores.latest_sessions
    several = len(latest_group) > 1
    alerts: list[Alert] = []
    reasons: list[str] = []
    band_rank = len(BANDS) - 1
    for s in latest_group:
        change = scores.reliable_change.get(s.rating.instrument)
        band_rank = min(band_rank, BANDS.index(band_of(s.alerts, change, s.pomp is not None)))
        alerts.extend(s.alerts)
        prefix = f"{s.rating.instrument}: " if several else ""
        reasons.extend(prefix + a.reason for a in s.alerts)
    kinds = {a.kind for a in alerts}
    iid = latest.rating.instrument
    recent = scores.sessions_of(iid)[-RECENT:]
    return {
        "attention": rank,
        "client": scores.client,
        "sessions": len(sessions),
        "first_rated_at": min(s.rating.rated_at for s in sessions).isoformat(),
        "last_rated_at": max(s.rating.rated_at for s in sessions).isoformat(),
        "latest_session": latest.session,
        "instrument": iid,
        "instruments": list(scores.instruments),
        "latest_overall": shown(latest.overall, "overall"),
        "latest_pomp": shown(latest.pomp, "pomp"),
        "latest_total": shown(latest.total, "total"),
        "recent_sessions": [s.session for s in recent],
        "recent_pomp": [shown(s.pomp, "pomp") for s in recent],
        "severity": client_severity(scores),
        "band": BANDS[band_rank],
        "alerts": [k for k in ALERT_KINDS if k in kinds],
        "alert_reasons": reasons,
    }


def caseload_json(
    clients: Sequence[ClientScores],
    *,
    since: date | None = None,
    practitioner: str | None = None,
) -> list[dict[str, Any]]:
    """``summary --json``: one row per client with sessions, in attention order (``clients`` as
    returned by ``caseload``). With ``since`` / ``practitioner`` only clients with a session on
    or after that date / by that practitioner (case-insensitive) are listed, numbered from 1."""
    matches = _matcher(since, practitioner)
    rows: list[dict[str, Any]] = []
    for scores in clients:
        if not scores.sessions:
            continue
        if matches is not None and not any(matches(s.rating) for s in scores.sessions):
            continue
        rows.append(caseload_row(len(rows) + 1, scores))
    return rows


def months_json(
    clients: Iterable[ClientScores],
    *,
    since: date | None = None,
    practitioner: str | None = None,
) -> list[dict[str, Any]]:
    """``summary --by month --json``: per calendar month (of each session's own date), oldest
    first: sessions, clients, the mean percent of maximum of the sessions that have one, and how
    many sessions had an alert (any kind), also by kind.

    The mean is taken over the full-precision percent of each session (``math.fsum``), then
    rounded like a percent of maximum. Every session counts once, whichever client it belongs to.
    With ``since`` / ``practitioner`` only sessions on or after that date / by that practitioner
    count (their alerts still come from each client's whole history).
    """
    matches = _matcher(since, practitioner)
    buckets: dict[str, dict[str, Any]] = {}
    for scores in clients:
        for s in scores.sessions:
            r = s.rating
            if matches is not None and not matches(r):
                continue
            month = f"{r.rated_at.year:04d}-{r.rated_at.month:02d}"
            b = buckets.get(month)
            if b is None:
                b = buckets[month] = {
                    "sessions": 0,
                    "clients": set(),
                    "pomps": [],
                    "with_alerts": 0,
                    "by_kind": dict.fromkeys(ALERT_KINDS, 0),
                }
            b["sessions"] += 1
            b["clients"].add(scores.client)
            if s.pomp is not None:
                b["pomps"].append(s.pomp)
            if s.alerts:
                b["with_alerts"] += 1
                for kind in {a.kind for a in s.alerts}:
                    b["by_kind"][kind] += 1
    rows: list[dict[str, Any]] = []
    for month in sorted(buckets):
        b = buckets[month]
        pomps = b["pomps"]
        mean = math.fsum(pomps) / len(pomps) if pomps else None
        rows.append(
            {
                "month": month,
                "sessions": b["sessions"],
                "clients": len(b["clients"]),
                "sessions_with_pomp": len(pomps),
                "mean_pomp": shown(mean, "pomp"),
                "sessions_with_alerts": b["with_alerts"],
                "alerts_by_kind": b["by_kind"],
            }
        )
    return rows
