"""The CSV store: every rating is one row appended to ``<data dir>/ratings.csv``.

Seven modules: ``csv_format`` (the columns and header), ``csv_parse`` (rows into ratings, problems
with their lines), ``csv_write`` (ratings into rows, read back before they are written),
``csv_corrections`` (correction rows, the corrected view, raising a format-1 file),
``csv_correct`` (appending corrections under the lock),
``csv_index`` (the derived index that lets an append skip the history: measured, appending to
100,000 rows takes about 1.1x appending to none with it, about 16x without) and this one, the
``Store`` that ties them together under the data-folder lock and whose ``check`` verifies the
index. ``docs/csv-store.md`` tells the story for users.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ratetool.codes import validate_client_code
from ratetool.errors import StoreError
from ratetool.model import Rating
from ratetool.store import (
    AddResult,
    Problem,
    ReadResult,
    Resolver,
    Store,
    move_tail_aside,
    refuse_if_problems,
)
from ratetool.store.csv_corrections import (
    Grouped,
    corrected,
    final_code,
    shown_codes,
    sources,
)
from ratetool.store.csv_format import RATINGS_NAME, Header
from ratetool.store.csv_index import (
    CACHE_DIR,
    INDEX_NAME,
    Index,
    View,
    merge_clients,
    renames_in,
    spans_of,
)
from ratetool.store.csv_parse import ParsedCsv, parse_csv_bytes, parse_more
from ratetool.store.csv_write import RowWriter

if TYPE_CHECKING:
    from ratetool.corrections import Correction
    from ratetool.instruments import Instrument

#: ``read_client`` calls in one process after which the whole file is parsed once and shared.
_GROUP_AFTER = 8
#: A file's size, modification time, change time and inode: it changes with any write.
_StatKey = tuple[int, int, int, int]


def _refuse_renamed(codes: Iterable[str], renames: dict[str, str]) -> None:
    """A code renamed with ``clients rename`` takes no new ratings: they go under its new code."""
    from ratetool.errors import ClientCodeError

    for code in codes:
        new = final_code(code, renames)
        if new != code:
            raise ClientCodeError(
                f"Client code {code} was renamed to {new} (`ratetool clients rename`); its "
                f"sessions are shown under {new}. Use {new} for this client. Nothing was written."
            )


def _pairs(spans: list[int]) -> Iterator[tuple[int, int]]:
    return zip(spans[::2], spans[1::2])


class CsvStore(Store):
    kind = "csv"

    def __init__(
        self,
        data_dir: Path,
        resolve: Resolver | None = None,
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
        self._index_memo: tuple[_StatKey, Index | None] | None = None
        self._client_reads = 0
        self._grouped: tuple[_StatKey, Grouped] | None = None

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
    @contextmanager
    def lock(self) -> Iterator[None]:
        """The data-folder lock; while it is held a torn tail is not another append under way."""
        with super().lock():
            self._held += 1
            try:
                yield
            finally:
                self._held -= 1

    # -- reading -------------------------------------------------------------------------------
    def _link_problem(self) -> Problem | None:
        """``ratings.csv`` as a symbolic link: never followed, a problem of the file."""
        from ratetool.fsutil import first_link, link_message

        link = first_link(self.path, self.data_dir)
        if link is None:
            return None
        return Problem(self.path, link_message(link, "It was not read"), kind="link")

    def parse(self, *, spans: bool = False) -> ParsedCsv:
        """The whole file, parsed (the index is not used)."""
        return self.parse_with_bytes(spans=spans)[0]

    def parse_with_bytes(self, *, spans: bool) -> tuple[ParsedCsv, bytes]:
        """``parse``, and the bytes parsed (``csv_correct`` appends after them)."""
        link = self._link_problem()
        if link is not None:
            return ParsedCsv(self.path, problems=[link]), b""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            data = b""
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot read ({exc.strerror}).") from None
        return parse_csv_bytes(self.path, data, spans=spans, rules=self.rules()), data

    def _load_index(self, client: str | None = None) -> Index | None:
        """The index file, parsed (once per process while the file stays the same). With
        ``client``, only that client's line, unless the whole index is parsed already. Never
        read through a link (then there is no index)."""
        from ratetool.fsutil import first_link

        if first_link(self.index_path, self.data_dir) is not None:
            return None
        try:
            with open(self.index_path, "rb") as fh:
                info = os.fstat(fh.fileno())
                key = (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)
                if self._index_memo is not None and self._index_memo[0] == key:
                    return self._index_memo[1]
                raw = fh.read()
        except OSError:
            return None
        index = Index.from_bytes(raw, client)
        if client is None:
            self._index_memo = (key, index)
        return index

    def _write_index(self, index: Index) -> None:
        """Replace the index atomically. No fsync: a lost or garbled index is just rebuilt."""
        from ratetool.fsutil import ensure_private_dir, open_private

        try:
            # A linked cache folder is refused (StoreError); ``os.replace`` below replaces a
            # link at the index's own name, never the file it points to.
            folder = ensure_private_dir(self.index_path.parent, inside=self.data_dir)
            tmp = folder / f".{INDEX_NAME}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
        except (OSError, StoreError):
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
        except (OSError, StoreError):
            # A read-only folder or a full disk: the index is only a cache.
            try:
                tmp.unlink()
            except OSError:
                pass

    def _view(self, *, full: bool = False, client: str | None = None) -> View:
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

    def _view_once(self, *, full: bool, client: str | None = None) -> View:
        link = self._link_problem()
        if link is not None:
            return View([link], None, 0, 0, 0, None, ParsedCsv(self.path, problems=[link]))
        index = None if full else self._load_index(client)
        try:
            fh = open(self.path, "rb")
        except FileNotFoundError:
            return View([], None, 0, 0, 0, {})
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot read ({exc.strerror}).") from None
        with fh:
            info = os.fstat(fh.fileno())
            if index is not None and index.matches(info):
                header = Header(index.columns)
                return View(
                    [], header, index.size, index.crc, index.lines, index.clients, None,
                    index.renames,
                )  # fmt: skip
            data = fh.read()
        if index is not None and client is not None:
            index = self._load_index()  # the file changed: the whole index is brought up to date
        if index is not None and 0 < index.size <= len(data):
            crc = zlib.crc32(memoryview(data)[: index.size])
            if crc == index.crc:  # the indexed bytes are unchanged: parse only what follows
                more = parse_more(
                    self.path,
                    data,
                    index.size,
                    index.lines,
                    Header(index.columns),
                    spans=True,
                    rules=self.rules(),
                )
                if not more.problems:
                    view = View(
                        [],
                        more.header,
                        len(data),
                        zlib.crc32(memoryview(data)[index.size :], crc),
                        more.lines,
                        merge_clients(more, data, index.clients),
                        None,
                        renames_in(more, index.renames),
                    )
                    self._save_view(view, info)
                    return view
        parsed = parse_csv_bytes(self.path, data, spans=True, rules=self.rules())
        if parsed.problems:
            return View(
                parsed.problems, parsed.header, len(data), 0, parsed.lines, None, parsed,
                renames_in(parsed),
            )  # fmt: skip
        view = View(
            [], parsed.header, len(data), zlib.crc32(data), parsed.lines,
            merge_clients(parsed, data), parsed, renames_in(parsed),
        )  # fmt: skip
        self._save_view(view, info)
        return view

    def _save_view(self, view: View, info: os.stat_result) -> None:
        if view.problems or view.header is None or view.clients is None:
            return
        if info.st_size != view.size:
            return  # the file grew while it was read: the next read catches up
        self._write_index(
            Index(
                size=view.size,
                crc=view.crc,
                mtime_ns=info.st_mtime_ns,
                ctime_ns=info.st_ctime_ns,
                ino=info.st_ino,
                lines=view.lines,
                columns=view.header.columns,
                clients=view.clients,
                renames=view.renames,
            )
        )

    def client_codes(self) -> list[str]:
        view = self._view()
        if view.clients is not None:
            codes: Iterable[str] = view.clients
        else:
            assert view.parsed is not None
            codes = {r.client for r in view.parsed.ratings}
        if view.renames:
            renames = shown_codes(view.renames)
            codes = {final_code(code, renames) for code in codes}
        return sorted(codes)

    def read_all(self) -> ReadResult:
        parsed = self.parse()
        return corrected(
            self.path, parsed.ratings, parsed.corrections, parsed.correction_lines, parsed.problems
        )

    def read_client(self, client: str) -> ReadResult:
        validate_client_code(client)
        self._client_reads += 1
        if self._client_reads > _GROUP_AFTER:
            grouped = self._grouped_read()
            if grouped is not None:
                return self._of_client(client, grouped)
        view = self._view(client=client)
        renames = shown_codes(view.renames)
        if final_code(client, renames) != client:
            return ReadResult([], list(view.problems))  # renamed: shown under its new code
        codes = sources(client, renames)
        if view.parsed is None and view.clients is not None and len(codes) > 1:
            view = self._view()  # a renamed client: every code shown under it
        if view.parsed is None and view.clients is not None:
            entries = [view.clients[code] for code in codes if code in view.clients]
            if not entries:
                return ReadResult([], [])
            spans = sorted(
                (n for entry in entries for n in _pairs(spans_of(entry))), key=lambda p: p[0]
            )
            got = self._rows_at(spans, view.header)
            if (
                got is not None
                and len(got.ratings) + len(got.corrections) == len(spans)
                and all(r.client in codes for r in got.ratings)
                and all(c.client in codes for c in got.corrections)
            ):
                result = corrected(
                    self.path, got.ratings, got.corrections, got.correction_lines, []
                )
                if not result.problems:
                    return result
            view = self._view(full=True)  # the index does not describe the file: read it all
        assert view.parsed is not None
        return self._of_client(client, Grouped.of(view.parsed))

    def _of_client(self, client: str, grouped: Grouped) -> ReadResult:
        """``client``'s corrected view from a whole file parsed."""
        parsed, renames = grouped.parsed, grouped.renames
        problems = list(parsed.problems)
        if not parsed.corrections:
            return ReadResult(list(grouped.ratings.get(client, ())), problems)
        if final_code(client, renames) != client:
            return ReadResult([], problems)
        codes = sorted(sources(client, renames))
        mine = [r for code in codes for r in grouped.ratings.get(code, ())]
        if len(codes) > 1:
            order = {id(r): i for i, r in enumerate(parsed.ratings)}
            mine.sort(key=lambda r: order[id(r)])
        picked = sorted(i for code in codes for i in grouped.corrections.get(code, ()))
        return corrected(
            self.path,
            mine,
            [parsed.corrections[i] for i in picked],
            [parsed.correction_lines[i] for i in picked],
            problems,
        )

    def _grouped_read(self) -> Grouped | None:
        """The whole file parsed once and grouped by client, for a command that reads many
        clients one by one (a cold summary cache); parsed again whenever the file changes."""
        try:
            info = self.path.stat()
        except OSError:
            return None
        key = (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)
        if self._grouped is None or self._grouped[0] != key:
            self._grouped = (key, Grouped.of(self.parse()))
        return self._grouped[1]

    def _rows_at(self, spans: list[tuple[int, int]], header: Header | None) -> ParsedCsv | None:
        """The rows at these byte spans, parsed, or None if they are not whole rows."""
        if header is None:
            return None
        chunks = []
        try:
            with open(self.path, "rb") as fh:
                for start, length in spans:
                    fh.seek(start)
                    chunks.append(fh.read(length))
        except OSError:
            return None
        data = b"".join(chunks)
        parsed = parse_more(self.path, data, 0, 0, header, spans=False, rules=self.rules())
        return None if parsed.problems else parsed

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
        prints = {
            code: f"csv:{head:08x}:{e[2]:08x}:{e[0]}:{len(e[1])}"
            for code, e in sorted(view.clients.items())
        }
        if view.renames:  # a renamed client's rows are its own and those of its old codes
            renames = shown_codes(view.renames)
            shown: dict[str, list[str]] = {}
            for code, token in prints.items():
                shown.setdefault(final_code(code, renames), []).append(f"{code}={token}")
            prints = {
                code: prints[code] if parts == [f"{code}={prints.get(code)}"] else "+".join(parts)
                for code, parts in shown.items()
            }
        return prints, []

    def check(self) -> list[Problem]:
        """Every problem in ``ratings.csv`` (the whole file parsed) and, when there is none,
        whether the index tells the truth about the file (a problem of kind "cache")."""
        problems = super().check()
        return problems or self._check_index()

    def _check_index(self) -> list[Problem]:
        """What appends and ``read_client`` would believe through the index, compared with the
        whole file parsed; an index that differs is reported and written again from the file."""
        if self._load_index() is None:
            return []
        believed = self._view_once(full=False)
        truth = self._view_once(full=True)  # writes a fresh index when the file is clean
        if truth.problems or (
            believed.clients == truth.clients
            and believed.header == truth.header
            and believed.size == truth.size
            and believed.renames == truth.renames
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

    def existing_ids(self) -> set[str]:
        return {r.id for r in self.parse().ratings}

    # -- writing -------------------------------------------------------------------------------
    def new_header(self, ratings: Sequence[Rating] = ()) -> Header:
        """The header of a new file: a column for every item of every instrument known now."""
        from ratetool.store.csv_write import header_for

        return header_for(self.resolve, self.item_columns, ratings, self._resolve)

    def _resolve(self, rating: Rating) -> Instrument | None:
        if self.resolve is None:
            return None
        try:
            return self.resolve(rating.instrument, rating.instrument_version)
        except Exception:  # noqa: BLE001 - a broken custom instrument must not stop a save
            return None

    def add_locked(
        self, ratings: Sequence[Rating], number_sessions: bool, skip_existing_ids: bool
    ) -> AddResult:
        from ratetool.fsutil import append_durably, ensure_private_dir

        for rating in ratings:
            validate_client_code(rating.client)  # before anything is read or written
        view = self._view(full=skip_existing_ids)
        refuse_if_problems(view.problems)
        renames = shown_codes(view.renames)
        if renames:
            _refuse_renamed((r.client for r in ratings), renames)
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
                # A renamed client's sessions go on from its old code's.
                codes = sources(client, renames) if renames else (client,)
                tops = [clients[code][0] for code in codes if code in clients]
                next_session[client] = max(tops, default=0) + 1
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
        append_durably(self.path, head + rows, inside=self.data_dir)
        self.after_append(view, header, head, rows)
        return AddResult(added=added, skipped_existing=skipped, files=[self.path])

    def after_append(self, view: View, header: Header, head: bytes, rows: bytes) -> None:
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
            Index(
                size=info.st_size,
                crc=zlib.crc32(rows, zlib.crc32(head, view.crc)),
                mtime_ns=info.st_mtime_ns,
                ctime_ns=info.st_ctime_ns,
                ino=info.st_ino,
                lines=view.lines + head.count(b"\n") + parsed.lines,
                columns=header.columns,
                clients=merge_clients(parsed, rows, view.clients, view.size + len(head)),
                renames=renames_in(parsed, view.renames),
            )
        )

    # -- corrections (``csv_correct``) ---------------------------------------------------------
    def renamed_to(self, client: str) -> str | None:
        new = final_code(client, shown_codes(self._view().renames))
        return None if new == client else new

    def refuse_case_twin(self, client: str) -> None:
        """As ``Store.refuse_case_twin``, and a code renamed with ``clients rename`` (its sessions
        are shown under the new code) is refused too, before the first question."""
        renames = shown_codes(self._view().renames)
        if renames:
            _refuse_renamed([client], renames)
        super().refuse_case_twin(client)

    def notes(self) -> list[str]:
        """For ``check``: each ``ratings.csv.format1-<time>`` kept by the first correction to a
        format-1 file (kept whole, not read)."""
        from ratetool.store.csv_correct import kept_notes

        return kept_notes(self)

    def add_corrections(self, corrections: Sequence[Correction]) -> list[Path]:
        """Append void and amend rows (``csv_correct.add_corrections``)."""
        from ratetool.store.csv_correct import add_corrections

        return add_corrections(self, corrections)

    def rename_client(self, correction: Correction) -> list[Path]:
        """Append one ``rename`` row (``csv_correct.rename_client``)."""
        from ratetool.store.csv_correct import rename_client

        return rename_client(self, correction)

    # -- repair --------------------------------------------------------------------------------
    def _repair_locked(self) -> list[str]:
        parsed = self.parse()
        if parsed.torn_offset is None:
            return []
        target = move_tail_aside(self.path, parsed.torn_offset, self.data_dir)
        size = parsed.size - parsed.torn_offset
        return [f"{self.path}: moved the incomplete last row ({size} bytes) to {target.name}"]

    # -- before a check-in -------------------------------------------------------------------
    def check_can_add(self, client: str, instrument: Instrument) -> None:
        """As ``Store.check_can_add``, and: every item of ``instrument`` has a column in
        ``ratings.csv`` (its header was fixed when the file was created), or can have one in a
        new file. ``StoreError`` with what to do otherwise."""
        super().check_can_add(client, instrument)
        from ratetool.store.csv_write import column_problem

        problem = column_problem(self._view().header or self.header, instrument, self.path)
        if problem is not None:
            raise StoreError(problem)
