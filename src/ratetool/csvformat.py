"""The spreadsheet column layout and cell rules, shared by export, import and the CSV store.

One rating is one row. The columns, in this order:

1. ``id, client, session, rated_at, instrument, instrument_version, practitioner``
   (``FIXED_COLUMNS``), then ``status`` (``STATUS_COLUMN``): ``completed``, ``amended`` or
   ``entered-in-error`` (``ratetool.corrections``; the CSV store has no such column, a rating's
   status comes from the corrections stored after it);
2. one column per item id: the union of the items of the instruments in the file, instruments in
   order of first appearance, items in instrument order, each name once. A row fills only the
   columns of its own instrument's items; a skipped item is an empty cell, and the item columns of
   other instruments are empty too;
3. one column per dimension score, named ``<dimension>_score`` (``empathy_score``): the check-in's
   item ``empathy`` and its dimension ``empathy`` share a name, so the score needs its own. Same
   union rule as the items;
4. ``overall, pomp, total, alerts`` (``SUMMARY_COLUMNS``);
5. ``comment``.

Steps 3 and 4 are *computed*: written for people, ignored on import (scores are always worked
out again from the answers). A number in a column is on the scale of the row's instrument; compare
instruments with ``pomp`` (percent of maximum).

Reserved names: every fixed and computed column, ``status``, ``date`` (the XLSX date cell and an
import alias of ``rated_at``), ``answers``, ``skipped``, ``dimensions`` and ``format`` (kept for
later formats), ``correction``, ``target`` and ``reason`` (the CSV store's correction columns),
and every name ending in ``_score``; compared ignoring upper/lower case. An instrument
whose item id is reserved cannot be laid out unambiguously: ``Layout.build`` refuses it with
``ColumnNameError`` (JSON Lines, which nests answers, still works).

Cells:

- Numbers are numbers: answers, ``session`` and ``instrument_version`` as whole numbers; scores
  rounded by ``ratetool.scoring.round_score(value, places_for(key))`` and written with exactly
  that many decimals (``8.50``, ``93.8``, ``32``), with a decimal comma when asked.
- ``rated_at`` is ISO 8601 with its UTC offset (``2026-11-03T10:50:00+01:00``).
- ``alerts`` holds the alert kinds of the session joined by ``;`` (``drop;low``), in the order
  of ``ratetool.scoring.ALERT_KINDS``; empty when there is none.
- Formula injection (OWASP): a *text* cell that starts with ``=``, ``+``, ``-``, ``@``, tab,
  carriage return, line feed or NUL gets one leading ``'`` so no spreadsheet runs it as a formula.
  A text cell that already starts with ``'`` gets one too, so the rule is reversible: the
  importer removes exactly one leading ``'`` from every text cell and gets the text back exactly.
  Number cells are never escaped (a score of 8 is never ``'8``).

Nothing here touches files or imports ``csv``; callers bring their own reader and writer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple

from ratetool.errors import RatetoolError
from ratetool.scoring import ALERT_KINDS, places_for, round_score

if TYPE_CHECKING:
    from ratetool.model import Rating
    from ratetool.scoring import SessionScore

#: The columns every row starts with.
FIXED_COLUMNS: tuple[str, ...] = (
    "id",
    "client",
    "session",
    "rated_at",
    "instrument",
    "instrument_version",
    "practitioner",
)
#: Overall scores, after the dimension scores.
SCORE_COLUMNS: tuple[str, ...] = ("overall", "pomp", "total")
ALERTS_COLUMN = "alerts"
SUMMARY_COLUMNS: tuple[str, ...] = (*SCORE_COLUMNS, ALERTS_COLUMN)
COMMENT_COLUMN = "comment"
#: A rating's status (``ratetool.corrections.STATUSES``), right after ``practitioner``.
STATUS_COLUMN = "status"
#: The columns of the CSV store (format 2) that only a correction row fills.
CORRECTION_COLUMNS: tuple[str, ...] = ("correction", "target", "reason")
#: The XLSX date cell, and what a hand-typed sheet may call its date column.
DATE_COLUMN = "date"
#: A dimension score column is ``<dimension id><DIMENSION_SUFFIX>``.
DIMENSION_SUFFIX = "_score"
#: Separator of alert kinds in the ``alerts`` cell.
ALERT_SEPARATOR = ";"

#: Columns that hold text (escaped on the way out, unescaped on the way in).
TEXT_COLUMNS: frozenset[str] = frozenset(
    {
        "id",
        "client",
        "rated_at",
        "instrument",
        "practitioner",
        STATUS_COLUMN,
        ALERTS_COLUMN,
        COMMENT_COLUMN,
    }
)
#: Columns that hold whole numbers besides the items.
INTEGER_COLUMNS: frozenset[str] = frozenset({"session", "instrument_version"})

RESERVED_NAMES: frozenset[str] = frozenset(
    {
        *FIXED_COLUMNS,
        *SUMMARY_COLUMNS,
        COMMENT_COLUMN,
        STATUS_COLUMN,
        DATE_COLUMN,
        "answers",
        "skipped",
        "dimensions",
        "format",
        *CORRECTION_COLUMNS,
    }
)

#: First characters that make a spreadsheet read a cell as a formula (OWASP, ASVS 1.2.10).
FORMULA_TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
ESCAPE = "'"

#: Text a spreadsheet opening a CSV turns into a number or a date (``0412``, ``3-11``, ``1,5``),
#: losing leading zeros or the text itself: escaped too in ``--excel`` exports.
_NUMBER_OR_DATE_LIKE = re.compile(r"[0-9 .,:/%eE+-]*[0-9][0-9 .,:/%eE+-]*")


class ColumnNameError(RatetoolError):
    """An item id is also the name of one of ratetool's own columns."""


# --------------------------------------------------------------------------------------------
# Names


def dimension_column(dimension_id: str) -> str:
    """The column of a dimension's score: ``empathy`` -> ``empathy_score``."""
    return f"{dimension_id}{DIMENSION_SUFFIX}"


def is_reserved(name: str) -> bool:
    """True for names an item id may not have: ratetool's own columns and ``*_score``."""
    folded = name.strip().casefold()
    return folded in RESERVED_NAMES or folded.endswith(DIMENSION_SUFFIX)


def is_computed(name: str) -> bool:
    """True for columns the importer ignores: dimension scores, overall, pomp, total, alerts."""
    folded = name.strip().casefold()
    return folded in SUMMARY_COLUMNS or folded.endswith(DIMENSION_SUFFIX)


class Layout(NamedTuple):
    """The columns of one file: fixed, status, items, dimension scores, summary, comment."""

    items: tuple[str, ...]
    dimensions: tuple[str, ...]

    @property
    def dimension_columns(self) -> tuple[str, ...]:
        return tuple(dimension_column(d) for d in self.dimensions)

    @property
    def columns(self) -> tuple[str, ...]:
        return (
            *FIXED_COLUMNS,
            STATUS_COLUMN,
            *self.items,
            *self.dimension_columns,
            *SUMMARY_COLUMNS,
            COMMENT_COLUMN,
        )

    def places(self, column: str) -> int:
        """Decimal places of a number in ``column`` (items and whole-number columns: 0)."""
        if column in self.items or column in INTEGER_COLUMNS:
            return 0
        if column in SCORE_COLUMNS:
            return places_for(column)
        return places_for("dimension")

    @classmethod
    def build(cls, instruments: Iterable[tuple[str, Sequence[str], Sequence[str]]]) -> Layout:
        """The layout for ``(instrument id, item ids, dimension ids)`` in order of appearance.

        Raises ``ColumnNameError`` naming every item id that is a reserved name.
        """
        items: dict[str, None] = {}
        dimensions: dict[str, None] = {}
        clashes: list[str] = []
        for instrument_id, item_ids, dimension_ids in instruments:
            for item_id in item_ids:
                if is_reserved(item_id):
                    clashes.append(f"item {item_id!r} of instrument {instrument_id!r}")
                items.setdefault(item_id, None)
            for dim_id in dimension_ids:
                dimensions.setdefault(dim_id, None)
        if clashes:
            raise ColumnNameError(
                f"Cannot lay out a spreadsheet: {', '.join(dict.fromkeys(clashes))} "
                f"{'has' if len(clashes) == 1 else 'have'} the name of one of ratetool's own "
                f"columns ({', '.join(sorted(RESERVED_NAMES))}, or a name ending in "
                "'_score'), so the column would be ambiguous. Export with --format json, which "
                "keeps answers apart, or give the item another id in a new version of the "
                "instrument. Nothing was written."
            )
        return cls(tuple(items), tuple(dimensions))


# --------------------------------------------------------------------------------------------
# Cells


def needs_escape(text: str) -> bool:
    """True when ``text`` would start a formula, or already starts with the escape ``'``."""
    return text.startswith((*FORMULA_TRIGGERS, ESCAPE))


def is_formula_like(text: str) -> bool:
    """True when a spreadsheet would read ``text`` as a formula (XLSX marks such cells as text)."""
    return text.startswith(FORMULA_TRIGGERS)


def looks_like_number_or_date(text: str) -> bool:
    """True for text a spreadsheet would turn into a number or date when it opens a CSV."""
    return bool(_NUMBER_OR_DATE_LIKE.fullmatch(text))


def escape_text(text: str, *, for_excel: bool = False) -> str:
    """A text cell as written: one ``'`` in front when ``needs_escape`` (and, ``for_excel``,
    when the text looks like a number or date), else unchanged."""
    if needs_escape(text) or (for_excel and looks_like_number_or_date(text)):
        return ESCAPE + text
    return text


def unescape_text(text: str) -> str:
    """The text of a cell as read: exactly one leading ``'`` removed, if there is one."""
    return text[1:] if text.startswith(ESCAPE) else text


def score_value(value: float | None, key: str) -> float | int | None:
    """A score as shown everywhere: rounded by ``round_score(value, places_for(key))``; a whole
    number when the key has no decimals. ``key`` is ``overall``, ``pomp``, ``total``, ``item``
    or ``dimension`` (``places_for`` gives every dimension id the places of ``dimension``)."""
    places = places_for(key)
    rounded = round_score(value, places)
    if rounded is None:
        return None
    return int(rounded) if places == 0 else rounded


def format_number(value: float | int | None, places: int, *, decimal_comma: bool = False) -> str:
    """A number cell: ``""`` for missing, else exactly ``places`` decimals (``8.50``, ``32``).

    The value must already be rounded (``score_value``); this only writes it.
    """
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    text = f"{value:.{places}f}"
    return text.replace(".", ",") if decimal_comma else text


def alerts_cell(kinds: Iterable[str]) -> str:
    """``drop;low``: the alert kinds in ``ALERT_KINDS`` order, each once."""
    given = set(kinds)
    ordered = [k for k in ALERT_KINDS if k in given] + sorted(given - set(ALERT_KINDS))
    return ALERT_SEPARATOR.join(ordered)


CellValue = str | int | float | None


def text_cells(
    values: Mapping[str, CellValue],
    columns: Sequence[str],
    layout: Layout,
    *,
    decimal_comma: bool = False,
    for_excel: bool = False,
) -> list[str]:
    """One row of typed values as the strings a CSV writer gets, in ``columns`` order.

    Text is escaped (``escape_text``); numbers are written by ``format_number`` with the column's
    places; missing values are empty cells.
    """
    out: list[str] = []
    for column in columns:
        value = values.get(column)
        if value is None:
            out.append("")
        elif isinstance(value, str):
            out.append(escape_text(value, for_excel=for_excel))
        else:
            out.append(format_number(value, layout.places(column), decimal_comma=decimal_comma))
    return out


def rating_values(rating: Rating) -> dict[str, CellValue]:
    """The fields of a rating by column name: fixed columns, status, answers, comment.

    Text is not escaped yet; a skipped item is simply absent (an empty cell).
    """
    values: dict[str, CellValue] = {
        "id": rating.id,
        "client": rating.client,
        "session": rating.session,
        "rated_at": rating.rated_at.isoformat(),
        "instrument": rating.instrument,
        "instrument_version": rating.instrument_version,
        "practitioner": rating.practitioner,
        STATUS_COLUMN: rating.status,
    }
    for item_id, answer in rating.answers.items():
        values[item_id] = answer
    values[COMMENT_COLUMN] = rating.comment
    return values


def score_values(score: SessionScore) -> dict[str, CellValue]:
    """The computed columns of a scored rating, rounded as every table shows them."""
    values: dict[str, CellValue] = {
        dimension_column(dim_id): score_value(value, "dimension")
        for dim_id, value in score.dimensions.items()
    }
    for key in SCORE_COLUMNS:
        values[key] = score_value(getattr(score, key), key)
    values[ALERTS_COLUMN] = alerts_cell(a.kind for a in score.alerts) or None
    return values
