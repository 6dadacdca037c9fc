"""CSV export: RFC 4180 (``,``, CRLF, double quotes doubled), UTF-8, the ``csvformat`` layout.

Options:

- ``excel``: start with a UTF-8 byte-order mark, which Excel needs to read accents and other
  non-ASCII text correctly when the file is opened by double-click, and escape text cells Excel
  would turn into numbers or dates (``0412`` -> 412, ``3-11`` -> a date) with the same leading
  ``'`` as formulas, so they come back exactly on import. No ``sep=`` line: Excel ignores the BOM
  when one is there (accents break) and every other reader sees a bogus first row.
- ``delimiter``: ``,`` (default) or ``;`` (or tab). With ``;`` decimals are written with a comma
  (``8,50``), as spreadsheets that use ``;`` between cells (most of continental Europe) expect.
"""

from __future__ import annotations

import csv
import io

from ratetool.csvformat import escape_text, rating_values, score_values, text_cells
from ratetool.errors import ExportError
from ratetool.exporters import ExportData

#: Byte-order mark written first with ``excel``.
BOM = "\ufeff"
DELIMITERS = (",", ";", "\t")


def to_csv(data: ExportData, *, excel: bool = False, delimiter: str = ",") -> bytes:
    if delimiter not in DELIMITERS:
        raise ExportError(
            f"--delimiter {delimiter!r} is not supported; use ',' (the default), ';' or 'tab'."
        )
    decimal_comma = delimiter == ";"
    layout = data.layout
    columns = layout.columns
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    # Header cells are text too: an item id may start with "-".
    writer.writerow([escape_text(name, for_excel=excel) for name in columns])
    for score in data.sessions:
        values = {**rating_values(score.rating), **score_values(score)}
        writer.writerow(
            text_cells(values, columns, layout, decimal_comma=decimal_comma, for_excel=excel)
        )
    text = buffer.getvalue()
    return ((BOM if excel else "") + text).encode("utf-8")
