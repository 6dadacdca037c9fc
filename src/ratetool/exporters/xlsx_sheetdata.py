"""One big worksheet's cells written straight as XML into a workbook XlsxWriter has built.

XlsxWriter keeps every cell of a workbook as a Python object until ``close()`` and then writes
each one through several layers of calls: fine for thousands of cells, about 15 s per million.
``ratetool.exporters.xlsx`` therefore lets XlsxWriter build the whole workbook (sheets, styles,
tables, frozen panes, column widths, chart) with only the *header row* of its big sheet, and
``splice`` then copies that workbook member by member into a new zip, except:

- the big sheet's XML: everything XlsxWriter wrote around ``<sheetData>`` is kept byte for byte,
  the ``<dimension>`` is widened to the rows written, and the rows after the header are streamed
  in from an iterator of ``<row>`` elements (``zipfile``'s ``open(name, "w")``, in batches, so
  the sheet never exists as one string);
- its table's XML: the table was added over the header and one row (XlsxWriter records every
  cell of a table's range in a dict, about 2.7 s and 420 MB for 100,000 rows x 21 columns), so
  its ``ref`` and its ``autoFilter``'s ``ref`` are set to the real range.

The cells are the ones XlsxWriter writes in its ``constant_memory`` mode (``worksheet.py``
``_write_cell``, ``_write_row``, ``xmlwriter.py`` ``_xml_inline_string`` /
``_xml_number_element``, ``_escape_control_characters``, ``_escape_data``):

- ``<row r="7">``, no ``spans`` (optional; XlsxWriter leaves it out in that mode too);
- a number: ``<c r="C7" s="1"><v>8</v></c>``, the value written with ``%.16G``;
- a date: the same, with the Excel serial number of the wall-clock time (1900 date system,
  Excel's phantom 29 February 1900 counted) and the date style;
- text: an inline string ``<c r="B7" t="inlineStr"><is><t>C-014</t></is></c>`` (``s`` before
  ``t`` when it has a style), cut to Excel's 32,767 UTF-16 units as XlsxWriter cuts it; ``&``,
  ``<``, ``>`` escaped; the control characters XML 1.0 forbids, and U+FFFE / U+FFFF, written as
  Excel's ``_xHHHH_`` escape, and text that already looks like such an escape protected with
  ``_x005F`` (so Excel reads back exactly what was written); ``xml:space="preserve"`` when it
  starts or ends with white space. One deliberate difference: XlsxWriter copies text that starts
  with ``<r>`` and ends with ``</r>`` into the file unescaped (its way of passing rich text
  through); here every text is escaped, so such a comment stays the client's words and cannot
  break the file.

The style indexes (``s``) are XlsxWriter's own: ``CellStyles.of(fmt)`` reads the index XlsxWriter
gave a ``Format``; ``reserve`` asks XlsxWriter for the index before ``close()`` so the format is
in ``styles.xml`` even when no cell XlsxWriter writes uses it.
"""

from __future__ import annotations

import math
import operator
import posixpath
import queue
import re
import threading
import zipfile
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
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
#: Rows joined into one write.
BATCH = 2_000
#: Texts (and row layouts) remembered before starting afresh: the same client code, instrument
#: or practitioner recurs on thousands of rows.
CACHE = 1 << 16

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


def number_cell(ref: str, number: int | float, style: int) -> str:
    """``<c>`` of a number with its number-format style: ``<c r="C7" s="1"><v>8</v></c>``.
    Like XlsxWriter, refuses NaN and infinity (a cell cannot hold them)."""
    _check_finite(number)
    return f'<c r="{ref}" s="{style}"><v>{number:.16G}</v></c>'


def _check_finite(number: float) -> None:
    if not math.isfinite(number):
        raise TypeError(f"cannot write {number} to a cell")


def excel_serial(when: datetime) -> float:
    """An Excel serial date-time (1900 system) of a naive ``datetime``, as XlsxWriter counts it."""
    delta = when - _EPOCH
    serial = delta.days + (float(delta.seconds) + float(delta.microseconds) / 1e6) / (60 * 60 * 24)
    if when.isocalendar() == (1900, 1, 1):
        serial -= 1
    if serial > 59:  # Excel counts a 29 February 1900
        serial += 1
    return serial


class _Texts(dict):  # type: ignore[type-arg]
    """text -> its cell after the ``r`` attribute, made on first use."""

    def __init__(self, style: int, marked: Callable[[str], bool]) -> None:
        super().__init__()
        self.style = style
        self.marked = marked

    def __missing__(self, text: str) -> str:
        if len(self) >= CACHE:
            self.clear()
        tail = self[text] = text_tail(text, self.style if self.marked(text) else None)
        return tail


class _Numbers(dict):  # type: ignore[type-arg]
    """number -> its ``%.16G`` text (XlsxWriter's), made on first use.

    Numbers that compare equal write the same (``8`` and ``8.0`` both ``8``), except zero
    (``-0.0`` writes ``-0``), which is therefore never kept. NaN and infinity are refused.
    """

    def __missing__(self, number: int | float) -> str:
        _check_finite(number)
        text = f"{number:.16G}"
        if number:
            if len(self) >= CACHE:
                self.clear()
            self[number] = text
        return text


def _picker(positions: Sequence[int]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """A function giving the items at ``positions`` as a tuple (``itemgetter`` gives a bare
    item for one position)."""
    if len(positions) > 1:
        return operator.itemgetter(*positions)
    if len(positions) == 1:
        only = positions[0]
        return lambda values: (values[only],)
    return lambda values: ()


class _Dates(dict):  # type: ignore[type-arg]
    """naive ``datetime`` -> its Excel serial number (``None`` before 1900: no cell)."""

    def __missing__(self, when: datetime) -> float | None:
        if when.__class__ is not datetime:
            raise TypeError(f"cannot write {when.__class__.__name__} as a date")
        if when.tzinfo is not None:
            raise TypeError("Excel has no time zones: give the wall-clock time (tzinfo=None)")
        serial = excel_serial(when) if when.year >= 1900 else None
        if len(self) >= CACHE:
            self.clear()
        self[when] = serial
        return serial


_NONE = type(None)


class _Layout:
    """The ``<row>`` of one combination of cell types, as a ``%`` template (C-level and, for
    twenty fields, about three times as fast as ``str.format`` here) with a ``%s`` for the row
    number in each cell reference and for each value's text; ``numbers`` and ``texts`` pick a
    row's values by kind, and ``fields`` puts ``(row number, *number texts, *text cells)`` in
    the template's order."""

    def __init__(self, kinds: tuple[type, ...], letters: Sequence[str], styles: Sequence[int]):
        numbers = [col for col, kind in enumerate(kinds) if kind is int or kind is float]
        texts = [col for col, kind in enumerate(kinds) if kind is str]
        field = {col: 1 + i for i, col in enumerate(numbers)}
        field.update({col: 1 + len(numbers) + i for i, col in enumerate(texts)})
        parts = ['<row r="%s">']
        order = [0]
        for col, kind in enumerate(kinds):
            if kind is _NONE:
                continue
            ref = f'<c r="{letters[col]}%s"'
            if kind is str:
                parts.append(f"{ref}%s")
            elif kind is int or kind is float:
                parts.append(f'{ref} s="{styles[col]}"><v>%s</v></c>')
            else:
                raise TypeError(f"cannot write {kind.__name__} to a cell")
            order += [0, field[col]]
        parts.append("</row>")
        self.template = "".join(parts)
        self.fields = operator.itemgetter(*order) if len(order) > 1 else lambda all: (all[0],)
        self.numbers = _picker(numbers)
        self.texts = _picker(texts)


class RowWriter:
    """``<row>`` elements of a sheet whose columns have fixed number formats.

    ``row(number, values)`` takes a row's values in column order: ``None`` (no cell), text, a
    whole or decimal number (written with the column's style from ``number_styles``), or, in a
    ``date_columns`` column, a naive ``datetime`` (an Excel date with ``date_style``; none before
    1900). Text for which ``marked(text)`` is true gets ``marked_style``. Anything else (``True``,
    NaN, ...) is a ``TypeError``, as in XlsxWriter.

    Rows with the same types in the same columns share one ``str.format`` template, and a text's
    or a number's XML is made once while it recurs, so a row costs a few calls that do their
    work in C instead of Python work for every cell.
    """

    def __init__(
        self,
        number_styles: Sequence[int],
        *,
        date_columns: Sequence[int],
        date_style: int,
        marked: Callable[[str], bool],
        marked_style: int,
    ) -> None:
        self.letters = column_letters(len(number_styles))
        self.styles = list(number_styles)
        self.dates = list(date_columns)
        for col in self.dates:
            self.styles[col] = date_style
        self.texts = _Texts(marked_style, marked)
        self.numbers = _Numbers()
        self.serials = _Dates()
        self.layouts: dict[tuple[type, ...], _Layout] = {}

    def row(self, number: int, values: list[Any]) -> str:
        """The ``<row>`` (``number`` counted from 1) of ``values``, which it may change."""
        for col in self.dates:
            when = values[col]
            if when is not None:
                values[col] = self.serials[when]
        kinds = tuple(map(type, values))
        layout = self.layouts.get(kinds)
        if layout is None:
            if len(self.layouts) >= CACHE:
                self.layouts.clear()
            layout = self.layouts[kinds] = _Layout(kinds, self.letters, self.styles)
        return layout.template % layout.fields(
            (
                number,
                *map(self.numbers.__getitem__, layout.numbers(values)),
                *map(self.texts.__getitem__, layout.texts(values)),
            )
        )


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
    return head + "<sheetData>", xml[start + len("<sheetData>"):end], xml[end:]


def _retable(xml: str, old: str, new: str) -> str:
    """The table XML with its range (the table's and its autoFilter's) ``old`` -> ``new``."""
    before = f' ref="{old}"'
    if xml.count(before) != 2:  # pragma: no cover - XlsxWriter changed
        raise RuntimeError(f"unexpected table XML from XlsxWriter (range {old})")
    return xml.replace(before, f' ref="{new}"')


def splice(
    workbook: bytes,
    sheet: str,
    rows: Iterable[str],
    *,
    header_rows: int,
    last_row: int,
    last_col: int,
    table_range: tuple[str, str] | None,
) -> bytes:
    """The workbook with ``rows`` (``<row>`` elements, in order, below the sheet's first
    ``header_rows`` rows) added to worksheet ``sheet``.

    ``last_row`` / ``last_col`` (0-based) are the sheet's last cell, for ``<dimension>``;
    ``table_range`` is ``(range XlsxWriter was given, real range)`` of the sheet's table.
    """
    import io

    from xlsxwriter.utility import xl_range

    if last_row >= MAX_ROWS:  # pragma: no cover - the caller checks with a clear message
        raise RuntimeError("too many rows for a worksheet")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(workbook)) as source, zipfile.ZipFile(
        out, "w", compression=zipfile.ZIP_DEFLATED
    ) as target:
        sheet_path, tables = sheet_members(source, sheet)
        for info in source.infolist():
            if info.filename == sheet_path:
                head, header, tail = _split_sheet(
                    source.read(info).decode("utf-8"), xl_range(0, 0, last_row, last_col)
                )
                if header.count("<row ") != header_rows:  # pragma: no cover
                    raise RuntimeError("unexpected header rows from XlsxWriter")
                _stream(target, info, head + header, rows, tail)
            elif info.filename in tables and table_range is not None:
                text = _retable(source.read(info).decode("utf-8"), *table_range)
                target.writestr(info, text.encode("utf-8"))
            else:
                target.writestr(info, source.read(info))
    return out.getvalue()


def _stream(
    archive: zipfile.ZipFile, like: zipfile.ZipInfo, head: str, rows: Iterable[str], tail: str
) -> None:
    """Write a member like ``like``: ``head``, the rows, ``tail``, in batches of ``BATCH`` rows.

    The batches are compressed in a second thread while the next ones are made: zlib lets go of
    the interpreter while it compresses, so with two processor cores the compressing (about 2 s
    for 100,000 sessions) costs almost no time.
    """
    info = zipfile.ZipInfo(like.filename, like.date_time)
    info.compress_type = like.compress_type
    info.external_attr = like.external_attr
    with archive.open(info, "w") as member:
        writer = _Writer(member.write)
        try:
            writer.put(head)
            batch: list[str] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= BATCH:
                    writer.put("".join(batch))
                    batch.clear()
            writer.put("".join(batch) + tail)
        finally:
            writer.close()


class _Writer:
    """Encodes text and hands it to ``write`` in a second thread; ``close`` waits for it and
    raises what ``write`` raised. At most a few batches wait at a time."""

    def __init__(self, write: Callable[[bytes], object]) -> None:
        self.write = write
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
                except BaseException as exc:  # handed to the main thread by close()
                    self.error = exc

    def put(self, text: str) -> None:
        if self.error is not None:
            raise self.error
        data = text.encode("utf-8")
        self.written += len(data)
        if self.written >= MAX_MEMBER:
            raise ExportError(
                "The Ratings sheet would be larger than 2 GB, more than an XLSX file can hold "
                "here; export CSV instead (--format csv), or fewer ratings (--client, --since). "
                "Nothing was written."
            )
        self.queue.put(data)

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error
