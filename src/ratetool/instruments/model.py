"""The instrument model: a questionnaire as immutable data, and what a valid answer is.

``Instrument`` is a frozen dataclass; its parts are named tuples, which are cheap to create when
ratetool starts. ``validation`` builds these from a parsed TOML table, ``registry`` finds them.
The file format is described in docs/instruments.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

from ratetool.errors import AnswerError

#: A typed whole number (patterns, compiled by ``re`` on first use: only typing and errors need them).
INTEGER_ANSWER = r"[+-]?[0-9]+"
_DECIMAL_ANSWER = r"[+-]?(?:[0-9]+[.,][0-9]*|[.,][0-9]+)"


def shorten(text: str, limit: int = 40) -> str:
    """``text`` cut to ``limit`` characters (with "…") for a one-line message."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Scale(NamedTuple):
    """Whole-number answers from ``min`` to ``max`` (inclusive), with words for the ends."""

    min: int
    max: int
    min_label: str
    max_label: str
    mid_label: str | None = None

    def contains(self, value: int) -> bool:
        return self.min <= value <= self.max


class Item(NamedTuple):
    id: str
    dimension: str
    text: str
    reverse: bool = False


class Norms(NamedTuple):
    """Standard deviation and reliability of the *total* score, for reliable change, and where
    they come from (a citation, or "own data, n = ..."): norms without a source are refused."""

    sd: float
    reliability: float
    source: str


class Dimension(NamedTuple):
    id: str
    label: str


@dataclass(frozen=True, slots=True)
class Instrument:
    """A questionnaire: its scale, dimensions and items in order (built-in or a custom file)."""

    id: str
    version: int
    title: str
    intro: str
    scale: Scale
    dimensions: tuple[Dimension, ...]
    items: tuple[Item, ...]
    allow_skip: bool = False
    norms: Norms | None = None
    #: Where the definition came from: "built-in" or the path of the TOML file.
    source: str = field(default="built-in", compare=False)

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items)

    @property
    def dimension_ids(self) -> tuple[str, ...]:
        return tuple(d.id for d in self.dimensions)

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def items_of(self, dimension_id: str) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.dimension == dimension_id)

    def answer_problem(self, item_id: str, value: object) -> str | None:
        """Why ``value`` is not a valid stored answer to ``item_id``, or ``None`` if it is valid.

        A valid answer is a whole number (an ``int``, never a ``bool``) inside the scale. The
        message is one line that starts with the item id, e.g.
        ``"empathy: 11 is outside 0–10; give a whole number from 0 to 10."``
        """
        if item_id not in self.item_ids:
            listing = ", ".join(self.item_ids)
            return f"{item_id!r} is not an item of {self.id} (its items are: {listing})."
        give = f"give a whole number from {self.scale.min} to {self.scale.max}"
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{item_id}: {shorten(str(value))!r} is not a whole number; {give}."
        if not self.scale.contains(value):
            return f"{item_id}: {value} is outside {self.scale.min}–{self.scale.max}; {give}."
        return None


def check_answer(instrument: Instrument, item_id: str, raw: str | int) -> int:
    """Turn one typed answer into a whole number for ``item_id``, or raise ``AnswerError``.

    Accepted: a whole number inside the scale written with ASCII digits, with surrounding spaces,
    leading zeros or one leading sign (``" 7 "``, ``"07"``, ``"+3"``; ``"-2"`` on a scale that
    goes below zero); an ``int`` is checked as it is. Refused, each with a one-line message that
    starts with the item id and says what to give: empty text, decimals (``"7.5"``, ``"7,0"``),
    anything else (``"x"``, ``"seven"``), ``bool`` and numbers outside the scale (``"11"``,
    ``"-1"`` on 0–10). Skipping is not handled here: callers decide what a skip looks like.
    """
    if item_id not in instrument.item_ids:
        raise AnswerError(
            f"{item_id!r} is not an item of {instrument.id} (its items are: "
            f"{', '.join(instrument.item_ids)})."
        )
    give = f"give a whole number from {instrument.scale.min} to {instrument.scale.max}"
    value: object
    if isinstance(raw, str):
        text = raw.strip()
        if not text:
            raise AnswerError(f"{item_id}: no answer given; {give}.")
        if re.fullmatch(INTEGER_ANSWER, text):
            from ratetool.limits import answer_digits_problem

            too_long = answer_digits_problem(text)
            if too_long is not None:  # and Python reads no more than 4,300 digits as a number
                raise AnswerError(f"{item_id}: {too_long}; {give}.")
            value = int(text)
        elif re.fullmatch(_DECIMAL_ANSWER, text):
            raise AnswerError(f"{item_id}: {shorten(text, 20)} is not a whole number; {give}.")
        else:
            raise AnswerError(f"{item_id}: {shorten(text, 20)!r} is not a number; {give}.")
    else:
        value = raw
    problem = instrument.answer_problem(item_id, value)
    if problem is not None:
        raise AnswerError(problem)
    return value
