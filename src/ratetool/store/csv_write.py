"""Writing ``ratings.csv``: each rating (or correction) as the cells of a row, checked to read
back, and the items a new file gets columns for."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ratetool.csvformat import COMMENT_COLUMN, escape_text
from ratetool.errors import StoreError
from ratetool.model import Rating
from ratetool.store.csv_format import (
    FORMAT_COLUMN,
    MAX_CELL,
    RATINGS_NAME,
    SKIP_SEPARATOR,
    SKIPPED_COLUMN,
    Header,
    write_rows,
)
from ratetool.store.csv_parse import parse_more
from ratetool.store.records import ITEM_ID_RE

if TYPE_CHECKING:
    from ratetool.corrections import Correction
    from ratetool.instruments import Instrument
    from ratetool.store import Resolver


class RowWriter:
    """Turns ratings into rows of one header's layout."""

    def __init__(self, header: Header) -> None:
        self.header = header
        self.where = {c: i for i, c in enumerate(header.columns)}
        self.items = frozenset(header.items)
        #: A format-1 file gets format-1 rows until a correction raises it to format 2.
        self.format_text = str(header.format)

    def cells(self, rating: Rating) -> list[str]:
        """One rating as the cells of a row; ``StoreError`` if it cannot be written."""
        where = self.where
        cells = [""] * len(where)
        missing = [item for item in rating.answers if item not in self.items]
        if missing:
            raise StoreError(_no_column_message(missing, rating))
        cells[where["id"]] = escape_text(rating.id)
        cells[where["client"]] = escape_text(rating.client)
        cells[where["session"]] = str(rating.session)
        cells[where["rated_at"]] = escape_text(rating.rated_at.isoformat())
        cells[where["instrument"]] = escape_text(rating.instrument)
        cells[where["instrument_version"]] = str(rating.instrument_version)
        if rating.practitioner:
            cells[where["practitioner"]] = escape_text(rating.practitioner)
        for item, value in rating.answers.items():
            if not isinstance(value, int) or isinstance(value, bool):
                raise StoreError(
                    f"answer {item} = {value!r} of session id {rating.id} is not a whole number; "
                    "nothing was written."
                )
            cells[where[item]] = str(value)
        if rating.skipped:
            bad = [s for s in rating.skipped if not ITEM_ID_RE.fullmatch(s)]
            if bad:
                raise StoreError(
                    f"skipped item {bad[0]!r} of session id {rating.id} is not an item id; "
                    "nothing was written."
                )
            cells[where[SKIPPED_COLUMN]] = escape_text(SKIP_SEPARATOR.join(rating.skipped))
        if rating.comment:
            cells[where[COMMENT_COLUMN]] = escape_text(rating.comment)
        cells[where[FORMAT_COLUMN]] = self.format_text
        for i, cell in enumerate(cells):
            if len(cell) > MAX_CELL:
                raise StoreError(
                    f"the {self.header.columns[i]} of session id {rating.id} is longer than "
                    f"{MAX_CELL} characters, more than ratings.csv can hold in a cell; nothing "
                    "was written."
                )
        return cells

    def rows(self, ratings: Sequence[Rating]) -> str:
        """The rows for ``ratings``, each checked to read back exactly as given."""
        text = write_rows(self.cells(r) for r in ratings)
        back = parse_more(Path(RATINGS_NAME), text.encode("utf-8"), 0, 0, self.header, spans=False)
        if back.problems or len(back.ratings) != len(ratings):
            detail = back.problems[0].message if back.problems else "a row went missing"
            raise StoreError(
                f"a rating could not be written to ratings.csv so that it reads back the same "
                f"({detail}); nothing was written."
            )
        for want, got in zip(ratings, back.ratings):
            if not _reads_back(want, got):
                raise StoreError(
                    f"session id {want.id} of client {want.client} would not read back from "
                    "ratings.csv exactly as given; nothing was written."
                )
        return text

    def correction_rows(
        self, cells: Sequence[Sequence[str]], corrections: Sequence[Correction]
    ) -> str:
        """The rows ``cells`` of ``corrections`` (``csv_corrections.correction_cells``), checked
        to read back as exactly these corrections."""
        text = write_rows(cells)
        back = parse_more(Path(RATINGS_NAME), text.encode("utf-8"), 0, 0, self.header, spans=False)
        if (
            back.problems
            or back.ratings
            or back.corrections != list(corrections)
            or [c.made_at.utcoffset() for c in back.corrections]
            != [c.made_at.utcoffset() for c in corrections]
        ):
            detail = back.problems[0].message if back.problems else "a cell differs"
            raise StoreError(
                "a correction could not be written to ratings.csv so that it reads back the same "
                f"({detail}); nothing was written."
            )
        return text


def _no_column_message(missing: Sequence[str], rating: Rating) -> str:
    names = ", ".join(missing)
    return (
        f"ratings.csv has no column for item{'s' if len(missing) > 1 else ''} {names} of "
        f"instrument {rating.instrument} (its columns were fixed when the file was created, "
        "before this instrument was known). Run `ratetool migrate --to csv` to write a new "
        "ratings.csv with a column for every instrument known now (the old file is kept), then "
        "save again. Nothing was written."
    )


def _normalised(rating: Rating) -> Rating:
    return replace(rating, practitioner=rating.practitioner or None, comment=rating.comment or None)


def _reads_back(rating: Rating, got: Rating) -> bool:
    want = _normalised(rating)
    return got == want and got.rated_at.utcoffset() == want.rated_at.utcoffset()


def known_items(resolve: Resolver | None) -> list[str]:
    """Items of the built-in instruments and, when the store was opened by the command line
    (its ``resolve`` belongs to an object with a ``registry``), of the custom ones."""
    from ratetool.errors import InstrumentError
    from ratetool.instruments import builtin_ids, load_builtin

    items: list[str] = []
    for instrument_id in builtin_ids():
        try:
            items.extend(load_builtin(instrument_id).item_ids)
        except InstrumentError:  # pragma: no cover - a packaging bug
            continue
    registry = getattr(getattr(resolve, "__self__", None), "registry", None)
    if registry is not None and callable(getattr(registry, "list", None)):
        try:
            listing = registry.list()
        except Exception:  # noqa: BLE001 - custom instruments only widen the header
            listing = []
        for row in listing:
            instrument = getattr(row, "instrument", None)
            if instrument is not None:
                items.extend(instrument.item_ids)
    return items


# -- the columns of a new file ------------------------------------------------------------------


def reserved(name: str) -> bool:
    """A name no item column may have: one of ratetool's own columns (the correction columns
    too) or ``*_score``."""
    from ratetool.csvformat import is_reserved
    from ratetool.store.csv_format import is_correction_column

    return is_reserved(name) or is_correction_column(name)


def header_for(
    resolve: Resolver | None,
    item_columns: Sequence[str],
    ratings: Sequence[Rating],
    resolve_rating: Callable[[Rating], Instrument | None],
) -> Header:
    """The header of a new ``ratings.csv``: a column for every item of every instrument known
    now (``known_items``), of ``item_columns`` and of ``ratings``; ``StoreError`` for an answer
    whose item cannot be a column."""
    items: dict[str, None] = {}
    for item in [*known_items(resolve), *item_columns]:
        if ITEM_ID_RE.fullmatch(item) and not reserved(item):
            items.setdefault(item, None)
    for rating in ratings:
        instrument = resolve_rating(rating)
        for item in instrument.item_ids if instrument is not None else ():
            if ITEM_ID_RE.fullmatch(item) and not reserved(item):
                items.setdefault(item, None)
        for item in rating.answers:
            if item in items:
                continue
            if not isinstance(item, str) or not ITEM_ID_RE.fullmatch(item) or reserved(item):
                raise StoreError(
                    f"item {item!r} of instrument {rating.instrument} cannot have a column "
                    "in ratings.csv (it is not an item id, or it is the name of one of "
                    "ratetool's own columns); keep this data folder on the toml store. "
                    "Nothing was written."
                )
            items[item] = None
    return Header.for_items(items)


def column_problem(header: Header | None, instrument: Instrument, path: Path) -> str | None:
    """Why a rating with ``instrument`` cannot be appended to ``path`` with ``header`` (``None``:
    a new file), or ``None``: every item needs a column, fixed when the file was created."""
    from ratetool.csvformat import is_reserved

    if header is None:  # a new file gets a column for every item that can be a column
        unfit = [i for i in instrument.item_ids if not ITEM_ID_RE.fullmatch(i) or is_reserved(i)]
        if unfit:
            return (
                f"item {unfit[0]!r} of instrument {instrument.id} cannot have a column in "
                "ratings.csv (it is the name of one of ratetool's own columns); keep this "
                "data folder on the toml store. Nothing was written."
            )
        return None
    missing = [i for i in instrument.item_ids if i not in header.items]
    if not missing:
        return None
    s = "s" if len(missing) > 1 else ""
    return (
        f"{path} has no column for item{s} {', '.join(missing)} of instrument "
        f"{instrument.id} (its columns were fixed when the file was created, before this "
        "instrument was known). Run `ratetool migrate --to csv` to write a new "
        "ratings.csv with a column for every instrument known now (the old file is "
        "kept), then try again. Nothing was written."
    )
