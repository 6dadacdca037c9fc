"""Plain pieces of every summary: symbols for bands and missing values, numbers written with
their places, the band of a session as a symbol, a word and a style, sparklines (one character
per session) and instrument ids cut to a column's width.

Meaning never rests on colour: every band carries a symbol and a word, and where the output
cannot encode the Unicode symbols (a legacy code page) plain ASCII ones stand in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from rich.text import Text

from ratetool.places import places_for

#: Blocks for sparklines, lowest first, and what stands for a missing value.
SPARK_BLOCKS = "▁▂▃▄▅▆▇█"
SPARK_MISSING = "·"
#: The same when the output cannot encode them (a legacy code page): still lowest first.
ASCII_SPARK_BLOCKS = "_.-=+*#@"
ASCII_SPARK_MISSING = "?"

#: The rich style of each band (colours go where rich turns them off: NO_COLOR, pipes, TERM=dumb).
BAND_STYLES = {"alert": "bold red", "watch": "yellow", "ok": "green", "none": "dim"}
#: Numbers below the low cutoff, and changes for the worse / for the better (higher is better on
#: every score: reverse-worded items are reversed before scoring).
BELOW_STYLE = "red"
WORSE_STYLE = "red"
BETTER_STYLE = "green"


class Glyphs(NamedTuple):
    spark: str
    missing_spark: str
    #: Shown in a table cell for a missing number.
    missing: str
    #: band -> (symbol, word)
    bands: dict[str, tuple[str, str]]


UNICODE = Glyphs(
    SPARK_BLOCKS,
    SPARK_MISSING,
    "–",
    {
        "alert": ("!", "alert"),
        "watch": ("▲", "watch"),
        "ok": ("✓", "ok"),
        "none": ("–", "no score"),
    },
)
ASCII = Glyphs(
    ASCII_SPARK_BLOCKS,
    ASCII_SPARK_MISSING,
    "-",
    {
        "alert": ("!", "alert"),
        "watch": ("^", "watch"),
        "ok": ("+", "ok"),
        "none": ("-", "no score"),
    },
)


def glyphs(con: Any = None) -> Glyphs:
    """Unicode symbols when the output (a rich ``Console``, or anything with an ``encoding``)
    can encode them, else plain ASCII ones."""
    if con is None:
        from ratetool.render.tables import console

        con = console()
    encoding = getattr(con, "encoding", None) or "ascii"
    try:
        (SPARK_BLOCKS + SPARK_MISSING + "✓▲–").encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return ASCII
    return UNICODE


def band_label(band: str, g: Glyphs = UNICODE) -> str:
    """The band as a symbol and a word, e.g. ``"! alert"``: it reads without colour."""
    symbol, word = g.bands[band]
    return f"{symbol} {word}"


def band_text(band: str, g: Glyphs = UNICODE) -> Text:
    """The band's label with its style, for a table cell."""
    return Text(band_label(band, g), style=BAND_STYLES[band])


def fmt(value: float | None, kind: str, g: Glyphs = UNICODE) -> str:
    """A rounded number written with exactly the places of its kind (``ratetool.places``)."""
    if value is None:
        return g.missing
    return f"{value:.{places_for(kind)}f}"


def fmt_change(value: float | None, kind: str, g: Glyphs = UNICODE) -> str:
    """A change with its sign: ``+1.00``, ``-2.5``; no change is ``0.00``."""
    if value is None:
        return g.missing
    places = places_for(kind)
    if value == 0:
        return f"{0:.{places}f}"
    return f"{value:+.{places}f}"


def pomp_text(value: float | None, low: float, g: Glyphs = UNICODE) -> Text:
    """A % max for a table cell: red below the ``low`` cutoff (the same comparison the "low"
    alert makes on the rounded number; the "low" alert and the status say it in words)."""
    style = BELOW_STYLE if value is not None and value < low else ""
    return Text(fmt(value, "pomp", g), style=style)


def change_text(value: float | None, kind: str, g: Glyphs = UNICODE) -> Text:
    """A change with its sign (``fmt_change``): red when worse, green when better; the sign
    says it without colour."""
    style = "" if not value else (WORSE_STYLE if value < 0 else BETTER_STYLE)
    return Text(fmt_change(value, kind, g), style=style)


def zoned(spark: str, values: list[float | None], cutoff: float | None) -> Text:
    """A sparkline (one character per value) coloured by zone: red below ``cutoff``, green at or
    above it; a missing value, or no ``cutoff``, unstyled. The blocks' heights say it without
    colour. One style span per run of values in the same zone."""
    out = Text(spark)
    if cutoff is None:
        return out
    start = 0
    zones = [None if v is None else v < cutoff for v in values[: len(spark)]]
    for i in range(1, len(zones) + 1):
        if i == len(zones) or zones[i] != zones[start]:
            if zones[start] is not None:
                out.stylize(BELOW_STYLE if zones[start] else BETTER_STYLE, start, i)
            start = i
    return out


def kind_of(key: str) -> str:
    """The kind of number a series key holds (``ratetool.places``): a dimension unless named."""
    return key if key in ("overall", "pomp", "total") else "dimension"


def ranges(numbers: list[int]) -> str:
    """``[1, 2, 3, 5, 7, 8]`` -> ``"1-3, 5, 7-8"``."""
    parts: list[str] = []
    i = 0
    while i < len(numbers):
        j = i
        while j + 1 < len(numbers) and numbers[j + 1] == numbers[j] + 1:
            j += 1
        parts.append(f"{numbers[i]}" if i == j else f"{numbers[i]}-{numbers[j]}")
        i = j + 1
    return ", ".join(parts)


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def thresholds_line(th: dict[str, Any]) -> str:
    return (
        f"Alerts: low below {th['low']:g}%, drop of {th['drop']:g} percentage points or more, "
        f"item at or below {th['item']:g}%."
    )


def status_legend(g: Glyphs) -> str:
    return (
        f"Status: {band_label('alert', g)} = below the low cutoff, or a reliable worsening; "
        f"{band_label('watch', g)} = a drop, or an item alert; {band_label('ok', g)} = "
        "neither."
    )


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


#: Widest an instrument id is shown in a table column; a longer one is cut with an ellipsis
#: (and named in full under the table).
INSTRUMENT_WIDTH = 10


def short_id(iid: str, width: int = INSTRUMENT_WIDTH) -> str:
    """An instrument id cut to ``width`` characters with an ellipsis: "therapeutic-all…"."""
    return iid if len(iid) <= width else iid[: width - 1] + "…"
