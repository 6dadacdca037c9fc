"""Import ratings from a CSV or JSON Lines file: ratetool's own export (also after a trip through a
spreadsheet) or paper forms typed into a sheet.

Two steps, both usable without the command line:

1. ``read_import_file(path, registry, ...)`` reads and validates every row and writes nothing. It
   returns an ``ImportFile``: the valid rows as ``Rating`` objects and each bad row's problems.
   A problem with the file as a whole (not UTF-8, no ``client`` column, an unknown column with
   values in it, broken quoting) raises ``ImportRowsError`` at once.
2. ``run_import(store, import_file, dry_run=..., skip_invalid=...)`` decides, under the data-folder
   lock, what is new and appends it in one ``Store`` write; with ``dry_run`` it only reports.

The rules (the README's "Importing" says the same):

- **CSV**: UTF-8 with or without a byte-order mark (UTF-16 with a BOM too), any line ends; the
  delimiter (``,``, ``;`` or tab) is taken from the header line unless given, and a first line
  ``sep=;`` (Excel's hint) is honoured. The first row names the columns, in any order, ignoring
  upper/lower case. Rows are numbered as a spreadsheet shows them: the header is row 1, the first
  data row is row 2, and a comment with line breaks in it is still one row. Empty rows are left
  out. For JSON Lines the line number is used.
- **Columns**: ``client`` and ``rated_at`` (or ``date``) are needed, and a column for every item
  of each instrument used; ``id``, ``session``, ``instrument`` (default: the configured one),
  ``instrument_version`` (default: the newest), ``practitioner`` (default, when there is no such
  column: the configured one) and ``comment`` are optional. Computed columns (``*_score``,
  ``overall``, ``pomp``, ``total``, ``alerts``) are ignored: scores are always worked out again
  from the answers. With both ``rated_at`` and ``date`` (an XLSX saved as CSV), ``rated_at`` is
  used. Any other column is refused if it holds a value (a misspelt ``comment`` must not be
  dropped silently); an entirely empty one is ignored.
- **Cells**: text cells lose exactly one leading ``'`` (the export's formula escaping, see
  ``ratetool.csvformat``); an answer is a whole number on the instrument's scale; an empty cell
  (or ``s``, ``skip``, ``-``) is a skipped item, refused unless the instrument allows skipping;
  dates are ISO 8601 (``2026-11-03``, ``2026-11-03T10:50``, ``2026-11-03T10:50:00+01:00``) or
  match ``--date-format``; a date or time without an offset is local time, a date alone is noon
  local time; dates before 1900 or more than a day in the future are refused.
- **Idempotent**: a row whose ``id`` is already in the data folder is skipped as a duplicate. A
  row without an ``id`` that equals a stored rating in everything else (client, moment, instrument
  and version, answers, skips, practitioner, comment) is skipped too, so importing the same paper
  forms twice adds nothing twice. The same rating twice in one file counts once; the same ``id``
  with different values is a bad row.
- **Session numbers**: a row with a ``session`` keeps it; rows without one are numbered after the
  client's highest session (stored or imported), in date order per client.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ratetool.answers import MAX_PRACTITIONER, SKIP_WORDS
from ratetool.csvformat import (
    COMMENT_COLUMN,
    DATE_COLUMN,
    FIXED_COLUMNS,
    is_computed,
    unescape_text,
)
from ratetool.errors import ClientCodeError, ImportRowsError, InstrumentError, RatetoolError
from ratetool.instruments import ID_RE, Instrument, Registry, check_answer
from ratetool.model import DATE_ONLY_HOUR, Rating, validate_client_code

if TYPE_CHECKING:
    from ratetool.store import Store

#: Problems listed in a message at most; the rest are counted.
MAX_LISTED = 100
MAX_ID_LENGTH = 200
EARLIEST_YEAR = 1900
DELIMITER_NAMES = {",": ",", ";": ";", "tab": "\t", "\\t": "\t", "\t": "\t", "|": "|"}
JSON_SUFFIXES = (".jsonl", ".json", ".ndjson")

#: Columns of the CSV live store (``ratings.csv``) besides the export's: ``skipped`` repeats what
#: the empty item cells say, and ``format`` is the data-format version of the row.
_STORE_COLUMNS = ("skipped", "format")
_KNOWN_COLUMNS = (*FIXED_COLUMNS, DATE_COLUMN, COMMENT_COLUMN, *_STORE_COLUMNS)
_JSON_KEYS = frozenset({*FIXED_COLUMNS, DATE_COLUMN, COMMENT_COLUMN, "answers", "skipped"})
_JSON_COMPUTED = frozenset({"dimensions", "overall", "pomp", "total", "alerts"})
_TIME_DIRECTIVES = ("%H", "%I", "%M", "%S", "%X", "%c", "%T", "%R", "%f", "%z")
_WHOLE_RE = re.compile(r"\+?[0-9]+")
_SEP_LINE = re.compile(r"sep=(.)\s*", re.IGNORECASE)


class _Missing:
    """The column or key is not in the file at all (as opposed to an empty cell)."""


MISSING = _Missing()


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
    """A valid row: the rating to store (``session`` 0 while ``numbered`` is pending)."""

    row: int
    rating: Rating
    has_id: bool
    numbered: bool


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
class ImportResult:
    """What an import did (or, with ``dry_run``, would do)."""

    imported: list[Rating]
    #: ``(row, why)`` for each row skipped as a duplicate.
    duplicates: list[tuple[int, str]]
    rejected: list[RowProblem]
    notes: list[str]
    dry_run: bool
    unit: str = "row"

    def summary(self) -> str:
        n, d, r = len(self.imported), len(self.duplicates), len({p.row for p in self.rejected})
        if self.dry_run:
            return (
                f"Dry run: would import {n}, skip {d} as duplicates, reject {r}. "
                "Nothing was written."
            )
        return f"Imported {n}, skipped {d} as duplicates, rejected {r}."


# --------------------------------------------------------------------------------------------
# Small readers shared by CSV and JSON Lines


class CellError(ValueError):
    """One problem with one cell or field; ``str(error)`` is the plain message."""


class _DateUnreadable(CellError):
    """A date in a form ratetool does not know (a hint about --date-format helps)."""


def parse_import_date(text: str, date_format: str | None) -> datetime:
    """A cell's date and time, time-zone aware; raises ``CellError`` with a plain message.

    ``date_format`` (``strptime`` codes) is tried first, then ISO 8601. Without an offset the time
    is local time (with the offset in force on that date); a date alone is noon local time.
    """
    raw = text.strip()
    value: datetime | None = None
    if date_format:
        try:
            value = datetime.strptime(raw, date_format)
        except ValueError as exc:
            if "does not match" not in str(exc) and "unconverted data" not in str(exc):
                raise CellError(f"date {raw!r} is not a real date") from None
        else:
            if not any(d in date_format for d in _TIME_DIRECTIVES):
                value = value.replace(hour=DATE_ONLY_HOUR)
    if value is None:
        try:
            if len(raw) == 10:
                value = datetime.combine(date.fromisoformat(raw), time(DATE_ONLY_HOUR))
            else:
                value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError as exc:
            if "out of range" in str(exc):
                raise CellError(f"date {raw!r} is not a real date") from None
            if date_format:
                raise CellError(
                    f"date {raw!r} does not match --date-format {date_format!r} (nor is it an "
                    "ISO date such as 2026-11-03)"
                ) from None
            raise _DateUnreadable(
                f"date {raw!r} is not written as ratetool reads dates: use 2026-11-03 or "
                "2026-11-03T10:50, or give --date-format"
            ) from None
    if value.year < EARLIEST_YEAR:
        raise CellError(f"date {raw!r} is before {EARLIEST_YEAR}; check the year")
    now = datetime.now() if value.tzinfo is None else datetime.now().astimezone()
    if value > now + timedelta(days=1):
        raise CellError(f"date {raw!r} is in the future")
    if value.tzinfo is None:
        value = value.astimezone()  # local time, with the offset in force on that date
    return value


def check_date_format(date_format: str) -> None:
    """Refuse a ``--date-format`` that is no ``strptime`` format (a bad ``%`` code)."""
    if not date_format.strip() or "%" not in date_format:
        raise RatetoolError(
            f'--date-format {date_format!r} has no date codes; write it like "%d.%m.%Y %H:%M" '
            "(%d day, %m month, %Y year, %H hour, %M minute)."
        )
    try:
        datetime.strptime("", date_format)
    except ValueError as exc:
        if "directive" in str(exc) or "stray %" in str(exc):
            raise RatetoolError(
                f"--date-format {date_format!r} is not a date format ({exc}); write it like "
                '"%d.%m.%Y %H:%M" (%d day, %m month, %Y year, %H hour, %M minute).'
            ) from None


def _whole(value: object, what: str, *, minimum: int = 1) -> int | None:
    """A whole number from a cell (text) or JSON value; ``None`` for empty."""
    if value is None or value is MISSING:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if _WHOLE_RE.fullmatch(text) and int(text) >= minimum:
            return int(text)
        raise CellError(f"{what} {text!r} is not a whole number from {minimum}")
    if isinstance(value, int) and not isinstance(value, bool) and value >= minimum:
        return value
    raise CellError(f"{what} {value!r} is not a whole number from {minimum}")


def _client(value: str | None) -> str:
    if not value:
        raise CellError("no client code")
    try:
        return validate_client_code(value)
    except ClientCodeError as exc:
        # The first sentence says what is wrong; the rest is the general advice about codes.
        raise CellError(str(exc).split(" Use a pseudonymous code")[0].rstrip(".")) from None


def _one_line(message: str) -> str:
    return " ".join(part.strip() for part in message.splitlines() if part.strip())


def _has_control(text: str) -> bool:
    return any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text)


# --------------------------------------------------------------------------------------------
# Instruments


class _Instruments:
    """Finds the instrument of each row, once per (id, version)."""

    def __init__(self, registry: Registry, default_ref: str) -> None:
        self.registry = registry
        self.default_ref = default_ref
        self._cache: dict[tuple[str | None, int | None], Instrument | str] = {}
        self._known: list[str] | None = None

    def known_ids(self) -> list[str]:
        if self._known is None:
            listing = self.registry.list()
            self._known = list(dict.fromkeys(x.instrument.id for x in listing if x.instrument))
        return self._known

    def all_item_ids(self) -> set[str]:
        """Item ids (casefolded) of every usable instrument here, any version."""
        return {
            item.casefold()
            for x in self.registry.list()
            if x.instrument is not None
            for item in x.instrument.item_ids
        }

    def get(self, ref: str | None, version: int | None) -> Instrument:
        key = (ref, version)
        if key not in self._cache:
            try:
                self._cache[key] = self._find(ref, version)
            except CellError as exc:
                self._cache[key] = str(exc)
            except InstrumentError as exc:
                self._cache[key] = _one_line(str(exc))
        found = self._cache[key]
        if isinstance(found, str):
            raise CellError(found)
        return found

    def _find(self, ref: str | None, version: int | None) -> Instrument:
        if ref is None:
            try:
                default = self.registry.get(self.default_ref)
            except InstrumentError as exc:
                raise CellError(
                    f"no instrument given and the default instrument {self.default_ref!r} cannot "
                    f"be used: {_one_line(str(exc))}"
                ) from None
            if version is None or version == default.version:
                return default
            ref = default.id
        if not ID_RE.fullmatch(ref):
            raise CellError(f"instrument {ref!r} is not an instrument id")
        if version is not None:
            found = self.registry.get_version(ref, version)
            if found is None:
                raise CellError(
                    f"instrument {ref} version {version} is not defined here; copy its .toml "
                    "file into the instruments folder (ratetool paths shows where)"
                )
            return found
        if ref not in self.known_ids():
            raise CellError(
                f"instrument {ref!r} is not known here (known: {', '.join(self.known_ids())})"
            )
        return self.registry.get(ref)


# --------------------------------------------------------------------------------------------
# One row


@dataclass
class _RawRow:
    """One row's fields as found in the file, before validation."""

    row: int
    id: str | None = None
    client: str | None = None
    session: object = None
    rated_at: str | None = None
    instrument: str | None = None
    version: object = None
    practitioner: str | None | _Missing = MISSING
    comment: str | None = None
    #: Item id (as written) -> cell text or JSON value; ``None`` is a skip.
    answers: dict[str, object] = field(default_factory=dict)
    #: JSON Lines only: items listed under ``skipped``.
    skipped: list[str] | None = None
    problems: list[str] = field(default_factory=list)


@dataclass
class _Settings:
    instruments: _Instruments
    practitioner: str | None
    date_format: str | None
    json: bool = False
    date_unreadable: bool = False


def _is_skip(value: object) -> bool:
    if value is None:
        return True
    return isinstance(value, str) and value.strip().casefold() in ("", *SKIP_WORDS)


def _validate(
    raw: _RawRow, instrument: Instrument | None, settings: _Settings
) -> ImportRow | list[str]:
    problems = list(raw.problems)
    rid = raw.id or None
    if rid is not None and (len(rid) > MAX_ID_LENGTH or _has_control(rid)):
        problems.append(f"id must be one line of at most {MAX_ID_LENGTH} characters")
    try:
        client = _client(raw.client)
    except CellError as exc:
        problems.append(str(exc))
        client = ""
    session: int | None = None
    try:
        session = _whole(raw.session, "session")
    except CellError as exc:
        problems.append(str(exc))
    rated_at: datetime | None = None
    if not raw.rated_at or not raw.rated_at.strip():
        problems.append("no date")
    else:
        try:
            rated_at = parse_import_date(raw.rated_at, settings.date_format)
        except _DateUnreadable as exc:
            settings.date_unreadable = True
            problems.append(str(exc))
        except CellError as exc:
            problems.append(str(exc))
    practitioner = settings.practitioner if raw.practitioner is MISSING else raw.practitioner
    if isinstance(practitioner, str):
        practitioner = practitioner.strip() or None
    if practitioner is not None and (
        len(practitioner) > MAX_PRACTITIONER or _has_control(practitioner)
    ):
        problems.append(
            f"practitioner must be short initials or a code on one line (at most "
            f"{MAX_PRACTITIONER} characters)"
        )
    answers: dict[str, int] = {}
    skipped: list[str] = []
    if instrument is not None:
        answers, skipped = _answers(raw, instrument, settings, problems)
    if problems or instrument is None or rated_at is None:
        return problems
    from ratetool.store.records import new_id

    rating = Rating(
        id=rid or new_id(),
        client=client,
        session=session or 0,
        rated_at=rated_at,
        instrument=instrument.id,
        instrument_version=instrument.version,
        answers=answers,
        practitioner=practitioner,  # type: ignore[arg-type]
        comment=raw.comment or None,
        skipped=tuple(skipped),
    )
    return ImportRow(raw.row, rating, has_id=rid is not None, numbered=session is None)


def _answers(
    raw: _RawRow, instrument: Instrument, settings: _Settings, problems: list[str]
) -> tuple[dict[str, int], list[str]]:
    answers: dict[str, int] = {}
    skipped: list[str] = []
    given = {k.casefold(): v for k, v in raw.answers.items()}
    listed_skips = {s.casefold() for s in raw.skipped or []}
    scale = instrument.scale
    for item_id in instrument.item_ids:
        key = item_id.casefold()
        if settings.json:
            if key in given and key in listed_skips:
                problems.append(f"{item_id} is both answered and listed under skipped")
                continue
            if key not in given and key not in listed_skips:
                problems.append(f"{item_id}: no answer, and not listed under skipped")
                continue
            value = None if key in listed_skips else given[key]
        else:
            value = given.get(key)
        if _is_skip(value):
            if instrument.allow_skip:
                skipped.append(item_id)
            else:
                problems.append(
                    f"{item_id}: no answer, and {instrument.id} does not allow skipping; give a "
                    f"whole number from {scale.min} to {scale.max}"
                )
            continue
        try:
            answers[item_id] = check_answer(instrument, item_id, value)  # type: ignore[arg-type]
        except RatetoolError as exc:
            problems.append(str(exc).rstrip("."))
    mine = {i.casefold() for i in instrument.item_ids}
    for name, value in raw.answers.items():
        if name.casefold() not in mine and not _is_skip(value):
            where = "answers has" if settings.json else "there is a value in column"
            problems.append(f"{where} {name!r}, which is not an item of {instrument.id}")
    for name in raw.skipped or []:
        if name.casefold() not in mine:
            problems.append(f"skipped lists {name!r}, which is not an item of {instrument.id}")
    return answers, skipped


# --------------------------------------------------------------------------------------------
# Reading files


def _decode(path: Path, data: bytes) -> str:
    if data.startswith(b"PK\x03\x04"):
        raise ImportRowsError(
            f"{path} is a spreadsheet workbook (XLSX), not CSV. In your spreadsheet use Save As "
            "(or Download) and choose 'CSV UTF-8', then import that file. Nothing was written."
        )
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportRowsError(
            f"{path}, line {line}: the file is not UTF-8 text. In Excel use Save As and choose "
            "'CSV UTF-8 (Comma delimited)'; in LibreOffice tick 'Edit filter settings' and choose "
            "'Unicode (UTF-8)'. Nothing was written."
        ) from None


def _detect_delimiter(header_line: str) -> str:
    """The most frequent of ``,``, ``;`` and tab outside quotes in the header line."""
    counts = {",": 0, ";": 0, "\t": 0}
    quoted = False
    for ch in header_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def delimiter_from_option(text: str) -> str:
    """``--delimiter``: ``,``, ``;``, ``tab`` (or ``\\t``) or ``|``."""
    found = DELIMITER_NAMES.get(text.strip().lower() if text.strip() else text)
    if found is None:
        raise RatetoolError(f"--delimiter {text!r} is not supported; use ',', ';', 'tab' or '|'.")
    return found


def read_import_file(
    path: Path,
    registry: Registry,
    *,
    default_instrument: str = "checkin",
    practitioner: str | None = None,
    date_format: str | None = None,
    delimiter: str | None = None,
) -> ImportFile:
    """Read and validate ``path`` (CSV or JSON Lines); writes nothing.

    ``default_instrument`` is used for rows that name none; ``practitioner`` for files without a
    practitioner column (or key). Raises ``ImportRowsError`` for a problem with the whole file.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImportRowsError(f"{path}: no such file. Nothing was written.") from None
    except IsADirectoryError:
        raise ImportRowsError(f"{path} is a folder; give the path of a CSV file.") from None
    except OSError as exc:
        raise ImportRowsError(
            f"{path}: cannot read ({exc.strerror}). Nothing was written."
        ) from None
    if date_format is not None:
        check_date_format(date_format)
    text = _decode(path, data)
    settings = _Settings(_Instruments(registry, default_instrument), practitioner, date_format)
    stripped = text.lstrip()
    if path.suffix.lower() in JSON_SUFFIXES or stripped.startswith(("{", "[")):
        if stripped.startswith("["):
            raise ImportRowsError(
                f"{path} holds a JSON array; ratetool imports JSON Lines (one record per line), "
                "as `ratetool export --format json` writes. Nothing was written."
            )
        settings.json = True
        result = _read_jsonl(path, text, settings)
    else:
        result = _read_csv(path, text, settings, delimiter)
    result.date_hint = settings.date_unreadable and not date_format
    return result


def _finish(
    result: ImportFile, validated: Iterable[ImportRow | tuple[int, list[str]]]
) -> ImportFile:
    """Collect valid rows and problems; find the same rating twice, and ids used twice."""
    by_id: dict[str, ImportRow] = {}
    by_content: dict[tuple[Any, ...], ImportRow] = {}
    for item in validated:
        if isinstance(item, tuple):
            row, problems = item
            result.problems.extend(RowProblem(row, p, result.unit) for p in problems)
            continue
        if item.has_id:
            earlier = by_id.get(item.rating.id)
            if earlier is not None:
                if earlier.rating == item.rating:
                    result.repeats.append((item.row, earlier.row))
                else:
                    result.problems.append(
                        RowProblem(
                            item.row,
                            f"id {item.rating.id} is also on {result.unit} {earlier.row} with "
                            "different values; an id belongs to one rating",
                            result.unit,
                        )
                    )
                continue
            by_id[item.rating.id] = item
        else:
            key = content_key(item.rating) + (item.rating.session,)
            earlier = by_content.get(key)
            if earlier is not None:
                result.repeats.append((item.row, earlier.row))
                continue
            by_content[key] = item
        result.rows.append(item)
    return result


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


# -- CSV --------------------------------------------------------------------------------------


def _read_csv(path: Path, text: str, settings: _Settings, delimiter: str | None) -> ImportFile:
    import csv
    import io

    first_line, _, rest = text.partition("\n")
    sep = _SEP_LINE.fullmatch(first_line.rstrip("\r"))
    if sep:
        text = rest
        delimiter = delimiter or sep.group(1)
        first_line = text.partition("\n")[0]
    delimiter = delimiter or _detect_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    result = ImportFile(path, "csv", "row", delimiter=delimiter)
    row_number = 1
    try:
        header = next(reader, None)
        if header is None or not any(h.strip() for h in header):
            raise ImportRowsError(
                f"{path}: the file is empty; the first row must name the columns (client, date, "
                "one column per item, comment). Nothing was written."
            )
        records: list[tuple[int, list[str]]] = []
        for row_number, cells in enumerate(reader, start=2):
            if any(c.strip() for c in cells):
                records.append((row_number, cells))
    except csv.Error as exc:
        raise ImportRowsError(
            f"{path}, row {row_number + 1}: the file's quoting is broken ({exc}): a cell that "
            "starts with a double quote must end with one. Rows from there on cannot be read. "
            "Nothing was written."
        ) from None
    columns = _columns(path, header)
    raws = [_csv_raw(number, cells, header, columns) for number, cells in records]
    instruments = _row_instruments(raws, settings)
    _check_columns(path, columns, raws, instruments, settings.instruments.all_item_ids())
    validated: list[ImportRow | tuple[int, list[str]]] = []
    for raw, instrument in zip(raws, instruments):
        if isinstance(instrument, str):
            raw.problems.append(instrument)
            instrument = None
        outcome = _validate(raw, instrument, settings)
        validated.append((raw.row, outcome) if isinstance(outcome, list) else outcome)
    return _finish(result, validated)


@dataclass
class _Columns:
    """The header: known column -> index, item candidates, ignored computed columns."""

    known: dict[str, int]
    items: dict[str, int]  # name as written -> index
    names: list[str]


def _columns(path: Path, header: list[str]) -> _Columns:
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
    return _Columns(known, items, names)


def _csv_raw(number: int, cells: list[str], header: list[str], columns: _Columns) -> _RawRow:
    raw = _RawRow(number)
    width = len(header)
    extra = [c for c in cells[width:] if c.strip()]
    if extra:
        raw.problems.append(
            f"has {len(cells) - width} more cells than the header has columns; check for a "
            "stray delimiter"
        )
    cells = cells + [""] * (width - len(cells))

    def cell(name: str) -> str | _Missing:
        index = columns.known.get(name)
        return MISSING if index is None else cells[index]

    def text(name: str) -> str | None:
        value = cell(name)
        if isinstance(value, _Missing):
            return None
        return unescape_text(value.strip()).strip() or None

    raw.id = text("id")
    raw.client = text("client")
    raw.session = text("session")
    raw.rated_at = text("rated_at") or text(DATE_COLUMN)
    raw.instrument = text("instrument")
    raw.version = text("instrument_version")
    practitioner = cell("practitioner")
    if not isinstance(practitioner, _Missing):
        raw.practitioner = unescape_text(practitioner.strip()) or None
    comment = cell(COMMENT_COLUMN)
    if not isinstance(comment, _Missing):
        raw.comment = unescape_text(comment) or None
    for name, index in columns.items.items():
        raw.answers[name] = cells[index]
    fmt = text("format")
    if fmt is not None and fmt != "1":
        raw.problems.append(
            f"was written by a newer ratetool (data format {fmt}); this ratetool reads format 1. "
            "Update ratetool to import it"
        )
    listed = text("skipped")
    if listed is not None:
        for item_id in (i.strip() for i in listed.split(";")):
            if item_id and raw.answers.get(item_id, "").strip():
                raw.problems.append(
                    f"'skipped' names {item_id}, but its cell holds an answer; clear one of them"
                )
    for index, name in enumerate(columns.names):
        if not name and index < len(cells) and cells[index].strip():
            raw.problems.append(
                f"there is a value in column {index + 1}, which has no name in the header"
            )
    return raw


def _row_instruments(raws: list[_RawRow], settings: _Settings) -> list[Instrument | str]:
    """Each row's instrument, or the problem finding it."""
    found: list[Instrument | str] = []
    for raw in raws:
        try:
            version = _whole(raw.version, "instrument_version")
            found.append(settings.instruments.get(raw.instrument, version))
        except CellError as exc:
            found.append(str(exc))
    return found


def _check_columns(
    path: Path,
    columns: _Columns,
    raws: list[_RawRow],
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
        rows = [raw.row for raw in raws if not _is_skip(raw.answers.get(name))]
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


# -- JSON Lines -----------------------------------------------------------------------------


def _read_jsonl(path: Path, text: str, settings: _Settings) -> ImportFile:
    import json

    result = ImportFile(path, "jsonl", "line")
    validated: list[ImportRow | tuple[int, list[str]]] = []
    # Split on "\n" only: str.splitlines() would also split inside text at U+2028 and friends,
    # which JSON leaves unescaped.
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            validated.append((number, [f"not valid JSON ({exc.msg}, column {exc.colno})"]))
            continue
        if not isinstance(record, dict):
            validated.append((number, ["not a JSON object ({...})"]))
            continue
        raw = _json_raw(number, record)
        instrument: Instrument | None = None
        try:
            version = _whole(raw.version, "instrument_version")
            instrument = settings.instruments.get(raw.instrument, version)
        except CellError as exc:
            raw.problems.append(str(exc))
        outcome = _validate(raw, instrument, settings)
        validated.append((number, outcome) if isinstance(outcome, list) else outcome)
    return _finish(result, validated)


def _json_text(record: Mapping[str, Any], key: str, raw: _RawRow) -> str | None:
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raw.problems.append(f"{key} must be text, not {value!r}")
        return None
    return value


def _json_raw(number: int, record: dict[str, Any]) -> _RawRow:
    raw = _RawRow(number)
    unknown = sorted(k for k in record if k not in _JSON_KEYS and k not in _JSON_COMPUTED)
    if unknown:
        raw.problems.append(f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}")
    rid = _json_text(record, "id", raw)
    raw.id = (rid.strip() or None) if rid is not None else None
    client = _json_text(record, "client", raw)
    raw.client = client.strip() if client else None
    raw.session = record.get("session")
    raw.rated_at = _json_text(record, "rated_at", raw) or _json_text(record, DATE_COLUMN, raw)
    raw.instrument = _json_text(record, "instrument", raw)
    raw.version = record.get("instrument_version")
    if "practitioner" in record:
        raw.practitioner = _json_text(record, "practitioner", raw)
    raw.comment = _json_text(record, COMMENT_COLUMN, raw)
    answers = record.get("answers", {})
    if not isinstance(answers, dict):
        raw.problems.append("answers must be an object of item: whole number")
        answers = {}
    raw.answers = {str(k): v for k, v in answers.items()}
    skipped = record.get("skipped", [])
    if not isinstance(skipped, list) or not all(isinstance(s, str) for s in skipped):
        raw.problems.append("skipped must be a list of item ids")
        skipped = []
    raw.skipped = skipped
    return raw


# --------------------------------------------------------------------------------------------
# Writing


@dataclass
class _Plan:
    to_add: list[Rating]
    duplicates: list[tuple[int, str]]
    notes: list[str]


def _plan(import_file: ImportFile, existing: list[Rating]) -> _Plan:
    """What to append, given what is stored: duplicates out, session numbers in."""
    unit = import_file.unit
    stored_by_id = {r.id: r for r in existing}
    stored_content = {content_key(r) for r in existing}
    highest: dict[str, int] = {}
    for r in existing:
        highest[r.client] = max(highest.get(r.client, 0), r.session)
    duplicates = [
        (row, f"the same rating as {unit} {earlier}") for row, earlier in import_file.repeats
    ]
    notes: list[str] = []
    keep: list[ImportRow] = []
    number: list[ImportRow] = []
    for item in import_file.rows:
        stored = stored_by_id.get(item.rating.id) if item.has_id else None
        if stored is not None:
            duplicates.append((item.row, f"id {item.rating.id} is already stored"))
            if content_key(stored) != content_key(item.rating):
                notes.append(
                    f"{unit} {item.row}: id {item.rating.id} is already stored with different "
                    f"values (client {stored.client}, session {stored.session}); the stored "
                    "rating was kept"
                )
            continue
        if not item.has_id and content_key(item.rating) in stored_content:
            duplicates.append((item.row, "the same rating is already stored"))
            continue
        (number if item.numbered else keep).append(item)
    # A row that brings its own session number keeps it, unless that client already has that
    # number for another rating (a colleague's export for the same code): then it is numbered
    # like a row without one, and the summary says so.
    taken = {(r.client, r.session) for r in existing}
    collided: dict[int, int] = {}  # row -> the session number it asked for
    kept: list[ImportRow] = []
    for item in keep:
        key = (item.rating.client, item.rating.session)
        if key in taken:
            collided[item.row] = item.rating.session
            number.append(item)
            continue
        taken.add(key)
        kept.append(item)
    keep = kept
    for item in keep:
        client = item.rating.client
        highest[client] = max(highest.get(client, 0), item.rating.session)
    latest: dict[str, Rating] = {}
    for r in [*existing, *(i.rating for i in keep)]:
        if r.client not in latest or r.rated_at > latest[r.client].rated_at:
            latest[r.client] = r
    numbered: list[tuple[int, Rating]] = []
    for item in sorted(number, key=lambda i: (i.rating.client, i.rating.rated_at, i.row)):
        client = item.rating.client
        highest[client] = highest.get(client, 0) + 1
        rating = replace(item.rating, session=highest[client])
        if item.row in collided:
            notes.append(
                f"{unit} {item.row}: {client} already has a session {collided[item.row]} (another "
                f"rating); this one is saved as session {rating.session}"
            )
        before = latest.get(client)
        if before is not None and rating.rated_at < before.rated_at:
            notes.append(
                f"{unit} {item.row}: {client} becomes session {rating.session}, but it is dated "
                f"{rating.rated_at.date()}, before session {before.session} "
                f"({before.rated_at.date()}); new sessions are numbered after the stored ones"
            )
        latest[client] = rating if before is None or rating.rated_at >= before.rated_at else before
        numbered.append((item.row, rating))
    to_add = [i.rating for i in keep] + [r for _, r in numbered]
    return _Plan(to_add, sorted(duplicates), notes)


def problem_report(import_file: ImportFile, *, limit: int = MAX_LISTED) -> list[str]:
    """One line per problem (``<file>, row N: ...``), at most ``limit``, then a count."""
    lines = [f"{import_file.path}, {p}" for p in import_file.problems[:limit]]
    if len(import_file.problems) > limit:
        lines.append(f"... and {len(import_file.problems) - limit} more problems.")
    if import_file.date_hint:
        lines.append(
            "Hint: if your spreadsheet writes dates like 03.11.2026 10:50, add --date-format "
            '"%d.%m.%Y %H:%M" (%d day, %m month, %Y year, %H hour, %M minute).'
        )
    return lines


def run_import(
    store: Store,
    import_file: ImportFile,
    *,
    dry_run: bool = False,
    skip_invalid: bool = False,
) -> ImportResult:
    """Append the new ratings of ``import_file`` to ``store`` (or, ``dry_run``, only say what
    would happen).

    With bad rows and without ``skip_invalid`` nothing is written and ``ImportRowsError`` lists
    every problem. Everything is decided and appended under the data-folder lock, in one store
    write, so a concurrent ``rate`` never gets the same session number and a data file that
    cannot be appended to stops the import before anything is written.
    """
    from ratetool.store import refuse_if_problems

    if import_file.problems and not skip_invalid:
        bad = len(import_file.bad_rows)
        good = len(import_file.rows) + len(import_file.repeats)
        unit = import_file.unit
        raise ImportRowsError(
            "\n".join(
                [
                    f"{import_file.path}: {bad} of {import_file.row_count} {unit}s cannot be "
                    "imported:",
                    *("  " + line for line in problem_report(import_file)),
                    f"Nothing was written. Fix {'this' if bad == 1 else 'these'} {unit}"
                    f"{'' if bad == 1 else 's'} and import again"
                    + (
                        f", or add --skip-invalid to import the {good} good "
                        f"{unit}{'' if good == 1 else 's'} and leave "
                        f"{'it' if bad == 1 else 'these'} out."
                        if good
                        else "."
                    ),
                ]
            )
        )

    def decide() -> _Plan:
        current = store.read_all()
        plan = _plan(import_file, current.ratings)
        targets = {store.file_for(r.client) for r in plan.to_add}
        refuse_if_problems(p for p in current.problems if p.path in targets)
        return plan

    if dry_run:
        plan = decide()
        added = plan.to_add
    else:
        with store.lock():
            plan = decide()
            added = []
            if plan.to_add:
                result = store._add_locked(plan.to_add, False, True)  # the lock is held
                added = result.added
    return ImportResult(
        imported=added,
        duplicates=plan.duplicates,
        rejected=list(import_file.problems),
        notes=plan.notes,
        dry_run=dry_run,
        unit=import_file.unit,
    )
