"""The CSV header: which column is what, and whether every item used has a column.

A problem here concerns the whole file (row 1, the header) and stops the import before any row is
validated. The column rules are those of docs/import.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ratetool.csvformat import (
    COMMENT_COLUMN,
    CORRECTION_COLUMNS,
    DATE_COLUMN,
    FIXED_COLUMNS,
    STATUS_COLUMN,
    is_computed,
    unescape_text,
)
from ratetool.errors import ImportRowsError
from ratetool.importer.rows import RawRow
from ratetool.importer.validating import is_skip
from ratetool.instruments import Instrument

#: Columns of the CSV live store (``ratings.csv``) besides the export's: ``skipped`` repeats what
#: the empty item cells say, ``format`` is the data-format version of the row, and the
#: correction columns are filled only on a correction's row (format 2).
_STORE_COLUMNS = ("skipped", "format", *CORRECTION_COLUMNS)
_KNOWN_COLUMNS = (*FIXED_COLUMNS, STATUS_COLUMN, DATE_COLUMN, COMMENT_COLUMN, *_STORE_COLUMNS)


@dataclass
class Columns:
    """The header: known column -> index, item candidates, ignored computed columns."""

    known: dict[str, int]
    items: dict[str, int]  # name as written -> index
    names: list[str]


def read_header(path: Path, header: list[str]) -> Columns:
    names = [unescape_text(h.strip()).strip() for h in header]
    known: dict[str, int] = {}
    items: dict[str, int] = {}
    seen: dict[str, int] = {}
    problems: list[str] = []
    for index, name in enumerate(names):
        if not name:
            continue
        folded = name.casefold()
        if folded in seen:
            problems.append(
                f"column {name!r} appears twice (columns {seen[folded] + 1} and {index + 1})"
            )
            continue
        seen[folded] = index
        if folded in _KNOWN_COLUMNS:
            known[folded] = index
        elif not is_computed(name):
            items[name] = index
    if "client" not in known:
        problems.append("there is no 'client' column")
    if "rated_at" not in known and DATE_COLUMN not in known:
        problems.append("there is no 'date' (or 'rated_at') column")
    if problems:
        raise ImportRowsError(
            "\n".join(f"{path}, row 1 (the header): {p}" for p in problems)
            + "\nThe first row must name the columns: client, date (or rated_at), one column per "
            "item (for the check-in: empathy, warmth, genuineness, trust), and optionally "
            "comment, practitioner, instrument, id, session. Nothing was written."
        )
    return Columns(known, items, names)


def check_columns(
    path: Path,
    columns: Columns,
    raws: list[RawRow],
    instruments: list[Instrument | str],
    known_items: set[str],
) -> None:
    """Every item of every instrument used has a column; no column that is no item of any
    instrument known here holds a value (``known_items``: casefolded item ids)."""
    used: dict[tuple[str, int], tuple[Instrument, list[int]]] = {}
    for raw, instrument in zip(raws, instruments):
        if isinstance(instrument, Instrument):
            key = (instrument.id, instrument.version)
            used.setdefault(key, (instrument, []))[1].append(raw.row)
    present = {name.casefold() for name in columns.items}
    problems: list[str] = []
    all_items: set[str] = set(known_items)
    for instrument, rows in used.values():
        all_items.update(i.casefold() for i in instrument.item_ids)
        missing = [i for i in instrument.item_ids if i.casefold() not in present]
        if missing:
            problems.append(
                f"there is no column for item{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)} of {instrument.id} (used on {_rows_text(rows)})"
            )
    for name, _index in columns.items.items():
        if name.casefold() in all_items:
            continue
        rows = [raw.row for raw in raws if not is_skip(raw.answers.get(name))]
        if rows:
            problems.append(
                f"column {name!r} is not a column ratetool knows nor an item of any instrument "
                f"here, and it has values ({_rows_text(rows)})"
                f"{_close_to(name, [*_KNOWN_COLUMNS, *sorted(all_items)])}; rename or "
                "delete it"
            )
    if problems:
        raise ImportRowsError(
            "\n".join(f"{path}, row 1 (the header): {p}" for p in problems)
            + "\nNothing was written."
        )


def _close_to(name: str, options: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name.casefold(), options, n=1, cutoff=0.7)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _rows_text(rows: list[int], unit: str = "row") -> str:
    if len(rows) == 1:
        return f"{unit} {rows[0]}"
    shown = ", ".join(str(r) for r in rows[:8])
    more = f" and {len(rows) - 8} more" if len(rows) > 8 else ""
    return f"{unit}s {shown}{more}"
