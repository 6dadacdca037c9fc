"""Output at the edge: tables, colour and charts for people, drawn with rich. JSON never goes
through here (it is printed plainly).

Imported only by commands that draw: ``--version``, ``--help``, shell completion and ``rate`` up
to its review never import it, nor rich. Every terminal decision is rich's (width, colour under
``NO_COLOR``, ``FORCE_COLOR``, ``TERM=dumb`` and pipes, the encoding); meaning never rests on
colour alone: bands carry a symbol and a word, and a sparkline is plain characters.

- ``text``: symbols, numbers with their places, band labels and styles.
- ``tables``: the console and the borderless tables every summary is drawn with.
- ``client``: ``summary CLIENT``. ``caseload``: ``summary`` and ``summary --by month``.
- ``chart``: sparklines and the line chart of ``ratetool chart`` (plotext).
"""

from ratetool.render.caseload import caseload_table, print_caseload, print_months
from ratetool.render.chart import (
    CHART_COLOURS,
    SPARK_MAX,
    THRESHOLD_MARKER,
    chart_markers,
    chart_text,
    spark_range,
    sparkline,
)
from ratetool.render.client import (
    client_sessions_table,
    item_tables,
    print_client_summary,
    rc_line,
    trend_table,
)
from ratetool.render.tables import console, print_table, table
from ratetool.render.text import (
    ASCII,
    ASCII_SPARK_BLOCKS,
    ASCII_SPARK_MISSING,
    BAND_STYLES,
    SPARK_BLOCKS,
    SPARK_MISSING,
    UNICODE,
    Glyphs,
    band_label,
    band_text,
    fmt,
    fmt_change,
    glyphs,
)

__all__ = [
    "ASCII",
    "ASCII_SPARK_BLOCKS",
    "ASCII_SPARK_MISSING",
    "BAND_STYLES",
    "CHART_COLOURS",
    "SPARK_BLOCKS",
    "SPARK_MAX",
    "SPARK_MISSING",
    "THRESHOLD_MARKER",
    "UNICODE",
    "Glyphs",
    "band_label",
    "band_text",
    "caseload_table",
    "chart_markers",
    "chart_text",
    "client_sessions_table",
    "console",
    "fmt",
    "fmt_change",
    "glyphs",
    "item_tables",
    "print_caseload",
    "print_client_summary",
    "print_months",
    "print_table",
    "rc_line",
    "spark_range",
    "sparkline",
    "table",
    "trend_table",
]
