"""The limits a rating is held to, the same at every way in: ``rate``, ``import``, reading a
file and ``ratetool check``. docs/file-format.md lists them for people.

Nothing here reads or writes; each check returns a plain sentence naming what is wrong (the
caller adds where: the file and line, the import row, the prompt), or ``None`` when all is well.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

#: Characters in a comment (a paragraph or two; a session note belongs in the clinical record).
MAX_COMMENT = 4000
#: The earliest day a session can be dated (before it, a typed year is a slip, not a session).
EARLIEST_DATE = date(1900, 1, 1)
#: Days after today a session can be dated: tomorrow, for a laptop whose clock or time zone is
#: a little behind the client's.
DAYS_AHEAD = 1
#: The highest session number of a client (more than a session a day for 2,700 years).
MAX_SESSION = 1_000_000
#: Characters in a practitioner's initials or code (one line).
MAX_PRACTITIONER = 100
#: Digits in a typed answer: answers are small whole numbers on the instrument's scale; a long
#: run of digits is a slip (and Python refuses to read more than 4,300 digits as a number).
MAX_ANSWER_DIGITS = 6

#: Characters in one cell of an import file (Python's csv module stops at this many by default).
MAX_CELL = 131_072

#: Control characters refused in a comment: C0 (but tab and line feed), DEL and C1. A carriage
#: return is refused too: a line break is a line feed (``\r\n`` is turned into ``\n`` on entry).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _control_escape(found: re.Match[str]) -> str:
    return f"\\x{ord(found.group()):02x}"


def _undecodable_at(text: str) -> int | None:
    """Where ``text`` holds a lone surrogate, or ``None``: how Python hands over a byte that is
    not UTF-8 on the command line (or a JSON escape such as ``\\udcff``). It is exactly what
    cannot be encoded as UTF-8, so it cannot be written to a file, nor shown. (Asked of the
    codec rather than a regular expression over the surrogate range, which takes half a
    millisecond to compile at every start.)"""
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return None


def latest_date(today: date | None = None) -> date:
    """The latest day a session can be dated: tomorrow."""
    return (today or date.today()) + timedelta(days=DAYS_AHEAD)


def date_problem(day: date, today: date | None = None) -> str | None:
    """Why a session cannot be dated ``day``, or ``None``."""
    if day < EARLIEST_DATE:
        return f"the date {day.isoformat()} is before {EARLIEST_DATE.isoformat()}"
    latest = latest_date(today)
    if day > latest:
        return f"the date {day.isoformat()} is in the future (after {latest.isoformat()}, tomorrow)"
    return None


def session_problem(session: int) -> str | None:
    """Why ``session`` cannot be a session number, or ``None``."""
    if session < 1:
        return f"the session number {session} is below 1"
    if session > MAX_SESSION:
        return f"the session number {session} is above {MAX_SESSION:,}"
    return None


def comment_problem(text: str) -> str | None:
    """Why ``text`` cannot be a comment, or ``None``: too long, or holding a control character
    (a comment keeps tabs and line breaks; anything else could rewrite a terminal)."""
    if len(text) > MAX_COMMENT:
        return f"the comment is {len(text):,} characters long; at most {MAX_COMMENT:,}"
    bad = _undecodable_at(text)
    if bad is not None:
        return (
            f"the comment holds a byte that is not UTF-8 text at character {bad + 1} "
            "(is the terminal set to UTF-8?)"
        )
    found = _CONTROL.search(text)
    if found is not None:
        return (
            f"the comment holds the control character {visible(found.group())} at character "
            f"{found.start() + 1}; only tabs and line breaks are kept"
        )
    return None


def answer_digits_problem(text: str) -> str | None:
    """Why ``text``, one typed answer, is too long to be an answer, or ``None``."""
    digits = sum(ch.isdigit() for ch in text)
    if digits > MAX_ANSWER_DIGITS:
        return f"an answer of {digits:,} digits is not on any scale"
    return None


def normalise_line_breaks(text: str) -> str:
    """``\\r\\n`` (Windows) and a lone ``\\r`` (old Mac) as ``\\n``."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def visible(text: str) -> str:
    """``text`` with every control character but tab and line feed shown as an escape
    (``\\x1b``), and a byte that was not UTF-8 as its Python escape (``\\udcff``): what is shown
    on a terminal from a file can never recolour or rewrite it."""
    shown = _CONTROL.sub(_control_escape, text)
    if _undecodable_at(shown) is not None:
        shown = shown.encode("utf-8", "backslashreplace").decode("utf-8")
    return shown


def has_control(text: str) -> bool:
    """Whether ``text`` holds a control character other than tab and line feed, or a byte that
    was not UTF-8 (a lone surrogate)."""
    return _CONTROL.search(text) is not None or _undecodable_at(text) is not None


#: Brackets within brackets a file may nest before it is called nested too deeply (Python's
#: TOML and JSON readers give up, with no line, somewhere past several hundred).
NESTING_SHOWN = 100


def nesting_line(text: str) -> int:
    """The line of ``text`` where ``[`` and ``{`` first nest more than ``NESTING_SHOWN`` deep
    (text in double quotes aside), for a message about a file too deeply nested to read; the
    last line when none does."""
    depth = 0
    line = 1
    quoted = False
    escaped = False
    for ch in text:
        if ch == "\n":
            line += 1
        if quoted:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch in "[{":
            depth += 1
            if depth > NESTING_SHOWN:
                return line
        elif ch in "]}":
            depth = max(0, depth - 1)
    return line


def nesting_problem() -> str:
    """What to say about a file nested too deeply (the caller names the file and line)."""
    return (
        "brackets are nested too deeply to read (more than "
        f"{NESTING_SHOWN} levels); ratetool's files never nest more than two"
    )
