"""Pictures of a series: sparklines (plain characters, one per session) and the line chart of
``ratetool chart`` (plotext, imported only when a chart is drawn)."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from typing import Any

from ratetool.limits import visible
from ratetool.render.text import UNICODE, Glyphs

#: Most sessions one sparkline shows in a client's trends (the latest ones).
SPARK_MAX = 24


def sparkline(values: Sequence[float | None], low: float, high: float, g: Glyphs = UNICODE) -> str:
    """One block per value, from ``low`` (lowest block; anything lower too) to ``high`` (highest
    block); ``None`` is shown as a dot.

    Summaries pass a fixed range, the same for every client: from the middle of the scale to its
    top (``spark_range``), where alliance ratings live, so a steady strong alliance reads high,
    a fall shows, and small wiggles are not blown up as a series' own range would."""
    blocks = g.spark
    top = len(blocks) - 1
    out = []
    for v in values:
        if v is None:
            out.append(g.missing_spark)
            continue
        frac = (v - low) / (high - low) if high > low else 1.0
        out.append(blocks[min(top, max(0, int(frac * top + 0.5)))])
    return "".join(out)


def spark_range(key: str, definition: Any = None) -> tuple[float, float]:
    """The fixed range of a sparkline of ``key``: from the middle of its scale to the top (50 to
    100 for % max; 5 to 10 for a 0-10 dimension or overall; the total: items times those)."""
    if key == "pomp":
        return 50.0, 100.0
    scale = definition.scale
    mid = (scale.min + scale.max) / 2
    if key == "total":
        n = len(definition.items)
        return n * mid, float(n * scale.max)
    return mid, float(scale.max)


# ------------------------------------------------------------------------------------------------
# The chart: `ratetool chart CLIENT`

#: Colours of chart series when colour is on (the letters tell them apart without it).
CHART_COLOURS = ("blue", "green", "magenta", "cyan", "orange", "gray")
THRESHOLD_MARKER = "-"


def chart_markers(labels: Sequence[str]) -> list[str]:
    """One distinct character per series: its label's initial (E, W, G, T, O for the check-in),
    else the lower-case initial, else a digit."""
    used: set[str] = set()
    out = []
    for label in labels:
        initial = (label.strip() or "?")[0]
        for candidate in (initial.upper(), initial.lower(), *"123456789", *"#@%&+=x"):
            if candidate not in used and candidate != THRESHOLD_MARKER:
                used.add(candidate)
                out.append(candidate)
                break
    return out


def _wrap_entries(entries: Sequence[str], width: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for entry in entries:
        candidate = f"{line}   {entry}" if line else entry
        if line and len(candidate) > width:
            lines.append(line)
            line = entry
        else:
            line = candidate
    if line:
        lines.append(line)
    return lines


def _ticks(low: float, high: float) -> list[float]:
    step = 1.0 if high - low > 3 else 0.5
    first = math.ceil(low / step) * step
    ticks = []
    value = first
    while value <= high + 1e-9:
        ticks.append(round(value, 1))
        value += step
    return ticks


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
) -> str:
    """A line chart (plotext) of ``series`` (label, one value or ``None`` per session) across
    ``sessions``, with ``threshold`` (value, words) drawn as a dashed line, then a legend.

    Each series is drawn as dots joining its sessions and its own letter at every session (see
    ``chart_markers``), so series are told apart without colour; colours are added only when
    ``colour``. Every line is at most ``width`` characters."""
    import plotext as plt

    # Titles and labels come from files (client codes, instrument labels): shown, never obeyed.
    title = visible(title)
    series = [(visible(label), values) for label, values in series]
    markers = chart_markers([label for label, _ in series])
    low, high = y_range
    plt.clear_figure()
    plt.plot_size(width, height)
    plt.theme("clear")
    first, last = min(sessions), max(sessions)
    points = []
    for i, (_label, values) in enumerate(series):
        xs = [n for n, v in zip(sessions, values) if v is not None]
        ys = [v for v in values if v is not None]
        if not xs:
            continue
        extra = {"color": CHART_COLOURS[i % len(CHART_COLOURS)]} if colour else {}
        if len(xs) > 1:
            plt.plot(xs, ys, marker="dot", **extra)
        points.append((xs, ys, markers[i], extra))
    if threshold is not None:  # over the joining dots, under the letters
        plt.plot(
            [first, last] if last > first else [first - 0.5, first + 0.5],
            [threshold[0]] * 2,
            marker=THRESHOLD_MARKER,
            **({"color": "red"} if colour else {}),
        )
    for xs, ys, marker, extra in points:
        plt.scatter(xs, ys, marker=marker, **extra)
    plt.ylim(low, high)
    plt.yticks(_ticks(low, high), [f"{t:g}" for t in _ticks(low, high)])
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
    # the title is ours, not plotext's, which leaves out a title wider than the chart
    lines = textwrap.wrap(title, width) + [line.rstrip() for line in text.rstrip("\n").split("\n")]
    entries = [f"{m} {label}" for m, (label, _) in zip(markers, series)]
    if threshold is not None:
        entries.append(f"{THRESHOLD_MARKER * 3} {threshold[1]}")
    lines += _wrap_entries(entries, width)
    return "\n".join(lines) + "\n"
