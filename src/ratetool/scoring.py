"""Scores, trends and alerts from ratings: pure functions, no I/O, no Typer or rich.

The rules below are the README's "How scores are computed"; keep the two the same.

How scores are computed

Every score is worked out from the stored answers each time it is shown; no score is stored. A
rating whose instrument definition (its id and version) cannot be found is listed with every score
missing and no alerts.

Item scores
- Each answer is a whole number on the instrument's scale (0 to 10 for the check-in).
- A reverse-worded item is scored `min + max - answer`: on a 0-10 scale an answer of 2 scores 8,
  on a 1-5 scale an answer of 2 scores 4. Every other item scores the answer itself.
- A skipped item has no score. It is left out of every mean and sum; it never counts as 0.

Dimension scores
- A dimension's score is the mean of the scores of its answered items, on the instrument's scale.
- It is only computed when at least half of the dimension's items are answered (twice the number
  answered is at least the number of items): 1 of 1, 1 of 2, 2 of 3, 2 of 4 and 3 of 5 are enough;
  1 of 3 and 1 of 4 are not. Otherwise the dimension score is missing.

Overall, percent of maximum and total
- `overall` is the mean of the dimension scores, on the instrument's scale. It is missing if any
  dimension score is missing.
- `pomp` (percent of maximum possible) is `(overall - min) / (max - min) x 100`: 0 means every
  answer at the bottom of the scale, 100 every answer at the top. On a 1-5 scale an overall of 4.0
  is 75.0%. It is missing when `overall` is missing.
- `total` is the sum of all item scores (reversed where needed), only when every item is answered;
  otherwise it is missing. For the check-in (four items, 0-10) it runs from 0 to 40.

Reliable change (Jacobson & Truax, 1991)
- Only for an instrument whose definition gives norms: the standard deviation (`sd`) and the
  reliability of its total.
- For each instrument a client was rated with, the first and the latest sessions that have a total
  are compared, both with the same instrument version (the version of the latest one). At least
  two such sessions are needed; otherwise there is no reliable change result.
- `SE = sd x sqrt(1 - reliability)`, `S_diff = sqrt(2) x SE`,
  `RC = (latest total - first total) / S_diff`.
- The change is reliable when RC, rounded to 2 decimals, is above 1.96 or below -1.96: a change
  that large would come from measurement error alone less than 5 times in 100. A positive RC is a
  reliable improvement, a negative one a reliable worsening.
- Example: sd 7.6 and reliability .95 give SE = 7.6 x sqrt(.05) = 1.699 and S_diff = 2.403
  (shown as 2.40), so the smallest reliable change is 1.96 x 2.403 = 4.71 points; a total going
  from 25 to 18 gives RC = -7 / 2.403 = -2.91, a reliable worsening.

Rounding
- Scores are computed and kept at full precision; sums use `math.fsum`. They are rounded only to
  be shown, by one rule used by every table, JSON output and export, so all show the same numbers:
  dimension scores and overall to 2 decimals, percent of maximum to 1 decimal, RC and S_diff to
  2 decimals, totals and item scores to whole numbers (they already are whole numbers). A change
  between sessions is shown with the places of the score it is a change of, and is the difference
  of the two rounded scores, so it always equals the subtraction of the numbers shown beside it
  (the drop alert compares the same way): 3.67 to 4.33 is shown as a change of 0.66.
- Rounding is "half away from zero" on the decimal number, as taught at school: 2.675 becomes
  2.68, 61.25 becomes 61.3 and -2.915 becomes -2.92. Floating-point noise smaller than 1e-9 is
  removed first, so a value that is exactly 61.25 by hand is never shown as 61.2.
- Alerts are decided on these rounded numbers, so an alert always agrees with the numbers shown
  beside it.

Alerts
Each session gets zero or more alerts. The thresholds can be configured; the defaults are starting
points, not norms.
- low: percent of maximum below `low` (default 90, the habit of "36 of 40" on paper session-rating
  forms). 89.9 fires, 90.0 does not.
- drop: percent of maximum at least `drop` points (default 2.5) lower than at the client's previous
  session with the same instrument that has a percent of maximum. Sessions are ordered by session
  number, then by the time they were rated. On the check-in 2.5 points is 1 point of the 0-40
  total. Equal scores never fire.
- item: any answered item whose score (after reversing) is at or below `item` percent (default 70)
  of its scale, where percent = `(score - min) / (max - min) x 100`. On a 0-10 scale 7 fires and
  8 does not. The alert names every such item.
- reliable-change: when the client's change on an instrument is reliable (see above), in either
  direction, on the latest session rated with that instrument. The alert says whether it is an
  improvement or a worsening.

Who needs attention first (caseload order)
Clients are listed by the alerts on their latest session (the highest session number; every
instrument rated in that session counts), most severe first: a reliable worsening, then a drop,
then low, then an item alert, then no alert (a reliable improvement does not count as needing
attention). Clients with equally severe alerts are ordered by their lowest percent of maximum in
that session, lowest first (clients without one come after those with one), then by client code.
Clients with no sessions come last.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from ratetool.errors import AnswerError
from ratetool.instruments import Instrument, Norms, Scale
from ratetool.model import Rating
from ratetool.places import PLACES, places_for

__all__ = [
    "ALERT_KINDS",
    "CHANGE_DIRECTIONS",
    "PLACES",
    "RC_CRITICAL",
    "Alert",
    "AnswerScores",
    "ClientScores",
    "ReliableChange",
    "SessionScore",
    "Thresholds",
    "attention_order",
    "drop_alert",
    "item_alert",
    "item_percent",
    "low_alert",
    "places_for",
    "reliable_change_alert",
    "reliable_change_index",
    "reverse_score",
    "round_score",
    "score_answers",
    "score_client",
    "shown_change",
    "smallest_reliable_change",
]

#: Every alert kind, in the order alerts are listed on a session.
ALERT_KINDS: tuple[str, ...] = ("reliable-change", "drop", "low", "item")

#: Values of ``ReliableChange.direction``.
CHANGE_DIRECTIONS: tuple[str, ...] = ("improved", "worsened", "no reliable change")

#: |RC| must be above this (after rounding RC to 2 decimals) for a change to be reliable.
RC_CRITICAL = 1.96


#: Keys a trend can be asked for besides a dimension id.
_SCORE_KEYS = ("overall", "pomp", "total")

#: Floating-point noise is removed at this many decimals (1e-9) before rounding to show.
_NOISE_PLACES = 9
#: Digits of the ``decimal`` context the rounding rule is defined with.
_DECIMAL_PRECISION = 60


# --------------------------------------------------------------------------------------------
# Rounding


def round_score(x: float | None, places: int = 2) -> float | None:
    """Round ``x`` for showing, the one rule every presenter uses. ``None`` stays ``None``.

    Rounds half away from zero on the decimal number (2.675 -> 2.68, -2.915 -> -2.92), after first
    removing floating-point noise below 1e-9 (so 61.24999999999999, which is 61.25 by hand,
    becomes 61.3). Never returns negative zero. Places: see ``PLACES``.
    """
    if x is None:
        return None
    value = float(x)
    if not math.isfinite(value):
        return value
    return _round_decimal(value, places)


@lru_cache(maxsize=1 << 16)
def _round_decimal(value: float, places: int) -> float:
    # Scores come from whole-number answers, so the same few values recur across thousands of
    # sessions: the cache makes the exact decimal rounding cheap.
    #
    # The decimal number is ``repr(value)`` (the shortest one that reads back as ``value``),
    # worked on exactly as whole numbers: ``abs(value) == digits * 10**exponent``. This gives what
    # ``_round_with_decimal`` gives (the tests compare the two), without importing ``decimal``
    # when ratetool starts; that one handles what the whole numbers here do not.
    if not 0 <= places <= _NOISE_PLACES:
        return _round_with_decimal(value, places)
    mantissa, _, power = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits, exponent = int(whole + fraction), int(power or 0) - len(fraction)
    if exponent >= -_NOISE_PLACES:
        nanos = digits * 10 ** (exponent + _NOISE_PLACES)
    else:
        nanos = _half_up(digits, -_NOISE_PLACES - exponent)  # noise below 1e-9 removed
    if nanos >= 10**_DECIMAL_PRECISION:
        return _round_with_decimal(value, places)  # beyond the precision: Decimal says so
    shown = float(f"{_half_up(nanos, _NOISE_PLACES - places)}e{-places}")
    return (-shown if value < 0 else shown) + 0.0  # + 0.0 turns -0.0 into 0.0


def _half_up(n: int, places: int) -> int:
    """``n / 10**places`` rounded half away from zero, for ``n >= 0``."""
    quotient, remainder = divmod(n, 10**places)
    return quotient + (2 * remainder >= 10**places)


def _round_with_decimal(value: float, places: int) -> float:
    """The rounding rule written with ``decimal``: the definition ``_round_decimal`` follows."""
    from decimal import ROUND_HALF_UP, Context, Decimal, localcontext

    with localcontext(Context(prec=_DECIMAL_PRECISION, rounding=ROUND_HALF_UP)):
        cleaned = Decimal(repr(value)).quantize(Decimal(1).scaleb(-_NOISE_PLACES))
        rounded = cleaned.quantize(Decimal(1).scaleb(-places))
    return float(rounded) + 0.0  # + 0.0 turns -0.0 into 0.0


def shown_change(before: float, after: float, places: int | None = None) -> float:
    """``after - before``; with ``places``, the change as shown: the difference of the two values
    rounded to ``places``, rounded again (which only removes float noise). It then always equals
    the subtraction of the two numbers shown, as the "drop" alert compares. Without ``places``,
    full precision."""
    if places is None:
        return after - before
    a, b = round_score(after, places), round_score(before, places)
    assert a is not None and b is not None
    shown = round_score(a - b, places)
    assert shown is not None
    return shown


def _fmt(x: float, places: int) -> str:
    """``x`` rounded by ``round_score`` and written with exactly ``places`` decimals."""
    return f"{round_score(x, places):.{places}f}"


def _fmt_threshold(x: float) -> str:
    """A threshold as the user configured it: 90.0 -> "90", 2.5 -> "2.5"."""
    return f"{x:g}"


# --------------------------------------------------------------------------------------------
# Scoring one questionnaire


class AnswerScores(NamedTuple):
    """The scores of one set of answers (unpacks as a tuple, in this order)."""

    items: dict[str, float | None]
    dimensions: dict[str, float | None]
    overall: float | None
    pomp: float | None
    total: float | None


def reverse_score(scale: Scale, answer: float) -> float:
    """The score of a reverse-worded item: ``min + max - answer``. Applying it twice gives back
    the answer."""
    return scale.min + scale.max - answer


def item_percent(scale: Scale, score: float) -> float:
    """Where ``score`` (already reversed if needed) sits on ``scale``, 0 to 100, full precision."""
    return (score - scale.min) / (scale.max - scale.min) * 100


def _mean(values: list[float]) -> float:
    return math.fsum(values) / len(values)


def _check_answers(instrument: Instrument, answers: Mapping[str, int]) -> None:
    where = f"instrument {instrument.id!r} version {instrument.version}"
    known = set(instrument.item_ids)
    for item_id, answer in answers.items():
        if item_id not in known:
            raise AnswerError(
                f"There is an answer for item {item_id!r}, which {where} does not have."
            )
        if isinstance(answer, bool) or not isinstance(answer, int):
            raise AnswerError(f"The answer for item {item_id!r} of {where} is not a whole number.")
        if not instrument.scale.contains(answer):
            raise AnswerError(
                f"The answer for item {item_id!r} of {where} is outside its scale "
                f"{instrument.scale.min}-{instrument.scale.max}."
            )


#: Scores of answer sets already seen, per instrument object: a caseload repeats the same few
#: answer patterns thousands of times. Keyed by ``id(instrument)``; the instrument is kept in the
#: entry so an id is never reused while its entry lives. Results are never mutated by callers.
_MEMO: dict[int, tuple[Instrument, dict[tuple, AnswerScores]]] = {}
_MEMO_LIMIT = 200_000


def score_answers(instrument: Instrument, answers: Mapping[str, int]) -> AnswerScores:
    """Score one set of answers (memoised; see ``_score_answers`` for the rules)."""
    key = tuple(answers.items())
    entry = _MEMO.get(id(instrument))
    if entry is None or entry[0] is not instrument:
        if len(_MEMO) > 64:
            _MEMO.clear()
        entry = _MEMO[id(instrument)] = (instrument, {})
    memo = entry[1]
    found = memo.get(key)
    if found is None:
        found = _score_answers(instrument, answers)
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()
        memo[key] = found
    return found


def _score_answers(instrument: Instrument, answers: Mapping[str, int]) -> AnswerScores:
    """Score one set of answers with ``instrument`` (see the module docstring for the rules).

    ``answers`` maps item id to the whole number chosen; a skipped item is simply absent. Returns
    ``AnswerScores(items, dimensions, overall, pomp, total)`` with ``items`` and ``dimensions`` in
    the instrument's order and missing values as ``None``. Raises ``AnswerError`` for an answer to
    an item the instrument does not have, or one that is not a whole number on its scale.
    """
    _check_answers(instrument, answers)
    scale = instrument.scale

    items: dict[str, float | None] = {}
    for item in instrument.items:
        if item.id in answers:
            answer = float(answers[item.id])
            items[item.id] = reverse_score(scale, answer) if item.reverse else answer
        else:
            items[item.id] = None

    of_dimension: dict[str, list[float | None]] = {d: [] for d in instrument.dimension_ids}
    for item in instrument.items:  # one pass, not one per dimension
        if item.dimension in of_dimension:
            of_dimension[item.dimension].append(items[item.id])
    dimensions: dict[str, float | None] = {}
    for dim_id, scores in of_dimension.items():
        answered = [s for s in scores if s is not None]
        if answered and len(answered) * 2 >= len(scores):
            dimensions[dim_id] = _mean(answered)
        else:
            dimensions[dim_id] = None

    dim_scores = list(dimensions.values())
    overall: float | None = None
    if dim_scores and all(d is not None for d in dim_scores):
        overall = _mean([d for d in dim_scores if d is not None])
    pomp = None if overall is None else item_percent(scale, overall)

    item_scores = list(items.values())
    total: float | None = None
    if item_scores and all(s is not None for s in item_scores):
        total = math.fsum(s for s in item_scores if s is not None)

    return AnswerScores(items, dimensions, overall, pomp, total)


# --------------------------------------------------------------------------------------------
# Reliable change


def _s_diff(norms: Norms) -> float:
    if not (math.isfinite(norms.sd) and norms.sd > 0):
        raise ValueError(f"norms sd must be a positive number, not {norms.sd!r}")
    if not (math.isfinite(norms.reliability) and 0 <= norms.reliability < 1):
        raise ValueError(
            f"norms reliability must be at least 0 and below 1, not {norms.reliability!r}"
        )
    se = norms.sd * math.sqrt(1 - norms.reliability)
    return math.sqrt(2) * se


def reliable_change_index(
    norms: Norms, first_total: float, latest_total: float
) -> tuple[float, float, bool]:
    """Jacobson & Truax reliable change: ``(s_diff, rc, reliable)``.

    ``s_diff`` and ``rc`` are full precision; ``reliable`` is ``|round_score(rc, 2)| > 1.96``.
    Raises ``ValueError`` if ``norms.sd`` is not positive or ``norms.reliability`` is not in [0, 1).
    """
    s_diff = _s_diff(norms)
    rc = (latest_total - first_total) / s_diff
    shown = round_score(rc, PLACES["rc"])
    assert shown is not None
    return s_diff, rc, abs(shown) > RC_CRITICAL


def smallest_reliable_change(norms: Norms) -> float:
    """``1.96 x S_diff``: how many points of the total a change must exceed to be reliable."""
    return RC_CRITICAL * _s_diff(norms)


class ReliableChange(NamedTuple):
    """A client's reliable change on one instrument, first vs latest session with a total."""

    instrument: str
    first_session: int
    latest_session: int
    first_total: float
    latest_total: float
    s_diff: float
    rc: float
    reliable: bool
    direction: str  # "improved" | "worsened" | "no reliable change"


# --------------------------------------------------------------------------------------------
# Alerts


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When alerts fire. Defaults are starting points, not norms (see the module docstring)."""

    #: Percent of maximum below this fires "low".
    low: float = 90.0
    #: A fall in percent of maximum of at least this many points since the previous session fires
    #: "drop" (2.5 is 1 point of the 0-40 check-in total).
    drop: float = 2.5
    #: Any item at or below this percent of its scale fires "item" (70: 7 of 10 on 0-10).
    item: float = 70.0

    def __post_init__(self) -> None:
        for name in ("low", "item"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0 <= value <= 100):
                raise ValueError(
                    f"The {name!r} alert threshold must be a percent from 0 to 100, not {value!r}."
                )
        if not (isinstance(self.drop, int | float) and math.isfinite(self.drop) and self.drop > 0):
            raise ValueError(
                f"The 'drop' alert threshold must be a number of points above 0, not {self.drop!r}."
            )


class Alert(NamedTuple):
    """A reason to look at a session: ``kind`` is one of ``ALERT_KINDS``, ``reason`` plain words."""

    kind: str
    reason: str


def low_alert(pomp: float | None, thresholds: Thresholds = Thresholds()) -> Alert | None:
    """ "low" when the rounded percent of maximum is below ``thresholds.low``."""
    if pomp is None:
        return None
    shown = round_score(pomp, PLACES["pomp"])
    assert shown is not None
    if shown < thresholds.low:
        return Alert("low", f"overall {_fmt(pomp, 1)}%, below {_fmt_threshold(thresholds.low)}%")
    return None


def drop_alert(
    previous_pomp: float | None,
    pomp: float | None,
    previous_session: int,
    thresholds: Thresholds = Thresholds(),
) -> Alert | None:
    """ "drop" when the rounded previous minus the rounded current percent of maximum is at least
    ``thresholds.drop``."""
    if previous_pomp is None or pomp is None:
        return None
    before = round_score(previous_pomp, PLACES["pomp"])
    now = round_score(pomp, PLACES["pomp"])
    assert before is not None and now is not None
    fall = round_score(before - now, PLACES["pomp"])  # exact to 1 decimal again
    assert fall is not None
    if fall > 0 and fall >= thresholds.drop:
        return Alert(
            "drop",
            f"dropped {fall:.1f} points since session {previous_session} "
            f"({before:.1f}% to {now:.1f}%)",
        )
    return None


def _describe_item(scale: Scale, item_id: str, score: float, reverse: bool) -> str:
    value = f"{round_score(score, PLACES['item']):.0f}"
    if scale.min == 0:
        where = f"{value} of {scale.max}"
    else:
        where = f"{value} on {scale.min}-{scale.max} ({_fmt(item_percent(scale, score), 1)}%)"
    if reverse:
        where += " after reversing"
    return f"{item_id} {where}"


def item_alert(
    instrument: Instrument, items: Mapping[str, float | None], thresholds: Thresholds = Thresholds()
) -> Alert | None:
    """ "item" naming every answered item whose score (reversed where needed) is at or below
    ``thresholds.item`` percent of the scale (percent rounded to 1 decimal)."""
    flagged = []
    for item in instrument.items:
        score = items.get(item.id)
        if score is None:
            continue
        percent = round_score(item_percent(instrument.scale, score), PLACES["percent"])
        assert percent is not None
        if percent <= thresholds.item:
            flagged.append(_describe_item(instrument.scale, item.id, score, item.reverse))
    if not flagged:
        return None
    return Alert("item", f"{'; '.join(flagged)} (at or below {_fmt_threshold(thresholds.item)}%)")


def reliable_change_alert(change: ReliableChange | None, session: int) -> Alert | None:
    """ "reliable-change" for a reliable ``change``, worded for the session it is attached to."""
    if change is None or not change.reliable:
        return None
    word = "improvement" if change.direction == "improved" else "worsening"
    rc = _fmt(change.rc, PLACES["rc"])
    if change.latest_session == session:
        span = f"since session {change.first_session}"
    else:
        span = f"from session {change.first_session} to session {change.latest_session}"
    return Alert("reliable-change", f"reliable {word} {span} (RC {rc})")


# --------------------------------------------------------------------------------------------
# Scoring a client


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
            return getattr(self, key)
        return self.dimensions.get(key)


def _order_key(score: SessionScore) -> tuple[int, datetime, str]:
    r = score.rating
    return (r.session, r.rated_at, r.id)


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
        """Every rating of the client's highest session number (one per instrument, usually)."""
        if not self.sessions:
            return []
        last = max(s.session for s in self.sessions)
        return [s for s in self.sessions if s.session == last]

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


def _unscored(rating: Rating, instrument: Instrument | None) -> SessionScore:
    items = dict.fromkeys([*rating.answers, *rating.skipped])
    return SessionScore(rating, instrument, items, {}, None, None, None)


def _score_rating(rating: Rating, instrument: Instrument | None) -> SessionScore:
    if instrument is None:
        return _unscored(rating, None)
    try:
        s = score_answers(instrument, rating.answers)
    except AnswerError as error:
        raise AnswerError(f"Client {rating.client}, session {rating.session}: {error}") from None
    return SessionScore(rating, instrument, s.items, s.dimensions, s.overall, s.pomp, s.total)


_OWN_ALERTS: dict[tuple, tuple[Instrument, tuple[Alert, ...]]] = {}


def _own_alerts(s: SessionScore, thresholds: Thresholds) -> tuple[Alert, ...]:
    """The "low" and "item" alerts of one session: they depend only on its answers, so they are
    worked out once per instrument, answer pattern and thresholds."""
    if s.instrument is None:
        return ()
    key = (id(s.instrument), tuple(s.rating.answers.items()), thresholds)
    hit = _OWN_ALERTS.get(key)
    if hit is not None and hit[0] is s.instrument:
        return hit[1]
    found = tuple(
        a
        for a in (low_alert(s.pomp, thresholds), item_alert(s.instrument, s.items, thresholds))
        if a is not None
    )
    if len(_OWN_ALERTS) >= _MEMO_LIMIT:
        _OWN_ALERTS.clear()
    _OWN_ALERTS[key] = (s.instrument, found)
    return found


def _reliable_change(instrument_id: str, scored: list[SessionScore]) -> ReliableChange | None:
    with_total = [s for s in scored if s.total is not None and s.instrument is not None]
    if not with_total:
        return None
    latest = with_total[-1]
    assert latest.instrument is not None and latest.total is not None
    version = latest.rating.instrument_version
    same = [s for s in with_total if s.rating.instrument_version == version]
    norms = latest.instrument.norms
    if norms is None or len(same) < 2:
        return None
    first = same[0]
    assert first.total is not None
    s_diff, rc, reliable = reliable_change_index(norms, first.total, latest.total)
    direction = ("improved" if rc > 0 else "worsened") if reliable else "no reliable change"
    return ReliableChange(
        instrument=instrument_id,
        first_session=first.session,
        latest_session=latest.session,
        first_total=first.total,
        latest_total=latest.total,
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
    ratings = list(ratings)
    codes = {r.client for r in ratings} | ({client} if client is not None else set())
    if len(codes) > 1:
        raise ValueError(f"score_client got ratings of more than one client: {sorted(codes)}")
    if not codes:
        raise ValueError("score_client needs the client code when there are no ratings")
    (code,) = codes

    definitions: dict[tuple[str, int], Instrument | None] = {}
    scored = []
    for rating in ratings:
        key = (rating.instrument, rating.instrument_version)
        if key not in definitions:
            definitions[key] = resolve(*key)
        scored.append(_score_rating(rating, definitions[key]))
    scored.sort(key=_order_key)

    by_instrument: dict[str, list[SessionScore]] = {}
    for s in scored:
        by_instrument.setdefault(s.rating.instrument, []).append(s)

    changes = {iid: _reliable_change(iid, of) for iid, of in by_instrument.items()}

    alerts: dict[int, tuple[Alert, ...]] = {}  # by id() of the SessionScore
    for iid, of in by_instrument.items():
        previous: SessionScore | None = None
        last = of[-1]
        for s in of:
            found: list[Alert] = []
            if s is last:
                change_alert = reliable_change_alert(changes[iid], s.session)
                if change_alert is not None:
                    found.append(change_alert)
            if previous is not None:
                drop = drop_alert(previous.pomp, s.pomp, previous.session, thresholds)
                if drop is not None:
                    found.append(drop)
            found.extend(_own_alerts(s, thresholds))
            if found:
                alerts[id(s)] = tuple(found)
            if s.pomp is not None:
                previous = s

    sessions = [s._replace(alerts=alerts[id(s)]) if id(s) in alerts else s for s in scored]
    return ClientScores(code, sessions, changes)


# --------------------------------------------------------------------------------------------
# Caseload


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


def _attention_key(scores: ClientScores) -> tuple[int, int, float, str]:
    latest = scores.latest_sessions
    if not latest:
        return (1, 0, 0.0, scores.client)
    severity = max(_session_severity(scores, s) for s in latest)
    shown = [round_score(s.pomp, PLACES["pomp"]) for s in latest if s.pomp is not None]
    lowest = min(p for p in shown if p is not None) if shown else math.inf
    return (0, -severity, lowest, scores.client)


#: The sort key of ``attention_order`` for one client (used by the caseload cache).
attention_key = _attention_key


def attention_order(clients: list[ClientScores]) -> list[ClientScores]:
    """Clients who need attention first (see "Who needs attention first" in the module docstring).

    Ordered by the most severe alert on the latest session (reliable worsening, drop, low, item,
    none), then lowest percent of maximum in that session (none last), then client code; clients
    without sessions last. Returns a new list.
    """
    return sorted(clients, key=_attention_key)
