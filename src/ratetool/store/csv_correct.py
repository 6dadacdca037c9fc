"""Appending corrections to ``ratings.csv`` (``CsvStore.add_corrections``, ``rename_client``):
under the data-folder lock, after a full parse with no problem, each correction checked by
``corrections.check_new`` against the client's corrected view, a format-1 file raised to format 2
first (``csv_corrections.write_anew``), the rows appended and fsynced, the index brought up to
date. ``kept_notes`` names the format-1 files kept for ``check``."""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ratetool.codes import validate_client_code
from ratetool.corrections import RENAME, Correction, CorrectionError, apply, check_new
from ratetool.model import Rating
from ratetool.store import refuse_if_problems
from ratetool.store.csv_corrections import (
    corrected,
    correction_cells,
    final_code,
    renames_of,
    sources,
    write_anew,
)
from ratetool.store.csv_format import RATINGS_NAME, Header
from ratetool.store.csv_index import View, merge_clients, renames_in
from ratetool.store.csv_parse import ParsedCsv
from ratetool.store.csv_write import RowWriter

if TYPE_CHECKING:
    from ratetool.store.csv_store import CsvStore

_KEPT = re.compile(rf"{re.escape(RATINGS_NAME)}\.format1-(\d{{8}}T\d{{6}})(-\d+)?")


def kept_notes(store: CsvStore) -> list[str]:
    """One line per ``ratings.csv.format1-<time>`` kept by a format raise (not read)."""
    notes = []
    for kept in sorted(store.data_dir.glob(f"{RATINGS_NAME}.format1-*")):
        found = _KEPT.fullmatch(kept.name)
        if found is None or kept.is_symlink():
            continue
        day = datetime.strptime(found.group(1), "%Y%m%dT%H%M%S").date().isoformat()
        notes.append(
            f"{kept}: {RATINGS_NAME} as it was before its first correction raised it to "
            f"format 2 on {day}; kept whole, not read"
        )
    return notes


def add_corrections(store: CsvStore, corrections: Sequence[Correction]) -> list[Path]:
    """Append void and amend rows (see ``Store.add_corrections``). A correction may name its
    client by the code shown or the code stored; the row names the code stored. A format-1 file
    is first raised to format 2 (the old file is kept and is among the paths returned)."""
    if any(c.action == RENAME for c in corrections):
        raise CorrectionError("A rename is made with `ratetool clients rename`.")
    if not corrections:
        return []
    with store.lock():
        parsed, data = parsed_clean(store)
        renames = renames_of(parsed.corrections)
        rules = store.rules()
        pending: list[Correction] = []
        targets: list[Rating] = []
        for c in corrections:
            validate_client_code(c.client)
            codes = sources(final_code(c.client, renames), renames)
            mine = [r for r in parsed.ratings if r.client in codes]
            earlier = [
                x
                for x in (*parsed.corrections, *pending)
                if x.client in codes and x.action != RENAME
            ]
            target = check_new(c, apply(mine, earlier), rules)
            assert target is not None
            stored = next(r.client for r in mine if r.id == target.id)
            pending.append(replace(c, client=stored))
            targets.append(target)
        return _append(store, parsed, data, pending, targets)


def rename_client(store: CsvStore, correction: Correction) -> list[Path]:
    """Append one ``rename`` row (see ``Store.rename_client``): from then on every row of the
    old code is shown under the new one, whose sessions go on from the old code's highest; the
    old code takes no new rating. Refused when the new code was ever used (but for renaming
    back, which undoes a rename), or differs from a used code only in case (there is no
    merge), or the old code has none."""
    c = correction
    new = c.new_client
    if c.action != RENAME or not new:
        raise CorrectionError("A rename needs the new client code.")
    validate_client_code(c.client)
    validate_client_code(new)
    with store.lock():
        parsed, data = parsed_clean(store)
        renames = renames_of(parsed.corrections)
        old = c.client
        now = final_code(old, renames)
        if now != old:
            raise CorrectionError(
                f"Client code {old} was renamed to {now} already; rename {now} instead. "
                "Nothing was written."
            )
        codes = sources(old, renames)
        mine = [r for r in parsed.ratings if r.client in codes]
        if not mine:
            raise CorrectionError(f"Client {old} has no ratings to rename. Nothing was written.")
        used = {r.client for r in parsed.ratings} | {x.client for x in parsed.corrections}
        used |= set(renames.values())
        twin = next((u for u in sorted(used) if u.casefold() == new.casefold()), None)
        undo = renames.get(new) == old  # NEW was renamed to OLD: renaming back puts it back
        if twin is not None and not undo:
            what = (
                f"Client code {new} already has ratings (or had them)"
                if twin == new
                else f"Client code {new} differs from the code {twin} in use only in upper "
                "and lower case (Windows and macOS do not tell such names apart)"
            )
            raise CorrectionError(
                f"{what}, so {old} cannot be renamed to it: ratetool cannot merge two "
                f"clients yet (importing {old}'s export under {new} is not supported either). "
                f"Instead keep both codes, or choose another new code; a session entered "
                f"under the wrong code can be voided (`ratetool void {old} SESSION --reason "
                "...`) and rated again under the right one. Nothing was written."
            )
        check_new(c, apply(mine, []), store.rules())
        return _append(store, parsed, data, [c], [None])


def parsed_clean(store: CsvStore) -> tuple[ParsedCsv, bytes]:
    """The whole file parsed (the caller holds the lock), and its bytes; ``DamagedFileError``
    unless it has no problem, corrections that do not apply included."""
    parsed, data = store.parse_with_bytes(spans=True)
    problems = list(parsed.problems)
    if not problems and parsed.corrections:
        problems = corrected(
            store.path, parsed.ratings, parsed.corrections, parsed.correction_lines, []
        ).problems
    refuse_if_problems(problems)
    return parsed, data


def _append(
    store: CsvStore,
    parsed: ParsedCsv,
    data: bytes,
    corrections: Sequence[Correction],
    targets: Sequence[Rating | None],
) -> list[Path]:
    """Append the rows of ``corrections`` (checked) to the file ``parsed`` read under the lock,
    raising a format-1 file to format 2 first; fsynced; the index brought up to date."""
    from ratetool.fsutil import append_durably

    written: list[Path] = []
    if parsed.header is None:
        raise CorrectionError(f"{store.path} holds no ratings; nothing was written.")
    if parsed.header.format < 2:
        wider = Header.for_items(parsed.header.items)
        written.append(write_anew(store.path, store.data_dir, parsed, wider, "format1"))
        parsed, data = parsed_clean(store)
    header = parsed.header
    assert header is not None
    cells = [correction_cells(c, header, t) for c, t in zip(corrections, targets)]
    rows = RowWriter(header).correction_rows(cells, corrections).encode("utf-8")
    append_durably(store.path, rows, inside=store.data_dir)
    view = View(
        [], header, len(data), zlib.crc32(data), parsed.lines,
        merge_clients(parsed, data), None, renames_in(parsed),
    )  # fmt: skip
    store.after_append(view, header, b"", rows)
    return [store.path, *written]
