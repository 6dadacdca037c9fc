"""The CSV store: every rating is one row appended to ``<data dir>/ratings.csv``.

The file
--------
UTF-8 without a byte-order mark (one is accepted when reading), RFC 4180 through the ``csv``
module, rows ended by CRLF, the header row first. CRLF is not a taste: the ``csv`` writer quotes
a cell holding a line break only when that character is part of its line terminator, so with
bare LF a comment holding a lone CR would be written unquoted and split its row.

Columns, in the export's layout without the computed columns (``ratetool.csvformat``)::

    id, client, session, rated_at, instrument, instrument_version, practitioner,
    <one column per item id>, skipped, comment, format

- Item cells hold whole numbers; the cell of an item the client skipped, and the cells of other
  instruments' items, are empty. ``skipped`` lists the skipped item ids joined by ``;``: an empty
  cell alone cannot tell "skipped" from "not an item of this instrument", and without it a skip
  would need the instrument's definition to be read at all.
- Text cells (``id, client, rated_at, instrument, practitioner, skipped, comment``) are escaped
  with the export's reversible formula rule (``csvformat.escape_text``: one ``'`` in front of a
  cell starting with ``= + - @``, tab, CR, LF, NUL or ``'``), so the file opens safely in a
  spreadsheet; numbers are never escaped. ``rated_at`` is ISO 8601 with its UTC offset.
- ``format`` is the data-format version (``1``), on every row. It sits where a spreadsheet user
  sees it as one more column and keeps it when sorting or filtering, it travels with every row
  when the file is copied alone, and an older ratetool finds it by name before anything else: a
  row with a higher number is refused (naming both versions), never misread. It also closes every
  row with a known value.
- The header is fixed when the file is created (an append-only file cannot change its first
  line). It gets a column for every item of every instrument known then: the built-ins, the
  custom instruments in the config folder, and the instruments of the ratings written. A rating
  with an item that has no column is refused, with the advice to run ``ratetool migrate --to
  csv``, which writes a wider ``ratings.csv`` and keeps the old one.

Reading
-------
A row whose bytes do not end with a line break, or that ends inside a quoted cell, or the last
row with the wrong number of cells, is *torn* (cut short when the computer stopped during a
save): the rows before it still read, appending is refused, and ``repair`` moves the torn bytes
to ``ratings.csv.corrupt-<time>``. Any other bad row is *damaged*: it is named by its line, the
other rows still read, appending is refused, and repair leaves it to be fixed by hand. A damaged
row that opens a quote and never closes it does not swallow the rows after it: when a bad record
spans lines that look like complete rows, only its first line is reported and reading goes on
with the next line. Each row is judged by the same rules as a TOML session block
(``records.rating_from_record``); a fast path handles the rows ratetool writes and hands
anything unusual to that function.

The index (a derived cache)
---------------------------
``<data dir>/.ratetool-cache/ratings.csv.index`` lets an append, ``read_client`` and
``client_fingerprints`` skip the history. It describes a prefix of ``ratings.csv`` that parsed
without any problem: its size, the CRC-32 of those bytes, the file's inode and modification time,
the header, the number of lines, and per client the highest session number, the byte spans of its
rows and the CRC-32 of those rows' bytes. It is used only when it provably describes the file:

- same size, inode, modification and change time as recorded: the file is unchanged (every write moves
  the modification time; ratetool only ever appends, or in repair shortens);
- otherwise, if the file is at least as long and the CRC-32 of the recorded prefix still
  matches, the file only grew: just the new bytes are parsed (and the index brought up to date);
- otherwise (shorter, edited, replaced), or when the index is missing, unreadable, of another
  version or fails its own checksum: the whole file is read and the index written again.

``read_client`` checks the whole index's checksum but parses only the facts line and its own
client's line (a client listed twice makes the index unusable, so the file is read).

It is never the only copy of anything (every fact in it is derived from ``ratings.csv``), it is
written only for a file without problems (so a torn or damaged file is always found by reading
it), rows read through it are checked to be whole rows of the client asked for (else the whole
file is read), and ``verify_cache`` (run by ``ratetool check``) compares what it would make
appends and reads believe with the whole file parsed, and rebuilds it if they differ. An index
for a prefix stays true while the file grows, so indexes written by concurrent readers (atomic
rename, no lock needed) can be older but never wrong. A client's *fingerprint* (for the summary
and export caches) is the CRC-32 of its rows and of the header, so it changes with any change to
that client's data.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from itertools import accumulate, islice
from pathlib import Path
from typing import Any, NamedTuple

from ratetool import paths
from ratetool.csvformat import COMMENT_COLUMN, FIXED_COLUMNS, escape_text, is_reserved
from ratetool.errors import FormatTooNewError, StoreError
from ratetool.model import CLIENT_CODE_RE, Rating, validate_client_code
from ratetool.store import (
    DATA_FORMAT,
    AddResult,
    Problem,
    ReadResult,
    Store,
    move_tail_aside,
    refuse_if_problems,
)
from ratetool.store.records import ITEM_ID_RE, RecordError, rating_from_record

RATINGS_NAME = paths.RATINGS_CSV
CACHE_DIR = paths.CACHE_DIR
INDEX_NAME = f"{RATINGS_NAME}.index"
INDEX_VERSION = 1
SKIPPED_COLUMN = "skipped"
FORMAT_COLUMN = "format"
#: The columns after the items, in this order.
TRAILING_COLUMNS: tuple[str, ...] = (SKIPPED_COLUMN, COMMENT_COLUMN, FORMAT_COLUMN)
SKIP_SEPARATOR = ";"
LINE_END = "\r\n"
BOM = b"\xef\xbb\xbf"
#: Longest text cell written: what the ``csv`` module reads back by default.
MAX_CELL = csv.field_size_limit()

_FORMAT_TEXT = str(DATA_FORMAT)
_INTS = {str(i): i for i in range(0, 1001)}
_WHOLE_RE = re.compile(r"[0-9]+")
_ANSWER_RE = re.compile(r"-?[0-9]+")
_TEXT_COLUMNS = ("id", "client", "rated_at", "instrument", "practitioner", SKIPPED_COLUMN)
_INDEX_MAGIC = "ratetool csv index"
#: ``read_client`` calls in one process after which the whole file is parsed once and shared.
_GROUP_AFTER = 8


# ------------------------------------------------------------------------------------------------
# The header


class Header(NamedTuple):
    """The columns of a ``ratings.csv`` and where each one is."""

    columns: tuple[str, ...]

    @property
    def items(self) -> tuple[str, ...]:
        known = {*FIXED_COLUMNS, *TRAILING_COLUMNS}
        return tuple(c for c in self.columns if c not in known)

    @classmethod
    def for_items(cls, items: Iterable[str]) -> Header:
        return cls((*FIXED_COLUMNS, *dict.fromkeys(items), *TRAILING_COLUMNS))

    def line(self) -> str:
        return _write_rows([list(self.columns)])


def header_problem(cells: Sequence[str]) -> str | None:
    """Why a header row is not one ratetool can read and append to, or ``None``."""
    seen: set[str] = set()
    for cell in cells:
        if cell in seen:
            return f"the column {cell!r} appears twice in the header row"
        seen.add(cell)
    missing = [c for c in (*FIXED_COLUMNS, *TRAILING_COLUMNS) if c not in seen]
    if missing:
        return (
            f"the header row lacks the column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}; it must be ratetool's header"
        )
    known = {*FIXED_COLUMNS, *TRAILING_COLUMNS}
    for cell in cells:
        if cell in known:
            continue
        if not ITEM_ID_RE.fullmatch(cell):
            return f"the header column {cell!r} is not an item id"
        if is_reserved(cell):
            return f"the header column {cell!r} has the name of one of ratetool's own columns"
    return None


def _write_rows(rows: Iterable[Sequence[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator=LINE_END).writerows(rows)
    return out.getvalue()


# ------------------------------------------------------------------------------------------------
# Making a Rating quickly

_RATING_FIELDS = (
    "id",
    "client",
    "session",
    "rated_at",
    "instrument",
    "instrument_version",
    "answers",
    "practitioner",
    "comment",
    "skipped",
)


def _rating_factory():
    """``Rating(...)`` without its frozen ``__init__`` and ``__post_init__`` (3x faster, which
    matters for 100,000 rows): the slots are set directly. The parser only passes values the
    checks in ``__post_init__`` would accept (``rated_at`` is always time-zone aware). Falls back
    to the constructor if ``Rating`` ever has other fields."""
    from dataclasses import fields

    if tuple(f.name for f in fields(Rating)) != _RATING_FIELDS or not hasattr(Rating, "__slots__"):
        return Rating
    setters = [getattr(Rating, name).__set__ for name in _RATING_FIELDS]
    s_id, s_cl, s_se, s_at, s_in, s_ve, s_an, s_pr, s_co, s_sk = setters
    new = object.__new__

    def make(rid, client, session, rated_at, instrument, version, answers, prac, comment, skipped):
        rating = new(Rating)
        s_id(rating, rid)
        s_cl(rating, client)
        s_se(rating, session)
        s_at(rating, rated_at)
        s_in(rating, instrument)
        s_ve(rating, version)
        s_an(rating, answers)
        s_pr(rating, prac)
        s_co(rating, comment)
        s_sk(rating, skipped)
        return rating

    return make


_make_rating = _rating_factory()


# ------------------------------------------------------------------------------------------------
# Parsing


@dataclass
class ClientRows:
    """Per client: the highest session number and the byte spans ``(start, length)`` of its rows."""

    max_session: int = 0
    spans: list[int] = field(default_factory=list)  # start, length, start, length, ...


@dataclass
class ParsedCsv:
    path: Path
    header: Header | None = None
    ratings: list[Rating] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: Bytes read (the file's size when it was read).
    size: int = 0
    #: Line breaks in the bytes read (for line numbers of rows parsed later).
    lines: int = 0
    #: Byte offset where a torn tail starts (what ``repair`` moves aside), else None.
    torn_offset: int | None = None
    #: Per client, when asked for (``spans=True``).
    clients: dict[str, ClientRows] | None = None


class _Rows:
    """Splits bytes into CSV records, knowing each record's lines and byte offsets."""

    def __init__(self, data: bytes, begin: int) -> None:
        self.lines = data[begin:].splitlines(keepends=True)  # only \n, \r and \r\n break lines
        self.starts = list(accumulate(map(len, self.lines), initial=begin))
        self.bad_utf8: set[int] = set()
        try:
            self.texts = list(map(bytes.decode, self.lines))
        except UnicodeDecodeError:
            self.texts = []
            for i, line in enumerate(self.lines):
                try:
                    self.texts.append(line.decode())
                except UnicodeDecodeError:
                    self.bad_utf8.add(i)
                    self.texts.append(line.decode(errors="replace"))

    def records(self, first: int) -> Iterator[tuple[int, int, list[str] | None, str | None]]:
        """``(first line, end line, cells, csv error)`` for every record from line ``first``
        (for the header, and for a scan of an unreadable file; rows go through ``_parse_body``)."""
        texts = self.texts
        i = first
        while i < len(texts):
            reader = csv.reader(islice(texts, i, None), strict=True)
            done = 0
            try:
                for cells in reader:
                    yield i + done, i + reader.line_num, cells, None
                    done = reader.line_num
                return
            except csv.Error as exc:
                start, i = i + done, i + reader.line_num
                yield start, i, None, str(exc)

    def swallows(self, start: int, end: int, width: int, fmt_at: int) -> bool:
        """True when a line after ``start`` in a bad record reads on its own as a complete row:
        a quote opened and never closed has run over rows that are fine by themselves."""
        for line in islice(self.texts, start + 1, min(end + 1, len(self.texts))):
            try:
                cells = next(csv.reader([line], strict=True))
            except (csv.Error, StopIteration):
                continue
            if len(cells) == width and cells[fmt_at] == _FORMAT_TEXT:
                return True
        return False


def _too_new(path: Path, value: str) -> None:
    text = value.strip()
    if _WHOLE_RE.fullmatch(text) and int(text) > DATA_FORMAT:
        raise FormatTooNewError(
            f"{path} was written by a newer ratetool (data format {int(text)}); this ratetool "
            f"reads format {DATA_FORMAT}. Update ratetool (pip install -U ratetool) to read it; "
            "the file was not read or changed."
        )


def _unescape(text: str) -> str:
    return text[1:] if text[:1] == "'" else text


def parse_csv_bytes(path: Path, data: bytes, *, spans: bool = False) -> ParsedCsv:
    """Parse a whole ``ratings.csv``; never raises for bad content except ``FormatTooNewError``."""
    parsed = ParsedCsv(path=path, size=len(data), clients={} if spans else None)
    begin = len(BOM) if data.startswith(BOM) else 0
    rows = _Rows(data, begin)
    parsed.lines = len(rows.lines)
    for start, end, cells, error in rows.records(0):
        if cells == []:
            continue  # a blank line
        last = end >= len(rows.lines)
        if last and (error is not None or not data.endswith(b"\n")):
            parsed.torn_offset = rows.starts[start] if start else 0
            parsed.problems.append(
                Problem(
                    path,
                    "the file's first write is incomplete (the header row is cut short)",
                    start + 1,
                    kind="torn",
                )
            )
            return parsed
        problem = error or header_problem(cells or [])
        if problem is None and any(i in rows.bad_utf8 for i in range(start, end)):
            problem = "the header row is not UTF-8 text"
        if problem is not None:
            if cells and FORMAT_COLUMN in cells:
                # A newer ratetool may lay its file out differently: say so, not "damaged".
                _scan_too_new(path, rows, end, cells.index(FORMAT_COLUMN), len(cells))
            parsed.problems.append(
                Problem(path, f"{problem}; no row can be read until the header is fixed", start + 1)
            )
            return parsed
        parsed.header = Header(tuple(cells))  # type: ignore[arg-type]
        _parse_body(parsed, data, rows, end, 0, spans)
        return parsed
    if data and not data.endswith(b"\n"):  # nothing but blank space, cut short
        parsed.torn_offset = rows.starts[-2] if len(rows.starts) > 1 else 0
        parsed.problems.append(
            Problem(path, "the file ends without a line break", len(rows.lines), kind="torn")
        )
    return parsed


def _scan_too_new(path: Path, rows: _Rows, first: int, fmt_at: int, width: int) -> None:
    """Refuse the file if a row after an unreadable header says it is in a newer format."""
    for _, _, cells, _ in rows.records(first):
        if cells and len(cells) == width and cells[fmt_at] != _FORMAT_TEXT:
            _too_new(path, cells[fmt_at])


def parse_more(
    path: Path, data: bytes, begin: int, line_base: int, header: Header, *, spans: bool
) -> ParsedCsv:
    """Parse the rows in ``data[begin:]`` (``begin`` a row boundary, after ``line_base`` lines),
    with ``header`` known from earlier. Offsets in the result are offsets in ``data``."""
    parsed = ParsedCsv(path=path, header=header, size=len(data), clients={} if spans else None)
    rows = _Rows(data, begin)
    parsed.lines = line_base + len(rows.lines)
    _parse_body(parsed, data, rows, 0, line_base, spans)
    return parsed


def _parse_body(
    parsed: ParsedCsv, data: bytes, rows: _Rows, first: int, line_base: int, spans: bool
) -> None:
    """Turn the records after the header into ratings and problems.

    Every full read of 100,000 rows goes through this loop, so the rows ratetool writes take a
    short path written out inline (no call per row but the ``Rating`` itself); anything else
    goes to ``_judge``, which applies ``rating_from_record``'s rules and decides torn or
    damaged.
    """
    header = parsed.header
    assert header is not None
    cols = header.columns
    width = len(cols)
    p_id, p_client, p_session, p_at, p_inst, p_ver, p_prac = (cols.index(c) for c in FIXED_COLUMNS)
    p_skip, p_comment, p_fmt = (cols.index(c) for c in TRAILING_COLUMNS)
    item_pos = [cols.index(c) for c in header.items]
    item_names = list(header.items)
    # Item columns side by side (as ratetool writes them): one slice per row.
    i0 = item_pos[0] if item_pos else 0
    i1 = i0 + len(item_pos)
    contiguous = item_pos == list(range(i0, i1))
    ints = _INTS
    answer_cache: dict[tuple[str, ...], dict[str, int] | None] = {}
    make = _make_rating
    fromiso = datetime.fromisoformat
    codes: dict[str, bool] = {}
    instruments: dict[str, bool] = {}
    ratings = parsed.ratings
    append = ratings.append
    clients = parsed.clients
    starts = rows.starts
    texts = rows.texts
    bad_utf8 = rows.bad_utf8
    n_lines = len(texts)
    cut_line = -1 if data.endswith(b"\n") else n_lines  # a record ending here is cut short
    fmt_text = _FORMAT_TEXT
    client_match = CLIENT_CODE_RE.fullmatch
    id_match = ITEM_ID_RE.fullmatch

    i = first
    while i < n_lines:
        reader = csv.reader(islice(texts, i, None), strict=True)
        done = 0
        restart = -1
        try:
            for cells in reader:
                line_num = reader.line_num
                start = i + done
                end = i + line_num
                done = line_num
                if (
                    len(cells) != width
                    or cells[p_fmt] != fmt_text
                    or end == cut_line
                    or (bad_utf8 and not bad_utf8.isdisjoint(range(start, end)))
                ):
                    if not cells:
                        continue  # a blank line
                    if (
                        len(cells) != width
                        and end - start > 1
                        and rows.swallows(start, end, width, p_fmt)
                    ):
                        _damaged_quote(parsed, line_base + start + 1)
                        restart = start + 1
                        break
                    _judge(parsed, header, cells, None, start, end, line_base, end >= n_lines,
                           cut_line, rows)  # fmt: skip
                    continue
                # -- the short path ----------------------------------------------------------
                rid = cells[p_id]
                if rid[:1] == "'":
                    rid = rid[1:]
                client = cells[p_client]
                if client[:1] == "'":
                    client = client[1:]
                ok = codes.get(client)
                if ok is None:
                    ok = codes[client] = client_match(client) is not None
                instrument = cells[p_inst]
                if instrument[:1] == "'":
                    instrument = instrument[1:]
                iok = instruments.get(instrument)
                if iok is None:
                    iok = instruments[instrument] = id_match(instrument) is not None
                session = ints.get(cells[p_session]) or _whole_from(cells[p_session])
                version = ints.get(cells[p_ver]) or _whole_from(cells[p_ver])
                at_text = cells[p_at]
                try:
                    rated_at = fromiso(at_text) if len(at_text) > 10 else None
                except ValueError:
                    rated_at = None
                if contiguous:
                    key = tuple(cells[i0:i1])
                    answers = answer_cache.get(key, _UNSEEN)
                    if answers is _UNSEEN:
                        answers = answer_cache[key] = _answers_of(item_names, key)
                    if answers is not None:
                        answers = answers.copy()
                else:
                    answers = _answers_of(item_names, [cells[p] for p in item_pos])
                skipped_cell = cells[p_skip]
                skipped = ()
                if skipped_cell:
                    skipped = tuple(_unescape(skipped_cell).split(SKIP_SEPARATOR))
                if (
                    answers is None
                    or not ok
                    or not iok
                    or session is None
                    or version is None
                    or rated_at is None
                    or rated_at.tzinfo is None
                    or not rid.strip()
                    or (skipped and not _skips_ok(skipped, answers))
                ):
                    _judge(parsed, header, cells, None, start, end, line_base, end >= n_lines,
                           cut_line, rows)  # fmt: skip
                    continue
                practitioner = cells[p_prac]
                if practitioner[:1] == "'":
                    practitioner = practitioner[1:]
                comment = cells[p_comment]
                if comment[:1] == "'":
                    comment = comment[1:]
                rating = make(
                    rid, client, session, rated_at, instrument, version, answers,
                    practitioner or None, comment or None, skipped,
                )  # fmt: skip
                append(rating)
                if clients is not None:
                    entry = clients.get(client)
                    if entry is None:
                        entry = clients[client] = ClientRows()
                    if session > entry.max_session:
                        entry.max_session = session
                    entry.spans.append(starts[start])
                    entry.spans.append(starts[end] - starts[start])
        except csv.Error as exc:
            start, end = i + done, i + reader.line_num
            if end - start > 1 and rows.swallows(start, end, width, p_fmt):
                _damaged_quote(parsed, line_base + start + 1)
                restart = start + 1
            else:
                _judge(parsed, header, None, str(exc), start, end, line_base, end >= n_lines,
                       cut_line, rows)  # fmt: skip
                restart = end
        if restart < 0:
            break
        i = restart
    if parsed.torn_offset is None and cut_line >= 0 and n_lines > first:
        # The last row was whole, but blank space after it is cut short ("\r" without "\n").
        parsed.torn_offset = starts[n_lines - 1]
        parsed.problems.append(
            Problem(
                parsed.path, "the file ends without a line break", line_base + n_lines, kind="torn"
            )  # fmt: skip
        )


_UNSEEN: Any = object()


def _answers_of(names: Sequence[str], cells: Sequence[str]) -> dict[str, int] | None:
    """Item cells as answers; None when a cell is not a plain whole number (the slow path)."""
    answers: dict[str, int] = {}
    for name, cell in zip(names, cells):
        if cell:
            value = _INTS.get(cell)
            if value is None:
                if _ANSWER_RE.fullmatch(cell):
                    value = int(cell)
                else:
                    return None
            answers[name] = value
    return answers


def _skips_ok(skipped: tuple[str, ...], answers: dict[str, int]) -> bool:
    return all(ITEM_ID_RE.fullmatch(s) for s in skipped) and set(skipped).isdisjoint(answers)


def _damaged_quote(parsed: ParsedCsv, line: int) -> None:
    parsed.problems.append(
        Problem(
            parsed.path,
            "a quote is opened and never closed (the rows after this line are read on their own)",
            line,
        )
    )


def _judge(
    parsed: ParsedCsv,
    header: Header,
    cells: list[str] | None,
    error: str | None,
    start: int,
    end: int,
    line_base: int,
    last: bool,
    cut_line: int,
    rows: _Rows,
) -> None:
    """A record off the short path: a rating, a damaged row, or a torn last row."""
    path = parsed.path
    width = len(header.columns)
    p_fmt = header.columns.index(FORMAT_COLUMN)
    problem = error
    if problem is None and cells is not None:
        if len(cells) != width:
            problem = f"the row has {len(cells)} cells; the header has {width}"
            if last:
                error = problem  # a last row cut short: torn
        elif cells[p_fmt] != _FORMAT_TEXT:
            _too_new(path, cells[p_fmt])  # a newer format is refused, never misread
            problem = f"'format' must be {DATA_FORMAT}, found {cells[p_fmt]!r}"
    if problem is None and not rows.bad_utf8.isdisjoint(range(start, end)):
        problem = "not UTF-8 text"
    torn = last and (error is not None or end == cut_line)
    if problem is None and not torn:
        assert cells is not None
        try:
            rating = _convert_slowly(cells, header)
        except RecordError as exc:
            problem = f"row: {exc}"
        else:
            parsed.ratings.append(rating)
            if parsed.clients is not None:
                entry = parsed.clients.setdefault(rating.client, ClientRows())
                entry.max_session = max(entry.max_session, rating.session)
                entry.spans.append(rows.starts[start])
                entry.spans.append(rows.starts[end] - rows.starts[start])
            return
    line = line_base + start + 1
    if torn:
        reason = problem or "it does not end with a line break"
        parsed.torn_offset = rows.starts[start]
        parsed.problems.append(
            Problem(
                path,
                f"the last row is incomplete ({reason}); it was probably cut short when the "
                "computer stopped during a save",
                line,
                kind="torn",
            )
        )
        return
    parsed.problems.append(Problem(path, problem or "the row cannot be read", line))


def _whole_from(text: str) -> int | None:
    """A canonical whole number from 1 (no sign, space or leading zero), else None."""
    if text[:1] in "123456789" and text.isascii() and text.isdigit():
        return int(text)
    return None


def _convert_slowly(cells: list[str], header: Header) -> Rating:
    """A row that is not exactly as ratetool writes it, judged by ``rating_from_record``."""
    cols = header.columns
    cell = {c: cells[i] for i, c in enumerate(cols)}
    for name in _TEXT_COLUMNS:
        cell[name] = _unescape(cell[name])
    cell[COMMENT_COLUMN] = _unescape(cell[COMMENT_COLUMN])
    skipped: tuple[str, ...] = ()
    if cell[SKIPPED_COLUMN]:
        skipped = tuple(cell[SKIPPED_COLUMN].split(SKIP_SEPARATOR))
        if not all(ITEM_ID_RE.fullmatch(s) for s in skipped):
            raise RecordError("skipped must list item ids separated by ';'")

    def whole(text: str, pattern: re.Pattern[str] = _WHOLE_RE) -> object:
        stripped = text.strip()
        return int(stripped) if pattern.fullmatch(stripped) else text

    at_text = cell["rated_at"].strip()
    rated_at: object = at_text
    try:
        rated_at = (
            date.fromisoformat(at_text) if len(at_text) == 10 else datetime.fromisoformat(at_text)
        )
    except ValueError:
        pass
    answers = {item: whole(cell[item], _ANSWER_RE) for item in header.items if cell[item] != ""}
    record: dict[str, Any] = {
        "id": cell["id"],
        "session": whole(cell["session"]),
        "rated_at": rated_at,
        "instrument": cell["instrument"],
        "instrument_version": whole(cell["instrument_version"]),
        "answers": answers,
        "skipped": list(skipped),
    }
    if cell["practitioner"]:
        record["practitioner"] = cell["practitioner"]
    if cell[COMMENT_COLUMN]:
        record["comment"] = cell[COMMENT_COLUMN]
    client = cell["client"]
    if not CLIENT_CODE_RE.fullmatch(client):
        raise RecordError(f"client code {client!r} is not valid")
    return rating_from_record(record, client)


# ------------------------------------------------------------------------------------------------
# Writing rows


class RowWriter:
    """Turns ratings into rows of one header's layout."""

    def __init__(self, header: Header) -> None:
        self.header = header
        self.where = {c: i for i, c in enumerate(header.columns)}
        self.items = frozenset(header.items)

    def cells(self, rating: Rating) -> list[str]:
        """One rating as the cells of a row; ``StoreError`` if it cannot be written."""
        where = self.where
        cells = [""] * len(where)
        missing = [item for item in rating.answers if item not in self.items]
        if missing:
            raise StoreError(_no_column_message(missing, rating))
        cells[where["id"]] = escape_text(rating.id)
        cells[where["client"]] = escape_text(rating.client)
        cells[where["session"]] = str(rating.session)
        cells[where["rated_at"]] = escape_text(rating.rated_at.isoformat())
        cells[where["instrument"]] = escape_text(rating.instrument)
        cells[where["instrument_version"]] = str(rating.instrument_version)
        if rating.practitioner:
            cells[where["practitioner"]] = escape_text(rating.practitioner)
        for item, value in rating.answers.items():
            if not isinstance(value, int) or isinstance(value, bool):
                raise StoreError(
                    f"answer {item} = {value!r} of session id {rating.id} is not a whole number; "
                    "nothing was written."
                )
            cells[where[item]] = str(value)
        if rating.skipped:
            bad = [s for s in rating.skipped if not ITEM_ID_RE.fullmatch(s)]
            if bad:
                raise StoreError(
                    f"skipped item {bad[0]!r} of session id {rating.id} is not an item id; "
                    "nothing was written."
                )
            cells[where[SKIPPED_COLUMN]] = escape_text(SKIP_SEPARATOR.join(rating.skipped))
        if rating.comment:
            cells[where[COMMENT_COLUMN]] = escape_text(rating.comment)
        cells[where[FORMAT_COLUMN]] = _FORMAT_TEXT
        for i, cell in enumerate(cells):
            if len(cell) > MAX_CELL:
                raise StoreError(
                    f"the {self.header.columns[i]} of session id {rating.id} is longer than "
                    f"{MAX_CELL} characters, more than ratings.csv can hold in a cell; nothing "
                    "was written."
                )
        return cells

    def rows(self, ratings: Sequence[Rating]) -> str:
        """The rows for ``ratings``, each checked to read back exactly as given."""
        text = _write_rows(self.cells(r) for r in ratings)
        back = parse_more(Path(RATINGS_NAME), text.encode("utf-8"), 0, 0, self.header, spans=False)
        if back.problems or len(back.ratings) != len(ratings):
            detail = back.problems[0].message if back.problems else "a row went missing"
            raise StoreError(
                f"a rating could not be written to ratings.csv so that it reads back the same "
                f"({detail}); nothing was written."
            )
        for want, got in zip(ratings, back.ratings):
            if not _reads_back(want, got):
                raise StoreError(
                    f"session id {want.id} of client {want.client} would not read back from "
                    "ratings.csv exactly as given; nothing was written."
                )
        return text


def _no_column_message(missing: Sequence[str], rating: Rating) -> str:
    names = ", ".join(missing)
    return (
        f"ratings.csv has no column for item{'s' if len(missing) > 1 else ''} {names} of "
        f"instrument {rating.instrument} (its columns were fixed when the file was created, "
        "before this instrument was known). Run `ratetool migrate --to csv` to write a new "
        "ratings.csv with a column for every instrument known now (the old file is kept), then "
        "save again. Nothing was written."
    )


def _normalised(rating: Rating) -> Rating:
    return replace(rating, practitioner=rating.practitioner or None, comment=rating.comment or None)


def _reads_back(rating: Rating, got: Rating) -> bool:
    want = _normalised(rating)
    return got == want and got.rated_at.utcoffset() == want.rated_at.utcoffset()


# ------------------------------------------------------------------------------------------------
# The index


class _Index(NamedTuple):
    size: int
    crc: int
    mtime_ns: int
    ctime_ns: int
    ino: int
    lines: int
    columns: tuple[str, ...]
    #: Client code -> [highest session, "start length start length ...", CRC-32 of the client's
    #: rows]: the byte spans of the client's rows as one string (loading the index does not build
    #: 200,000 numbers), and a checksum of their bytes (the client's data fingerprint).
    clients: dict[str, list]

    def to_bytes(self) -> bytes:
        """A checksummed first line, one JSON line of facts, then one line per client:
        ``code<TAB>highest session<TAB>crc<TAB>spans`` (client codes hold no tab or line break)."""
        meta = json.dumps(
            {
                "file": RATINGS_NAME,
                "size": self.size,
                "crc32": self.crc,
                "mtime_ns": self.mtime_ns,
                "ctime_ns": self.ctime_ns,
                "ino": self.ino,
                "lines": self.lines,
                "columns": list(self.columns),
            },
            separators=(",", ":"),
        )
        rows = "".join(f"{code}\t{e[0]}\t{e[2]}\t{e[1]}\n" for code, e in self.clients.items())
        body = f"{meta}\n{rows}".encode()
        return f"{_INDEX_MAGIC} {INDEX_VERSION} {zlib.crc32(body):08x}\n".encode() + body

    @classmethod
    def from_bytes(cls, raw: bytes, client: str | None = None) -> _Index | None:
        """The index, or ``None`` if it is not one this ratetool wrote, intact.

        With ``client``, ``clients`` holds only that client's line (none if it has none), which
        is all ``read_client`` needs: parsing the lines of thousands of clients would cost more
        than the rest of its work. Such an index is for reading that client, nothing else."""
        first_end = raw.find(b"\n")
        if first_end < 0:
            return None
        parts = raw[:first_end].decode("ascii", "replace").rsplit(" ", 2)
        if len(parts) != 3 or parts[0] != _INDEX_MAGIC or parts[1] != str(INDEX_VERSION):
            return None
        body = memoryview(raw)[first_end + 1 :]
        if parts[2] != f"{zlib.crc32(body):08x}":
            return None
        try:
            if client is None:
                lines = str(body, "utf-8").split("\n")
            else:
                lines = _lines_of_client(raw, first_end, client)
            doc = json.loads(lines[0])
            clients: dict[str, list] = {}
            for line in lines[1:-1]:
                code, top, crc, spans = line.split("\t")
                clients[code] = [int(top), spans, int(crc)]
            index = cls(
                size=int(doc["size"]),
                crc=int(doc["crc32"]),
                mtime_ns=int(doc["mtime_ns"]),
                ctime_ns=int(doc["ctime_ns"]),
                ino=int(doc["ino"]),
                lines=int(doc["lines"]),
                columns=tuple(doc["columns"]),
                clients=clients,
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        if doc.get("file") != RATINGS_NAME or header_problem(index.columns) is not None:
            return None
        return index

    def matches(self, info: os.stat_result) -> bool:
        """The file is the one indexed, unchanged (same size, inode, modification and change
        time: a hand edit that restores the modification time still moves the change time)."""
        return (
            info.st_size == self.size
            and info.st_mtime_ns == self.mtime_ns
            and info.st_ctime_ns == self.ctime_ns
            and info.st_ino == self.ino
        )


def _lines_of_client(raw: bytes, first_end: int, client: str) -> list[str]:
    """The lines of an index body (after the checksum line, which ends at ``first_end``) as
    ``split("\\n")`` gives them, keeping only the facts line and ``client``'s line. Raises
    ``ValueError`` when that client has two lines, or a line is not UTF-8."""
    meta_end = raw.find(b"\n", first_end + 1)
    if meta_end < 0:
        return [raw[first_end + 1 :].decode("utf-8")]
    lines = [raw[first_end + 1 : meta_end].decode("utf-8")]
    needle = f"\n{client}\t".encode()
    start = raw.find(needle, meta_end)
    end = raw.find(b"\n", start + 1) if start >= 0 else -1
    if end >= 0:  # a whole line (an unfinished last line is no line, as in split)
        if raw.find(needle, end) >= 0:
            raise ValueError(f"two lines for client {client}")
        lines.append(raw[start + 1 : end].decode("utf-8"))
    lines.append("")
    return lines


def _merge_clients(
    parsed: ParsedCsv, data: bytes, base: dict[str, list] | None = None, shift: int = 0
) -> dict[str, list]:
    """``base`` (not changed) plus the rows of ``parsed``: their spans in ``data``, moved by
    ``shift`` to be offsets in the file, and their bytes added to each client's checksum."""
    out = dict(base or {})
    view = memoryview(data)
    crc32 = zlib.crc32
    for code, rows in (parsed.clients or {}).items():
        spans = rows.spans
        old = out.get(code)
        crc = old[2] if old is not None else 0
        for i in range(0, len(spans), 2):
            crc = crc32(view[spans[i] : spans[i] + spans[i + 1]], crc)
        if shift:
            spans = [n + shift if i % 2 == 0 else n for i, n in enumerate(spans)]
        text = " ".join(map(str, spans))
        if old is None:
            out[code] = [rows.max_session, text, crc]
        else:
            out[code] = [max(old[0], rows.max_session), f"{old[1]} {text}", crc]
    return out


def _spans_of(entry: list) -> list[int]:
    return [int(n) for n in entry[1].split()]


class _View(NamedTuple):
    """What a read found, through the index or by parsing the whole file."""

    problems: list[Problem]
    header: Header | None
    size: int
    crc: int
    lines: int
    #: Per client (see ``_Index.clients``; only one client's, when made for ``read_client``);
    #: None when the file has problems.
    clients: dict[str, list] | None
    #: The whole file parsed, when it was.
    parsed: ParsedCsv | None = None


# ------------------------------------------------------------------------------------------------
# The store


class CsvStore(Store):
    kind = "csv"

    def __init__(
        self,
        data_dir: Path,
        resolve=None,
        *,
        item_columns: Iterable[str] | None = None,
        header: Header | None = None,
    ) -> None:
        super().__init__(data_dir, resolve)
        #: Item columns a new ratings.csv gets besides the known instruments' and the ratings'
        #: own (``migrate`` passes every instrument it knows).
        self.item_columns = tuple(item_columns or ())
        #: The exact header a new ratings.csv gets (``migrate`` rebuilding a wider file).
        self.header = header
        self._held = 0
        self._index_memo: tuple[tuple[int, int, int], _Index | None] | None = None
        self._client_reads = 0
        self._grouped: tuple[tuple[int, int, int], dict[str, list[Rating]], list[Problem]] | None
        self._grouped = None

    # -- paths ---------------------------------------------------------------------------------
    @property
    def path(self) -> Path:
        return self.data_dir / RATINGS_NAME

    @property
    def index_path(self) -> Path:
        return self.data_dir / CACHE_DIR / INDEX_NAME

    def file_for(self, client: str) -> Path:
        validate_client_code(client)  # the same codes as the TOML store, so data can move there
        return self.path

    def files(self) -> list[Path]:
        return [self.path] if self.path.is_file() else []

    # -- the lock ------------------------------------------------------------------------------
    def lock(self):
        guard = super().lock()
        store = self

        class _Held:
            def __enter__(self_inner):
                got = guard.__enter__()
                store._held += 1
                return got

            def __exit__(self_inner, *exc):
                store._held -= 1
                return guard.__exit__(*exc)

        return _Held()

    # -- reading -------------------------------------------------------------------------------
    def parse(self, *, spans: bool = False) -> ParsedCsv:
        """The whole file, parsed (the index is not used)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            data = b""
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot read ({exc.strerror}).") from None
        return parse_csv_bytes(self.path, data, spans=spans)

    def _load_index(self, client: str | None = None) -> _Index | None:
        """The index file, parsed (once per process while the file stays the same). With
        ``client``, only that client's line, unless the whole index is parsed already."""
        try:
            with open(self.index_path, "rb") as fh:
                info = os.fstat(fh.fileno())
                key = (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)
                if self._index_memo is not None and self._index_memo[0] == key:
                    return self._index_memo[1]
                raw = fh.read()
        except OSError:
            return None
        index = _Index.from_bytes(raw, client)
        if client is None:
            self._index_memo = (key, index)
        return index

    def _write_index(self, index: _Index) -> None:
        """Replace the index atomically. No fsync: a lost or garbled index is just rebuilt."""
        from ratetool.fsutil import ensure_private_dir, open_private

        try:
            folder = ensure_private_dir(self.index_path.parent)
            tmp = folder / f".{INDEX_NAME}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
        except OSError:
            return
        try:
            fd = open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
            try:
                payload = memoryview(index.to_bytes())
                while payload:
                    payload = payload[os.write(fd, payload) :]
            finally:
                os.close(fd)
            os.replace(tmp, self.index_path)
        except OSError:
            # A read-only folder or a full disk: the index is only a cache.
            try:
                tmp.unlink()
            except OSError:
                pass

    def _view(self, *, full: bool = False, client: str | None = None) -> _View:
        """The file's state, through the index when it provably describes the file.

        With ``full`` the whole file is parsed (its ratings are in ``view.parsed``). With
        ``client``, ``view.clients`` may hold that client's entry alone (for ``read_client``).
        A torn tail seen without the lock may be another ratetool's append in progress, so it is
        looked at again under the lock before it is reported.
        """
        view = self._view_once(full=full, client=client)
        if self._held == 0 and any(p.kind == "torn" for p in view.problems):
            try:
                with self.lock():
                    view = self._view_once(full=full, client=client)
            except (StoreError, OSError):
                pass  # cannot lock (a read-only folder, or busy): report what was seen
        return view

    def _view_once(self, *, full: bool, client: str | None = None) -> _View:
        index = None if full else self._load_index(client)
        try:
            fh = open(self.path, "rb")
        except FileNotFoundError:
            return _View([], None, 0, 0, 0, {})
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot read ({exc.strerror}).") from None
        with fh:
            info = os.fstat(fh.fileno())
            if index is not None and index.matches(info):
                header = Header(index.columns)
                return _View([], header, index.size, index.crc, index.lines, index.clients)
            data = fh.read()
        if index is not None and client is not None:
            index = self._load_index()  # the file changed: the whole index is brought up to date
        if index is not None and 0 < index.size <= len(data):
            crc = zlib.crc32(memoryview(data)[: index.size])
            if crc == index.crc:  # the indexed bytes are unchanged: parse only what follows
                more = parse_more(
                    self.path, data, index.size, index.lines, Header(index.columns), spans=True
                )
                if not more.problems:
                    view = _View(
                        [],
                        more.header,
                        len(data),
                        zlib.crc32(memoryview(data)[index.size :], crc),
                        more.lines,
                        _merge_clients(more, data, index.clients),
                    )
                    self._save_view(view, info)
                    return view
        parsed = parse_csv_bytes(self.path, data, spans=True)
        if parsed.problems:
            return _View(parsed.problems, parsed.header, len(data), 0, parsed.lines, None, parsed)
        view = _View(
            [], parsed.header, len(data), zlib.crc32(data), parsed.lines,
            _merge_clients(parsed, data), parsed,
        )  # fmt: skip
        self._save_view(view, info)
        return view

    def _save_view(self, view: _View, info: os.stat_result) -> None:
        if view.problems or view.header is None or view.clients is None:
            return
        if info.st_size != view.size:
            return  # the file grew while it was read: the next read catches up
        self._write_index(
            _Index(
                size=view.size,
                crc=view.crc,
                mtime_ns=info.st_mtime_ns,
                ctime_ns=info.st_ctime_ns,
                ino=info.st_ino,
                lines=view.lines,
                columns=view.header.columns,
                clients=view.clients,
            )
        )

    def client_codes(self) -> list[str]:
        view = self._view()
        if view.clients is not None:
            return sorted(view.clients)
        assert view.parsed is not None
        return sorted({r.client for r in view.parsed.ratings})

    def read_all(self) -> ReadResult:
        parsed = self.parse()
        return ReadResult(parsed.ratings, parsed.problems)

    def read_client(self, client: str) -> ReadResult:
        validate_client_code(client)
        self._client_reads += 1
        if self._client_reads > _GROUP_AFTER:
            grouped = self._grouped_read()
            if grouped is not None:
                by_client, problems = grouped
                return ReadResult(list(by_client.get(client, ())), list(problems))
        view = self._view(client=client)
        if view.parsed is None and view.clients is not None:
            entry = view.clients.get(client)
            if not entry:
                return ReadResult([], [])
            spans = _spans_of(entry)
            got = self._rows_at(spans, view.header)
            if (
                got is not None
                and len(got) * 2 == len(spans)
                and all(r.client == client for r in got)
            ):
                return ReadResult(got, [])
            view = self._view(full=True)  # the index does not describe the file: read it all
        assert view.parsed is not None
        return ReadResult(
            [r for r in view.parsed.ratings if r.client == client], list(view.problems)
        )

    def _grouped_read(self) -> tuple[dict[str, list[Rating]], list[Problem]] | None:
        """The whole file parsed once and grouped by client, for a command that reads many
        clients one by one (a cold summary cache); parsed again whenever the file changes."""
        try:
            info = self.path.stat()
        except OSError:
            return None
        key = (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)
        if self._grouped is None or self._grouped[0] != key:
            parsed = self.parse()
            by_client: dict[str, list[Rating]] = {}
            for rating in parsed.ratings:
                by_client.setdefault(rating.client, []).append(rating)
            self._grouped = (key, by_client, parsed.problems)
        return self._grouped[1], self._grouped[2]

    def _rows_at(self, spans: list[int], header: Header | None) -> list[Rating] | None:
        """The ratings in the rows at these byte spans, or None if they are not whole rows."""
        if header is None:
            return None
        chunks = []
        try:
            with open(self.path, "rb") as fh:
                for i in range(0, len(spans), 2):
                    fh.seek(spans[i])
                    chunks.append(fh.read(spans[i + 1]))
        except OSError:
            return None
        data = b"".join(chunks)
        parsed = parse_more(self.path, data, 0, 0, header, spans=False)
        return None if parsed.problems else parsed.ratings

    # -- caches --------------------------------------------------------------------------------
    def client_fingerprints(self) -> tuple[dict[str, str], list[Problem]] | None:
        """Per client: the checksum of its rows' bytes (and of the header), their number and
        the highest session, from the index. Any change to a client's rows changes it: appends
        add rows, and any other change to the file makes the index be rebuilt from the bytes.
        ``None`` while the file has problems (callers then read everything, warnings and all)."""
        view = self._view()
        if view.problems or view.clients is None or view.header is None:
            return None
        head = zlib.crc32("\t".join(view.header.columns).encode("utf-8"))
        return (
            {
                code: f"csv:{head:08x}:{e[2]:08x}:{e[0]}:{len(e[1])}"
                for code, e in sorted(view.clients.items())
            },
            [],
        )

    def verify_cache(self) -> list[Problem]:
        """For ``check``: whether the index tells the truth about the file. What appends and
        ``read_client`` would believe is compared with the whole file parsed; an index that
        differs is reported and written again from the file."""
        if self._load_index() is None:
            return []
        believed = self._view_once(full=False)
        truth = self._view_once(full=True)  # writes a fresh index when the file is clean
        if truth.problems or (
            believed.clients == truth.clients
            and believed.header == truth.header
            and believed.size == truth.size
        ):
            return []
        return [
            Problem(
                self.index_path,
                "the index did not match ratings.csv; it was rebuilt from the file (it is a "
                "cache, never the only copy of a rating)",
                kind="cache",
            )
        ]

    def read_all_fresh(self) -> ReadResult:
        return self.read_all()  # read_all always parses the file itself

    def existing_ids(self) -> set[str]:
        return {r.id for r in self.parse().ratings}

    # -- writing -------------------------------------------------------------------------------
    def new_header(self, ratings: Sequence[Rating] = ()) -> Header:
        """The header of a new file: a column for every item of every instrument known now."""
        items: dict[str, None] = {}
        for item in [*self._known_items(), *self.item_columns]:
            if ITEM_ID_RE.fullmatch(item) and not is_reserved(item):
                items.setdefault(item, None)
        for rating in ratings:
            instrument = self._resolve(rating)
            for item in instrument.item_ids if instrument is not None else ():
                if ITEM_ID_RE.fullmatch(item) and not is_reserved(item):
                    items.setdefault(item, None)
            for item in rating.answers:
                if item in items:
                    continue
                if not isinstance(item, str) or not ITEM_ID_RE.fullmatch(item) or is_reserved(item):
                    raise StoreError(
                        f"item {item!r} of instrument {rating.instrument} cannot have a column "
                        "in ratings.csv (it is not an item id, or it is the name of one of "
                        "ratetool's own columns); keep this data folder on the toml store. "
                        "Nothing was written."
                    )
                items[item] = None
        return Header.for_items(items)

    def _resolve(self, rating: Rating):
        if self.resolve is None:
            return None
        try:
            return self.resolve(rating.instrument, rating.instrument_version)
        except Exception:  # noqa: BLE001 - a broken custom instrument must not stop a save
            return None

    def _known_items(self) -> list[str]:
        """Items of the built-in instruments and, when the store was opened by the command line
        (its ``resolve`` belongs to an object with a ``registry``), of the custom ones."""
        from ratetool.errors import InstrumentError
        from ratetool.instruments import builtin_ids, load_builtin

        items: list[str] = []
        for instrument_id in builtin_ids():
            try:
                items.extend(load_builtin(instrument_id).item_ids)
            except InstrumentError:  # pragma: no cover - a packaging bug
                continue
        registry = getattr(getattr(self.resolve, "__self__", None), "registry", None)
        if registry is not None and callable(getattr(registry, "list", None)):
            try:
                listing = registry.list()
            except Exception:  # noqa: BLE001 - custom instruments only widen the header
                listing = []
            for row in listing:
                instrument = getattr(row, "instrument", None)
                if instrument is not None:
                    items.extend(instrument.item_ids)
        return items

    def _add_locked(
        self, ratings: Sequence[Rating], number_sessions: bool, skip_existing_ids: bool
    ) -> AddResult:
        from ratetool.fsutil import append_durably, ensure_private_dir

        for rating in ratings:
            validate_client_code(rating.client)  # before anything is read or written
        view = self._view(full=skip_existing_ids)
        refuse_if_problems(view.problems)
        known_ids = {r.id for r in view.parsed.ratings} if view.parsed is not None else set()
        clients = view.clients or {}
        next_session: dict[str, int] = {}
        added: list[Rating] = []
        skipped: list[Rating] = []
        for rating in ratings:
            if skip_existing_ids and rating.id in known_ids:
                skipped.append(rating)
                continue
            known_ids.add(rating.id)
            client = rating.client
            if client not in next_session:
                entry = clients.get(client)
                next_session[client] = (entry[0] if entry else 0) + 1
            if number_sessions:
                rating = replace(rating, session=next_session[client])
            next_session[client] = max(next_session[client], rating.session) + 1
            added.append(rating)
        if not added:
            return AddResult(added=[], skipped_existing=skipped, files=[])
        header = view.header or self.header or self.new_header(added)
        rows = RowWriter(header).rows(added).encode("utf-8")
        head = header.line().encode("utf-8") if view.header is None else b""
        ensure_private_dir(self.data_dir)
        append_durably(self.path, head + rows)
        self._after_append(view, header, head, rows)
        return AddResult(added=added, skipped_existing=skipped, files=[self.path])

    def _after_append(self, view: _View, header: Header, head: bytes, rows: bytes) -> None:
        """Bring the index up to date with the rows just appended, without reading the file."""
        try:
            info = self.path.stat()
        except OSError:
            return
        if info.st_size != view.size + len(head) + len(rows):
            return  # someone else wrote too: the next read works it out from the file
        parsed = parse_more(self.path, rows, 0, 0, header, spans=True)
        if parsed.problems:  # pragma: no cover - RowWriter read these rows back already
            return
        self._write_index(
            _Index(
                size=info.st_size,
                crc=zlib.crc32(rows, zlib.crc32(head, view.crc)),
                mtime_ns=info.st_mtime_ns,
                ctime_ns=info.st_ctime_ns,
                ino=info.st_ino,
                lines=view.lines + head.count(b"\n") + parsed.lines,
                columns=header.columns,
                clients=_merge_clients(parsed, rows, view.clients, view.size + len(head)),
            )
        )

    # -- repair --------------------------------------------------------------------------------
    def _repair_locked(self) -> list[str]:
        parsed = self.parse()
        if parsed.torn_offset is None:
            return []
        target = move_tail_aside(self.path, parsed.torn_offset)
        size = parsed.size - parsed.torn_offset
        return [f"{self.path}: moved the incomplete last row ({size} bytes) to {target.name}"]
