"""Rich output at the edge: tables and text for people. JSON never goes through here.

Imported only by commands that print tables, so a plain start never loads rich. Colour follows
rich's rules (``NO_COLOR`` turns it off, and so does output that is not a terminal); meaning never
rests on colour alone.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table


def console(stderr: bool = False) -> Console:
    width = os.environ.get("TERMINAL_WIDTH")
    return Console(
        stderr=stderr,
        width=int(width) if width and width.isdigit() else None,
        highlight=False,
        soft_wrap=False,
    )


def table(
    columns: Sequence[str | tuple[str, dict[str, Any]]],
    rows: Iterable[Sequence[Any]],
    *,
    title: str | None = None,
    caption: str | None = None,
) -> Table:
    t = Table(title=title, caption=caption, show_lines=False, header_style="bold", box=None,
              pad_edge=False, title_justify="left", caption_justify="left")
    for col in columns:
        if isinstance(col, tuple):
            t.add_column(col[0], **col[1])
        else:
            t.add_column(col)
    for row in rows:
        t.add_row(*("" if v is None else str(v) if not hasattr(v, "__rich__") else v for v in row))
    return t


def print_table(*args: Any, **kwargs: Any) -> None:
    console().print(table(*args, **kwargs))
