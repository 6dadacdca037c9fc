"""The TOML store: one plain file per client, ``clients/<CODE>.toml``, append-only.

A file is a small header (``format``, ``client``) followed by one ``[[sessions]]`` block per
rating. A file is parsed whole by ``tomllib`` once; only when that finds any problem is it read
again block by block, each block parsed on its own, so one damaged block is reported with its line
number while every other session still reads, and a torn last block (the machine died
mid-append) is told apart from the rest. The last block is *torn* when it does not parse or lacks
a required key (ratetool writes the answers last, on one line, so a cut-short block always looks
like that); any other problem is *damaged* and must be fixed by hand.
"""

from __future__ import annotations

import re
from codecs import BOM_UTF8
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ratetool import paths
from ratetool.codes import CLIENT_CODE_RE, validate_client_code
from ratetool.errors import FormatTooNewError, StoreError
from ratetool.model import Rating
from ratetool.store import (
    DATA_FORMAT,
    AddResult,
    Problem,
    ReadResult,
    Store,
    move_tail_aside,
    refuse_if_problems,
)
from ratetool.store.records import (
    Duplicates,
    RatingRules,
    RecordError,
    file_header,
    rating_from_record,
    session_block,
)

CLIENTS_DIR = paths.CLIENTS_DIR
SUFFIX = paths.CLIENT_SUFFIX
# Any line that starts with "[[" begins a new block, so even a header cut short by a crash
# ("[[sess", or a lone "[" at the very end) belongs to the torn block, never to the intact one.
_BLOCK_START = re.compile(rb"^[ \t]*\[(?:\[|\Z)", re.MULTILINE)
# A table header with one bracket ("[sessions]"): never written by ratetool, so a hand edit.
_TABLE_LINE = re.compile(rb"^[ \t]*\[[^\[\r\n][^\r\n]*$", re.MULTILINE)
_SESSIONS_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*sessions[ \t]*\]\][ \t]*(#.*)?$")
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

    @property
    def max_session(self) -> int:
        return max((r.session for r in self.ratings), default=0)


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _toml_problem_line(message: str, first_line: int) -> tuple[int, str]:
    match = re.search(_TOML_LINE, message)
    if not match:
        return first_line, message
    line = first_line + int(match.group(1)) - 1
    return line, re.sub(_TOML_LINE, "", message).strip().rstrip(".")


_COMPLETE_END = rb"^[ \t]*answers[ \t]*=[ \t]*\{.*\}[ \t]*\r?$"


def _ends_complete(chunk: bytes) -> bool:
    """Whether a block's last non-blank line is a whole ``answers = { ... }`` line."""
    lines = [line for line in chunk.split(b"\n") if line.strip()]
    return bool(lines) and re.match(_COMPLETE_END, lines[-1]) is not None


def _too_new(path: Path, fmt: object) -> None:
    if isinstance(fmt, int) and not isinstance(fmt, bool) and fmt > DATA_FORMAT:
        raise FormatTooNewError(
            f"{path} was written by a newer ratetool (data format {fmt}); this ratetool "
            f"reads format {DATA_FORMAT}. Update ratetool (pip install -U ratetool) to read "
            "it; the file was not read or changed."
        )


def _parse_whole(
    path: Path, data: bytes, expected_client: str, rules: RatingRules | None
) -> list[Rating] | None:
    """The file's ratings from one ``tomllib.loads`` of the whole file, or ``None`` when
    anything is wrong (then ``_parse_blocks`` finds what, and where)."""
    import tomllib

    try:
        doc = tomllib.loads(data.removeprefix(BOM_UTF8).decode("utf-8"))  # utf-8-sig
    except ValueError:  # not UTF-8, not TOML, or a number too long to read
        return None
    _too_new(path, doc.get("format"))
    sessions = doc.pop("sessions", [])
    if (
        doc != {"format": DATA_FORMAT, "client": expected_client}
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
    return ratings


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
        ratings = _parse_whole(path, data, expected_client, rules)
        if ratings is not None:
            parsed.ratings = ratings
            return parsed
        _parse_blocks(parsed, data, rules)
    except RecursionError:  # brackets nested thousands deep: tomllib recurses into each
        from ratetool import limits

        line = limits.nesting_line(data.decode("utf-8", "replace"))
        parsed.ratings = []
        parsed.problems = [Problem(path, limits.nesting_problem(), line, kind="damaged")]
    return parsed


def _parse_blocks(parsed: ParsedFile, data: bytes, rules: RatingRules | None = None) -> None:
    """Read a file that has a problem block by block, naming the line of each problem."""
    import tomllib

    path, expected_client = parsed.path, parsed.client
    starts = [m.start() for m in _BLOCK_START.finditer(data)]
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
        if fmt != DATA_FORMAT:
            parsed.problems.append(
                Problem(path, f"'format' must be {DATA_FORMAT}, found {fmt!r}", 1)
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

    # -- session blocks ----------------------------------------------------------------------
    duplicates = Duplicates()
    for index, (start, end) in enumerate(bounds):
        last = index == len(bounds) - 1
        chunk = data[start:end]
        problem: str | None = None
        kind = "damaged"
        session: int | None = None
        torn = False
        line = 0
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError as exc:
            problem, torn = "not UTF-8 text", last
            line = _line_of(data, start + exc.start)
            text = ""
        if problem is None:
            header_line = text.split("\n", 1)[0].rstrip("\r")
            if not _SESSIONS_HEADER.match(header_line):
                problem, torn = f"expected [[sessions]], found {header_line.strip()!r}", last
            else:
                try:
                    doc = tomllib.loads(text)
                except tomllib.TOMLDecodeError as exc:
                    line, msg = _toml_problem_line(str(exc), _line_of(data, start))
                    problem, torn = f"TOML syntax error: {msg}", last
                except ValueError:  # Python reads whole numbers of up to 4,300 digits
                    problem = _TOO_LONG
                else:
                    sessions = doc.get("sessions")
                    extra = sorted(set(doc) - {"sessions"})
                    if extra or not isinstance(sessions, list) or len(sessions) != 1:
                        problem = "a [[sessions]] block must hold exactly one session"
                    else:
                        number = sessions[0].get("session")
                        if type(number) is int:
                            session = number
                        try:
                            rating = rating_from_record(sessions[0], expected_client)
                        except RecordError as exc:
                            problem = f"session block: {exc}"
                            torn = last and str(exc).startswith("missing ")
                        else:
                            broken = _rules_problem(rules, duplicates, rating)
                            if broken is not None:
                                kind, problem = broken
                            else:
                                parsed.ratings.append(rating)
        if problem is not None:
            if not line:
                line = _line_of(data, start)
            if torn and _ends_complete(chunk):
                # The block ends with its whole answers line, as ratetool writes it last: it was
                # not cut short by a crash but changed afterwards. Fix it by hand; never moved.
                torn = False
            if torn:
                problem = (
                    f"the last session block is incomplete ({problem}); it was probably cut "
                    "short when the computer stopped during a save"
                )
                parsed.torn_offset = start
            parsed.problems.append(
                Problem(path, problem, line, kind="torn" if torn else kind, session=session)
            )


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


class TomlStore(Store):
    kind = "toml"

    @property
    def clients_dir(self) -> Path:
        return self.data_dir / CLIENTS_DIR

    def file_for(self, client: str) -> Path:
        return self.clients_dir / f"{validate_client_code(client)}{SUFFIX}"  # never "../x"

    def _file_names(self) -> list[str]:
        """Names of the ``*.toml`` files in the clients folder, sorted. One directory read
        (``os.scandir`` knows a file from a folder without a ``stat`` per entry), which keeps the
        case check before every check-in cheap with a thousand clients."""
        import os

        if self.clients_dir.is_symlink():
            return []  # never listed through a link (``_folder_problems`` names it)
        try:
            with os.scandir(self.clients_dir) as entries:
                # Links are listed too (never followed), so that they are reported.
                names = [
                    e.name
                    for e in entries
                    if e.name.endswith(SUFFIX)
                    and len(e.name) > len(SUFFIX)
                    and (e.is_file(follow_symlinks=False) or e.is_symlink())
                ]
        except (FileNotFoundError, NotADirectoryError):
            return []
        names.sort()
        return names

    def _folder_problems(self) -> list[Problem]:
        """The clients folder as a symbolic link: nothing in it is read or written."""
        from ratetool.fsutil import link_message

        folder = self.clients_dir
        if not folder.is_symlink():
            return []
        return [Problem(folder, link_message(folder, "Nothing in it was read"), kind="link")]

    def files(self) -> list[Path]:
        folder = self.clients_dir
        return [folder / name for name in self._file_names()]

    def client_codes(self) -> list[str]:
        stems = (name[: -len(SUFFIX)] for name in self._file_names())
        return [stem for stem in stems if CLIENT_CODE_RE.fullmatch(stem)]

    def client_fingerprints(self) -> tuple[dict[str, str], list[Problem]]:
        """Size, modification time, change time and inode of each client file: any write to a
        file, any replacement of it, changes at least one of them."""
        import os

        fingerprints: dict[str, str] = {}
        problems: list[Problem] = self._folder_problems()
        folder = self.clients_dir
        # one stat per file by name: a thousand Path objects would cost more than the stats
        for name in self._file_names():
            code = name[: -len(SUFFIX)]
            if not CLIENT_CODE_RE.fullmatch(code):
                problems.append(
                    Problem(
                        folder / name,
                        "the file name is not a valid client code; ratetool ignores it",
                    )
                )
                continue
            # never following a link: a linked file is reported when it is read
            st = os.stat(os.path.join(folder, name), follow_symlinks=False)
            fingerprints[code] = f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"
        return fingerprints, problems

    #: The last file parsed and its bytes. ``rate`` reads the client's file before the first
    #: question and again under the lock before appending: when the bytes read under the lock
    #: are the very bytes parsed before, so is the parse (measured on a 100-session file: the
    #: append went from 1.29x to 1.1x appending a first session). Callers never change it.
    _last_parsed: tuple[Path, str, bytes, ParsedFile] | None = None

    def parse_file(
        self,
        path: Path,
        client: str,
        rules: RatingRules | None = None,
        *,
        remember: bool = False,
    ) -> ParsedFile:
        """The file parsed; with ``remember``, kept as the last parse (one client's file: what
        reading every client keeps nothing of)."""
        from ratetool.fsutil import first_link, link_message

        link = first_link(path, self.data_dir)
        if link is not None:  # a link is never followed: a problem of this file, named
            problem = Problem(path, link_message(link, "It was not read"), kind="link")
            return ParsedFile(path=path, client=client, problems=[problem])
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return ParsedFile(path=path, client=client)
        except OSError as exc:
            raise StoreError(f"{path}: cannot read ({exc.strerror}).") from None
        last = self._last_parsed
        if last is not None and last[0] == path and last[1] == client and last[2] == data:
            return last[3]
        parsed = parse_client_bytes(path, data, client, rules or self.rules())
        if not data.strip() and not parsed.problems:
            parsed.problems.append(
                Problem(
                    path,
                    "the file is empty: it holds no ratings and may be deleted (the next rating "
                    "for this client writes a whole file either way)",
                    kind="empty",
                )
            )
        if remember:
            self._last_parsed = (path, client, data, parsed)
        return parsed

    def read_client(self, client: str) -> ReadResult:
        parsed = self.parse_file(self.file_for(client), client, remember=True)
        return ReadResult(list(parsed.ratings), list(parsed.problems))

    def read_all(self) -> ReadResult:
        """Every client, parsed from its file."""
        result = ReadResult(problems=self._folder_problems())
        rules = self.rules()
        for path in self.files():
            if not CLIENT_CODE_RE.fullmatch(path.stem):
                result.problems.append(
                    Problem(path, "the file name is not a valid client code; ratetool ignores it")
                )
                continue
            parsed = self.parse_file(path, path.stem, rules)
            result.ratings.extend(parsed.ratings)
            result.problems.extend(parsed.problems)
        return result

    def add_locked(
        self, ratings: Sequence[Rating], number_sessions: bool, skip_existing_ids: bool
    ) -> AddResult:
        from ratetool.fsutil import append_durably, ensure_private_dir

        by_client: dict[str, list[Rating]] = {}
        for rating in ratings:
            by_client.setdefault(rating.client, []).append(rating)
        parsed = {c: self.parse_file(self.file_for(c), c, remember=True) for c in by_client}
        refuse_if_problems(p for f in parsed.values() for p in f.problems)
        known_ids = self.existing_ids() if skip_existing_ids else set()
        added: list[Rating] = []
        skipped: list[Rating] = []
        plans: list[tuple[Path, bytes]] = []
        for client, items in by_client.items():
            current = parsed[client]
            next_session = current.max_session + 1
            blocks: list[str] = []
            for rating in items:
                if skip_existing_ids and rating.id in known_ids:
                    skipped.append(rating)
                    continue
                known_ids.add(rating.id)
                if number_sessions:
                    from dataclasses import replace

                    rating = replace(rating, session=next_session)
                next_session = max(next_session, rating.session) + 1
                blocks.append(session_block(rating))
                added.append(rating)
            if not blocks:
                continue
            text = "".join(blocks)
            # a new file, or an empty one (nothing but blank space): it gets its header
            if current.size == 0 or any(p.kind == "empty" for p in current.problems):
                text = file_header(client, DATA_FORMAT) + text
            plans.append((current.path, text.encode("utf-8")))
        if plans:
            ensure_private_dir(self.clients_dir, inside=self.data_dir)
        for path, payload in plans:
            append_durably(path, payload, inside=self.data_dir)
        return AddResult(added=added, skipped_existing=skipped, files=[p for p, _ in plans])

    def _repair_locked(self) -> list[str]:
        done: list[str] = []
        for path in self.files():
            if not CLIENT_CODE_RE.fullmatch(path.stem):
                continue
            parsed = self.parse_file(path, path.stem)
            if parsed.torn_offset is None:
                continue
            target = move_tail_aside(path, parsed.torn_offset, self.data_dir)
            size = parsed.size - parsed.torn_offset
            if parsed.torn_offset == 0:
                # Its only write was torn: every byte is in the .corrupt file now, and an empty
                # client file would only be reported by ``check``.
                path.unlink()
                done.append(
                    f"{path}: its first write was incomplete; moved all of it ({size} bytes) to "
                    f"{target.name} and removed the empty file"
                )
                continue
            done.append(f"{path}: moved the incomplete last block ({size} bytes) to {target.name}")
        return done
