"""CSV export: RFC 4180 (``,``, CRLF, double quotes doubled), UTF-8, the ``csvformat`` layout.

Options:

- ``excel``: start with a UTF-8 byte-order mark, which Excel needs to read accents and other
  non-ASCII text correctly when the file is opened by double-click, and escape text cells Excel
  would turn into numbers or dates (``0412`` -> 412, ``3-11`` -> a date) with the same leading
  ``'`` as formulas, so they come back exactly on import. No ``sep=`` line: Excel ignores the BOM
  when one is there (accents break) and every other reader sees a bogus first row.
- ``one_line_comments``: line breaks in comments written as the two characters ``\\n``.
- ``delimiter``: ``,`` (default) or ``;`` (or tab). With ``;`` decimals are written with a comma
  (``8,50``), as spreadsheets that use ``;`` between cells (most of continental Europe) expect.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

from ratetool.csvformat import (
    ALERTS_COLUMN,
    COMMENT_COLUMN,
    STATUS_COLUMN,
    Layout,
    alerts_cell,
    escape_text,
    score_values,
    text_cells,
)
from ratetool.errors import ExportError
from ratetool.exporters import ExportData
from ratetool.scoring import SessionScore

#: Byte-order mark written first with ``excel``.
BOM = "\ufeff"
DELIMITERS = (",", ";", "\t")


def to_csv(
    data: ExportData, *, excel: bool = False, delimiter: str = ",", one_line_comments: bool = False
) -> bytes:
    if delimiter not in DELIMITERS:
        raise ExportError(
            f"--delimiter {delimiter!r} is not supported; use ',' (the default), ';' or 'tab'."
        )
    layout = data.layout
    return write_csv(
        layout.columns,
        csv_rows(
            data, layout, excel=excel, delimiter=delimiter, one_line_comments=one_line_comments
        ),
        excel=excel,
        delimiter=delimiter,
    )


def write_csv(
    columns: Sequence[str], rows: Iterable[list[str]], *, excel: bool = False, delimiter: str = ","
) -> bytes:
    """The CSV bytes: the header (column names are text too: an item id may start with "-"),
    then ``rows`` of cells as ``csv_rows`` makes them."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([escape_text(name, for_excel=excel) for name in columns])
    writer.writerows(rows)
    text_out = buffer.getvalue()
    return ((BOM if excel else "") + text_out).encode("utf-8")


def csv_rows(
    data: ExportData,
    layout: Layout,
    *,
    excel: bool = False,
    delimiter: str = ",",
    one_line_comments: bool = False,
) -> Iterator[list[str]]:
    """Each exported session as the list of cells under ``layout.columns``.

    ``one_line_comments`` writes each line break in a comment as the two characters ``\\n``, so
    that every rating is one line for line-based readers (PSPP).
    """
    decimal_comma = delimiter == ";"
    columns = layout.columns
    # The cells are the ones ``text_cells`` makes from ``rating_values`` and ``score_values``;
    # the computed columns depend only on the answers, so they are worked out once per answer
    # pattern (scoring returns the same ``dimensions`` object for the same answers).
    position = {column: i for i, column in enumerate(columns)}
    blank = [""] * len(columns)
    at = [
        position[c]
        for c in (
            "id",
            "client",
            "session",
            "rated_at",
            "instrument",
            "instrument_version",
            "practitioner",
        )
    ]
    at_alerts, at_comment = position[ALERTS_COLUMN], position[COMMENT_COLUMN]
    at_status = position[STATUS_COLUMN]
    computed: dict[int, tuple[object, list[tuple[int, str]]]] = {}

    def computed_cells(score: SessionScore) -> list[tuple[int, str]]:
        hit = computed.get(id(score.dimensions))
        if hit is not None and hit[0] is score.dimensions:
            return hit[1]
        values = score_values(score)
        values.pop(ALERTS_COLUMN, None)
        names = list(values)
        cells = text_cells(values, names, layout, decimal_comma=decimal_comma)
        pairs = [(position[name], cell) for name, cell in zip(names, cells)]
        computed[id(score.dimensions)] = (score.dimensions, pairs)
        return pairs

    # Codes, instruments, practitioners and comments repeat: each is escaped once. Ids and
    # times are new in every row, so they are escaped directly.
    texts: dict[str, str] = {}

    def text(value: str | None) -> str:
        if not value:
            return ""
        out = texts.get(value)
        if out is None:
            out = escape_text(value, for_excel=excel)
            if len(texts) < 100_000:
                texts[value] = out
        return out

    alert_cells: dict[tuple[str, ...], str] = {}
    for score in data.sessions:
        r = score.rating
        row = blank[:]
        row[at[0]] = escape_text(r.id, for_excel=excel)
        row[at[1]] = text(r.client)
        row[at[2]] = str(r.session)
        row[at[3]] = escape_text(r.rated_at.isoformat(), for_excel=excel)
        row[at[4]] = text(r.instrument)
        row[at[5]] = str(r.instrument_version)
        row[at[6]] = text(r.practitioner)
        # completed, amended or entered-in-error: plain words no escape rule touches.
        row[at_status] = r.status
        for item, answer in r.answers.items():
            row[position[item]] = str(answer)
        for index, cell in computed_cells(score):
            row[index] = cell
        if score.alerts:
            kinds = tuple([a.kind for a in score.alerts])
            alerts_text = alert_cells.get(kinds)
            if alerts_text is None:
                alerts_text = alert_cells[kinds] = text(alerts_cell(kinds))
            row[at_alerts] = alerts_text
        if one_line_comments and r.comment:
            row[at_comment] = text(one_line(r.comment))
        else:
            row[at_comment] = text(r.comment)
        yield row


def one_line(comment: str) -> str:
    """A comment on one line: each line break (``\\r\\n``, ``\\n`` or ``\\r``) as ``\\n``."""
    return comment.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
