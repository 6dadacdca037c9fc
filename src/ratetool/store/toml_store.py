"""The TOML store: one plain file per client, ``clients/<CODE>.toml``, append-only.

A file is a small header (``format``, ``client``) followed by one ``[[sessions]]`` block per
rating, and a ``[[corrections]]`` block per correction (``ratetool.corrections``: void, amend,
rename; format 2), each appended after what it corrects. Reading a file (``toml_parse``) applies
its corrections, so every command sees the corrected view. Writing corrections and renaming a
client are in ``ratetool.store.toml_corrections``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ratetool import paths
from ratetool.codes import CLIENT_CODE_RE, validate_client_code
from ratetool.errors import StoreError
from ratetool.store import (
    DATA_FORMAT,
    AddResult,
    Problem,
    ReadResult,
    Store,
    move_tail_aside,
    refuse_if_problems,
)

if TYPE_CHECKING:
    from ratetool.corrections import Correction
    from ratetool.model import Rating
    from ratetool.store.records import RatingRules
    from ratetool.store.toml_parse import ParsedFile

CLIENTS_DIR = paths.CLIENTS_DIR
SUFFIX = paths.CLIENT_SUFFIX

__all__ = ["CLIENTS_DIR", "SUFFIX", "TomlStore"]


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
        from ratetool.store.toml_parse import ParsedFile, parse_client_bytes

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
        return self.parse_file(self.file_for(client), client, remember=True).read_result()

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
            view = parsed.view  # no copy of each file's lists (a thousand clients)
            result.ratings.extend(view.ratings)
            result.problems.extend(parsed.problems)
            result.voided.extend(view.voided)
            result.corrections.extend(view.applied)
        return result

    def existing_ids(self) -> set[str]:
        """Ids of every rating stored, voided ones too (an import must not store them again)."""
        result = self.read_all()
        return {r.id for r in (*result.ratings, *result.voided)}

    def check(self) -> list[Problem]:
        from ratetool.store import toml_corrections

        result = self.read_all()
        return toml_corrections.interrupted_renames(self, result) + self.check_read(result)

    def notes(self) -> list[str]:
        from ratetool.store import toml_corrections

        return toml_corrections.kept_files(self)

    def renamed_to(self, client: str) -> str | None:
        from ratetool.store import toml_corrections

        if os.path.lexists(self.file_for(client)):
            return None
        return toml_corrections.renamed_away(self).get(client)

    def _refuse_case_twins_of(self, codes: Iterable[str]) -> None:
        """Also refuse a code renamed away (``clients rename``): its ratings are shown under the
        new code, and a new file under the old one would start another client."""
        from ratetool.store import toml_corrections

        codes = list(codes)
        super()._refuse_case_twins_of(codes)
        toml_corrections.refuse_renamed_away(self, codes)

    def add_corrections(self, corrections: Sequence[Correction]) -> list[Path]:
        from ratetool.store import toml_corrections

        with self.lock():
            return toml_corrections.add_corrections_locked(self, corrections)

    def rename_client(self, correction: Correction) -> list[Path]:
        from ratetool.store import toml_corrections

        with self.lock():
            return toml_corrections.rename_locked(self, correction)

    def add_locked(
        self, ratings: Sequence[Rating], number_sessions: bool, skip_existing_ids: bool
    ) -> AddResult:
        from ratetool.fsutil import append_durably, ensure_private_dir
        from ratetool.store.records import file_header, session_block

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
