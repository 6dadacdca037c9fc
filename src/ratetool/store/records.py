"""Turning a stored record (a dict read from TOML or CSV) into a ``Rating``, and back to TOML text.

Both stores and the importer use ``rating_from_record`` so a record is judged by one set of rules.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from ratetool.codes import CLIENT_CODE_RE
from ratetool.model import DATE_ONLY_HOUR, Rating

REQUIRED = ("id", "session", "rated_at", "instrument", "instrument_version", "answers")
OPTIONAL = ("practitioner", "comment", "skipped")
KNOWN = frozenset(REQUIRED + OPTIONAL)
ITEM_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


class RecordError(ValueError):
    """A record is missing a field or holds a wrong value. ``args[0]`` is a plain sentence."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def new_id() -> str:
    return str(uuid.uuid4())


def rating_from_record(record: dict[str, Any], client: str) -> Rating:
    """Validate a record's shape and types; raise ``RecordError`` naming the field."""
    missing = [key for key in REQUIRED if key not in record]
    if missing:
        raise RecordError(f"missing {', '.join(missing)}")
    unknown = sorted(set(record) - KNOWN)
    if unknown:
        raise RecordError(f"unknown key {', '.join(unknown)}")
    rid = record["id"]
    if not isinstance(rid, str) or not rid.strip():
        raise RecordError("id must be non-empty text")
    session = record["session"]
    if not _is_int(session) or session < 1:
        raise RecordError(f"session must be a whole number from 1 (got {session!r})")
    rated_at = record["rated_at"]
    if isinstance(rated_at, date) and not isinstance(rated_at, datetime):
        rated_at = datetime.combine(rated_at, time(DATE_ONLY_HOUR)).astimezone()
    if not isinstance(rated_at, datetime):
        raise RecordError("rated_at must be a date and time, e.g. 2026-11-28T10:50:00+01:00")
    if rated_at.tzinfo is None:
        rated_at = rated_at.astimezone()  # a hand-typed local time: read it as local
    instrument = record["instrument"]
    if not isinstance(instrument, str) or not ITEM_ID_RE.fullmatch(instrument):
        raise RecordError("instrument must be an instrument id")
    version = record["instrument_version"]
    if not _is_int(version) or version < 1:
        raise RecordError("instrument_version must be a whole number from 1")
    answers = record["answers"]
    if not isinstance(answers, dict):
        raise RecordError("answers must be a table of item = whole number")
    clean: dict[str, int] = {}
    for key, value in answers.items():
        if not _is_int(value):
            raise RecordError(f"answer {key} = {value!r} is not a whole number")
        clean[key] = value
    skipped = record.get("skipped", [])
    if not isinstance(skipped, list) or not all(isinstance(s, str) for s in skipped):
        raise RecordError("skipped must be a list of item ids")
    both = set(skipped) & set(clean)
    if both:
        raise RecordError(f"item {', '.join(sorted(both))} is both answered and skipped")
    practitioner = record.get("practitioner")
    if practitioner is not None and not isinstance(practitioner, str):
        raise RecordError("practitioner must be text")
    comment = record.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise RecordError("comment must be text")
    if not CLIENT_CODE_RE.fullmatch(client):
        raise RecordError(f"client code {client!r} is not valid")
    return Rating(
        id=rid,
        client=client,
        session=session,
        rated_at=rated_at,
        instrument=instrument,
        instrument_version=version,
        answers=clean,
        practitioner=practitioner or None,
        comment=comment if comment else None,
        skipped=tuple(skipped),
    )


# -- TOML text ---------------------------------------------------------------------------------

_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def toml_string(text: str) -> str:
    """A TOML basic string: one line, every control character escaped."""
    out = ['"']
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def toml_datetime(value: datetime) -> str:
    offset = value.utcoffset()
    if offset is None:
        raise ValueError("rated_at must be time-zone aware")
    if offset % timedelta(minutes=1):  # TOML offsets are whole minutes (LMT is not)
        value = value.astimezone(UTC)
    text = value.isoformat()
    return text


def session_block(rating: Rating) -> str:
    """The ``[[sessions]]`` block appended for one rating (starts with a blank line).

    No blank line and no multi-line string inside, so a block is easy to read and to find.
    """
    lines = [
        "",
        "[[sessions]]",
        f"id = {toml_string(rating.id)}",
        f"session = {rating.session}",
        f"rated_at = {toml_datetime(rating.rated_at)}",
        f"instrument = {toml_string(rating.instrument)}",
        f"instrument_version = {rating.instrument_version}",
    ]
    if rating.practitioner:
        lines.append(f"practitioner = {toml_string(rating.practitioner)}")
    if rating.comment:
        lines.append(f"comment = {toml_string(rating.comment)}")
    if rating.skipped:
        lines.append("skipped = [" + ", ".join(toml_string(s) for s in rating.skipped) + "]")
    # The answers go last, on one line, as an inline table: a block cut short by a crash then
    # always fails to parse or lacks its answers, so it can never read as a different rating.
    pairs = ", ".join(f"{key} = {value}" for key, value in rating.answers.items())
    lines.append(f"answers = {{ {pairs} }}" if pairs else "answers = {}")
    return "\n".join(lines) + "\n"


def file_header(client: str, data_format: int) -> str:
    return (
        "# ratetool ratings for one client: one [[sessions]] block per rating, oldest first.\n"
        "# ratetool only ever appends to this file. Answers are whole numbers on the\n"
        "# instrument's scale; a skipped item is listed under `skipped`, never stored as 0.\n"
        f"format = {data_format}\n"
        f"client = {toml_string(client)}\n"
    )
