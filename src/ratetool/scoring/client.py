"""One client's scored sessions: scores, trends, changes, alerts and reliable change.

``score_client`` scores every rating of one client with the instrument definition (id and version)
it was rated with; a rating whose definition cannot be found is listed with every score missing
and no alerts. The rules are those of docs/scoring.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from ratetool.errors import AnswerError
from ratetool.instruments import Instrument
from ratetool.model import Rating
from ratetool.scoring.alerts import (
    Alert,
    Thresholds,
    drop_alert,
    item_alert,
    low_alert,
    reliable_change_alert,
)
from ratetool.scoring.formulas import (
    AnswerScores,
    ReliableChange,
    reliable_change_index,
    score_answers,
)
from ratetool.scoring.rounding import shown_change

#: Keys a trend can be asked for besides a dimension id.
_SCORE_KEYS = ("overall", "pomp", "total")
#: Entries kept by the memo of ``_own_alerts`` before it starts afresh.
_MEMO_LIMIT = 200_000


class SessionScore(NamedTuple):
    """One rating with its scores and alerts. With an unknown instrument every score is ``None``.

    A named tuple (immutable, and cheap to make for 100,000 sessions)."""

    rating: Rating
    instrument: Instrument | None
    items: dict[str, float | None]
    dimensions: dict[str, float | None]
    overall: float | None
    pomp: float | None
    total: float | None
    alerts: tuple[Alert, ...] = ()

    @property
    def session(self) -> int:
        return self.rating.session

    def value(self, key: str) -> float | None:
        """``"overall"``, ``"pomp"``, ``"total"`` or a dimension id; ``None`` when missing."""
        if key in _SCORE_KEYS:
            score: float | None = getattr(self, key)
            return score
        return self.dimensions.get(key)


def _order_key(rating: Rating) -> tuple[int, datetime, str]:
    return (rating.session, rating.rated_at, rating.id)


@dataclass(frozen=True)
class ClientScores:
    """All of one client's scored sessions, ordered by session number, then time rated."""

    client: str
    sessions: list[SessionScore]
    reliable_change: dict[str, ReliableChange | None] = field(default_factory=dict)

    @property
    def instruments(self) -> tuple[str, ...]:
        """Instrument ids the client was rated with, in order of first use."""
        return tuple(dict.fromkeys(s.rating.instrument for s in self.sessions))

    def sessions_of(self, instrument_id: str) -> list[SessionScore]:
        return [s for s in self.sessions if s.rating.instrument == instrument_id]

    @property
    def latest_sessions(self) -> list[SessionScore]:
        """Every rating of the client's highest session number (one per instrument, usually):
        the last ones, the sessions being in session-number order (looked for from the end, as
        the caseload asks for them four times per client)."""
        sessions = self.sessions
        if not sessions:
            return []
        last = sessions[-1].rating.session
        first = len(sessions) - 1
        while first > 0 and sessions[first - 1].rating.session == last:
            first -= 1
        return sessions[first:]

    def latest(self, instrument_id: str) -> SessionScore | None:
        """The latest rating with ``instrument_id``, or ``None``."""
        of = self.sessions_of(instrument_id)
        return of[-1] if of else None

    def _check_key(self, instrument_id: str, key: str) -> None:
        if key in _SCORE_KEYS:
            return
        known = [s.instrument for s in self.sessions_of(instrument_id) if s.instrument is not None]
        if known and not any(key in inst.dimension_ids for inst in known):
            raise KeyError(
                f"{key!r} is not a dimension of instrument {instrument_id!r}; use a dimension id, "
                f"'overall', 'pomp' or 'total'"
            )

    def series(
        self, instrument_id: str, key: str, *, include_missing: bool = False
    ) -> list[tuple[int, float | None]]:
        """``(session, value)`` for each rating with ``instrument_id``, in order.

        ``key`` is a dimension id, ``"overall"``, ``"pomp"`` or ``"total"``. Sessions where the
        value is missing are left out unless ``include_missing`` (then the value is ``None``).
        Raises ``KeyError`` for a key that is not a dimension of the instrument.
        """
        self._check_key(instrument_id, key)
        out = [(s.session, s.value(key)) for s in self.sessions_of(instrument_id)]
        return out if include_missing else [(n, v) for n, v in out if v is not None]

    def change_since_first(
        self, instrument_id: str, key: str, *, places: int | None = None
    ) -> float | None:
        """Latest value minus the first value, full precision.

        ``None`` unless the latest rating with the instrument has the value and an earlier one has
        it too (the first earlier one that has it is used). With ``places`` (``places_for(key)``
        to show it), the change as shown: see ``shown_change``.
        """
        values = self.series(instrument_id, key, include_missing=True)
        if len(values) < 2 or values[-1][1] is None:
            return None
        earlier = [v for _, v in values[:-1] if v is not None]
        return shown_change(earlier[0], values[-1][1], places) if earlier else None

    def change_since_previous(
        self, instrument_id: str, key: str, *, places: int | None = None
    ) -> float | None:
        """Latest value minus the value at the most recent earlier rating that has one.

        ``None`` unless the latest rating with the instrument has the value and an earlier one has
        it too. This is the comparison the "drop" alert makes for ``"pomp"``. With ``places``, the
        change as shown: see ``shown_change``.
        """
        values = self.series(instrument_id, key, include_missing=True)
        if len(values) < 2 or values[-1][1] is None:
            return None
        earlier = [v for _, v in values[:-1] if v is not None]
        return shown_change(earlier[-1], values[-1][1], places) if earlier else None


#: A rating, its instrument definition (``None`` when unknown) and the scores of its answers.
_Scored = tuple[Rating, Instrument | None, AnswerScores]


def _scores(rating: Rating, instrument: Instrument | None) -> AnswerScores:
    if instrument is None:
        return AnswerScores(dict.fromkeys([*rating.answers, *rating.skipped]), {}, None, None, None)
    try:
        return score_answers(instrument, rating.answers)
    except AnswerError as error:
        raise AnswerError(f"Client {rating.client}, session {rating.session}: {error}") from None


#: The "low" and "item" alerts by ``id()`` of the (memoised) scores; see ``_own_alerts``.
_OWN_ALERTS: dict[int, tuple[AnswerScores, Thresholds, tuple[Alert, ...]]] = {}


def _own_alerts(
    instrument: Instrument | None, scores: AnswerScores, thresholds: Thresholds
) -> tuple[Alert, ...]:
    """The "low" and "item" alerts of one session: they depend only on its scores, and scoring
    returns the same scores object for the same instrument and answers, so they are worked out
    once per answer pattern. The entry keeps its scores object, so its ``id`` is not reused."""
    if instrument is None:
        return ()
    hit = _OWN_ALERTS.get(id(scores))
    if hit is not None and hit[0] is scores and hit[1] == thresholds:
        return hit[2]
    found = tuple(
        a
        for a in (
            low_alert(scores.pomp, thresholds),
            item_alert(instrument, scores.items, thresholds),
        )
        if a is not None
    )
    if len(_OWN_ALERTS) >= _MEMO_LIMIT:
        _OWN_ALERTS.clear()
    _OWN_ALERTS[id(scores)] = (scores, thresholds, found)
    return found


def _reliable_change(instrument_id: str, scored: list[_Scored]) -> ReliableChange | None:
    """The latest complete session (every item answered: it has a total) against the baseline,
    the first complete session of the same instrument version; ``None`` without norms or with
    fewer than two such sessions. ``scored`` is in session order."""
    with_total = [
        (rating, instrument, scores.total)
        for rating, instrument, scores in scored
        if scores.total is not None and instrument is not None
    ]
    if not with_total:
        return None
    latest, instrument, latest_total = with_total[-1]
    assert instrument is not None and latest_total is not None
    same = [s for s in with_total if s[0].instrument_version == latest.instrument_version]
    norms = instrument.norms
    if norms is None or len(same) < 2:
        return None
    first, _, first_total = same[0]
    assert first_total is not None
    s_diff, rc, reliable = reliable_change_index(norms, first_total, latest_total)
    direction = ("improved" if rc > 0 else "worsened") if reliable else "no reliable change"
    return ReliableChange(
        instrument=instrument_id,
        version=latest.instrument_version,
        first_session=first.session,
        latest_session=latest.session,
        first_total=first_total,
        latest_total=latest_total,
        s_diff=s_diff,
        rc=rc,
        reliable=reliable,
        direction=direction,
    )


def score_client(
    ratings: Iterable[Rating],
    resolve: Callable[[str, int], Instrument | None],
    thresholds: Thresholds = Thresholds(),
    *,
    client: str | None = None,
) -> ClientScores:
    """Score every rating of one client, with trends, alerts and reliable change per instrument.

    ``resolve(instrument_id, version)`` returns that instrument definition or ``None`` if unknown
    (its ratings are then listed with every score ``None`` and no alerts). ``client`` is only
    needed when ``ratings`` is empty. Raises ``ValueError`` if the ratings belong to more than one
    client, and ``AnswerError`` (naming client, session and item) if an answer does not fit its
    instrument.
    """
    ratings = sorted(ratings, key=_order_key)
    codes = {r.client for r in ratings} | ({client} if client is not None else set())
    if len(codes) > 1:
        raise ValueError(f"score_client got ratings of more than one client: {sorted(codes)}")
    if not codes:
        raise ValueError("score_client needs the client code when there are no ratings")
    (code,) = codes

    definitions: dict[tuple[str, int], Instrument | None] = {}
    scored: list[_Scored] = []
    by_instrument: dict[str, list[_Scored]] = {}
    for rating in ratings:
        key = (rating.instrument, rating.instrument_version)
        if key not in definitions:
            definitions[key] = resolve(*key)
        instrument = definitions[key]
        entry = (rating, instrument, _scores(rating, instrument))
        scored.append(entry)
        by_instrument.setdefault(rating.instrument, []).append(entry)

    changes = {iid: _reliable_change(iid, of) for iid, of in by_instrument.items()}

    alerts: dict[int, tuple[Alert, ...]] = {}  # by id() of the rating
    for iid, of in by_instrument.items():
        previous: tuple[float, int] | None = None  # pomp and session number
        last = of[-1][0]
        for rating, instrument, scores in of:
            found: list[Alert] = []
            if rating is last:
                change_alert = reliable_change_alert(changes[iid], rating.session)
                if change_alert is not None:
                    found.append(change_alert)
            if previous is not None:
                drop = drop_alert(previous[0], scores.pomp, previous[1], thresholds)
                if drop is not None:
                    found.append(drop)
            found.extend(_own_alerts(instrument, scores, thresholds))
            if found:
                alerts[id(rating)] = tuple(found)
            if scores.pomp is not None:
                previous = (scores.pomp, rating.session)

    sessions = [
        SessionScore(rating, instrument, *scores, alerts.get(id(rating), ()))
        for rating, instrument, scores in scored
    ]
    return ClientScores(code, sessions, changes)
