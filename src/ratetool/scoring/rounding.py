"""Rounding for showing: the one rule every table, JSON output and export uses.

The rule, as docs/scoring.md ("Rounding") states it for practitioners:

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
"""

from __future__ import annotations

import math
from functools import lru_cache

#: Floating-point noise is removed at this many decimals (1e-9) before rounding to show.
_NOISE_PLACES = 9
#: Digits of the ``decimal`` context: enough for any finite float written out with nine decimals
#: (the largest float has 309 digits before the point), so no rounding step can overflow.
_DECIMAL_PRECISION = 330


def round_score(x: float | None, places: int = 2) -> float | None:
    """Round ``x`` for showing, the one rule every presenter uses. ``None`` stays ``None``.

    Rounds half away from zero on the decimal number (2.675 -> 2.68, -2.915 -> -2.92), after first
    removing floating-point noise below 1e-9 (so 61.24999999999999, which is 61.25 by hand,
    becomes 61.3). Never returns negative zero; infinities and NaN are returned as they are.
    Places: see ``PLACES``.
    """
    if x is None:
        return None
    value = float(x)
    if not math.isfinite(value):
        return value
    return _round_half_up(value, places)


@lru_cache(maxsize=1 << 16)
def _round_half_up(value: float, places: int) -> float:
    # Scores come from whole-number answers, so the same few values recur across thousands of
    # sessions: the cache makes the exact decimal rounding cheap. ``decimal`` is imported here,
    # not when ratetool starts (rich's tables import it anyway).
    from decimal import ROUND_HALF_UP, Context, Decimal

    context = Context(prec=_DECIMAL_PRECISION, rounding=ROUND_HALF_UP)
    shown = Decimal(repr(value))  # the shortest decimal number that reads back as ``value``
    cleaned = shown.quantize(Decimal(1).scaleb(-_NOISE_PLACES), context=context)
    rounded = cleaned.quantize(Decimal(1).scaleb(-places), context=context)
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
