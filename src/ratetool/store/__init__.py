"""The store: where ratings live, append-only.

Two layouts share one interface (``Store``):

- ``toml`` (default): one plain TOML file per client, ``clients/<CODE>.toml``
  (``ratetool.store.toml_store``);
- ``csv``: one ``ratings.csv`` in the export's column layout (``ratetool.store.csv_store``).

Guarantees, for both: every write holds one lock for the data folder (``filelock``, so it works
on Windows too); a write appends bytes and never rewrites bytes already there; each append is
flushed and fsynced before it returns; new files are 0600 and new folders 0700 on POSIX; a file
that does not fully parse is never written to; a torn last record (the machine died mid-append)
is detected, the intact records still read, and appending is refused until ``repair`` moves the
torn bytes to ``<file>.corrupt-<timestamp>`` beside it. Bytes are never deleted.

The data folder is a boundary: it is resolved once (it may itself be a link, say to a synced
folder), and nothing is read, written, repaired, moved, locked or cached through a symbolic link
inside it. A linked client file, ``ratings.csv``, ``clients`` folder or cache folder is a problem
of kind "link" naming the link; a linked lock file refuses the write (``ratetool.fsutil``).
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from ratetool.errors import DamagedFileError, LockTimeoutError, StoreError

if TYPE_CHECKING:
    from ratetool.corrections import Correction
    from ratetool.instruments import Instrument
    from ratetool.model import Rating
    from ratetool.store.records import RatingRules

#: Newest data-file format this ratetool reads and writes.
DATA_FORMAT = 2
#: Oldest data format this ratetool still reads (written before corrections existed).
OLDEST_FORMAT = 1
LOCK_NAME = ".ratetool.lock"
LOCK_TIMEOUT_SECONDS = 30.0

Resolver = Callable[[str, int], "Instrument | None"]


class Problem(NamedTuple):
    """Something wrong in the data folder, with where it is and what to do."""

    path: Path
    message: str
    line: int | None = None
    #: "torn" (an incomplete last record, fixed by ``check --repair``), "damaged" (fix by hand),
    #: "invalid" (a rating that reads but breaks its instrument or a limit: fix by hand),
    #: "too-new" (written by a newer ratetool), "duplicate-id", "duplicate-session", "cache"
    #: (derived data that did not match its file: dropped and rebuilt, nothing to fix by hand),
    #: "link" (a symbolic link where a file or folder should be: never followed), "empty" (a
    #: client file holding nothing: harmless, may be deleted; appending to it writes a whole file).
    kind: str = "damaged"
    #: The session number of the rating concerned, when the problem is about one.
    session: int | None = None

    @property
    def repairable(self) -> bool:
        return self.kind == "torn"

    def __str__(self) -> str:
        where = f"{self.path}, line {self.line}" if self.line else f"{self.path}"
        if self.session is not None:
            where += f", session {self.session}"
        return f"{where}: {self.message}"

    def as_json(self) -> dict[str, object]:
        """``{"file", "line", "session", "problem"}``, as ``--json`` output lists it."""
        return {
            "file": str(self.path),
            "line": self.line,
            "session": self.session,
            "problem": self.message,
        }


@dataclass
class ReadResult:
    """Ratings that read cleanly, as corrected (``ratetool.corrections``), and every problem
    met while reading.

    ``ratings`` is the corrected view every command shows: voided ratings are left out (they are
    in ``voided``), amended ones carry their new answers, renamed ones their new code.
    ``corrections`` are the corrections that applied, in the order appended."""

    ratings: list[Rating] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    voided: list[Rating] = field(default_factory=list)
    corrections: list[Correction] = field(default_factory=list)

    def extend(self, other: ReadResult) -> None:
        self.ratings.extend(other.ratings)
        self.problems.extend(other.problems)
        self.voided.extend(other.voided)
        self.corrections.extend(other.corrections)


class AddResult(NamedTuple):
    added: list[Rating]
    skipped_existing: list[Rating]
    files: list[Path]


class Store(ABC):
    """Append-only storage of ratings in a data folder."""

    kind: str = ""

    def __init__(self, data_dir: Path, resolve: Resolver | None = None) -> None:
        #: Resolved once: the data folder may be a link; everything below it must not be.
        self.data_dir = data_dir.resolve()
        self.resolve = resolve

    # -- reading -------------------------------------------------------------------------------
    @abstractmethod
    def client_codes(self) -> list[str]:
        """Codes of clients with data, sorted."""

    @abstractmethod
    def read_client(self, client: str) -> ReadResult:
        """Every rating of one client that reads cleanly, and the problems met."""

    @abstractmethod
    def read_all(self) -> ReadResult:
        """Every rating in the data folder that reads cleanly, and the problems met."""

    @abstractmethod
    def files(self) -> list[Path]:
        """The data files this store reads (for ``check`` and ``paths``)."""

    @abstractmethod
    def file_for(self, client: str) -> Path:
        """The file a new rating for ``client`` is appended to."""

    def client_fingerprints(self) -> tuple[dict[str, str], list[Problem]] | None:
        """A cheap token per client that changes whenever that client's stored data changes,
        and problems found on the way; ``None`` when the store cannot tell (no caching)."""
        return None

    # -- writing -------------------------------------------------------------------------------
    @abstractmethod
    def add_locked(
        self, ratings: Sequence[Rating], number_sessions: bool, skip_existing_ids: bool
    ) -> AddResult:
        """Append ``ratings`` as ``add`` does; the caller holds ``lock()`` (the importer plans
        under the same lock)."""

    def add(
        self,
        ratings: Sequence[Rating],
        *,
        number_sessions: bool = True,
        skip_existing_ids: bool = False,
    ) -> AddResult:
        """Append ratings under the data-folder lock, all or nothing as far as checks go.

        With ``number_sessions`` each rating gets the next session number for its client (in the
        order given), read under the lock so concurrent writers never share a number. With
        ``skip_existing_ids`` a rating whose id is already stored is skipped (idempotent import).
        Every target file is checked first; if any is damaged or torn nothing is written.
        """
        with self.lock():
            self._refuse_case_twins(ratings)
            return self.add_locked(ratings, number_sessions, skip_existing_ids)

    @abstractmethod
    def add_corrections(self, corrections: Sequence[Correction]) -> list[Path]:
        """Append void and amend corrections (``ratetool.corrections``) under the data-folder
        lock, after ``corrections.check_new`` accepts each against the client's corrected view
        read under that lock; returns the files written. Every byte already in a file stays."""

    @abstractmethod
    def rename_client(self, correction: Correction) -> list[Path]:
        """Show every rating of ``correction.client`` under ``correction.new_client`` from now
        on (a ``rename`` correction), keeping all that was stored. Refused (``CorrectionError``)
        when the new code already has ratings, or differs from a stored code only in case."""

    def renamed_to(self, client: str) -> str | None:
        """The code ``client`` was renamed to with ``clients rename`` (its sessions are shown
        under that code now), or ``None``."""
        return None

    def refuse_case_twin(self, client: str) -> None:
        """Raise ``ClientCodeError`` if ``client`` differs from a stored code only in case (the
        check-in calls this before the first question)."""
        self._refuse_case_twins_of([client])

    def _refuse_case_twins(self, ratings: Sequence[Rating]) -> None:
        self._refuse_case_twins_of(r.client for r in ratings)

    def _refuse_case_twins_of(self, codes: Iterable[str]) -> None:
        """Refuse a new client code that differs from a stored one only in upper/lower case:
        Windows and macOS file systems do not tell ``C-014.toml`` from ``c-014.toml``."""
        from ratetool.errors import ClientCodeError

        existing = self.client_codes()
        known = {code.casefold(): code for code in existing}
        for code in dict.fromkeys(codes):
            twin = known.get(code.casefold())
            if twin is not None and twin != code:
                raise ClientCodeError(
                    f"Client code {code!r} differs from the existing {twin!r} only in upper and "
                    f"lower case. Use {twin!r} for the same client, or another code for another "
                    "client: Windows and macOS do not tell such file names apart. Nothing was "
                    "written."
                )
            known.setdefault(code.casefold(), code)

    @contextmanager
    def lock(self) -> Iterator[None]:
        """The data-folder lock, held around every write (``with store.lock(): ...``)."""
        from filelock import FileLock, Timeout

        from ratetool.fsutil import ensure_private_dir, refuse_links

        ensure_private_dir(self.data_dir)
        path = self.data_dir / LOCK_NAME
        # filelock opens (and truncates) the lock file following links: refuse a link first.
        refuse_links(path, self.data_dir)
        lock = FileLock(path, timeout=LOCK_TIMEOUT_SECONDS, mode=0o600)
        try:
            lock.acquire()
        except Timeout:
            raise LockTimeoutError(
                f"Another ratetool has kept {self.data_dir} busy for "
                f"{LOCK_TIMEOUT_SECONDS:.0f} seconds. Close other ratetool windows and "
                "try again; nothing was written."
            ) from None
        try:
            yield
        finally:
            lock.release()

    # -- checking ------------------------------------------------------------------------------
    def check(self) -> list[Problem]:
        """Every problem in the data folder: what reading finds (``read_all``: the same rules
        every command reads by) and an id used by two clients (reading one client cannot see
        that)."""
        return self.check_read(self.read_all())

    def check_read(self, result: ReadResult) -> list[Problem]:
        """``check`` of what ``read_all`` returned (voided ratings keep their ids too)."""
        problems = list(result.problems)
        seen: dict[str, Rating] = {}
        for rating in [*result.ratings, *result.voided]:
            other = seen.get(rating.id)
            if other is not None:
                problems.append(
                    Problem(
                        self.file_for(rating.client),
                        f"session id {rating.id} is used twice (client {other.client} session "
                        f"{other.session} and client {rating.client} session {rating.session}); "
                        "ids must be unique. Remove the copy by hand.",
                        kind="duplicate-id",
                        session=rating.session,
                    )
                )
            else:
                seen[rating.id] = rating
        return problems

    def notes(self) -> list[str]:
        """What ``check`` says besides problems: files kept whole beside the data (by a rename
        or a format change), which are not read. One line each."""
        return []

    def rules(self) -> RatingRules:
        """The rules every rating read is held to (``records.RatingRules``), with this store's
        resolver: one object per read."""
        from ratetool.store.records import RatingRules

        return RatingRules(self.resolve)

    def repair(self) -> list[str]:
        """Move torn tails aside (never deleting bytes); returns what was done, one line each."""
        with self.lock():
            return self._repair_locked()

    @abstractmethod
    def _repair_locked(self) -> list[str]: ...

    def existing_ids(self) -> set[str]:
        return {r.id for r in self.read_all().ratings}

    def check_can_add(self, client: str, instrument: Instrument) -> None:
        """Raise the error that adding a rating of ``instrument`` for ``client`` would raise, as
        far as it can be known before the rating exists: a damaged, torn, too new or linked
        client file, a client code that differs from a stored one only in case, a linked lock
        file. The check-in calls this before the first question, so the client never answers
        questions whose answers could not be saved."""
        from ratetool.fsutil import refuse_links

        refuse_if_problems(self.read_client(client).problems)
        self.refuse_case_twin(client)
        refuse_links(self.data_dir / LOCK_NAME, self.data_dir)


def open_store(data_dir: Path, kind: str = "toml", resolve: Resolver | None = None) -> Store:
    if kind == "csv":
        from ratetool.store.csv_store import CsvStore

        return CsvStore(data_dir, resolve)
    if kind == "toml":
        from ratetool.store.toml_store import TomlStore

        return TomlStore(data_dir, resolve)
    raise StoreError(f"Unknown store {kind!r}; use 'toml' or 'csv'.")


def corrupt_name(path: Path, when: datetime | None = None) -> Path:
    """``<file>.corrupt-<timestamp>`` beside ``path``, never an existing name."""
    stamp = (when or datetime.now()).strftime("%Y%m%dT%H%M%S")
    candidate = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 2
    while os.path.lexists(candidate):  # a link pointing nowhere is taken too
        candidate = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    return candidate


def move_tail_aside(path: Path, offset: int, inside: Path) -> Path:
    """Copy bytes from ``offset`` to the end into a new corrupt file (fsynced), then cut them off.

    The copy is durable before the original is shortened, so a crash between the two steps leaves
    the bytes in both places, never in neither. Neither file is opened through a symbolic link,
    nor through a linked folder below ``inside`` (the data folder): ``StoreError`` instead.
    """
    from ratetool.fsutil import NOFOLLOW, append_durably, refuse_links

    refuse_links(path, inside)
    fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0) | NOFOLLOW)
    try:
        os.lseek(fd, offset, os.SEEK_SET)
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        target = corrupt_name(path)
        append_durably(target, b"".join(chunks), inside)
        os.ftruncate(fd, offset)
        os.fsync(fd)
    finally:
        os.close(fd)
    return target


def refuse_if_problems(problems: Iterable[Problem]) -> None:
    """Raise ``DamagedFileError`` describing the problems that make a file unsafe to append to.

    An empty file is no such problem: appending to it writes a whole file."""
    found = [p for p in problems if p.kind != "empty"]
    if not found:
        return
    lines = [str(p) for p in found]
    if all(p.kind == "link" for p in found):
        advice = "Nothing was written."
    elif any(p.repairable for p in found):
        advice = (
            "Nothing was written. Run `ratetool check --repair` to move the incomplete part to a "
            ".corrupt file beside it (no bytes are deleted), then try again."
        )
    else:
        advice = (
            "Nothing was written. Fix the file in a text editor at the line named (or restore it "
            "from your backup), run `ratetool check`, then try again."
        )
    raise DamagedFileError("\n".join(lines + [advice]))
