"""Planning and running an import: what is new, what is a duplicate, which session numbers,
and which statuses become corrections.

``run_import`` decides under the data-folder lock what to append and appends it in one store
write, then appends the corrections that give rows their status (``Store.add_corrections``, which
checks them again under the lock); with ``dry_run`` it only reports. The rules (duplicates,
session numbers, statuses) are those of docs/import.md.

A row's ``status`` (an export's column or key) reproduces the exported view: an ``amended`` row
is stored as a rating plus an ``amend`` correction with the same answers, an ``entered-in-error``
row as a rating plus a ``void`` correction. A row whose id is already stored adds no rating; it
adds the correction only when the stored rating does not have that status yet (so importing the
same file twice adds nothing twice), and a status that cannot be reached by appending (a voided
rating back to completed) is a note, the stored rating kept as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ratetool.corrections import (
    AMEND,
    AMENDED,
    COMPLETED,
    ENTERED_IN_ERROR,
    VOID,
    Correction,
    new_correction_id,
)
from ratetool.errors import ImportRowsError
from ratetool.importer.rows import ImportFile, ImportRow, RowProblem, content_key
from ratetool.model import Rating

if TYPE_CHECKING:
    from datetime import datetime

    from ratetool.store import Store

#: The reason given to the corrections an import appends, by status.
IMPORT_REASONS = {
    AMENDED: "imported with status amended",
    ENTERED_IN_ERROR: "imported with status entered-in-error",
}

#: Problems listed in a message at most; the rest are counted.
MAX_LISTED = 100


@dataclass
class ImportResult:
    """What an import did (or, with ``dry_run``, would do)."""

    imported: list[Rating]
    #: ``(row, why)`` for each row skipped as a duplicate.
    duplicates: list[tuple[int, str]]
    rejected: list[RowProblem]
    notes: list[str]
    dry_run: bool
    unit: str = "row"
    #: The corrections appended (or, ``dry_run``, to append) for the rows' statuses.
    corrections: list[Correction] = field(default_factory=list)

    def summary(self) -> str:
        n, d, r = len(self.imported), len(self.duplicates), len({p.row for p in self.rejected})
        marked = self._marked()
        if self.dry_run:
            return (
                f"Dry run: would import {n}, skip {d} as duplicates, reject {r}"
                f"{'; would mark ' + marked if marked else ''}. Nothing was written."
            )
        return (
            f"Imported {n}, skipped {d} as duplicates, rejected {r}"
            f"{'; marked ' + marked if marked else ''}."
        )

    def _marked(self) -> str:
        amended = sum(c.action == AMEND for c in self.corrections)
        voided = sum(c.action == VOID for c in self.corrections)
        parts = [f"{amended} amended"] if amended else []
        if voided:
            parts.append(f"{voided} entered in error")
        return " and ".join(parts)


@dataclass
class _Plan:
    to_add: list[Rating]
    duplicates: list[tuple[int, str]]
    notes: list[str]
    corrections: list[Correction] = field(default_factory=list)


def status_correction(rating: Rating, status: str, made_at: datetime) -> Correction:
    """The correction that gives ``rating`` (as stored) ``status`` (amended: the same answers
    again; entered-in-error: a void), with the import's reason."""
    if status == AMENDED:
        return Correction(
            new_correction_id(),
            rating.client,
            AMEND,
            made_at,
            rating=rating.id,
            session=rating.session,
            reason=IMPORT_REASONS[AMENDED],
            answers=dict(rating.answers),
            skipped=tuple(rating.skipped),
        )
    return Correction(
        new_correction_id(),
        rating.client,
        VOID,
        made_at,
        rating=rating.id,
        session=rating.session,
        reason=IMPORT_REASONS[ENTERED_IN_ERROR],
    )


def _status_change(item: ImportRow, stored: Rating, unit: str) -> str | None:
    """Why the row's status cannot be given to the stored rating by appending, or ``None``."""
    if item.status == stored.status or item.status == ENTERED_IN_ERROR:
        return None
    if item.status == AMENDED and stored.status == COMPLETED:
        return None
    return (
        f"{unit} {item.row}: id {item.rating.id} is {item.status} in the file but {stored.status} "
        f"here (client {stored.client}, session {stored.session}); no correction makes it "
        f"{item.status} again, so the stored rating was kept as it is"
    )


def _plan(
    import_file: ImportFile, existing: list[Rating], made_at: datetime | None = None
) -> _Plan:
    """What to append, given what is stored (its corrected view, voided ratings included, each
    with its status): duplicates out, session numbers in, a correction for each status."""
    from ratetool.model import now

    when = made_at or now()
    unit = import_file.unit
    stored_by_id = {r.id: r for r in existing}
    stored_content = {content_key(r) for r in existing}
    highest: dict[str, int] = {}
    for r in existing:
        highest[r.client] = max(highest.get(r.client, 0), r.session)
    duplicates = [
        (row, f"the same rating as {unit} {earlier}") for row, earlier in import_file.repeats
    ]
    notes: list[str] = []
    keep: list[ImportRow] = []
    number: list[ImportRow] = []
    corrections: list[Correction] = []
    for item in import_file.rows:
        stored = stored_by_id.get(item.rating.id) if item.has_id else None
        if stored is not None:
            duplicates.append((item.row, f"id {item.rating.id} is already stored"))
            if item.status != stored.status:
                refused = _status_change(item, stored, unit)
                if refused is not None:
                    notes.append(refused)
                    continue
                # The stored rating as stored (its client as the view shows it).
                corrections.append(status_correction(_as_row(stored, item), item.status, when))
                continue
            if content_key(stored) != content_key(item.rating):
                notes.append(
                    f"{unit} {item.row}: id {item.rating.id} is already stored with different "
                    f"values (client {stored.client}, session {stored.session}); the stored "
                    "rating was kept"
                )
            continue
        if not item.has_id and content_key(item.rating) in stored_content:
            duplicates.append((item.row, "the same rating is already stored"))
            continue
        (number if item.numbered else keep).append(item)
    # A row that brings its own session number keeps it, unless that client already has that
    # number for another rating (a colleague's export for the same code): then it is numbered
    # like a row without one, and the summary says so.
    taken = {(r.client, r.session) for r in existing}
    collided: dict[int, int] = {}  # row -> the session number it asked for
    kept: list[ImportRow] = []
    for item in keep:
        key = (item.rating.client, item.rating.session)
        if key in taken:
            collided[item.row] = item.rating.session
            number.append(item)
            continue
        taken.add(key)
        kept.append(item)
    keep = kept
    for item in keep:
        client = item.rating.client
        highest[client] = max(highest.get(client, 0), item.rating.session)
    latest: dict[str, Rating] = {}
    for r in [*existing, *(i.rating for i in keep)]:
        if r.client not in latest or r.rated_at > latest[r.client].rated_at:
            latest[r.client] = r
    numbered: list[tuple[int, Rating]] = []
    for item in sorted(number, key=lambda i: (i.rating.client, i.rating.rated_at, i.row)):
        client = item.rating.client
        highest[client] = highest.get(client, 0) + 1
        rating = replace(item.rating, session=highest[client])
        if item.row in collided:
            notes.append(
                f"{unit} {item.row}: {client} already has a session {collided[item.row]} (another "
                f"rating); this one is saved as session {rating.session}"
            )
        before = latest.get(client)
        if before is not None and rating.rated_at < before.rated_at:
            notes.append(
                f"{unit} {item.row}: {client} becomes session {rating.session}, but it is dated "
                f"{rating.rated_at.date()}, before session {before.session} "
                f"({before.rated_at.date()}); new sessions are numbered after the stored ones"
            )
        latest[client] = rating if before is None or rating.rated_at >= before.rated_at else before
        numbered.append((item.row, rating))
    to_add = [i.rating for i in keep] + [r for _, r in numbered]
    statuses = {i.rating.id: i.status for i in [*keep, *number] if i.status != COMPLETED}
    if statuses:
        corrections += [
            status_correction(r, statuses[r.id], when) for r in to_add if r.id in statuses
        ]
    return _Plan(to_add, sorted(duplicates), notes, corrections)


def _as_row(stored: Rating, item: ImportRow) -> Rating:
    """The stored rating, with the row's answers when the row amends it."""
    if item.status != AMENDED:
        return stored
    return replace(stored, answers=dict(item.rating.answers), skipped=item.rating.skipped)


def _add_corrections(store: Store, corrections: list[Correction], added: int) -> None:
    from ratetool.corrections import CorrectionError

    try:
        store.add_corrections(corrections)
    except CorrectionError as exc:
        # The ratings are written: the store's "nothing was written" is about the corrections.
        why = re.sub(r"[;.]? [Nn]othing was written\.$", ".", str(exc))
        raise CorrectionError(
            f"{added} rating{'s were' if added != 1 else ' was'} imported, but the statuses "
            f"(amended, entered-in-error) could not be recorded: {why} Import the file again to "
            "record them; the ratings already imported are skipped."
        ) from None


def problem_report(import_file: ImportFile, *, limit: int = MAX_LISTED) -> list[str]:
    """One line per problem (``<file>, row N: ...``), at most ``limit``, then a count."""
    lines = [f"{import_file.path}, {p}" for p in import_file.problems[:limit]]
    if len(import_file.problems) > limit:
        lines.append(f"... and {len(import_file.problems) - limit} more problems.")
    if import_file.date_hint:
        lines.append(
            "Hint: if your spreadsheet writes dates like 03.11.2026 10:50, add --date-format "
            '"%d.%m.%Y %H:%M" (%d day, %m month, %Y year, %H hour, %M minute).'
        )
    return lines


def run_import(
    store: Store,
    import_file: ImportFile,
    *,
    dry_run: bool = False,
    skip_invalid: bool = False,
) -> ImportResult:
    """Append the new ratings of ``import_file`` to ``store`` (or, ``dry_run``, only say what
    would happen).

    With bad rows and without ``skip_invalid`` nothing is written and ``ImportRowsError`` lists
    every problem. Everything is decided and appended under the data-folder lock, in one store
    write, so a concurrent ``rate`` never gets the same session number and a data file that
    cannot be appended to stops the import before anything is written.
    """
    from ratetool.store import refuse_if_problems

    if import_file.problems and not skip_invalid:
        bad = len(import_file.bad_rows)
        good = len(import_file.rows) + len(import_file.repeats)
        unit = import_file.unit
        raise ImportRowsError(
            "\n".join(
                [
                    f"{import_file.path}: {bad} of {import_file.row_count} {unit}s cannot be "
                    "imported:",
                    *("  " + line for line in problem_report(import_file)),
                    f"Nothing was written. Fix {'this' if bad == 1 else 'these'} {unit}"
                    f"{'' if bad == 1 else 's'} and import again"
                    + (
                        f", or add --skip-invalid to import the {good} good "
                        f"{unit}{'' if good == 1 else 's'} and leave "
                        f"{'it' if bad == 1 else 'these'} out."
                        if good
                        else "."
                    ),
                ]
            )
        )

    def decide() -> _Plan:
        current = store.read_all()
        plan = _plan(import_file, [*current.ratings, *current.voided])
        targets = {store.file_for(r.client) for r in plan.to_add}
        targets.update(store.file_for(c.client) for c in plan.corrections)
        refuse_if_problems(p for p in current.problems if p.path in targets)
        return plan

    if dry_run:
        plan = decide()
        added = plan.to_add
    else:
        with store.lock():
            plan = decide()
            added = []
            if plan.to_add:
                result = store.add_locked(plan.to_add, False, True)  # the lock is held
                added = result.added
        if plan.corrections:
            # After the ratings they correct, checked again under the lock by the store. Should
            # this fail, the ratings stay completed; importing the file again adds the rest.
            _add_corrections(store, plan.corrections, len(added))
    return ImportResult(
        imported=added,
        duplicates=plan.duplicates,
        rejected=list(import_file.problems),
        notes=plan.notes,
        dry_run=dry_run,
        unit=import_file.unit,
        corrections=plan.corrections,
    )
