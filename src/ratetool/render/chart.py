"""The line chart of ``ratetool chart`` (plotext, imported only when a chart is drawn). The
sparklines of the summaries are plain characters, in ``render.text``."""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Sequence
from typing import NamedTuple

from ratetool.limits import visible

# ------------------------------------------------------------------------------------------------
# The chart: `ratetool chart CLIENT`

#: Colours of chart series when colour is on (the letters tell them apart without it).
CHART_COLOURS = ("blue", "green", "magenta", "cyan", "orange", "gray")
THRESHOLD_MARKER = "-"
#: The marker of a point below the cutoff, on the chart of overall % max (red when colour is on).
BELOW_MARKER = "x"
#: Steps between two rows of the plot, smallest first. Every row of a plot is a whole number of
#: one step from the bottom row, so the label beside a row is exactly the value drawn on it.
Y_STEPS = (0.5, 1.0, 2.0, 2.5, 5.0, 10.0, 20.0, 25.0, 50.0)
#: Lines of a plot besides its rows: the frame's top and bottom, the session numbers, "session".
FRAME_LINES = 4
#: At most this many rows carry a label; with more rows, labels go on every 2nd, 5th ... row.
MAX_LABELS = 11
#: Colour codes (plotext's), not counted in a line's width.
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: Narrowest panel of ``--dimensions``, and the space between two panels side by side.
PANEL_MIN_WIDTH = 38
PANEL_GAP = 2


def chart_markers(labels: Sequence[str]) -> list[str]:
    """One distinct character per series: its label's initial (E, W, G, T, O for the check-in),
    else the lower-case initial, else a digit."""
    used: set[str] = {THRESHOLD_MARKER, BELOW_MARKER}
    out = []
    for label in labels:
        initial = (label.strip() or "?")[0]
        for candidate in (initial.upper(), initial.lower(), *"123456789", *"#@%&+="):
            if candidate not in used:
                used.add(candidate)
                out.append(candidate)
                break
    return out


def _wrap_entries(entries: Sequence[str], width: int) -> list[str]:
    """Legend entries three spaces apart, as many to a line as fit; an entry wider than the line
    is wrapped on its own."""
    lines: list[str] = []
    line = ""
    for entry in entries:
        candidate = f"{line}   {entry}" if line else entry
        if len(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        parts = textwrap.wrap(entry, width, subsequent_indent="    ") or [""]
        lines += parts[:-1]
        line = parts[-1]
    if line:
        lines.append(line)
    return lines


def _on_step(value: float, step: float) -> bool:
    return abs(value / step - round(value / step)) < 1e-9


class YGrid(NamedTuple):
    """The rows of a plot: from ``low`` (the bottom row) to ``high`` (the top row), ``step``
    apart. A value is drawn on the nearest row (``row_of``)."""

    low: float
    high: float
    step: float

    @property
    def rows(self) -> int:
        return round((self.high - self.low) / self.step) + 1

    def values(self) -> list[float]:
        """The value of every row, bottom first."""
        return [self.low + i * self.step for i in range(self.rows)]

    def row_of(self, value: float) -> int:
        """The row (0 = bottom) ``value`` is drawn on: the nearest, halves upwards as plotext
        draws them."""
        return math.floor((value - self.low) / self.step + 0.5 + 1e-9)

    def labelled(self) -> list[float]:
        """The rows that carry a label: every row, or with more than ``MAX_LABELS`` rows those on
        a multiple of a coarser step (every label is still exactly its row's value)."""
        rows = self.values()
        for step in (s for s in Y_STEPS if s >= self.step and _on_step(s, self.step)):
            shown = [v for v in rows if _on_step(v, step)]
            if len(shown) <= MAX_LABELS:
                return shown
        return [rows[0], rows[-1]]


def y_grid(
    values: Sequence[float | None],
    threshold: float | None,
    y_range: tuple[float, float],
    rows: int,
) -> YGrid:
    """The rows of a plot of ``values`` (and ``threshold``) in at most ``rows`` rows, showing at
    least ``y_range``: the finest step of ``Y_STEPS`` that fits, never coarser than a fifth of
    ``y_range`` (10 points on 50 to 100), so the plot is taller than ``rows`` rather than coarser.
    The threshold always lies on a row when a step allows it (90 on steps of 1, 2, 2.5, 5, 10)."""
    bottom, top = y_range
    shown = [v for v in values if v is not None]
    extra = [threshold] if threshold is not None else []
    need_low, need_high = min([bottom, *shown, *extra]), max([top, *shown, *extra])
    coarsest = (top - bottom) / 5
    steps = [s for s in Y_STEPS if s <= coarsest] or [Y_STEPS[0]]
    steps = [s for s in steps if threshold is None or _on_step(threshold, s)] or steps

    def grid(step: float) -> YGrid:
        low = math.floor(need_low / step + 1e-9) * step
        high = math.ceil(need_high / step - 1e-9) * step
        return YGrid(low, high if high > low else low + step, step)

    for step in steps:
        if grid(step).rows <= rows:
            return grid(step)
    return grid(steps[-1])


def _fmt_tick(value: float) -> str:
    return f"{round(value, 2):g}"


class _Series(NamedTuple):
    label: str
    values: Sequence[float | None]
    marker: str
    colour: str


def _panel(
    sessions: Sequence[int],
    series: Sequence[_Series],
    threshold: float | None,
    grid: YGrid,
    width: int,
    colour: bool,
) -> list[str]:
    """One plot (plotext): each series as dots joining its sessions and its marker at every
    session, the threshold as a dashed line with ``BELOW_MARKER`` on points under it."""
    import plotext as plt

    plt.clear_figure()
    plt.limit_size(False, False)  # the size asked for, not clipped to plotext's idea of a terminal
    plt.plot_size(width, grid.rows + FRAME_LINES)
    plt.theme("clear")
    first, last = min(sessions), max(sessions)
    points = []
    for s in series:
        xs = [n for n, v in zip(sessions, s.values) if v is not None]
        ys = [v for v in s.values if v is not None]
        if not xs:
            continue
        extra = {"color": s.colour} if colour else {}
        if len(xs) > 1:
            plt.plot(xs, ys, marker="dot", **extra)
        points.append((xs, ys, s.marker, extra))
    red = {"color": "red"} if colour else {}
    if threshold is not None:  # over the joining dots, under the markers
        plt.plot(
            [first, last] if last > first else [first - 0.5, first + 0.5],
            [threshold] * 2,
            marker=THRESHOLD_MARKER,
            **red,
        )
    for xs, ys, marker, extra in points:
        if threshold is None:
            plt.scatter(xs, ys, marker=marker, **extra)
            continue
        below = [(x, y) for x, y in zip(xs, ys) if y < threshold]
        above = [(x, y) for x, y in zip(xs, ys) if y >= threshold]
        for group, mark, style in ((above, marker, extra), (below, BELOW_MARKER, red)):
            if group:
                plt.scatter([x for x, _ in group], [y for _, y in group], marker=mark, **style)
    plt.ylim(grid.low, grid.high)
    ticks = grid.labelled()
    plt.yticks(ticks, [_fmt_tick(t) for t in ticks])
    if last > first:
        plt.xlim(first, last)
    room = max(1, (width - 8) // 6)
    step = max(1, math.ceil(len(sessions) / room))
    xticks = list(sessions[::step])
    plt.xticks(xticks, [str(n) for n in xticks])
    plt.xlabel("session")
    text = plt.build()
    plt.clear_figure()
    if not colour:
        text = plt.uncolorize(text)
    return [line.rstrip() for line in text.rstrip("\n").split("\n")]


def _side_by_side(blocks: Sequence[list[str]], width: int) -> list[str]:
    """Blocks of lines next to each other, each padded to ``width`` (its lines are no wider)."""
    tall = max(len(b) for b in blocks)
    padded = [b + [""] * (tall - len(b)) for b in blocks]
    gap = " " * PANEL_GAP
    return [
        gap.join(line + " " * (width - len(_ANSI.sub("", line))) for line in row).rstrip()
        for row in zip(*padded)
    ]


def chart_text(
    *,
    title: str,
    sessions: Sequence[int],
    series: Sequence[tuple[str, Sequence[float | None]]],
    threshold: tuple[float, str] | None,
    y_range: tuple[float, float],
    width: int,
    height: int,
    colour: bool,
    panels: bool = False,
) -> str:
    """A line chart (plotext) of ``series`` (label, one value or ``None`` per session) across
    ``sessions``, with ``threshold`` (value, words) drawn as a dashed line, then a legend.

    Without ``panels``, every series is drawn on one plot, with its own letter (``chart_markers``)
    at every session. With ``panels``, each series gets a small plot of its own (side by side as
    the width allows), so a series can never hide behind another; the threshold is drawn on the
    last one only (overall). Points below the threshold are drawn as ``BELOW_MARKER``. All plots
    share one ``y_grid`` of at most ``height`` lines (each) where it fits, so every row's label is
    its exact value. Colours are added only when ``colour``. No line is wider than ``width``."""
    # Titles and labels come from files (client codes, instrument labels): shown, never obeyed.
    title = visible(title)
    labelled = [(visible(label), values) for label, values in series]
    markers = chart_markers([label for label, _ in labelled])
    drawn = [
        _Series(label, values, marker, CHART_COLOURS[i % len(CHART_COLOURS)])
        for i, ((label, values), marker) in enumerate(zip(labelled, markers))
    ]
    line = threshold[0] if threshold is not None else None
    every = [v for s in drawn for v in s.values]
    grid = y_grid(every, line, y_range, max(1, height - FRAME_LINES))
    lines = textwrap.wrap(title, width)
    if not panels:
        lines += _panel(sessions, drawn, line, grid, width, colour)
    else:
        columns = max(1, min(len(drawn), (width + PANEL_GAP) // (PANEL_MIN_WIDTH + PANEL_GAP)))
        panel_width = (width - PANEL_GAP * (columns - 1)) // columns
        blocks = []
        for i, s in enumerate(drawn):
            last = i == len(drawn) - 1
            name = textwrap.shorten(f"{s.marker} {s.label}", panel_width, placeholder="...")
            plot = _panel(sessions, [s], line if last else None, grid, panel_width, colour)
            blocks.append([name, *plot])
        for start in range(0, len(blocks), columns):
            lines += _side_by_side(blocks[start : start + columns], panel_width)
    entries = [] if panels else [f"{s.marker} {s.label}" for s in drawn]
    if threshold is not None:
        below = [v for v in (drawn[-1].values if panels else every) if v is not None]
        if any(v < threshold[0] for v in below):
            entries.append(f"{BELOW_MARKER} below the cutoff")
        entries.append(f"{THRESHOLD_MARKER * 3} {threshold[1]}")
    lines += _wrap_entries(entries, width)
    return "\n".join(lines) + "\n"
