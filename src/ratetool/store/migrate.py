"""Converting a data folder between the TOML and CSV layouts without losing a rating.

``migrate(data_dir, config_dir, target, ...)`` does, holding the data folder's lock throughout:

1. read every rating from the layout in use, refusing if ``check`` finds any problem (a torn
   tail, a damaged block or row, a session id used twice): a conversion must start from data
   that reads completely;
2. refuse if the other layout's files are already there (``clients/*.toml`` or ``ratings.csv``):
   they are never overwritten or merged;
3. write the new layout into a staging folder inside the data folder
   (``.migrate-staging/``), fsynced, and read it back: the number of ratings, every id and every
   field must match (``rated_at`` as the same instant with the same UTC offset; the TOML layout
   stores an offset that is not a whole number of minutes in UTC, the same instant);
4. move it into place with one rename, and read it back there once more;
5. only then switch ``store`` in ``config.toml`` (``ratetool.config.save_config``, atomic);
6. rename the old layout out of the way, keeping it: ``clients/`` becomes
   ``clients.migrated-<time>/``, ``ratings.csv`` becomes ``ratings.csv.migrated-<time>``.

Corrections (``ratetool.corrections``) are carried so that the corrected view reads the same in
the new layout, statuses included (and it is compared, rating by rating, like the rest): every
rating is written (voided ones too) under the first code of its renames, then the renames are
made in order (``Store.rename_client``), then the voids and amends (``Store.add_corrections``),
each with its id, time, practitioner and reason. Ratings are written with their answers as
first stored when the old layout is the CSV store; from the TOML store, whose reading gives the
corrected view only, an amended rating is written with its answers as last amended, followed by
its amend records (the same view; its first answers stay in the kept ``clients.migrated-<time>``).

A crash at any step leaves the old layout active and intact: it is not touched before step 5,
and after step 5 it is only renamed. The staging folder is never the only copy of anything (the
layout in use holds every rating until the config names the new one), so a staging folder left
by a crash is removed by the next ``migrate``. A crash between steps 4 and 5 leaves the new files
in place beside the old ones, still in use; ``migrate`` then refuses and says to move them away.

``target`` equal to the layout in use: for CSV this rewrites ``ratings.csv`` with a column for
every item of every instrument known now (the way to add columns for a new instrument, since an
append-only file cannot change its header), keeping the old file as
``ratings.csv.migrated-<time>`` (a hard link, or a durable copy where links are not possible);
for TOML there is nothing to do (a note says so).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from ratetool.codes import validate_client_code
from ratetool.corrections import COMPLETED, RENAME, Correction
from ratetool.errors import RatetoolError, StoreError
from ratetool.fsutil import fsync_dir
from ratetool.model import Rating
from ratetool.store import Problem, ReadResult, Resolver, Store, open_store

STAGING = ".migrate-staging"
KINDS = ("toml", "csv")
#: How many differences a failed verification lists.
MAX_SHOWN = 10


@dataclass
class MigrateResult:
    source: str
    target: str
    ratings: int
    clients: int
    dry_run: bool
    #: The new layout's files or folder.
    written: list[Path] = field(default_factory=list)
    #: Where the old layout's files are kept now.
    kept: list[Path] = field(default_factory=list)
    config_file: Path | None = None
    switched: bool = False
    notes: list[str] = field(default_factory=list)


def layout_paths(data_dir: Path, kind: str) -> list[Path]:
    """The files and folders that hold a layout's ratings (whether they exist or not)."""
    from ratetool.store.csv_format import RATINGS_NAME
    from ratetool.store.toml_store import CLIENTS_DIR

    return [data_dir / (CLIENTS_DIR if kind == "toml" else RATINGS_NAME)]


def layout_has_data(data_dir: Path, kind: str) -> bool:
    """True when the layout ``kind`` holds anything in ``data_dir`` (a non-empty data file)."""
    return bool(_layout_files(data_dir, kind))


def _layout_files(data_dir: Path, kind: str) -> list[Path]:
    [where] = layout_paths(data_dir, kind)
    if kind == "toml":
        if not where.is_dir():
            return []
        return sorted(p for p in where.iterdir() if p.is_file() and p.stat().st_size > 0)
    return [where] if where.is_file() and where.stat().st_size > 0 else []


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def _refuse_problems(found: Sequence[Problem], source: str) -> None:
    # A "cache" problem was in derived data, already dropped and rebuilt: nothing to refuse.
    problems = [p for p in found if p.kind != "cache"]
    if not problems:
        return
    shown = [str(p) for p in problems[:MAX_SHOWN]]
    if len(problems) > MAX_SHOWN:
        shown.append(f"... and {len(problems) - MAX_SHOWN} more")
    repairable = any(p.repairable for p in problems)
    advice = (
        "Run `ratetool check --repair` to move incomplete last blocks aside (no bytes are "
        "deleted), fix anything else by hand at the lines named, then migrate again."
        if repairable
        else "Fix these by hand at the lines named (`ratetool check` lists them), then migrate "
        "again."
    )
    raise StoreError(
        "\n".join(
            [
                f"Cannot migrate: the {source} data does not read completely:",
                *shown,
                f"{advice} Nothing was changed.",
            ]
        )
    )


def _stamp() -> str:
    return datetime.now().strftime("%Y%m%dT%H%M%S")


def _kept_name(path: Path, stamp: str) -> Path:
    candidate = path.with_name(f"{path.name}.migrated-{stamp}")
    n = 2
    while _exists(candidate):
        candidate = path.with_name(f"{path.name}.migrated-{stamp}-{n}")
        n += 1
    return candidate


def _chronological(ratings: Iterable[Rating]) -> list[Rating]:
    return sorted(ratings, key=lambda r: (r.rated_at, r.client, r.session, r.id))


class _Carried(NamedTuple):
    """What is written to the new layout, in this order (see the module's text)."""

    ratings: list[Rating]
    renames: list[Correction]
    others: list[Correction]


def _carried(store: Store, result: ReadResult) -> _Carried:
    renames = [c for c in result.corrections if c.action == RENAME]

    def first_code(code: str) -> str:
        """The code before every rename that led to ``code`` (renames undone included)."""
        for c in reversed(renames):
            if c.new_client == code:
                code = c.client
        return code

    originals: dict[str, Rating] = {}
    from ratetool.store.csv_store import CsvStore

    if isinstance(store, CsvStore):
        originals = {r.id: r for r in store.parse().ratings}
    ratings = []
    shown_as: dict[str, str] = {}
    for shown in result.ratings + result.voided:
        shown_as[shown.id] = shown.client
        first = originals.get(shown.id, shown)
        ratings.append(
            replace(
                shown,
                client=first_code(shown.client),
                answers=first.answers,
                skipped=first.skipped,
                comment=first.comment,
                status=COMPLETED,
            )
        )
    others = [
        replace(c, client=shown_as.get(c.rating or "", c.client))
        for c in result.corrections
        if c.action != RENAME
    ]
    return _Carried(_chronological(ratings), renames, others)


def _write_carried(target: Store, carried: _Carried) -> None:
    if carried.ratings:
        target.add(carried.ratings, number_sessions=False)
    for rename in carried.renames:
        target.rename_client(rename)
    if carried.others:
        target.add_corrections(carried.others)


# ------------------------------------------------------------------------------------------------
# Verification


def differences(want: Sequence[Rating], got: Sequence[Rating]) -> list[str]:
    """What differs between the ratings read from the old layout and from the new one.

    Ratings are matched by id (ids are unique: ``check`` refused duplicates). Every field must be
    equal; ``rated_at`` must be the same instant with the same UTC offset, except that an offset
    that is not a whole number of minutes may come back as UTC (the TOML layout stores it so).
    """
    out: list[str] = []
    if len(want) != len(got):
        out.append(f"{len(want)} ratings were read but {len(got)} came back")
    by_id = {r.id: r for r in got}
    if len(by_id) != len(got):
        out.append("a session id came back twice")
    seen: set[str] = set()
    for w in want:
        seen.add(w.id)
        g = by_id.get(w.id)
        if g is None:
            out.append(f"session id {w.id} ({w.client} session {w.session}) is missing")
            continue
        for name in ("client", "session", "instrument", "instrument_version", "skipped"):
            if getattr(w, name) != getattr(g, name):
                out.append(f"session id {w.id}: {name} differs")
        if w.answers != g.answers:
            out.append(f"session id {w.id}: answers differ")
        if (w.practitioner or None) != (g.practitioner or None):
            out.append(f"session id {w.id}: practitioner differs")
        if (w.comment or None) != (g.comment or None):
            out.append(f"session id {w.id}: comment differs")
        offset = w.rated_at.utcoffset()
        whole_minutes = offset is not None and offset % timedelta(minutes=1) == timedelta(0)
        if w.rated_at != g.rated_at or (whole_minutes and g.rated_at.utcoffset() != offset):
            out.append(f"session id {w.id}: rated_at differs")
    extra = [r.id for r in got if r.id not in seen]
    if extra:
        out.append(f"{len(extra)} unexpected session id(s) came back, e.g. {extra[0]}")
    return out


def view_differences(want: ReadResult, got: ReadResult) -> list[str]:
    """What differs between two corrected views beyond ``differences``: statuses, which ratings
    are voided, and the corrections that applied."""
    out: list[str] = []
    status = {r.id: r.status for r in got.ratings + got.voided}
    for r in want.ratings + want.voided:
        if status.get(r.id, r.status) != r.status:
            out.append(f"session id {r.id}: status {r.status} came back as {status[r.id]}")
    if sorted(r.id for r in want.voided) != sorted(r.id for r in got.voided):
        out.append("the voided ratings differ")
    if sorted((c.id, c.action) for c in want.corrections) != sorted(
        (c.id, c.action) for c in got.corrections
    ):
        out.append("the corrections differ")
    return out


def _verify(store: Store, want: ReadResult, where: str) -> None:
    result = store.read_all()
    problems = [str(p) for p in result.problems]
    diffs = problems + differences(want.ratings + want.voided, result.ratings + result.voided)
    diffs += view_differences(want, result)
    if diffs:
        shown = diffs[:MAX_SHOWN]
        raise StoreError(
            "\n".join(
                [
                    f"The converted data in {where} did not read back the same:",
                    *shown,
                    "The old layout is still in use and was not changed. Please report this.",
                ]
            )
        )


# ------------------------------------------------------------------------------------------------
# Writing the other layout


def _target_store(folder: Path, kind: str, resolve: Resolver | None, items: Sequence[str]) -> Store:
    if kind == "csv":
        from ratetool.store.csv_store import CsvStore

        return CsvStore(folder, resolve, item_columns=items)
    return open_store(folder, kind, resolve)


def _check_writable(
    ratings: Sequence[Rating], kind: str, resolve: Resolver | None, items: Sequence[str]
) -> None:
    """Everything a real run would refuse, found without writing (for ``--dry-run``)."""
    if kind == "csv":
        from ratetool.store.csv_store import CsvStore
        from ratetool.store.csv_write import RowWriter

        store = CsvStore(Path("."), resolve, item_columns=items)
        RowWriter(store.new_header(ratings)).rows(ratings)
        return
    from ratetool.store.records import session_block

    for code in sorted({r.client for r in ratings}):
        validate_client_code(code)
    for rating in ratings:
        session_block(rating)


def _fresh_staging(data_dir: Path) -> Path:
    from ratetool.fsutil import ensure_private_dir

    staging = data_dir / STAGING
    if _exists(staging):
        # Left by an interrupted migrate: a copy of data the layout in use still holds.
        shutil.rmtree(staging)
    return ensure_private_dir(staging)


def _remove_staging(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)


def migrate(
    data_dir: Path,
    config_dir: Path,
    target: str,
    *,
    current: str,
    resolve: Resolver | None = None,
    item_columns: Sequence[str] = (),
    dry_run: bool = False,
) -> MigrateResult:
    """Convert ``data_dir`` to the ``target`` layout and switch ``config.toml`` to it.

    ``current`` is the store named in ``config.toml``. If that layout holds nothing but the other
    one does (the setting was changed by hand), the other one is converted. ``item_columns`` are
    extra item ids a new ``ratings.csv`` gets columns for (every known instrument's items).
    """
    if target not in KINDS:
        raise RatetoolError(f"Unknown store {target!r}; use --to csv or --to toml.")
    source = current
    if source == target and not layout_has_data(data_dir, target):
        other = "csv" if target == "toml" else "toml"
        if layout_has_data(data_dir, other):
            source = other
    if source == target:
        if target == "toml":
            result = MigrateResult("toml", "toml", 0, 0, dry_run)
            result.notes.append(
                'The data folder already uses the toml store (store = "toml"); nothing to do.'
            )
            return result
        return _rebuild_csv(data_dir, resolve, item_columns, dry_run)

    from ratetool.config import load_config, save_config

    load_config(config_dir)  # a config.toml that cannot be rewritten stops us before any work
    store = open_store(data_dir, source, resolve)
    with store.lock():
        _refuse_problems(store.check(), source)
        view = store.read_all()
        carried = _carried(store, view)
        ratings = carried.ratings
        clients = len({r.client for r in view.ratings + view.voided})
        result = MigrateResult(source, target, len(ratings), clients, dry_run)
        if view.corrections:
            n = len(view.corrections)
            result.notes.append(
                f"{n} correction{'s' if n != 1 else ''} (void, amend, rename) carried along: "
                "every command shows the same corrected view."
            )
        result.written = layout_paths(data_dir, target)
        result.config_file = config_dir / "config.toml"
        taken = [p for p in layout_paths(data_dir, target) if _occupied(p)]
        if taken:
            raise StoreError(
                f"Cannot migrate: {taken[0]} already exists in the data folder (left by an "
                "interrupted migrate, or copied there by hand). Move it out of the data folder, "
                "then migrate again. Nothing was changed."
            )
        if dry_run:
            _check_writable(ratings, target, resolve, item_columns)
            result.kept = [p for p in layout_paths(data_dir, source) if _exists(p)]
            return result

        staging = _fresh_staging(data_dir)
        try:
            written = _target_store(staging, target, resolve, item_columns)
            _write_carried(written, carried)
            _verify(open_store(staging, target, resolve), view, str(staging))
            moved = _move_into_place(staging, data_dir, target)
        except BaseException:
            _remove_staging(staging)
            raise
        try:
            _verify(open_store(data_dir, target, resolve), view, str(data_dir))
            save_config(config_dir, {"store": target})  # from here on the new layout is in use
        except BaseException:
            _move_back(moved, staging)
            raise
        _remove_staging(staging)
        result.switched = True
        stamp = _stamp()
        for old in layout_paths(data_dir, source):
            if _exists(old):
                kept = _kept_name(old, stamp)
                os.rename(old, kept)
                result.kept.append(kept)
        fsync_dir(data_dir)
        if source == "csv":
            _drop_csv_index(data_dir)
        return result


def _occupied(path: Path) -> bool:
    """A target path that holds something (an empty folder or empty file does not count)."""
    if path.is_dir() and not path.is_symlink():
        return any(path.iterdir())
    if path.is_file() and not path.is_symlink():
        return path.stat().st_size > 0
    return _exists(path)


def _move_into_place(staging: Path, data_dir: Path, kind: str) -> list[tuple[Path, Path]]:
    """Rename the staged layout into the data folder; returns ``(from, to)`` pairs."""
    moved: list[tuple[Path, Path]] = []
    for final in layout_paths(data_dir, kind):
        staged = staging / final.name
        if not _exists(staged):
            continue  # nothing to write (no ratings)
        if final.is_dir() and not any(final.iterdir()):
            final.rmdir()  # an empty clients/ folder
        elif final.is_file() and final.stat().st_size == 0:
            final.unlink()  # an empty ratings.csv
        os.rename(staged, final)
        moved.append((staged, final))
    fsync_dir(data_dir)
    return moved


def _move_back(moved: list[tuple[Path, Path]], staging: Path) -> None:
    for staged, final in reversed(moved):
        try:
            os.rename(final, staged)
        except OSError:
            pass
    _remove_staging(staging)


def _drop_csv_index(data_dir: Path) -> None:
    from ratetool.store.csv_index import CACHE_DIR, INDEX_NAME

    try:
        (data_dir / CACHE_DIR / INDEX_NAME).unlink()
    except OSError:
        pass


def _rebuild_csv(
    data_dir: Path, resolve: Resolver | None, item_columns: Sequence[str], dry_run: bool
) -> MigrateResult:
    """Write ``ratings.csv`` again with a column for every known item, its corrections
    included, in the same order (``csv_corrections.write_anew``); keep the old file."""
    from ratetool.store.csv_corrections import corrected, file_text, write_anew
    from ratetool.store.csv_format import Header
    from ratetool.store.csv_store import CsvStore

    store = CsvStore(data_dir, resolve, item_columns=item_columns)
    with store.lock():
        _refuse_problems(store.check(), "csv")
        parsed = store.parse()
        ratings = parsed.ratings  # in file order, kept as it is
        result = MigrateResult(
            "csv", "csv", len(ratings), len({r.client for r in ratings}), dry_run
        )
        result.written = [store.path]
        if parsed.header is None or not ratings:
            result.notes.append("ratings.csv holds no ratings yet; nothing to do.")
            return result
        old_items = parsed.header.items
        new_items = [c for c in store.new_header(ratings).items if c not in old_items]
        if not new_items:
            result.notes.append(
                "ratings.csv already has a column for every item of every instrument known; "
                "nothing to do."
            )
            return result
        wider = Header.for_items([*old_items, *new_items])  # old columns first, in their order
        result.notes.append(f"New item columns: {', '.join(new_items)}.")
        if dry_run:
            file_text(parsed, wider)
            return result
        view = corrected(
            store.path, parsed.ratings, parsed.corrections, parsed.correction_lines, []
        )
        result.kept.append(write_anew(store.path, data_dir, parsed, wider, "migrated"))
        _drop_csv_index(data_dir)
        _verify(CsvStore(data_dir, resolve), view, str(data_dir))
        return result
