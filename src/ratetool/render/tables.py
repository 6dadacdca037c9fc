"""Where output goes and how tables are drawn: rich's ``Console`` and borderless ``Table``.

Every decision about the terminal is rich's: its width (``COLUMNS``, else the terminal's, else
80), whether to colour (not when piped, nor under ``NO_COLOR`` or ``TERM=dumb``; always under
``FORCE_COLOR``) and the encoding. Text from files (comments, item texts, codes) is never read
as markup or emoji codes, and its control characters are shown as escapes (``\x1b``): every
cell, note and paragraph goes through ``limits.visible`` here, so a file can never recolour or
rewrite the terminal, whatever it holds.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TextIO

from rich.cells import cell_len
from rich.console import Console
from rich.measure import Measurement
from rich.table import Column, Table
from rich.text import Text

from ratetool.limits import visible

#: A table column: its header, or ``(header, options)`` with ``justify`` and ``no_wrap``.
ColumnSpec = str | tuple[str, dict[str, Any]]


def _replace_unencodable(stream: TextIO) -> None:
    """A legacy code page (cp1252 when output is redirected on Windows) cannot encode every
    character a client may type, and rich writes text as it is: such a stream shows ``?`` for
    what it cannot encode rather than failing halfway through a table."""
    if not isinstance(stream, io.TextIOWrapper) or stream.errors != "strict":
        return
    if not stream.encoding.lower().replace("-", "").startswith("utf"):
        stream.reconfigure(errors="replace")


def console(stderr: bool = False) -> Console:
    """The console to print to: standard output (or standard error)."""
    _replace_unencodable(sys.stderr if stderr else sys.stdout)
    return Console(stderr=stderr, markup=False, highlight=False, emoji=False)


def num(header: str) -> ColumnSpec:
    """A column of numbers: right-aligned, never wrapped."""
    return (header, {"justify": "right", "no_wrap": True})


def fixed(header: str) -> ColumnSpec:
    """A column of short words or dates, never wrapped."""
    return (header, {"no_wrap": True})


def _column(spec: ColumnSpec) -> Column:
    header, options = spec if isinstance(spec, tuple) else (spec, {})
    no_wrap = bool(options.get("no_wrap", False))
    return Column(
        header,
        justify=options.get("justify", "left"),
        no_wrap=no_wrap,
        # a word longer than its column is folded, not cut short with an ellipsis
        overflow="ellipsis" if no_wrap else "fold",
    )


def _cell(value: Any) -> Text | None:
    if value is None:
        return value
    if isinstance(value, Text):
        shown = visible(value.plain)
        if shown != value.plain:  # rare: a styled cell from a file with a control character
            return Text(shown, style=value.style)
        return value
    return Text(visible(value if isinstance(value, str) else str(value)))


def table(
    columns: Sequence[ColumnSpec],
    rows: Iterable[Sequence[Any]],
    *,
    show_header: bool = True,
) -> Table:
    """A plain table: no borders, two spaces between columns, a bold header row (unless
    ``show_header`` is false). A column is its header, or ``(header, options)`` with ``justify``
    ("right" for numbers) and ``no_wrap``. Cells are text as given (a rich ``Text`` for a
    style); ``None`` is an empty cell. When the table is wider than the console, rich wraps
    the columns that may wrap between words."""
    t = Table(
        *[_column(c) for c in columns],
        box=None,
        padding=(0, 1),
        pad_edge=False,
        show_edge=False,
        show_header=show_header,
    )
    for row in rows:
        t.add_row(*[_cell(value) for value in row])
    return t


def print_table(*args: Any, **kwargs: Any) -> None:
    console().print(table(*args, **kwargs))


def _measure(con: Console, options: Any, cell: Any) -> tuple[int, int]:
    """(narrowest, widest) of a cell as rich measures it: for text, the longest word and the
    longest line, worked out from the text itself as rich's ``Text`` does (several times
    quicker than building each cell's renderable to ask it); anything else through
    ``Measurement.get``."""
    if isinstance(cell, Text | str):
        text = (cell if isinstance(cell, Text) else Text(cell)).plain  # control codes stripped
        widest = max((cell_len(line) for line in text.splitlines()), default=0)
        words = text.split()
        return (max(cell_len(word) for word in words) if words else widest), widest
    size = Measurement.get(con, options, cell)
    return size.minimum, size.maximum


#: Narrowest a column that may wrap is taken to be: a longer word in it is folded over lines
#: (an id or a path), so a long word never pushes a table past the terminal, and no column is
#: squeezed to a letter per line.
FOLD_MIN = 12


def _sizes(con: Console, t: Table) -> tuple[list[int], int, int]:
    """The width of each of ``t``'s columns with every cell on one line; the width of all of
    them at the narrowest with words kept whole where a column may wrap; and the same with
    words longer than ``FOLD_MIN`` folded (an id, a path). A column that may not wrap is as
    wide as its widest cell, as rich never narrows such a column. Without the spaces between."""
    options = con.options.update_width(1_000_000)
    widths: list[int] = []
    narrowest = folded = 0
    for column in t.columns:
        cells = [column.header, *column.cells] if t.show_header else list(column.cells)
        sizes = [_measure(con, options, cell) for cell in cells] or [(0, 0)]
        widest = max(size[1] for size in sizes)
        widths.append(widest)
        word = widest if column.no_wrap else max(size[0] for size in sizes)
        narrowest += word
        folded += word if column.no_wrap else min(FOLD_MIN, word)
    return widths, narrowest, folded


def fits(con: Console, t: Table) -> bool:
    """Whether ``t`` fits the width with every cell on one line (one space between columns)."""
    widths, _, _ = _sizes(con, t)
    return sum(widths) + len(t.columns) - 1 <= con.width


def print_fitted(con: Console, *tables: Table | Callable[[], Table]) -> int:
    """Print the most readable of ``tables`` (each a more compact version of the one before,
    or a function that makes it: only made when the ones before do not fit)
    that fits the width: every cell on one line (two spaces between columns, else one), in the
    first table that can; else words wrapped, whole; else long words folded. Numbers are never
    cut short: where even the last table does not fit, it is drawn at its natural width and
    the terminal folds its lines. Returns the index of the table drawn.

    Where every cell fits on one line, each column is given the width just measured
    (``Column.width``), so rich lays the table out without measuring every cell again."""
    made: dict[int, Table] = {}
    sizes: dict[int, tuple[list[int], int, int]] = {}  # measured when first needed

    def made_table(index: int) -> Table:
        if index not in made:
            given = tables[index]
            made[index] = given if isinstance(given, Table) else given()
        return made[index]

    for stage in range(3):
        for index in range(len(tables)):
            t = made_table(index)
            if index not in sizes:
                sizes[index] = _sizes(con, t)
            widths, narrowest, folded = sizes[index]
            width = (sum(widths), narrowest, folded)[stage]
            gaps = len(t.columns) - 1
            for gap in (2, 1):
                if width + gap * gaps <= con.width:
                    t.collapse_padding = gap == 1  # rich's collapsed padding: one space between
                    if stage == 0:
                        for column, column_width in zip(t.columns, widths):
                            column.width = column_width
                    con.print(t)
                    return index
    last = made_table(len(tables) - 1)
    if len(tables) - 1 not in sizes:
        sizes[len(tables) - 1] = _sizes(con, last)
    last.collapse_padding = True
    width = con.width
    con.width = sum(sizes[len(tables) - 1][0]) + len(last.columns) - 1
    try:
        con.print(last)
    finally:
        con.width = width
    return len(tables) - 1


def reasons_table(rows: Sequence[Sequence[str]]) -> Table:
    """Alert reasons or comments: short columns (who, kind) and the words last, wrapping under
    themselves."""
    width = len(rows[0]) if rows else 1
    columns: list[ColumnSpec] = [fixed("")] * (width - 1) + [""]
    return table(columns, rows, show_header=False)


def print_notes(con: Console, rows: Sequence[Sequence[str]]) -> None:
    """Print notes (alert reasons, comments): the short columns (who, kind), then the words
    wrapping under themselves with a hanging indent, as ``reasons_table(rows)`` would lay them
    out (the same lines, in a quarter of the time a table takes to lay out a hundred notes).
    Where the terminal is too narrow for the words beside the labels, the labels go on a line
    of their own and the words under them, indented by two spaces."""
    if not rows:
        return
    rows = [[visible(cell) for cell in row] for row in rows]
    labels = len(rows[0]) - 1
    widths = [max(cell_len(row[i]) for row in rows) for i in range(labels)]
    indent = sum(widths) + 2 * labels
    out = Text()
    if con.width - indent < 20:
        for row in rows:
            label = "  ".join(cell for cell in row[:-1] if cell)
            if label:
                for line in Text(label).wrap(con, con.width):
                    out.append_text(line)
                    out.append("\n")
            for line in Text(row[-1]).wrap(con, con.width - 2):
                out.append("  ")
                out.append_text(line)
                out.append("\n")
        con.print(out, end="", soft_wrap=True)
        return
    for row in rows:
        lines = Text(row[-1]).wrap(con, con.width - indent)
        for n, line in enumerate(lines):
            for i, width in enumerate(widths):
                label = row[i] if n == 0 else ""
                out.append(label + " " * (width - cell_len(label) + 2))
            out.append_text(line)
            out.append("\n")
    con.print(out, end="", soft_wrap=True)


def say(con: Console, text: str = "", style: str = "") -> None:
    """A paragraph, wrapped between words at the console's width (an empty one is a blank line)."""
    con.print(Text(visible(text), style=style))
