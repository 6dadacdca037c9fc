"""The scores of one set of answers, and reliable change: the formulas of docs/scoring.md.

Every score is worked out from the stored answers each time it is shown; no score is stored.
Scores are kept at full precision (sums use ``math.fsum``) and rounded only to be shown
(``rounding``).

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
- For each instrument a client was rated with, the baseline is the first complete session (every
  item answered, so it has a total) of the same instrument version as the latest complete session,
  and the latest complete session is compared with it. At least two such sessions are needed;
  otherwise there is no reliable change result. Every reliable change shown names its baseline.
- `SE = sd x sqrt(1 - reliability)`, `S_diff = sqrt(2) x SE`,
  `RC = (latest total - first total) / S_diff`.
- The change is reliable when RC, rounded to 2 decimals, is above 1.96 or below -1.96: a change
  that large would come from measurement error alone less than 5 times in 100. A positive RC is a
  reliable improvement, a negative one a reliable worsening.
- Example: sd 7.6 and reliability .95 give SE = 7.6 x sqrt(.05) = 1.699 and S_diff = 2.403
  (shown as 2.40), so the smallest reliable change is 1.96 x 2.403 = 4.71 points; a total going
  from 25 to 18 gives RC = -7 / 2.403 = -2.91, a reliable worsening.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NamedTuple

from ratetool.errors import AnswerError
from ratetool.instruments import Instrument, Norms, Scale
from ratetool.places import PLACES
from ratetool.scoring.rounding import round_score

#: Values of ``ReliableChange.direction``.
CHANGE_DIRECTIONS: tuple[str, ...] = ("improved", "worsened", "no reliable change")

#: |RC| must be above this (after rounding RC to 2 decimals) for a change to be reliable.
RC_CRITICAL = 1.96


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
_MEMO: dict[int, tuple[Instrument, dict[tuple[tuple[str, int], ...], AnswerScores]]] = {}
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
    """A client's reliable change on one instrument: the first complete session (every item
    answered, so it has a total) of ``version`` against the latest complete one, both of that
    version (the latest complete session's)."""

    instrument: str
    version: int
    first_session: int
    latest_session: int
    first_total: float
    latest_total: float
    s_diff: float
    rc: float
    reliable: bool
    direction: str  # "improved" | "worsened" | "no reliable change"
