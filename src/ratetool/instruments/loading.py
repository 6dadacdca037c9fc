"""Reading instrument files: bytes to a parsed TOML table to an ``Instrument``.

Every failure is an ``InstrumentError`` naming the file, and the line for a TOML syntax error,
with a hint in the practitioner's words (curly quotes, something left open). The file format is
described in docs/instruments.md.
"""

from __future__ import annotations

import os
import re
from typing import Any

from ratetool.errors import InstrumentError
from ratetool.instruments.model import Instrument
from ratetool.instruments.validation import parse_instrument

#: An instrument file is a few kilobytes; refuse to read anything absurdly large.
_MAX_FILE_BYTES = 1_000_000

_SYNTAX_HINT = (
    "Hint: look at that line and the one before it. Each setting is written key = value, text "
    'goes in straight double quotes ("like this"), true and false are lower case, and section '
    "headers such as [scale] or [[items]] stand alone on their own line."
)

#: Quotes that word processors and "smart" editors type instead of the straight ones TOML needs.
_CURLY_QUOTES = "\u201c\u201d\u201e\u2018\u2019"


def parse_toml_text(text: str, shown: str) -> dict[str, Any]:
    """``tomllib.loads`` with syntax errors turned into ``InstrumentError`` naming the line."""
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        where = ""
        hint = _SYNTAX_HINT
        located = re.fullmatch(r"(?s)(.*) \(at line (\d+), column (\d+)\)", message)
        at_end = re.fullmatch(r"(?s)(.*) \(at end of document\)", message)
        if located:
            line_number = int(located.group(2))
            message = f"{located.group(1)} (column {located.group(3)})"
            where = f", line {line_number}"
            lines = text.splitlines()
            line = lines[line_number - 1] if 0 < line_number <= len(lines) else ""
            if any(mark in line for mark in _CURLY_QUOTES):
                hint = (
                    "Hint: this line has curly quotes (“ ” or ‘ ’), which some editors put in "
                    'automatically; replace them with straight double quotes (").'
                )
        elif at_end:
            message = f"{at_end.group(1)} (at the end of the file)"
            hint = (
                'Hint: something opened earlier is never closed: a double quote ("), a '
                "bracket ([ or [[) or a brace ({). Look for the last one you wrote."
            )
        # "Cannot declare ('scale',) twice" -> "Cannot declare [scale] twice"
        message = re.sub(
            r"\(((?:'[^']*',? ?)+)\)",
            lambda m: "[" + ".".join(re.findall(r"'([^']*)'", m.group(1))) + "]",
            message,
        )
        if "overwrite" in message or "twice" in message:
            message += " — a key or [section] is written twice"
        raise InstrumentError(f"{shown}{where}: TOML syntax error: {message}.\n{hint}") from None
    except RecursionError:
        from ratetool.limits import nesting_line, nesting_problem

        raise InstrumentError(f"{shown}, line {nesting_line(text)}: {nesting_problem()}.") from None


def read_toml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and parse one TOML file; every failure is an ``InstrumentError`` naming the file."""
    shown = os.fspath(path)
    if os.path.isdir(path):
        raise InstrumentError(
            f"{shown} is a folder, not an instrument file; give the path of a .toml file."
        )
    try:
        with open(path, "rb") as handle:
            raw = handle.read(_MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise InstrumentError(
            f"{shown}: no such instrument file. Check the spelling and the folder of the path."
        ) from None
    except PermissionError:
        raise InstrumentError(f"{shown} cannot be read: permission denied.") from None
    except OSError as exc:
        raise InstrumentError(f"{shown} cannot be read: {exc.strerror or exc}.") from None
    if len(raw) > _MAX_FILE_BYTES:
        raise InstrumentError(
            f"{shown} is larger than 1 MB, far too large for an instrument file; check the path."
        )
    try:
        text = raw.decode("utf-8-sig")  # forgive the byte-order mark some Windows editors add
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InstrumentError(
            f"{shown}, line {line}: the file is not UTF-8 text. Save it again as UTF-8 (most "
            "editors offer this under 'Save as', 'Encoding')."
        ) from None
    return parse_toml_text(text, shown)


def load_instrument_file(path: str | os.PathLike[str]) -> Instrument:
    """Read, parse and validate one instrument file.

    Raises ``InstrumentError`` naming the file for a missing, unreadable or non-UTF-8 file, the
    file and line for a TOML syntax error, and every definition problem otherwise.
    ``Instrument.source`` is the path as given.
    """
    return parse_instrument(read_toml(path), os.fspath(path))
