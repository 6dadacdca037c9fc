"""Instruments: the questionnaire model.

An instrument is plain data in a TOML file (see ``checkin.toml`` beside this module and the README,
"Instruments"). This module holds the model (frozen dataclasses), the loader and validator that turn
a TOML file into an ``Instrument`` or raise ``InstrumentError`` naming the file, key or item and the
problem, and the registry that finds instruments by id: custom files in ``<config dir>/instruments/``
and the built-ins shipped as package data.

Nothing here imports Typer or rich, and nothing is read until a function is called.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Scale:
    """Whole-number answers from ``min`` to ``max`` (inclusive), with words for the ends."""

    min: int
    max: int
    min_label: str
    max_label: str
    mid_label: str | None = None

    def contains(self, value: int) -> bool:
        return self.min <= value <= self.max


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    dimension: str
    text: str
    reverse: bool = False


@dataclass(frozen=True, slots=True)
class Norms:
    """Standard deviation and reliability of the *total* score, for reliable change."""

    sd: float
    reliability: float


@dataclass(frozen=True, slots=True)
class Dimension:
    id: str
    label: str


@dataclass(frozen=True, slots=True)
class Instrument:
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
