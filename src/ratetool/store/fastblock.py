"""A fast reader for the ``[[sessions]]`` blocks exactly as ratetool writes them.

tomllib is correct but reads about 5,000 blocks a second; a data folder of 100,000 sessions would
take 20 s. ratetool writes every block in one fixed layout (``records.session_block``), so this
module reads that layout with a few string operations and returns the same dict tomllib would. It
accepts only a strict subset of TOML: anything else (a hand edit, another order, a comment, a
``[sessions.answers]`` table, a duplicate key) returns ``None`` and the caller uses tomllib, which
also gives the exact error for a damaged block. So this module never decides that a block is
valid or broken; it only makes the common case fast. Tests check it agrees with tomllib.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

# Strings with escapes (rare: plain text takes a shortcut), compiled by ``re`` on first use.
_STRING = r'"((?:[^"\\\x00-\x1f\x7f]|\\(?:[btnfr"\\]|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}))*)"'
_ESCAPE = r'\\(?:([btnfr"\\])|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8}))'
_SIMPLE = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}
_INT = re.compile(r"0|[1-9][0-9]{0,17}")
# What records.toml_datetime writes: date, "T", time to the second or microsecond, numeric offset.
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?[+-]\d{2}:\d{2}")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ORDER = (
    "id",
    "session",
    "rated_at",
    "instrument",
    "instrument_version",
    "practitioner",
    "comment",
    "skipped",
    "answers",
)
_REQUIRED = frozenset(("id", "session", "rated_at", "instrument", "instrument_version", "answers"))


def _unescape_match(m: re.Match[str]) -> str:
    if m.group(1):
        return _SIMPLE[m.group(1)]
    code = int(m.group(2) or m.group(3), 16)
    if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        raise ValueError("not a Unicode scalar value")
    return chr(code)


def _string(text: str) -> str | None:
    body = text[1:-1]
    if len(text) > 1 and text[0] == text[-1] == '"' and body.isprintable():
        if '"' not in body and "\\" not in body:
            return body  # plain text: what _STRING accepts, without running it
    m = re.fullmatch(_STRING, text)
    if m is None:
        return None
    body = m.group(1)
    if "\\" not in body:
        return body
    try:
        return re.sub(_ESCAPE, _unescape_match, body)
    except ValueError:
        return None


def _int(text: str) -> int | None:
    return int(text) if _INT.fullmatch(text) else None


def _datetime(text: str) -> datetime | None:
    if not _DATETIME.fullmatch(text):
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value


def _answers(text: str) -> dict[str, int] | None:
    if text == "{}":
        return {}
    if not (text.startswith("{ ") and text.endswith(" }")):
        return None
    out: dict[str, int] = {}
    for pair in text[2:-2].split(", "):
        key, sep, value = pair.partition(" = ")
        if not sep or not _BARE_KEY.fullmatch(key) or key in out:
            return None
        number = _int(value)
        if number is None:
            return None
        out[key] = number
    return out


def _skipped(text: str) -> list[str] | None:
    if text == "[]":
        return []
    if not (text.startswith("[") and text.endswith("]")):
        return None
    out = []
    for part in text[1:-1].split(", "):
        value = _string(part)
        if value is None or "," in value or "]" in value:  # ids never hold these; be strict
            return None
        out.append(value)
    return out


_PARSERS = {
    "id": _string,
    "session": _int,
    "rated_at": _datetime,
    "instrument": _string,
    "instrument_version": _int,
    "practitioner": _string,
    "comment": _string,
    "skipped": _skipped,
    "answers": _answers,
}


def parse_block(text: str) -> dict[str, Any] | None:
    """The session in one canonical block as tomllib would return it, or ``None`` to fall back.

    ``text`` starts with the ``[[sessions]]`` line; trailing blank lines are allowed.
    """
    lines = text.split("\n")
    if lines[0] != "[[sessions]]":
        return None
    record: dict[str, Any] = {}
    position = 0
    for line in lines[1:]:
        if not line:
            continue
        key, sep, raw = line.partition(" = ")
        if not sep:
            return None
        try:
            at = _ORDER.index(key, position)
        except ValueError:
            return None  # unknown key, duplicate, or out of ratetool's order
        value = _PARSERS[key](raw)
        if value is None:
            return None
        record[key] = value
        position = at + 1
    if not _REQUIRED.issubset(record):
        return None
    if "\r" in text:
        return None
    return record
