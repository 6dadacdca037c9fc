"""Corrections in the TOML store: appending them, renaming a client, and what ``check`` says.

- ``add_corrections_locked``: each void or amend is checked (``corrections.check_new``) against
  the client's file parsed under the lock, then appended as a ``[[corrections]]`` block: no byte
  already in the file changes. A file of format 1 is first raised to format 2, so an older
  ratetool refuses it instead of misreading it: the file is written anew with only its
  ``format = 1`` line changed (temp file, fsync, ``os.replace``) once the new bytes are checked to
  read as the same ratings, and the old file is kept whole beside it as
  ``<name>.format1-<time>``.
- ``rename_locked``: ``NEW.toml`` is created (never over an existing file) with a format-2 header,
  every block of ``OLD.toml`` after its header byte for byte, and a ``rename`` correction; then
  ``OLD.toml`` is renamed to ``OLD.toml.renamed-to-NEW-<time>`` beside it (kept whole; not read,
  its name does not end in ``.toml``).
- ``kept_files`` (``check``'s notes), ``interrupted_renames`` (a crash between the two steps of a
  rename) and ``refuse_renamed_away`` (no new ratings under a code renamed away).

The caller holds the data-folder lock for the two writers (``TomlStore.add_corrections`` and
``TomlStore.rename_client``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ratetool.codes import CLIENT_CODE_RE
from ratetool.corrections import AMEND, RENAME, VOID, CorrectedView, CorrectionError

if TYPE_CHECKING:
    from ratetool.corrections import Correction
    from ratetool.store import Problem, ReadResult
    from ratetool.store.records import RatingRules
    from ratetool.store.toml_parse import ParsedFile
    from ratetool.store.toml_store import TomlStore

_STAMP = "%Y%m%dT%H%M%S"
# The header line ratetool writes, ``format = 1`` (a comment after it allowed).
_FORMAT_1 = re.compile(rb"^([ \t]*format[ \t]*=[ \t]*)1([ \t]*(?:#[^\r\n]*)?\r?)$", re.MULTILINE)
_RENAMED = re.compile(r"(.+)\.toml\.renamed-to-(.+)-(\d{8}T\d{6})(?:-\d+)?")
_FORMAT1_KEPT = re.compile(r"(.+\.toml)\.format1-(\d{8}T\d{6})(?:-\d+)?")
NO_MERGE = (
    "ratetool cannot merge two clients yet. If these are two clients, choose a code nobody has "
    "yet; if some of {old}'s ratings repeat {new}'s, void them with `ratetool void {old} "
    "SESSION --reason ...`. Nothing was written."
)


# -- writing -------------------------------------------------------------------------------------


def add_corrections_locked(store: TomlStore, corrections: Sequence[Correction]) -> list[Path]:
    """Check every correction, then append each client's (see the module docstring)."""
    from ratetool.corrections import apply, check_new
    from ratetool.fsutil import append_durably
    from ratetool.store import refuse_if_problems
    from ratetool.store.records import correction_block

    by_client: dict[str, list[Correction]] = {}
    for c in corrections:
        if c.action not in (VOID, AMEND):
            raise ValueError("add_corrections takes void and amend corrections only")
        by_client.setdefault(c.client, []).append(c)
    rules = store.rules()
    plans: list[tuple[Path, bytes, ParsedFile, list[Correction]]] = []
    for client, items in by_client.items():
        path, data, parsed = _read_locked(store, client, rules)
        refuse_if_problems(parsed.problems)
        if not parsed.ratings:
            raise CorrectionError(f"Client {client} has no ratings; nothing was written.")
        known = list(parsed.corrections)
        for c in items:
            target = check_new(c, apply(parsed.ratings, known), rules)
            if target is not None and target.session != c.session:
                raise ValueError(f"correction {c.id}: session {c.session} is not its rating's")
            known.append(c)
        plans.append((path, data, parsed, items))
    for path, data, parsed, items in plans:
        if parsed.data_format is not None and parsed.data_format < 2:
            raise_to_format_2(store, path, data, parsed, rules)
        payload = "".join(correction_block(c) for c in items).encode("utf-8")
        append_durably(path, payload, inside=store.data_dir)
    return [path for path, *_ in plans]


def raise_to_format_2(
    store: TomlStore, path: Path, data: bytes, parsed: ParsedFile, rules: RatingRules
) -> Path:
    """Write a format-1 file anew as format 2 (only its ``format`` line changes), after keeping
    it whole as ``<name>.format1-<time>``; returns the kept file. ``CorrectionError`` (nothing
    written) when the line is not found or the new bytes would not read the same."""
    from ratetool.fsutil import atomic_write
    from ratetool.store.toml_parse import BLOCK_START, parse_client_bytes

    first = BLOCK_START.search(data)
    header = data[: first.start()] if first is not None else data
    found = list(_FORMAT_1.finditer(header))
    if len(found) != 1:
        raise CorrectionError(
            f"{path}: its header has no single line `format = 1` as ratetool writes it, so it "
            "cannot be raised to format 2 for its first correction. Nothing was written."
        )
    line = found[0]
    new = data[: line.start()] + line.group(1) + b"2" + line.group(2) + data[line.end() :]
    again = parse_client_bytes(path, new, parsed.client, rules)
    if (
        again.problems
        or again.data_format != 2
        or again.ratings != parsed.ratings
        or [c.id for c in again.corrections] != [c.id for c in parsed.corrections]
    ):
        raise CorrectionError(
            f"{path} would not read the same in format 2, so it was not raised to format 2 for "
            "its first correction. Nothing was written."
        )
    kept = _free_name(path, "format1")
    _write_new(kept, data, store.data_dir)
    atomic_write(path, new, inside=store.data_dir)
    return kept


def rename_locked(store: TomlStore, correction: Correction) -> list[Path]:
    """Rename ``correction.client`` to ``correction.new_client`` (see the module docstring);
    returns the new file and the kept one."""
    from ratetool.codes import validate_client_code
    from ratetool.corrections import check_new
    from ratetool.fsutil import ensure_private_dir, fsync_dir, refuse_links
    from ratetool.store import DATA_FORMAT, refuse_if_problems
    from ratetool.store.records import correction_block, file_header
    from ratetool.store.toml_parse import BLOCK_START, parse_client_bytes

    old, new = correction.client, correction.new_client
    if correction.action != RENAME or not new:
        raise ValueError("rename_client takes a rename correction with its new client code")
    validate_client_code(old)
    validate_client_code(new)
    if old == new:
        raise CorrectionError(f"{old} is already the client's code; nothing was written.")
    check_new(correction, CorrectedView())  # the reason's limits
    rules = store.rules()
    path, data, parsed = _read_locked(store, old, rules)
    refuse_if_problems(parsed.problems)
    if not parsed.ratings:
        raise CorrectionError(f"Client {old} has no ratings to rename; nothing was written.")
    new_path = store.file_for(new)
    if os.path.lexists(new_path):
        raise CorrectionError(
            f"Client code {new} is taken ({new_path} exists). " + NO_MERGE.format(old=old, new=new)
        )
    for code in store.client_codes():
        if code not in (old, new) and code.casefold() == new.casefold():
            raise CorrectionError(
                f"Client code {new} differs from the existing {code} only in upper and lower "
                "case (Windows and macOS do not tell such file names apart). "
                + NO_MERGE.format(old=old, new=code)
            )
    first = BLOCK_START.search(data)
    assert first is not None  # it has ratings
    text = (
        file_header(new, DATA_FORMAT).encode("utf-8")
        + b"\n"
        + data[first.start() :]
        + correction_block(correction).encode("utf-8")
    )
    again = parse_client_bytes(new_path, text, new, rules)
    if (
        again.problems
        or again.ratings != [replace(r, client=new) for r in parsed.ratings]
        or again.view.ratings != [replace(r, client=new) for r in parsed.view.ratings]
    ):
        # a guard: the copied blocks are the very bytes just read
        raise CorrectionError(f"{path} would not read the same under {new}; nothing was written.")
    ensure_private_dir(store.clients_dir, inside=store.data_dir)
    try:
        _write_new(new_path, text, store.data_dir)
    except FileExistsError:
        raise CorrectionError(
            f"{new_path} exists (this file system may not tell upper from lower case). "
            + NO_MERGE.format(old=old, new=new)
        ) from None
    kept = _free_name(path, f"renamed-to-{new}")
    refuse_links(path, store.data_dir)
    os.replace(path, kept)
    fsync_dir(path.parent)
    return [new_path, kept]


def _read_locked(
    store: TomlStore, client: str, rules: RatingRules
) -> tuple[Path, bytes, ParsedFile]:
    """The client's file, its bytes and their parse (under the caller's lock; never through a
    link)."""
    from ratetool.fsutil import refuse_links
    from ratetool.store.toml_parse import parse_client_bytes

    path = store.file_for(client)
    refuse_links(path, store.data_dir)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        data = b""
    return path, data, parse_client_bytes(path, data, client, rules)


def _free_name(path: Path, label: str) -> Path:
    """``<file>.<label>-<time>`` beside ``path``, never an existing name."""
    stamp = datetime.now().strftime(_STAMP)
    candidate = path.with_name(f"{path.name}.{label}-{stamp}")
    n = 2
    while os.path.lexists(candidate):
        candidate = path.with_name(f"{path.name}.{label}-{stamp}-{n}")
        n += 1
    return candidate


def _write_new(path: Path, data: bytes, inside: Path) -> None:
    """Create ``path`` (never over an existing file or link: ``FileExistsError``), write
    ``data``, fsync it and its folder. A file this call created is removed again if writing
    fails."""
    from ratetool.fsutil import fsync_dir, open_private, refuse_links, write_durably

    refuse_links(path.parent, inside)
    fd = open_private(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    try:
        write_durably(fd, data)
    except BaseException:
        os.close(fd)
        try:
            path.unlink()
        except OSError:
            pass
        raise
    os.close(fd)
    fsync_dir(path.parent)


# -- what check and the check-in say -------------------------------------------------------------


def _kept_names(store: TomlStore) -> list[str]:
    folder = store.clients_dir
    if folder.is_symlink():
        return []
    try:
        with os.scandir(folder) as entries:
            return sorted(e.name for e in entries if ".toml." in e.name)
    except (FileNotFoundError, NotADirectoryError):
        return []


def _day(stamp: str) -> str:
    return datetime.strptime(stamp, _STAMP).date().isoformat()


def kept_files(store: TomlStore) -> list[str]:
    """One line per file kept whole beside the client files (not read)."""
    notes = []
    for name in _kept_names(store):
        path = store.clients_dir / name
        renamed = _RENAMED.fullmatch(name)
        if renamed is not None:
            old, new, stamp = renamed.groups()
            notes.append(
                f"{path}: kept after `clients rename {old} {new}` on {_day(stamp)}; not read "
                f"({new}.toml holds its sessions)"
            )
            continue
        raised = _FORMAT1_KEPT.fullmatch(name)
        if raised is not None:
            original, stamp = raised.groups()
            notes.append(
                f"{path}: {original} as it was before its first correction raised it to format "
                f"2 on {_day(stamp)}; kept whole, not read"
            )
    return notes


def renamed_away(store: TomlStore) -> dict[str, str]:
    """Each code renamed away (a kept ``OLD.toml.renamed-to-NEW-<time>``) and the code it was
    last renamed to."""
    latest: dict[str, tuple[str, str]] = {}
    for name in _kept_names(store):
        found = _RENAMED.fullmatch(name)
        if found is not None:
            old, new, stamp = found.groups()
            if old not in latest or stamp >= latest[old][0]:
                latest[old] = (stamp, new)
    return {old: new for old, (_, new) in latest.items()}


def refuse_renamed_away(store: TomlStore, codes: Iterable[str]) -> None:
    """``ClientCodeError`` for a code with no file that was renamed away (one look at the
    folder, and only when a code has no file)."""
    from ratetool.errors import ClientCodeError

    missing = [
        code
        for code in codes
        if CLIENT_CODE_RE.fullmatch(code) and not os.path.lexists(store.file_for(code))
    ]
    renamed = renamed_away(store) if missing else {}
    for code in missing:
        new = renamed.get(code)
        if new is not None:
            raise ClientCodeError(
                f"Client code {code} was renamed to {new} (`ratetool clients rename`); use {new}. "
                f"To use {code} for another client, first move the kept file "
                f"{code}.toml.renamed-to-{new}-... out of {store.clients_dir}. Nothing was "
                "written."
            )


def interrupted_renames(store: TomlStore, result: ReadResult) -> list[Problem]:
    """A rename stopped between its two steps: ``OLD.toml`` still there beside ``NEW.toml``,
    which holds copies of its sessions."""
    from ratetool.store import Problem

    problems = []
    for c in result.corrections:
        if c.action != RENAME or not c.new_client:
            continue
        ids: dict[str, set[str]] = {c.client: set(), c.new_client: set()}
        for r in (*result.ratings, *result.voided):
            if r.client in ids:
                ids[r.client].add(r.id)
        if ids[c.client] & ids[c.new_client]:
            problems.append(
                Problem(
                    store.file_for(c.client),
                    f"`clients rename {c.client} {c.new_client}` was interrupted: "
                    f"{c.new_client}.toml holds every session of this file. Move this file out "
                    "of the clients folder (keep it as a backup) and run `ratetool check` again",
                    kind="duplicate-id",
                )
            )
    return problems
