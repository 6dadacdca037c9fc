"""Text for a terminal: its width, whether to colour, cell widths, wrapping, and column tables.

ratetool's tables are borderless grids of short cells: a few columns of numbers and dates, and a
last column of words that may wrap. rich drew them until the performance budget of
``summary CLIENT`` (0.2 s, start to finish) showed that importing rich (about 35 ms here) and
laying out one client's tables with it (about 80 ms) cost more than the whole command may. This
module does the little that is needed with the standard library, in the same layout rich used.

The rules for colour are the usual ones (and rich's): styles only when the output is a terminal
(or ``FORCE_COLOR`` is set) and ``TERM`` is not ``dumb``; ``NO_COLOR`` turns colours off and keeps
bold and dim, which that convention allows. Meaning never rests on colour: every band carries a
symbol and a word. Width: ``TERMINAL_WIDTH`` (set by tests), ``COLUMNS``, the terminal's own
width, else 80. Nothing here reads a file or imports anything heavier than ``unicodedata``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any, Self, TextIO

#: Select Graphic Rendition codes of the styles ratetool uses.
_SGR = {
    "bold": "1",
    "dim": "2",
    "italic": "3",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
}
#: Styles that are not colours: kept under ``NO_COLOR``.
_ATTRIBUTES = frozenset({"bold", "dim", "italic"})
_RESET = "\x1b[0m"
#: Characters that take no room on a terminal (besides combining marks).
_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u200e\u200f\u2060\ufe0e\ufe0f")
DEFAULT_WIDTH = 80


class Styled(str):
    """A string with a style (e.g. ``"bold red"``) for a table cell or a line: it is still a
    plain string, so it measures, compares and prints as its text wherever styles are off."""

    style: str

    def __new__(cls, text: str, style: str = "") -> Self:
        self = super().__new__(cls, text)
        self.style = style
        return self


def cell_len(text: str) -> int:
    """Columns ``text`` takes on a terminal: wide East Asian characters and most emoji take two,
    combining marks and zero-width characters none."""
    if text.isascii():
        return len(text)
    from unicodedata import combining, east_asian_width

    width = 0
    for ch in text:
        if ch in _ZERO_WIDTH or combining(ch):
            continue
        width += 2 if east_asian_width(ch) in ("W", "F") else 1
    return width


def _fold(word: str, width: int) -> tuple[str, str]:
    """The longest head of ``word`` that fits ``width`` columns (at least one character), and
    the rest."""
    used = 0
    for i, ch in enumerate(word):
        used += cell_len(ch)
        if used > width and i > 0:
            return word[:i], word[i:]
    return word, ""


def wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` columns, broken between words (a word longer than
    a line is folded). Lines that fit are kept exactly as they are, spaces included."""
    width = max(1, width)
    lines: list[str] = []
    for paragraph in text.split("\n"):
        if cell_len(paragraph) <= width:
            lines.append(paragraph)
            continue
        start = len(lines)
        line: list[str] = []
        used = 0
        for word in paragraph.split():
            size = cell_len(word)
            if line and used + 1 + size > width:
                lines.append(" ".join(line))
                line, used = [], 0
            while size > width:
                head, word = _fold(word, width)
                lines.append(head)
                size = cell_len(word)
            if word:
                used += size + (1 if line else 0)
                line.append(word)
        if line or len(lines) == start:
            lines.append(" ".join(line))
    return lines


def _env_width(environ: os._Environ[str] | dict[str, str]) -> int | None:
    for name in ("TERMINAL_WIDTH", "COLUMNS"):
        value = environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return None


def _terminal_width(stream: TextIO) -> int:
    for candidate in (stream, sys.stdin):
        try:
            return os.get_terminal_size(candidate.fileno()).columns or DEFAULT_WIDTH
        except (AttributeError, ValueError, OSError):
            continue
    return DEFAULT_WIDTH


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _windows_ansi(stream: TextIO) -> bool:  # pragma: no cover - Windows only
    """Turn on the console's handling of colour codes (Windows 10 and later); False if it
    cannot be turned on, and then no codes are written."""
    try:
        import ctypes
        import msvcrt

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = msvcrt.get_osfhandle(stream.fileno())
        mode = ctypes.c_uint32()
        if not kernel32.GetConsoleMode(handle, ctypes.byref(mode)):
            return False
        enable_virtual_terminal_processing = 0x0004
        if mode.value & enable_virtual_terminal_processing:
            return True
        return bool(
            kernel32.SetConsoleMode(handle, mode.value | enable_virtual_terminal_processing)
        )
    except (AttributeError, OSError, ValueError):
        return False


class Terminal:
    """Where text goes (standard output unless told), how wide it is, and which styles it takes.

    ``styles``: bold and dim may be written; ``colour``: colours may be written too."""

    def __init__(self, stream: TextIO | None = None, *, width: int | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout
        environ = os.environ
        forced = environ.get("FORCE_COLOR", "") != ""
        tty = _isatty(self.stream)
        styles = (tty or forced) and environ.get("TERM", "").lower() not in ("dumb", "unknown")
        if styles and tty and sys.platform == "win32":  # pragma: no cover - Windows only
            styles = _windows_ansi(self.stream)
        self.styles = styles
        self.colour = styles and environ.get("NO_COLOR", "") == ""
        self.width = (
            width or _env_width(environ) or (_terminal_width(self.stream) if tty else DEFAULT_WIDTH)
        )
        self.encoding = (getattr(self.stream, "encoding", None) or "utf-8").lower()

    def paint(self, text: str, style: str | None) -> str:
        """``text`` with the escape codes of ``style``, as far as this terminal takes them."""
        if not style or not self.styles or not text:
            return text
        codes = [
            _SGR[word]
            for word in style.split()
            if word in _SGR and (self.colour or word in _ATTRIBUTES)
        ]
        return f"\x1b[{';'.join(codes)}m{text}{_RESET}" if codes else text

    def write_lines(self, lines: Iterable[str]) -> None:
        text = "".join(f"{line}\n" for line in lines)
        try:
            self.stream.write(text)
        except UnicodeEncodeError:  # a legacy code page: keep what it can show
            self.stream.write(text.encode(self.encoding, "replace").decode(self.encoding))

    def echo(self, text: str = "", style: str | None = None) -> None:
        """A paragraph, wrapped between words at the width (an empty one is a blank line)."""
        style = style or getattr(text, "style", None)
        self.write_lines(self.paint(line, style) for line in wrap(str(text), self.width))

    def print_table(self, table: Table, gap: int = 2) -> None:
        self.write_lines(table.lines(self, gap))

    def print(self, item: str | Table = "") -> None:
        """A paragraph (``echo``) or a table (``print_table``, two spaces between columns)."""
        if isinstance(item, Table):
            self.print_table(item)
        else:
            self.echo(item)


class Column:
    """A table column: its header, ``justify`` ("left" or "right") and whether it may wrap."""

    __slots__ = ("header", "justify", "no_wrap")

    def __init__(self, header: str = "", justify: str = "left", no_wrap: bool = False) -> None:
        self.header = header
        self.justify = justify
        self.no_wrap = no_wrap


class Table:
    """A borderless table: columns separated by ``gap`` spaces, a bold header row (unless
    ``show_header`` is false), each column as wide as its widest cell. When that is wider than
    the terminal, the columns that may wrap are narrowed (the widest first) and their cells
    wrapped between words, like rich's tables. Cells are strings (``Styled`` for a style);
    ``None`` is an empty cell."""

    def __init__(
        self,
        columns: Sequence[Column],
        rows: Iterable[Sequence[Any]] = (),
        *,
        show_header: bool = True,
    ) -> None:
        self.columns = list(columns)
        self.show_header = show_header
        self.rows: list[list[str]] = [[_text(value) for value in row] for row in rows]
        self._natural: list[int] | None = None
        self._words: list[int] | None = None

    def _all_rows(self) -> list[list[str]]:
        if self.show_header:
            return [[Styled(c.header, "bold") for c in self.columns], *self.rows]
        return self.rows

    def natural_widths(self) -> list[int]:
        """Per column, the width of its widest cell (measured once)."""
        if self._natural is None:
            widths = [0] * len(self.columns)
            for row in self._all_rows():
                for i, cell in enumerate(row):
                    if "\n" in cell:
                        size = max(cell_len(part) for part in cell.split("\n"))
                    else:
                        size = cell_len(cell)
                    widths[i] = max(widths[i], size)
            self._natural = widths
        return list(self._natural)

    def word_widths(self) -> list[int]:
        """Per column, the narrowest it can be without breaking a word (its natural width when
        it may not wrap)."""
        if self._words is None:
            natural = self.natural_widths()
            out = []
            for i, column in enumerate(self.columns):
                if column.no_wrap:
                    out.append(natural[i])
                    continue
                words = [w for row in self._all_rows() for w in row[i].split()]
                out.append(max([cell_len(w) for w in words] or [0]))
            self._words = out
        return list(self._words)

    def fits(self, width: int, gap: int, *, wrap_last: bool) -> bool:
        """Whether the table fits ``width`` with every cell on one line, or with ``wrap_last``
        only the last column wrapped between words."""
        widths = self.natural_widths()
        if wrap_last and widths:
            widths[-1] = self.word_widths()[-1]
        return sum(widths) + gap * (len(widths) - 1) <= width

    def _widths(self, width: int, gap: int) -> list[int]:
        widths = self.natural_widths()
        excess = sum(widths) + gap * (len(widths) - 1) - width
        if excess <= 0:
            return widths
        floor = self.word_widths()
        for allowed in (floor, [1] * len(widths)):  # first keep words whole, then fold them
            while excess > 0:
                narrowable = [
                    i
                    for i, c in enumerate(self.columns)
                    if not c.no_wrap and widths[i] > allowed[i]
                ]
                if not narrowable:
                    break
                widest = max(narrowable, key=lambda i: widths[i])
                widths[widest] -= 1
                excess -= 1
        return widths

    def lines(self, term: Terminal, gap: int = 2) -> list[str]:
        """The table as lines of text for ``term``: its width and styles."""
        widths = self._widths(term.width, gap)
        last = len(self.columns) - 1
        out = []
        spacer = " " * gap
        for row in self._all_rows():
            cells = [
                wrap(cell, widths[i]) if cell_len(cell) > widths[i] or "\n" in cell else [cell]
                for i, cell in enumerate(row)
            ]
            for n in range(max(len(c) for c in cells)):
                parts = []
                for i, column in enumerate(self.columns):
                    text = cells[i][n] if n < len(cells[i]) else ""
                    room = widths[i] - cell_len(text)
                    painted = term.paint(text, getattr(row[i], "style", None))
                    if column.justify == "right":
                        parts.append(" " * room + painted)
                    elif i < last:
                        parts.append(painted + " " * room)
                    else:
                        parts.append(painted)
                out.append(spacer.join(parts).rstrip())
        return out


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return str(value)
