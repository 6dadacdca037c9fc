"""Validating rows one by one: cells to a ``Rating``, or every problem of the row in plain words.

The rules for cells (dates, answers, skips, client codes) and for repeats within a file are
those of docs/import.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from ratetool.answers import SKIP_WORDS
from ratetool.codes import validate_client_code
from ratetool.corrections import COMPLETED, STATUSES
from ratetool.errors import ClientCodeError, InstrumentError, RatetoolError
from ratetool.importer.rows import (
    ImportFile,
    ImportRow,
    Missing,
    RawRow,
    RowProblem,
    content_key,
)
from ratetool.instruments import ID_RE, Instrument, Registry, check_answer
from ratetool.limits import (
    MAX_PRACTITIONER,
    comment_problem,
    date_problem,
    has_control,
    normalise_line_breaks,
    session_problem,
    visible,
)
from ratetool.model import DATE_ONLY_HOUR, Rating

MAX_ID_LENGTH = 200
_TIME_DIRECTIVES = ("%H", "%I", "%M", "%S", "%X", "%c", "%T", "%R", "%f", "%z")
_WHOLE_RE = re.compile(r"\+?[0-9]+")
#: ``2025-01-09 9:00:00``: a date and a time with a one-digit hour, as Google Sheets writes it.
_ONE_DIGIT_HOUR = re.compile(r"^([0-9]{4}-[0-9]{2}-[0-9]{2}[T ])([0-9]:)")


# --------------------------------------------------------------------------------------------
# Cells (shared by CSV and JSON Lines)


class CellError(ValueError):
    """One problem with one cell or field; ``str(error)`` is the plain message."""


class DateUnreadable(CellError):
    """A date in a form ratetool does not know (a hint about --date-format helps)."""


def parse_import_date(text: str, date_format: str | None) -> datetime:
    """A cell's date and time, time-zone aware; raises ``CellError`` with a plain message.

    ``date_format`` (``strptime`` codes) is tried first, then ISO 8601, also with a one-digit
    hour (``2025-01-09 9:00:00``, as Google Sheets writes dates). Without an offset the time
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
                iso = _ONE_DIGIT_HOUR.sub(r"\g<1>0\g<2>", raw, count=1)
                value = datetime.fromisoformat(iso.replace("Z", "+00:00"))
        except ValueError as exc:
            if "out of range" in str(exc):
                raise CellError(f"date {raw!r} is not a real date") from None
            if date_format:
                raise CellError(
                    f"date {raw!r} does not match --date-format {date_format!r} (nor is it an "
                    "ISO date such as 2026-11-03)"
                ) from None
            raise DateUnreadable(
                f"date {raw!r} is not written as ratetool reads dates: use 2026-11-03 or "
                "2026-11-03T10:50, or give --date-format"
            ) from None
    # The day as written, before any time-zone arithmetic (which fails near year 1 and 9999).
    problem = date_problem(value.date())
    if problem is not None:
        raise CellError(f"date {raw!r}: {problem}; check the year")
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


def whole_number(value: object, what: str, *, minimum: int = 1) -> int | None:
    """A whole number from a cell (text) or JSON value; ``None`` for empty."""
    if value is None or isinstance(value, Missing):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if _WHOLE_RE.fullmatch(text):
            if len(text) > 20:  # and Python reads no more than 4,300 digits as a number
                raise CellError(f"{what} of {len(text):,} digits is too large")
            if int(text) >= minimum:
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
    """A control character, a tab or a line break: not in text that must be one line."""
    return "\t" in text or "\n" in text or has_control(text)


# --------------------------------------------------------------------------------------------
# The instrument of each row


class RowInstruments:
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
class Settings:
    instruments: RowInstruments
    practitioner: str | None
    date_format: str | None
    json: bool = False
    date_unreadable: bool = False


def is_skip(value: object) -> bool:
    if value is None:
        return True
    return isinstance(value, str) and value.strip().casefold() in ("", *SKIP_WORDS)


def validate_row(
    raw: RawRow, instrument: Instrument | None, settings: Settings
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
        session = whole_number(raw.session, "session")
    except CellError as exc:
        problems.append(str(exc))
    else:
        too_high = None if session is None else session_problem(session)
        if too_high is not None:
            problems.append(too_high)
            session = None
    rated_at: datetime | None = None
    if not raw.rated_at or not raw.rated_at.strip():
        problems.append("no date")
    else:
        try:
            rated_at = parse_import_date(raw.rated_at, settings.date_format)
        except DateUnreadable as exc:
            settings.date_unreadable = True
            problems.append(str(exc))
        except CellError as exc:
            problems.append(str(exc))
    given = raw.practitioner
    practitioner = settings.practitioner if isinstance(given, Missing) else given
    if isinstance(practitioner, str):
        practitioner = practitioner.strip() or None
    if practitioner is not None and (
        len(practitioner) > MAX_PRACTITIONER or _has_control(practitioner)
    ):
        problems.append(
            f"practitioner must be short initials or a code on one line (at most "
            f"{MAX_PRACTITIONER} characters)"
        )
    comment = normalise_line_breaks(raw.comment) if raw.comment else None
    if comment:
        unfit = comment_problem(comment)
        if unfit is not None:
            problems.append(unfit)
    status = COMPLETED
    if raw.status is not None:
        status = raw.status.strip().casefold() or COMPLETED
        if status not in STATUSES:
            problems.append(
                f"status {visible(raw.status[:40])!r} is not one ratetool knows: use "
                f"{', '.join(STATUSES[:-1])} or {STATUSES[-1]} (or leave it empty for completed)"
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
        practitioner=practitioner,
        comment=comment or None,
        skipped=tuple(skipped),
    )
    return ImportRow(
        raw.row, rating, has_id=rid is not None, numbered=session is None, status=status
    )


def _answers(
    raw: RawRow, instrument: Instrument, settings: Settings, problems: list[str]
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
        if is_skip(value):
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
        if name.casefold() not in mine and not is_skip(value):
            where = "answers has" if settings.json else "there is a value in column"
            problems.append(f"{where} {name!r}, which is not an item of {instrument.id}")
    for name in raw.skipped or []:
        if name.casefold() not in mine:
            problems.append(f"skipped lists {name!r}, which is not an item of {instrument.id}")
    return answers, skipped


# --------------------------------------------------------------------------------------------
# The whole file


def collect_rows(
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
                if earlier.rating == item.rating and earlier.status == item.status:
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
            key = content_key(item.rating) + (item.rating.session, item.status)
            earlier = by_content.get(key)
            if earlier is not None:
                result.repeats.append((item.row, earlier.row))
                continue
            by_content[key] = item
        result.rows.append(item)
    return result
