"""What an import file becomes: rows as found, valid rows, problems with their row numbers.

Nothing here reads or writes a file; ``reading`` fills these, ``planning`` uses them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ratetool.corrections import COMPLETED
from ratetool.model import Rating


class Missing:
    """The column or key is not in the file at all (as opposed to an empty cell)."""


MISSING = Missing()


@dataclass(frozen=True)
class RowProblem:
    """What is wrong with one row, and where (``row`` for CSV, ``line`` for JSON Lines)."""

    row: int
    message: str
    unit: str = "row"

    def __str__(self) -> str:
        return f"{self.unit} {self.row}: {self.message}"


@dataclass(frozen=True)
class ImportRow:
    """A valid row: the rating to store (``session`` 0 while ``numbered`` is pending), and the
    status the row gave it (``completed``, ``amended`` or ``entered-in-error``): the rating
    itself is stored as completed, a status besides becomes a correction after it."""

    row: int
    rating: Rating
    has_id: bool
    numbered: bool
    status: str = COMPLETED


@dataclass
class ImportFile:
    """A read and validated import file. Nothing has been written."""

    path: Path
    kind: str  # "csv" or "jsonl"
    unit: str  # "row" or "line"
    rows: list[ImportRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    #: ``(row, earlier row)``: the same rating again in the file; imported once.
    repeats: list[tuple[int, int]] = field(default_factory=list)
    delimiter: str | None = None
    #: A date did not read and no --date-format was given.
    date_hint: bool = False

    @property
    def bad_rows(self) -> list[int]:
        return sorted({p.row for p in self.problems})

    @property
    def row_count(self) -> int:
        return len(self.rows) + len(self.repeats) + len(self.bad_rows)


@dataclass
class RawRow:
    """One row's fields as found in the file, before validation."""

    row: int
    id: str | None = None
    client: str | None = None
    session: object = None
    rated_at: str | None = None
    instrument: str | None = None
    version: object = None
    practitioner: str | None | Missing = MISSING
    comment: str | None = None
    #: The ``status`` cell or key as written; ``None`` when empty or absent (completed).
    status: str | None = None
    #: Item id (as written) -> cell text or JSON value; ``None`` is a skip.
    answers: dict[str, object] = field(default_factory=dict)
    #: JSON Lines only: items listed under ``skipped``.
    skipped: list[str] | None = None
    problems: list[str] = field(default_factory=list)


def content_key(rating: Rating) -> tuple[Any, ...]:
    """Everything about a rating but its id and session number."""
    return (
        rating.client,
        rating.rated_at,
        rating.instrument,
        rating.instrument_version,
        tuple(sorted(rating.answers.items())),
        tuple(sorted(rating.skipped)),
        rating.practitioner,
        rating.comment,
    )
