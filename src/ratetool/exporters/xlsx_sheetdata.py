"""One big worksheet's rows written straight as XML into a workbook XlsxWriter has built.

XlsxWriter keeps every cell as a Python object until ``close()`` and then writes each one through
several layers of calls: fine for thousands of cells, most of 31-35 s for the 2.1 million cells of
100,000 sessions. ``ratetool.exporters.xlsx`` (whose docstring has the numbers) therefore lets
XlsxWriter build the whole workbook with only the *header row* of its big sheet, and ``splice``
then copies that workbook member by member into a new zip, except:

- the big sheet's XML: everything XlsxWriter wrote around ``<sheetData>`` is kept byte for byte,
  the ``<dimension>`` is widened to the rows written, and the rows after the header are streamed
  in (``zipfile``'s ``open(name, "w")``, a batch of rows at a time, compressed in a second
  thread), so the sheet never exists as one string;
- its table's XML: the table was added over the header and one row (XlsxWriter records every
  cell of a table's range in a dict), so its ``ref`` and its ``autoFilter``'s ``ref`` are set to
  the real range.

``SheetRows`` makes the rows from values given column by column. The cells are those XlsxWriter
writes in its ``constant_memory`` mode (``worksheet.py`` ``_write_cell`` / ``_write_row``,
``xmlwriter.py`` ``_xml_inline_string`` / ``_xml_number_element`` /
``_escape_control_characters`` / ``_escape_data``):

- ``<row r="7">``, no ``spans`` (optional; XlsxWriter leaves it out in that mode too);
- a number: ``<c r="C7" s="1"><v>8</v></c>``, the value written with ``%.16G``; NaN and
  infinity refused;
- a date: the same, with the Excel serial number of the wall-clock time (1900 date system,
  Excel's phantom 29 February 1900 counted) and the date style;
- text: an inline string ``<c r="B7" t="inlineStr"><is><t>C-014</t></is></c>`` (``s`` before
  ``t`` when it has a style), cut to Excel's 32,767 UTF-16 units as XlsxWriter cuts it; ``&``,
  ``<``, ``>`` escaped; the control characters XML 1.0 forbids, and U+FFFE / U+FFFF, written as
  Excel's ``_xHHHH_`` escape, and text that already looks like such an escape protected with
  ``_x005F`` (so Excel reads back exactly what was written); ``xml:space="preserve"`` when it
  starts or ends with white space. One deliberate difference: XlsxWriter copies text that starts
  with ``<r>`` and ends with ``</r>`` into the file unescaped (its way of passing rich text
  through, which breaks the file for such a comment); here every text is escaped.

Speed: a column's cell is made once per distinct value (``ColumnCells``, with ``ROW`` standing for
the row number) and a batch of rows is put together by C-level ``map``s, ``zip`` and ``join``, so
Python code runs per distinct value, not per cell.

The style indexes (``s``) are XlsxWriter's own: ``CellStyles.reserve`` asks XlsxWriter for a
format's index before ``close()`` (so ``styles.xml`` has it even when no cell XlsxWriter writes
uses it) and ``CellStyles.of`` reads it afterwards.
"""

from __future__ import annotations

import math
import posixpath
import queue
import re
import threading
import zipfile
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from itertools import repeat
from typing import Any
from xml.etree import ElementTree

from ratetool.errors import ExportError

#: Rows of a worksheet, header included (Excel's limit).
MAX_ROWS = 1_048_576
#: Characters of a cell, in UTF-16 units (Excel's limit; XlsxWriter cuts longer text).
MAX_TEXT = 32_767
#: A zip member written in a stream, without ZIP64 (which some Excel versions warn about), must
#: stay below this many bytes.
MAX_MEMBER = zipfile.ZIP64_LIMIT
#: Cells of a column remembered before starting afresh.
CACHE = 1 << 13

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_TABLE_REL = _REL + "/table"

#: Anything in a text that needs more than copying: XML's ``&<>``, control characters, the two
#: non-characters and the start of an ``_xHHHH_`` escape.
_SPECIAL = re.compile("[\x00-\x1f&<>\ufffe\uffff]|_x")
# XlsxWriter's own expressions (xmlwriter.py), applied in its order.
_ESCAPE_LIKE = re.compile("(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"([\x00-\x08\x0b-\x1f])")
_EPOCH = datetime(1899, 12, 31)


class CellStyles:
    """The xf index XlsxWriter gives each ``Format`` (what a cell's ``s`` attribute holds)."""

    @staticmethod
    def reserve(fmt: Any) -> None:
        """Make XlsxWriter give ``fmt`` its index now (before ``close()``), as writing a cell
        with it would, so ``styles.xml`` has it even if no XlsxWriter cell uses it."""
        fmt._get_xf_index()

    @staticmethod
    def of(fmt: Any) -> int:
        """The index of a reserved format, after ``close()``."""
        index = fmt.xf_index
        if not isinstance(index, int) or index < 1:  # pragma: no cover - XlsxWriter changed
            raise RuntimeError(f"XlsxWriter gave a cell format no style index ({index!r})")
        return index


# --------------------------------------------------------------------------------------------
# Cells


def column_letters(count: int) -> list[str]:
    """``A``, ``B``, ... for the first ``count`` columns."""
    from xlsxwriter.utility import xl_col_to_name

    return [xl_col_to_name(col) for col in range(count)]


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _utf16_cut(text: str, limit: int) -> str:
    length = 0
    for index, char in enumerate(text):
        length += 2 if ord(char) > 0xFFFF else 1
        if length > limit:
            return text[:index]
    return text


def text_tail(text: str, style: int | None = None) -> str:
    """An inline-string ``<c>`` after its ``r`` attribute, as XlsxWriter writes it (see the
    module docstring): ``' t="inlineStr"><is><t>C-014</t></is></c>'``."""
    if len(text) > MAX_TEXT // 2 and _utf16_len(text) > MAX_TEXT:
        text = _utf16_cut(text, MAX_TEXT)
    if _SPECIAL.search(text) is not None:
        text = _ESCAPE_LIKE.sub(r"_x005F\1", text)
        text = _CONTROL.sub(lambda m: f"_x{ord(m.group(1)):04X}_", text)
        text = text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
        preserve = text[:1].isspace() or text[-1:].isspace()
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    else:
        preserve = text[:1].isspace() or text[-1:].isspace()
    s = "" if style is None else f' s="{style}"'
    t = ' xml:space="preserve"' if preserve else ""
    return f'{s} t="inlineStr"><is><t{t}>{text}</t></is></c>'


def text_cell(ref: str, text: str, style: int | None = None) -> str:
    """``<c>`` of an inline string: ``<c r="B7" t="inlineStr"><is><t>C-014</t></is></c>``."""
    return f'<c r="{ref}"{text_tail(text, style)}'


def number_cell(ref: str, number: float, style: int) -> str:
    """``<c>`` of a number with its number-format style: ``<c r="C7" s="1"><v>8</v></c>``.
    Like XlsxWriter, refuses NaN and infinity (a cell cannot hold them)."""
    if not math.isfinite(number):
        raise TypeError(f"cannot write {number} to a cell")
    return f'<c r="{ref}" s="{style}"><v>{number:.16G}</v></c>'


def excel_serial(when: datetime) -> float:
    """An Excel serial date-time (1900 system) of a naive ``datetime``, as XlsxWriter counts it."""
    delta = when - _EPOCH
    serial = delta.days + (float(delta.seconds) + float(delta.microseconds) / 1e6) / (60 * 60 * 24)
    if when.isocalendar() == (1900, 1, 1):
        serial -= 1
    if serial > 59:  # Excel counts a 29 February 1900
        serial += 1
    return serial


#: Stands for the row number in a cell made before its row is known. It cannot occur in a cell
#: otherwise: text has its control characters escaped, and numbers and names have none.
ROW = "\x00"


class ColumnCells(dict):  # type: ignore[type-arg]
    """The cells of one column, by value, made on first use (a client code, an instrument, a
    score recur on thousands of rows) with ``ROW`` for the row number; ``""`` for ``None``.

    A value is written as ``ratetool.exporters.xlsx._write`` has XlsxWriter write it: text as
    text (``marked_style`` where ``marked(text)``), a ``datetime`` as a date with
    ``date_style`` (none before 1900), a whole or decimal number with ``number_style``;
    anything else (``True``, NaN, a ``date``) is a ``TypeError``. Numbers that compare equal
    write the same (``8`` and ``8.0`` both ``8``), except zero (``-0.0`` writes ``-0``), which is
    therefore never kept; ``True`` equals 1, so ``SheetRows`` refuses it before it gets here.
    """

    def __init__(
        self,
        letter: str,
        number_style: int,
        *,
        date_style: int,
        marked: Callable[[str], bool],
        marked_style: int,
    ) -> None:
        super().__init__()
        self.ref = f"{letter}{ROW}"
        self.number_style = number_style
        self.date_style = date_style
        self.marked = marked
        self.marked_style = marked_style

    def __missing__(self, value: Any) -> str:
        keep = True
        if value is None:
            cell = ""
        elif isinstance(value, str):
            style = self.marked_style if self.marked(value) else None
            cell = text_cell(self.ref, value, style)
        elif isinstance(value, datetime):
            if value.tzinfo is not None:
                raise TypeError("Excel has no time zones: give the wall-clock time (tzinfo=None)")
            if value.year < 1900:  # Excel has no dates before 1900
                cell = ""
            else:
                cell = number_cell(self.ref, excel_serial(value), self.date_style)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            cell = number_cell(self.ref, value, self.number_style)
            keep = value != 0
        else:
            raise TypeError(f"cannot write {type(value).__name__} to a cell")
        if keep:
            if len(self) >= CACHE:
                self.clear()
            self[value] = cell
        return cell


_PLAIN_KINDS = frozenset({type(None), str, int, float, datetime})


def _check_kinds(kinds: Iterable[type]) -> None:
    """Refuse what ``ColumnCells`` cannot tell apart by value: ``True`` equals 1 and
    ``Decimal(8)`` equals 8, so they would be written as a cached number instead of refused."""
    for kind in kinds:
        if issubclass(kind, bool) or not issubclass(kind, str | int | float | datetime):
            raise TypeError(f"cannot write {kind.__name__} to a cell")


class SheetRows:
    """``<row>`` elements, many at a time, from values given column by column.

    ``rows(first, columns)`` takes one sequence of values per column (all as long), for the
    rows numbered ``first``, ``first + 1``, ... (counted from 1), and returns their XML. Each
    value becomes its ``ColumnCells`` cell; a row is its cells joined, with its number put in
    for ``ROW``. All of it runs in C-level ``map``s; Python code runs only for a value seen
    for the first time.
    """

    def __init__(
        self,
        number_styles: Sequence[int],
        *,
        date_style: int,
        marked: Callable[[str], bool],
        marked_style: int,
    ) -> None:
        self.columns = [
            ColumnCells(
                letter, style, date_style=date_style, marked=marked, marked_style=marked_style
            )
            for letter, style in zip(column_letters(len(number_styles)), number_styles)
        ]

    def rows(self, first: int, columns: Sequence[Sequence[Any]]) -> str:
        if len(columns) != len(self.columns):
            raise ValueError(f"{len(columns)} columns given for {len(self.columns)}")
        count = len(columns[0]) if columns else 0
        for values in columns:
            if len(values) != count:
                raise ValueError("the columns have different numbers of rows")
            kinds = set(map(type, values))
            if not kinds <= _PLAIN_KINDS:
                _check_kinds(kinds - _PLAIN_KINDS)
        cells = [map(col.__getitem__, values) for col, values in zip(self.columns, columns)]
        rows = map("".join, zip(repeat(f'<row r="{ROW}">'), *cells, repeat("</row>")))
        numbers = map(str, range(first, first + count))
        return "".join(map(str.replace, rows, repeat(ROW), numbers))


# --------------------------------------------------------------------------------------------
# The workbook


def _read_xml(archive: zipfile.ZipFile, name: str) -> ElementTree.Element:
    return ElementTree.fromstring(archive.read(name))


def _target(base: str, target: str) -> str:
    """A relationship target as a zip member name."""
    if target.startswith("/"):
        return target[1:]
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), target))


def _rels_of(name: str) -> str:
    return posixpath.join(posixpath.dirname(name), "_rels", posixpath.basename(name) + ".rels")


def sheet_members(archive: zipfile.ZipFile, sheet: str) -> tuple[str, list[str]]:
    """The zip member of worksheet ``sheet`` and those of its tables."""
    workbook = _read_xml(archive, "xl/workbook.xml")
    rel_id = None
    for node in workbook.iter(f"{{{_MAIN}}}sheet"):
        if node.get("name") == sheet:
            rel_id = node.get(f"{{{_REL}}}id")
    if rel_id is None:  # pragma: no cover - the caller made the sheet
        raise RuntimeError(f"the workbook has no sheet {sheet!r}")
    rels = _read_xml(archive, _rels_of("xl/workbook.xml"))
    path = next(
        _target("xl/workbook.xml", r.get("Target", ""))
        for r in rels.iter(f"{{{_PKG_REL}}}Relationship")
        if r.get("Id") == rel_id
    )
    tables: list[str] = []
    if _rels_of(path) in archive.namelist():
        for r in _read_xml(archive, _rels_of(path)).iter(f"{{{_PKG_REL}}}Relationship"):
            if r.get("Type") == _TABLE_REL:
                tables.append(_target(path, r.get("Target", "")))
    return path, tables


def _split_sheet(xml: str, dimension: str) -> tuple[str, str, str]:
    """XlsxWriter's sheet XML as (everything up to and including ``<sheetData>`` with the
    dimension set, its rows, everything from ``</sheetData>``)."""
    start = xml.find("<sheetData>")
    end = xml.find("</sheetData>")
    if start < 0 or end < 0 or xml.count("<dimension ") != 1:  # pragma: no cover
        raise RuntimeError("unexpected worksheet XML from XlsxWriter")
    head = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="{dimension}"/>', xml[:start])
    return head + "<sheetData>", xml[start + len("<sheetData>") : end], xml[end:]


def _retable(xml: str, old: str, new: str) -> str:
    """The table XML with its range (the table's and its autoFilter's) ``old`` -> ``new``."""
    before = f' ref="{old}"'
    if xml.count(before) != 2:  # pragma: no cover - XlsxWriter changed
        raise RuntimeError(f"unexpected table XML from XlsxWriter (range {old})")
    return xml.replace(before, f' ref="{new}"')


def splice(
    workbook: bytes,
    sheet: str,
    chunks: Iterable[str],
    *,
    header_rows: int,
    last_row: int,
    last_col: int,
    table_range: tuple[str, str] | None,
) -> bytes:
    """The workbook with ``chunks`` (strings of ``<row>`` elements, in order, below the sheet's
    first ``header_rows`` rows) added to worksheet ``sheet``.

    ``last_row`` / ``last_col`` (0-based) are the sheet's last cell, for ``<dimension>``;
    ``table_range`` is ``(range XlsxWriter was given, real range)`` of the sheet's table.
    """
    import io

    from xlsxwriter.utility import xl_range

    if last_row >= MAX_ROWS:  # pragma: no cover - the caller checks with a clear message
        raise RuntimeError("too many rows for a worksheet")
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(workbook)) as source,
        zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target,
    ):
        sheet_path, tables = sheet_members(source, sheet)
        for info in source.infolist():
            if info.filename == sheet_path:
                head, header, tail = _split_sheet(
                    source.read(info).decode("utf-8"), xl_range(0, 0, last_row, last_col)
                )
                if header.count("<row ") != header_rows:  # pragma: no cover
                    raise RuntimeError("unexpected header rows from XlsxWriter")
                _stream(target, info, head + header, chunks, tail, f"The {sheet} sheet")
            elif info.filename in tables and table_range is not None:
                text = _retable(source.read(info).decode("utf-8"), *table_range)
                target.writestr(info, text.encode("utf-8"))
            else:
                target.writestr(info, source.read(info))
    return out.getvalue()


def _stream(
    archive: zipfile.ZipFile,
    like: zipfile.ZipInfo,
    head: str,
    chunks: Iterable[str],
    tail: str,
    what: str,
) -> None:
    """Write a member like ``like``: ``head``, the chunks, ``tail``.

    The chunks are compressed in a second thread while the next ones are made: zlib lets go of
    the interpreter while it compresses, so with two processor cores the compressing (about 2 s
    for 100,000 sessions) costs almost no time.
    """
    info = zipfile.ZipInfo(like.filename, like.date_time)
    info.compress_type = like.compress_type
    info.external_attr = like.external_attr
    with archive.open(info, "w") as member:
        writer = _Writer(member.write, what)
        try:
            writer.put(head)
            for chunk in chunks:
                writer.put(chunk)
            writer.put(tail)
        finally:
            writer.close()


class _Writer:
    """Encodes text and hands it to ``write`` in a second thread; ``close`` waits for it and
    raises what ``write`` raised. At most a few batches wait at a time."""

    def __init__(self, write: Callable[[bytes], object], what: str) -> None:
        self.write = write
        self.what = what
        self.written = 0
        self.error: BaseException | None = None
        self.queue: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
        self.thread = threading.Thread(target=self._run, name="xlsx-sheet-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (data := self.queue.get()) is not None:
            if self.error is None:
                try:
                    self.write(data)
                except BaseException as exc:  # noqa: BLE001 - raised in the main thread by close()
                    self.error = exc

    def put(self, text: str) -> None:
        if self.error is not None:
            raise self.error
        data = text.encode("utf-8")
        self.written += len(data)
        if self.written >= MAX_MEMBER:
            raise ExportError(
                f"{self.what} would be larger than 2 GB, more than ratetool can put in an XLSX "
                "file; export CSV instead (--format csv), or fewer ratings (--client, --since, "
                "--until). Nothing was written."
            )
        self.queue.put(data)

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error
