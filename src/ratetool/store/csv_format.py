"""The layout of ``ratings.csv``, the CSV store's one data file: its columns and header.

UTF-8 without a byte-order mark (one is accepted when reading), RFC 4180 through the ``csv``
module, rows ended by CRLF, the header row first. CRLF is not a taste: the ``csv`` writer quotes
a cell holding a line break only when that character is part of its line terminator, so with
bare LF a comment holding a lone CR would be written unquoted and split its row.

Columns, in the export's layout without the computed columns (``ratetool.csvformat``)::

    id, client, session, rated_at, instrument, instrument_version, practitioner,
    <one column per item id>, skipped, comment, correction, target, reason, format

(``correction, target, reason`` since data format 2; a format-1 file, without them, still reads
and is raised to format 2 by its first correction: ``ratetool.store.csv_corrections``.)

- Item cells hold whole numbers; the cell of an item the client skipped, and the cells of other
  instruments' items, are empty. ``skipped`` lists the skipped item ids joined by ``;``: an empty
  cell alone cannot tell "skipped" from "not an item of this instrument", and without it a skip
  would need the instrument's definition to be read at all.
- Text cells (``id, client, rated_at, instrument, practitioner, skipped, comment``) are escaped
  with the export's reversible formula rule (``csvformat.escape_text``: one ``'`` in front of a
  cell starting with ``= + - @``, tab, CR, LF, NUL or ``'``), so the file opens safely in a
  spreadsheet; numbers are never escaped. ``rated_at`` is ISO 8601 with its UTC offset.
- A correction (``ratetool.corrections``) is a row too, with ``correction`` = ``void``,
  ``amend`` or ``rename`` (a rating's row leaves ``correction, target, reason`` empty): ``id`` is
  the correction's, ``client`` the code the corrected ratings are stored under (the old code of
  a rename), ``session`` the corrected session (empty for a rename), ``rated_at`` when the
  correction was made, ``instrument``/``instrument_version`` the amended rating's, the item
  cells, ``skipped`` and ``comment`` an amend's new values (an empty ``comment`` keeps the old
  comment, a lone ``'`` removes it), ``target`` the corrected rating's id or a rename's new code,
  ``reason`` why.
- ``format`` is the data-format version (``2``; ``1`` in a file written before corrections), on
  every row. It sits where a spreadsheet user
  sees it as one more column and keeps it when sorting or filtering, it travels with every row
  when the file is copied alone, and an older ratetool finds it by name before anything else: a
  row with a higher number is refused (naming both versions), never misread. It also closes every
  row with a known value.
- The header is fixed when the file is created (an append-only file cannot change its first
  line). It gets a column for every item of every instrument known then: the built-ins, the
  custom instruments in the config folder, and the instruments of the ratings written. A rating
  with an item that has no column is refused, with the advice to run ``ratetool migrate --to
  csv``, which writes a wider ``ratings.csv`` and keeps the old one.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from ratetool import paths
from ratetool.csvformat import COMMENT_COLUMN, FIXED_COLUMNS, is_reserved
from ratetool.store import DATA_FORMAT, OLDEST_FORMAT
from ratetool.store.records import ITEM_ID_RE

RATINGS_NAME = paths.RATINGS_CSV
SKIPPED_COLUMN = "skipped"
FORMAT_COLUMN = "format"
CORRECTION_COLUMN = "correction"
TARGET_COLUMN = "target"
REASON_COLUMN = "reason"
#: The columns a correction row needs (data format 2), between ``comment`` and ``format``.
CORRECTION_COLUMNS: tuple[str, ...] = (CORRECTION_COLUMN, TARGET_COLUMN, REASON_COLUMN)
#: The columns after the items, in this order.
TRAILING_COLUMNS: tuple[str, ...] = (
    SKIPPED_COLUMN,
    COMMENT_COLUMN,
    *CORRECTION_COLUMNS,
    FORMAT_COLUMN,
)
#: The same in a format-1 file.
TRAILING_COLUMNS_1: tuple[str, ...] = (SKIPPED_COLUMN, COMMENT_COLUMN, FORMAT_COLUMN)
SKIP_SEPARATOR = ";"
LINE_END = "\r\n"
BOM = b"\xef\xbb\xbf"
#: Longest text cell written: what the ``csv`` module reads back by default.
MAX_CELL = csv.field_size_limit()
#: The ``format`` cell of every row this ratetool writes.
FORMAT_TEXT = str(DATA_FORMAT)
#: The ``format`` cells this ratetool reads.
READ_FORMATS = frozenset(str(n) for n in range(OLDEST_FORMAT, DATA_FORMAT + 1))


def is_correction_column(name: str) -> bool:
    """True for the names of the correction columns, which a new file's items may not have."""
    return name.strip().casefold() in CORRECTION_COLUMNS


class Header(NamedTuple):
    """The columns of a ``ratings.csv`` and where each one is."""

    columns: tuple[str, ...]

    @property
    def format(self) -> int:
        """2 when the header has the correction columns, else 1 (a file made before them)."""
        cols = self.columns
        return 2 if all(c in cols for c in CORRECTION_COLUMNS) else 1

    @property
    def items(self) -> tuple[str, ...]:
        trailing = TRAILING_COLUMNS if self.format == 2 else TRAILING_COLUMNS_1
        known = {*FIXED_COLUMNS, *trailing}
        return tuple(c for c in self.columns if c not in known)

    @classmethod
    def for_items(cls, items: Iterable[str]) -> Header:
        """A format-2 header with these item columns."""
        return cls((*FIXED_COLUMNS, *dict.fromkeys(items), *TRAILING_COLUMNS))

    def line(self) -> str:
        return write_rows([list(self.columns)])


def header_problem(cells: Sequence[str]) -> str | None:
    """Why a header row is not one ratetool can read and append to, or ``None``."""
    seen: set[str] = set()
    for cell in cells:
        if cell in seen:
            return f"the column {cell!r} appears twice in the header row"
        seen.add(cell)
    trailing = TRAILING_COLUMNS if Header(tuple(cells)).format == 2 else TRAILING_COLUMNS_1
    missing = [c for c in (*FIXED_COLUMNS, *trailing) if c not in seen]
    if missing:
        return (
            f"the header row lacks the column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}; it must be ratetool's header"
        )
    known = {*FIXED_COLUMNS, *trailing}
    for cell in cells:
        if cell in known:
            continue
        if not ITEM_ID_RE.fullmatch(cell):
            return f"the header column {cell!r} is not an item id"
        if is_reserved(cell):
            return f"the header column {cell!r} has the name of one of ratetool's own columns"
    return None


def write_rows(rows: Iterable[Sequence[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator=LINE_END).writerows(rows)
    return out.getvalue()
