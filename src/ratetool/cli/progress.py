"""A progress bar on standard error for an export that takes more than a moment.

Shown only at a terminal and for at least ``MIN_RATINGS`` ratings (fewer export in about a
second); never when standard error is piped or redirected. rich is imported only when a bar is
shown. The exporter reports through a plain ``progress(stage, done, total)`` callback, so the
core knows nothing of rich.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

#: Fewer ratings than this export in about a second: no bar.
MIN_RATINGS = 5_000

Progress = Callable[[str, int, int], None]


@contextmanager
def progress_bar(ratings: int, what: str = "Exporting") -> Iterator[Progress | None]:
    """A ``progress(stage, done, total)`` callback that drives a bar on stderr (cleared when
    done), or ``None`` when no bar is wanted."""
    if ratings < MIN_RATINGS or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        SpinnerColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(what, total=None)

        def update(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total)

        yield update
