"""Alerts: reasons to look at a session, decided on the rounded numbers shown beside them.

The rules, as docs/scoring.md ("Alerts") states them for practitioners:

Each session gets zero or more alerts. The thresholds can be configured; the defaults are starting
points, not norms.
- low: percent of maximum below `low` (default 90, the habit of "36 of 40" on paper session-rating
  forms). 89.9 fires, 90.0 does not.
- drop: percent of maximum at least `drop` percentage points (default 2.5) lower than at the
  client's previous session with the same instrument that has a percent of maximum. Sessions are
  ordered by session number, then by the time they were rated. The default is 1 point of the 0-40
  check-in total: 1 / 40 x 100 = 2.5 percentage points. Equal scores never fire.
- item: any answered item whose score (after reversing) is at or below `item` percent (default 70)
  of its scale, where percent = `(score - min) / (max - min) x 100`. On a 0-10 scale 7 fires and
  8 does not. The alert names every such item.
- reliable-worsening: when the client's change on an instrument is a reliable worsening
  (``formulas``), on the latest session rated with that instrument. The alert names its baseline:
  the first complete session of the instrument version. A reliable improvement is good news, not
  an alert: summaries show it with the reliable change itself.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from ratetool.instruments import Instrument, Scale
from ratetool.places import PLACES
from ratetool.scoring.formulas import ReliableChange, item_percent
from ratetool.scoring.rounding import round_score

#: Every alert kind, in the order alerts are listed on a session.
ALERT_KINDS: tuple[str, ...] = ("reliable-worsening", "drop", "low", "item")


def _fmt(x: float, places: int) -> str:
    """``x`` rounded by ``round_score`` and written with exactly ``places`` decimals."""
    return f"{round_score(x, places):.{places}f}"


def _fmt_threshold(x: float) -> str:
    """A threshold as the user configured it: 90.0 -> "90", 2.5 -> "2.5"."""
    return f"{x:g}"


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When alerts fire. Defaults are starting points, not norms (see the module docstring)."""

    #: Percent of maximum below this fires "low".
    low: float = 90.0
    #: A fall in percent of maximum of at least this many percentage points since the previous
    #: session fires "drop" (2.5 is 1 point of the 0-40 check-in total: 1 / 40 x 100).
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
                f"The 'drop' alert threshold must be a number of percentage points above 0, not "
                f"{self.drop!r}."
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
    if previous_pomp is None or pomp is None or pomp >= previous_pomp:
        return None  # no fall: rounding keeps the order, so the shown numbers cannot fall either
    before = round_score(previous_pomp, PLACES["pomp"])
    now = round_score(pomp, PLACES["pomp"])
    assert before is not None and now is not None
    fall = round_score(before - now, PLACES["pomp"])  # exact to 1 decimal again
    assert fall is not None
    if fall > 0 and fall >= thresholds.drop:
        return Alert(
            "drop",
            f"dropped {fall:.1f} percentage points since session {previous_session} "
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
    """ "reliable-worsening" for a reliable worsening ``change``, worded for the session it is
    attached to and naming the baseline (``baseline_words``); ``None`` otherwise (a reliable
    improvement is good news, not an alert)."""
    if change is None or not change.reliable or change.direction != "worsened":
        return None
    rc = _fmt(change.rc, PLACES["rc"])
    baseline = baseline_words(change.instrument, change.version)
    if change.latest_session == session:
        span = f"since session {change.first_session}, {baseline}"
    else:
        span = (
            f"from session {change.first_session}, {baseline}, to session {change.latest_session}"
        )
    return Alert("reliable-worsening", f"reliable worsening {span} (RC {rc})")


def baseline_words(instrument: str, version: int) -> str:
    """What the baseline of reliable change is, in words: "the first complete session of
    checkin version 1" (complete: every item answered, so it has a total)."""
    return f"the first complete session of {instrument} version {version}"
