"""Reading ``ratings.csv``: rows into ratings, and every problem with its line.

A row whose bytes do not end with a line break, or that ends inside a quoted cell, or the last
row with the wrong number of cells, is *torn* (cut short when the computer stopped during a
save): the rows before it still read, appending is refused, and ``repair`` moves the torn bytes
to ``ratings.csv.corrupt-<time>``. Any other bad row is *damaged*: it is named by its line, the
other rows still read, appending is refused, and repair leaves it to be fixed by hand. A damaged
row that opens a quote and never closes it does not swallow the rows after it: when a bad record
spans lines that look like complete rows, only its first line is reported and reading goes on
with the next line. Each row is judged by the same rules as a TOML session block
(``records.rating_from_record``); a fast path handles the rows ratetool writes and hands
anything unusual to that function. A correction row (format 2) is read by
``csv_corrections.correction_from_cells``; a damaged or torn one is named like any row.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import accumulate, islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ratetool.codes import CLIENT_CODE_RE
from ratetool.csvformat import COMMENT_COLUMN, FIXED_COLUMNS
from ratetool.errors import FormatTooNewError
from ratetool.model import Rating
from ratetool.store import DATA_FORMAT, Problem
from ratetool.store.csv_format import (
    BOM,
    CORRECTION_COLUMN,
    FORMAT_COLUMN,
    READ_FORMATS,
    SKIP_SEPARATOR,
    SKIPPED_COLUMN,
    Header,
    header_problem,
)
from ratetool.store.records import (
    ITEM_ID_RE,
    Duplicates,
    RatingRules,
    RecordError,
    rating_from_record,
)

_INTS = {str(i): i for i in range(0, 1001)}
# At most 4,000 digits: Python refuses to read a longer run of digits as a number (4,300).
_WHOLE_RE = re.compile(r"[0-9]{1,4000}")
_ANSWER_RE = re.compile(r"-?[0-9]{1,4000}")
_TEXT_COLUMNS = ("id", "client", "rated_at", "instrument", "practitioner", SKIPPED_COLUMN)

if TYPE_CHECKING:
    from ratetool.corrections import Correction


@dataclass
class ClientRows:
    """Per client: the highest session number and the byte spans ``(start, length)`` of its rows
    (its ratings' and the corrections stored under its code)."""

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
    #: The rules each rating is held to (``records.RatingRules``), and the ids and session
    #: numbers met so far; without rules only the shape of each row is checked.
    rules: RatingRules | None = None
    duplicates: Duplicates = field(default_factory=Duplicates)
    #: The correction rows that read, in file order, with their line numbers and the number of
    #: ratings before each (so the rows can be written again in the same order).
    corrections: list[Correction] = field(default_factory=list)
    correction_lines: list[int] = field(default_factory=list)
    correction_at: list[int] = field(default_factory=list)


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
            if len(cells) == width and cells[fmt_at] in READ_FORMATS:
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


def parse_csv_bytes(
    path: Path, data: bytes, *, spans: bool = False, rules: RatingRules | None = None
) -> ParsedCsv:
    """Parse a whole ``ratings.csv``; never raises for bad content except ``FormatTooNewError``.
    With ``rules`` each rating is held to them and to being the only one of its client with its
    id and session number; a row that is not is left out and named with its line."""
    parsed = ParsedCsv(path=path, size=len(data), clients={} if spans else None, rules=rules)
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
        if cells and len(cells) == width and cells[fmt_at] not in READ_FORMATS:
            _too_new(path, cells[fmt_at])


def parse_more(
    path: Path,
    data: bytes,
    begin: int,
    line_base: int,
    header: Header,
    *,
    spans: bool,
    rules: RatingRules | None = None,
) -> ParsedCsv:
    """Parse the rows in ``data[begin:]`` (``begin`` a row boundary, after ``line_base`` lines),
    with ``header`` known from earlier. Offsets in the result are offsets in ``data``. ``rules``
    as for ``parse_csv_bytes`` (ids and session numbers are compared within these rows)."""
    parsed = ParsedCsv(
        path=path, header=header, size=len(data), clients={} if spans else None, rules=rules
    )
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
    p_skip, p_comment, p_fmt = (
        cols.index(c) for c in (SKIPPED_COLUMN, COMMENT_COLUMN, FORMAT_COLUMN)
    )
    # A correction row (format 2) leaves the short path; a format-1 file has none.
    p_corr = cols.index(CORRECTION_COLUMN) if header.format == 2 else p_fmt
    no_correction = "" if header.format == 2 else str(header.format)
    item_pos = [cols.index(c) for c in header.items]
    item_names = list(header.items)
    # Item columns side by side (as ratetool writes them): one slice per row.
    i0 = item_pos[0] if item_pos else 0
    i1 = i0 + len(item_pos)
    contiguous = item_pos == list(range(i0, i1))
    ints = _INTS
    answer_cache: dict[tuple[str, ...], dict[str, int] | None] = {}
    make = Rating
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
    fmt_text = str(header.format)
    client_match = CLIENT_CODE_RE.fullmatch
    id_match = ITEM_ID_RE.fullmatch
    rules_problem = parsed.rules.problem if parsed.rules is not None else None
    twin_problem = parsed.duplicates.problem

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
                    or cells[p_corr] != no_correction
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
                skipped: tuple[str, ...] = ()
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
                if rules_problem is not None and (
                    rules_problem(rating) is not None or twin_problem(rating) is not None
                ):
                    _breaks_rules(parsed, rating, line_base + start + 1)
                    continue
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


def _breaks_rules(parsed: ParsedCsv, rating: Rating, line: int) -> bool:
    """Whether ``rating`` breaks ``parsed.rules`` or repeats an id or session number of its
    client (then the problem is noted with its line and session, and the row is left out)."""
    assert parsed.rules is not None
    problem = parsed.rules.problem(rating)
    kind = "invalid"
    if problem is None:
        twin = parsed.duplicates.problem(rating)
        if twin is None:
            return False
        kind, problem = twin
    parsed.problems.append(Problem(parsed.path, problem, line, kind=kind, session=rating.session))
    return True


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
        elif cells[p_fmt] not in READ_FORMATS or int(cells[p_fmt]) > header.format:
            _too_new(path, cells[p_fmt])  # a newer format is refused, never misread
            problem = f"'format' must be {header.format}, found {cells[p_fmt]!r}"
    if problem is None and not rows.bad_utf8.isdisjoint(range(start, end)):
        problem = "not UTF-8 text"
    torn = last and (error is not None or end == cut_line)
    if problem is None and not torn:
        assert cells is not None
        if header.format == 2 and cells[header.columns.index(CORRECTION_COLUMN)]:
            from ratetool.store.csv_corrections import note_correction

            problem, client = note_correction(parsed, header, cells, line_base + start + 1)
            if problem is None:
                if client is not None:
                    _note_span(parsed, client, 0, rows, start, end)
                return
        else:
            try:
                rating = _convert_slowly(cells, header)
            except RecordError as exc:
                problem = f"row: {exc}"
            else:
                if parsed.rules is not None and _breaks_rules(
                    parsed, rating, line_base + start + 1
                ):
                    return
                parsed.ratings.append(rating)
                _note_span(parsed, rating.client, rating.session, rows, start, end)
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


def _note_span(
    parsed: ParsedCsv, client: str, session: int, rows: _Rows, start: int, end: int
) -> None:
    if parsed.clients is not None:
        entry = parsed.clients.setdefault(client, ClientRows())
        entry.max_session = max(entry.max_session, session)
        entry.spans.append(rows.starts[start])
        entry.spans.append(rows.starts[end] - rows.starts[start])


def _whole_from(text: str) -> int | None:
    """A canonical whole number from 1 (no sign, space or leading zero), else None."""
    if text[:1] in "123456789" and text.isascii() and text.isdigit() and len(text) <= 4000:
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
