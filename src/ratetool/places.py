"""Decimal places every presenter shows, by kind of number: one table for tables, JSON and exports.

Part of the scoring rules (``ratetool.scoring`` imports and re-exports it, and rounds with it); a
module of its own so that drawing a table from numbers already rounded needs no scoring code.
"""

from __future__ import annotations

from collections.abc import Mapping

#: Decimal places every presenter shows, by kind of number. Dimension ids use ``"dimension"``.
PLACES: Mapping[str, int] = {
    "item": 0,
    "dimension": 2,
    "overall": 2,
    "pomp": 1,
    "total": 0,
    "rc": 2,
    "s_diff": 2,
    "percent": 1,
}


def places_for(key: str) -> int:
    """Decimal places to show for ``key``: a name in ``PLACES``; anything else is a dimension id."""
    return PLACES.get(key, PLACES["dimension"])
