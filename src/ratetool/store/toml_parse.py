"""Reading one client file of the TOML store (``ratetool.store.toml_store``): its bytes into
ratings, corrections and problems.

A file is parsed whole by ``tomllib`` once, and its corrections (``ratetool.corrections``) applied;
only when that finds any problem is it read again block by block, each block parsed on its own, so
one damaged block is reported with its line number while every other session still reads, and a
torn last block (the machine died mid-append) is told apart from the rest. The last block is
*torn* when it does not parse or lacks a required key (ratetool writes the answers last, on one
line, so a cut-short block always looks like that; a correction ends with its ``answers``,
``reason`` or ``from`` line the same way); any other problem is *damaged* and must be fixed by
hand. A correction that does not apply (a hand edit) is a problem of kind "invalid" with its line.
"""

from __future__ import annotations

import re
from codecs import BOM_UTF8
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ratetool.errors import FormatTooNewError
from ratetool.model import Rating
from ratetool.store import DATA_FORMAT, OLDEST_FORMAT, Problem, ReadResult
from ratetool.store.records import (
    Duplicates,
    RatingRules,
    RecordError,
    correction_from_record,
    rating_from_record,
)

if TYPE_CHECKING:
    from ratetool.corrections import CorrectedView, Correction

# Any line that starts with "[[" begins a new block, so even a header cut short by a crash
# ("[[sess", or a lone "[" at the very end) belongs to the torn block, never to the intact one.
BLOCK_START = re.compile(rb"^[ \t]*\[(?:\[|\Z)", re.MULTILINE)
# A table header with one bracket ("[sessions]"): never written by ratetool, so a hand edit.
_TABLE_LINE = re.compile(rb"^[ \t]*\[[^\[\r\n][^\r\n]*$", re.MULTILINE)
_BLOCK_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*(sessions|corrections)[ \t]*\]\][ \t]*(#.*)?$")
# Patterns for problems only, compiled by ``re`` when first needed.
_TOML_LINE = r"\(at line (\d+), column (\d+)\)"
_TOO_LONG = "a number is more than 4,300 digits long"


@dataclass
class ParsedFile:
    """One client file as read: its ratings, the problems met, its size and where a torn tail
    starts."""

    path: Path
    client: str
    ratings: list[Rating] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    size: int = 0
    #: Byte offset where a torn tail starts (what ``repair`` moves aside), else None.
    torn_offset: int | None = None
    #: The ``format`` of the header, when it reads.
    data_format: int | None = None
    #: Every correction that read, in file order (``view`` says which applied).
    corrections: list[Correction] = field(default_factory=list)
    #: The corrected view of ``ratings`` (``ratings`` are the ratings as stored: voided ones
    #: too, with their first answers); ``None`` until worked out (``view_of``).
    corrected: CorrectedView | None = None

    @property
    def max_session(self) -> int:
        """The highest session number stored, voided ones included (a number is never reused)."""
        return max((r.session for r in self.ratings), default=0)

    @property
    def view(self) -> CorrectedView:
        """The corrected view (``ratetool.corrections.apply``) of the file."""
        if self.corrected is None:
            from ratetool.corrections import CorrectedView

            self.corrected = CorrectedView(ratings=self.ratings)
        return self.corrected

    def read_result(self) -> ReadResult:
        view = self.view
        return ReadResult(
            list(view.ratings), list(self.problems), list(view.voided), list(view.applied)
        )


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _toml_problem_line(message: str, first_line: int) -> tuple[int, str]:
    match = re.search(_TOML_LINE, message)
    if not match:
        return first_line, message
    line = first_line + int(match.group(1)) - 1
    return line, re.sub(_TOML_LINE, "", message).strip().rstrip(".")


_COMPLETE_END = (
    rb"^[ \t]*(?:answers[ \t]*=[ \t]*\{.*\}"
    rb'|(?:reason|from)[ \t]*=[ \t]*"(?:[^"\\]|\\.)*")[ \t]*\r?$'
)


def _ends_complete(chunk: bytes) -> bool:
    """Whether a block's last non-blank line is a whole ``answers = { ... }`` line (or, for a
    correction, a whole ``reason = "..."`` or ``from = "..."`` line): what ratetool writes last."""
    lines = [line for line in chunk.split(b"\n") if line.strip()]
    return bool(lines) and re.match(_COMPLETE_END, lines[-1]) is not None


def _too_new(path: Path, fmt: object) -> None:
    if isinstance(fmt, int) and not isinstance(fmt, bool) and fmt > DATA_FORMAT:
        raise FormatTooNewError(
            f"{path} was written by a newer ratetool (data format {fmt}); this ratetool "
            f"reads format {DATA_FORMAT} (and the older format {OLDEST_FORMAT}). Update ratetool "
            "(pip install -U ratetool) to read it; the file was not read or changed."
        )


def _parse_whole(
    path: Path, data: bytes, expected_client: str, rules: RatingRules | None
) -> ParsedFile | None:
    """The file from one ``tomllib.loads`` of the whole file, corrections applied, or ``None``
    when anything is wrong (then ``_parse_blocks`` finds what, and where)."""
    import tomllib

    try:
        doc = tomllib.loads(data.removeprefix(BOM_UTF8).decode("utf-8"))  # utf-8-sig
    except ValueError:  # not UTF-8, not TOML, or a number too long to read
        return None
    fmt = doc.get("format")
    _too_new(path, fmt)
    sessions = doc.pop("sessions", [])
    records = doc.pop("corrections", None)
    if (
        doc != {"format": fmt, "client": expected_client}
        or type(fmt) is not int
        or fmt < OLDEST_FORMAT
        or not isinstance(sessions, list)
        or not sessions
        or not all(isinstance(record, dict) for record in sessions)
    ):
        return None
    try:
        ratings = [rating_from_record(record, expected_client) for record in sessions]
    except RecordError:
        return None
    if rules is not None:
        duplicates = Duplicates()
        for rating in ratings:
            if rules.problem(rating) is not None or duplicates.problem(rating) is not None:
                return None
    parsed = ParsedFile(path, expected_client, ratings, size=len(data), data_format=fmt)
    if records is None:
        return parsed
    # Corrections need format 2 (an older ratetool must refuse them, not skip them).
    if fmt < 2 or not isinstance(records, list) or not records:
        return None
    try:
        parsed.corrections = [correction_from_record(r, expected_client) for r in records]
    except (RecordError, AttributeError, ValueError):  # AttributeError: not a table
        return None
    view = _apply(parsed, rules, None)
    return parsed if not view.problems and not parsed.problems else None


def _apply(
    parsed: ParsedFile, rules: RatingRules | None, lines: dict[int, int] | None
) -> CorrectedView:
    """Apply the file's corrections to its ratings (``parsed.corrected``). An amend whose
    answers break the rating's instrument, and a correction that does not apply, become
    problems of kind "invalid" with the correction's line (``lines``: ``id()`` of each
    correction -> its line) and are left out."""
    from dataclasses import replace

    from ratetool.corrections import AMEND, apply

    corrections = parsed.corrections
    known = len(parsed.problems)
    if rules is not None:
        stored = {r.id: r for r in parsed.ratings}
        kept = []
        for c in corrections:
            target = stored.get(c.rating or "") if c.action == AMEND else None
            if target is not None:
                amended = replace(target, answers=dict(c.answers or {}), skipped=c.skipped)
                problem = rules.problem(amended)
                if problem is not None:
                    _correction_problem(parsed, c, lines, f"the new answers do not fit: {problem}")
                    continue
            kept.append(c)
        corrections = kept
    view = apply(parsed.ratings, corrections)
    for c, why in view.problems:
        _correction_problem(parsed, c, lines, why)
    # in file order, as every other problem of the file
    parsed.problems[known:] = sorted(parsed.problems[known:], key=lambda p: p.line or 0)
    parsed.corrected = view
    return view


def _correction_problem(
    parsed: ParsedFile, c: Correction, lines: dict[int, int] | None, why: str
) -> None:
    line = lines.get(id(c)) if lines is not None else None
    parsed.problems.append(
        Problem(
            parsed.path,
            f"the {c.action} correction {c.id} does not apply: {why}. It was left out; fix or "
            "remove the block by hand",
            line,
            kind="invalid",
            session=c.session,
        )
    )


def parse_client_bytes(
    path: Path, data: bytes, expected_client: str, rules: RatingRules | None = None
) -> ParsedFile:
    """Parse a client file's bytes into ratings and problems; never raises for bad content
    except ``FormatTooNewError`` (a newer file is refused, not misread).

    Each rating is held to ``rules`` (its instrument and the limits) and to being the only one
    of the file with its id and session number; one that is not is left out and named as a
    problem with its line and session number."""
    parsed = ParsedFile(path=path, client=expected_client, size=len(data))
    if not data.strip():
        return parsed
    try:
        whole = _parse_whole(path, data, expected_client, rules)
        if whole is not None:
            return whole
        lines: dict[int, int] = {}
        _parse_blocks(parsed, data, rules, lines)
        if parsed.corrections:
            _apply(parsed, rules, lines)
    except RecursionError:  # brackets nested thousands deep: tomllib recurses into each
        from ratetool import limits

        line = limits.nesting_line(data.decode("utf-8", "replace"))
        parsed.ratings = []
        parsed.corrections = []
        parsed.corrected = None
        parsed.problems = [Problem(path, limits.nesting_problem(), line, kind="damaged")]
    return parsed


def _parse_blocks(
    parsed: ParsedFile,
    data: bytes,
    rules: RatingRules | None = None,
    lines: dict[int, int] | None = None,
) -> None:
    """Read a file that has a problem block by block, naming the line of each problem (and
    noting in ``lines`` the line of each correction read, by its ``id()``)."""
    import tomllib

    path, expected_client = parsed.path, parsed.client
    starts = [m.start() for m in BLOCK_START.finditer(data)]
    header_end = starts[0] if starts else len(data)
    bounds = list(zip(starts, starts[1:] + [len(data)]))

    # -- header ----------------------------------------------------------------------------
    header_bytes = data[:header_end]
    header: dict[str, Any] | None = None
    table = _TABLE_LINE.search(header_bytes)
    if table is not None:
        # "[sessions]" for "[[sessions]]": a hand edit, never a torn write (nothing is moved).
        found = table.group().strip().decode("utf-8", "replace")
        parsed.problems.append(
            Problem(
                path,
                f"expected [[sessions]], found {found!r}; a session block starts with two "
                "brackets on each side, [[sessions]]",
                _line_of(data, table.start()),
            )
        )
        if not bounds:
            return
        header_bytes = header_bytes[: table.start()]
    try:
        header = tomllib.loads(header_bytes.removeprefix(BOM_UTF8).decode("utf-8"))  # utf-8-sig
    except ValueError as exc:
        if isinstance(exc, tomllib.TOMLDecodeError):
            line, msg = _toml_problem_line(str(exc), 1)
        elif isinstance(exc, UnicodeDecodeError):
            line, msg = _line_of(data, exc.start), "not UTF-8 text"
        else:
            line, msg = 1, _TOO_LONG
        if not bounds:
            # Nothing but a header, and it is cut short: the file's very first write was torn.
            parsed.problems.append(
                Problem(path, f"the file's first write is incomplete ({msg})", line, kind="torn")
            )
            parsed.torn_offset = 0
            return
        parsed.problems.append(Problem(path, f"the header does not parse: {msg}", line))
        header = None
    if header is not None:
        fmt = header.get("format")
        _too_new(path, fmt)
        if not bounds and (fmt is None or "client" not in header):
            # The header alone, without its client key: the file's first write was torn.
            parsed.problems.append(
                Problem(path, "the file's first write is incomplete", kind="torn")
            )
            parsed.torn_offset = 0
            return
        if type(fmt) is int and OLDEST_FORMAT <= fmt <= DATA_FORMAT:
            parsed.data_format = fmt
        else:
            parsed.problems.append(
                Problem(
                    path,
                    f"'format' must be {DATA_FORMAT} (or {OLDEST_FORMAT}), found {fmt!r}",
                    1,
                )
            )
        client = header.get("client")
        if client != expected_client:
            parsed.problems.append(
                Problem(
                    path,
                    f"'client' is {client!r} but the file is named for {expected_client!r}; "
                    "a client's file must hold only that client's sessions",
                    1,
                )
            )
        unknown = sorted(set(header) - {"format", "client"})
        if unknown:
            parsed.problems.append(
                Problem(path, f"unknown key {', '.join(unknown)} before the first [[sessions]]", 1)
            )

    # -- session and correction blocks -------------------------------------------------------
    duplicates = Duplicates()
    for index, (start, end) in enumerate(bounds):
        last = index == len(bounds) - 1
        chunk = data[start:end]
        problem: str | None = None
        kind = "damaged"
        session: int | None = None
        torn = False
        line = 0
        what = ""  # what the block holds, once its header line reads
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError as exc:
            problem, torn = "not UTF-8 text", last
            line = _line_of(data, start + exc.start)
            text = ""
        if problem is None:
            header_line = text.split("\n", 1)[0].rstrip("\r")
            match = _BLOCK_HEADER.match(header_line)
            block = match.group(1) if match else ""
            what = {"sessions": "session", "corrections": "correction"}.get(block, "")
            if not block:
                problem, torn = (
                    f"expected [[sessions]] or [[corrections]], found {header_line.strip()!r}",
                    last,
                )
            else:
                try:
                    doc = tomllib.loads(text)
                except tomllib.TOMLDecodeError as exc:
                    line, msg = _toml_problem_line(str(exc), _line_of(data, start))
                    problem, torn = f"TOML syntax error: {msg}", last
                except ValueError:  # Python reads whole numbers of up to 4,300 digits
                    problem = _TOO_LONG
                else:
                    records = doc.get(block)
                    extra = sorted(set(doc) - {block})
                    if extra or not isinstance(records, list) or len(records) != 1:
                        problem = f"a [[{block}]] block must hold exactly one {what}"
                    else:
                        number = records[0].get("session")
                        if type(number) is int:
                            session = number
                        if what == "session":
                            problem, torn, kind = _read_session(
                                parsed, records[0], rules, duplicates, last
                            )
                        else:
                            problem, torn = _read_correction(parsed, records[0], last)
                            if problem is None and lines is not None:
                                lines[id(parsed.corrections[-1])] = _line_of(data, start)
        if problem is not None:
            if not line:
                line = _line_of(data, start)
            if torn and _ends_complete(chunk):
                # The block ends with its whole last line, as ratetool writes it: it was not cut
                # short by a crash but changed afterwards. Fix it by hand; never moved.
                torn = False
            if torn:
                problem = (
                    f"the last {what + ' ' if what else ''}block is incomplete ({problem}); it was "
                    "probably cut short when the computer stopped during a save"
                )
                parsed.torn_offset = start
            parsed.problems.append(
                Problem(path, problem, line, kind="torn" if torn else kind, session=session)
            )


def _read_session(
    parsed: ParsedFile,
    record: dict[str, Any],
    rules: RatingRules | None,
    duplicates: Duplicates,
    last: bool,
) -> tuple[str | None, bool, str]:
    """Read one ``[[sessions]]`` record into ``parsed``: ``(problem, torn, kind)``."""
    try:
        rating = rating_from_record(record, parsed.client)
    except RecordError as exc:
        return f"session block: {exc}", last and str(exc).startswith("missing "), "damaged"
    broken = _rules_problem(rules, duplicates, rating)
    if broken is not None:
        return broken[1], False, broken[0]
    parsed.ratings.append(rating)
    return None, False, "damaged"


def _read_correction(
    parsed: ParsedFile, record: dict[str, Any], last: bool
) -> tuple[str | None, bool]:
    """Read one ``[[corrections]]`` record into ``parsed``: ``(problem, torn)``."""
    try:
        correction = correction_from_record(record, parsed.client)
    except RecordError as exc:
        return f"correction block: {exc}", last and str(exc).startswith("missing ")
    if parsed.data_format is not None and parsed.data_format < 2:
        return (
            "a [[corrections]] block needs 'format = 2' in the file's header (an older "
            "ratetool must refuse the file, not skip the correction)",
            False,
        )
    parsed.corrections.append(correction)
    return None, False


def _rules_problem(
    rules: RatingRules | None, duplicates: Duplicates, rating: Rating
) -> tuple[str, str] | None:
    """``(kind, sentence)`` when ``rating`` breaks ``rules`` or repeats an id or a session
    number of the file; ``None`` without rules (the shape alone is checked)."""
    if rules is None:
        return None
    problem = rules.problem(rating)
    if problem is not None:
        return "invalid", problem
    return duplicates.problem(rating)
