"""Corrections in ``ratings.csv`` (``ratetool.corrections``): their rows, the corrected view and
the one rewrite ever made of the file, raising a format-1 file to format 2.

A correction is a row like a rating's, marked by its ``correction`` cell (``csv_format`` lists
its cells). ``correction_from_cells`` reads one, ``correction_cells`` writes one, ``corrected``
turns the ratings and corrections of a read into the view every command shows, with the
corrections that do not apply as problems naming their line.

A format-1 file (written before corrections existed) has no correction columns, and an older
ratetool would read correction columns as items: so the first correction to such a file first
writes it anew in format 2 (``write_anew``), after a full parse with no problem, with every row
as it read, checked to read back the same before it replaces the old file, which is kept whole
beside it as ``ratings.csv.format1-<time>``. ``ratetool migrate --to csv`` uses the same code to
write a wider file (``ratings.csv.migrated-<time>``). Every other write only appends.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from ratetool.codes import CLIENT_CODE_RE
from ratetool.csvformat import COMMENT_COLUMN, escape_text
from ratetool.errors import StoreError
from ratetool.model import Rating
from ratetool.store import Problem, ReadResult
from ratetool.store.csv_format import (
    CORRECTION_COLUMN,
    FORMAT_COLUMN,
    FORMAT_TEXT,
    MAX_CELL,
    REASON_COLUMN,
    SKIP_SEPARATOR,
    SKIPPED_COLUMN,
    TARGET_COLUMN,
    Header,
)
from ratetool.store.records import ITEM_ID_RE, RecordError

if TYPE_CHECKING:
    from ratetool.corrections import Correction
    from ratetool.store.csv_parse import ParsedCsv
    from ratetool.store.records import RatingRules

_ANSWER_RE = re.compile(r"-?[0-9]{1,4000}")
#: The ``comment`` cell of an amend that removes the rating's comment (an empty cell keeps it;
#: the export's escape rule never writes a lone ``'``).
NO_COMMENT = "'"


def _unescape(text: str) -> str:
    return text[1:] if text[:1] == "'" else text


def correction_from_cells(
    cells: Sequence[str], header: Header, rules: RatingRules | None
) -> tuple[Correction, str | None]:
    """The correction in a row whose ``correction`` cell is not empty, and why it breaks the
    amended rating's instrument (``rules``), if it does; ``RecordError`` when the row is not a
    correction ratetool could have written."""
    from ratetool.corrections import ACTIONS, AMEND, RENAME, VOID, Correction

    where = {c: i for i, c in enumerate(header.columns)}

    def text(name: str) -> str:
        return _unescape(cells[where[name]])

    action = text(CORRECTION_COLUMN).strip()
    if action not in ACTIONS:
        raise RecordError(f"correction must be void, amend or rename, not {action!r}")
    cid = text("id").strip()
    if not cid:
        raise RecordError("a correction needs its id")
    client = text("client")
    if not CLIENT_CODE_RE.fullmatch(client):
        raise RecordError(f"client code {client!r} is not valid")
    try:
        made_at = datetime.fromisoformat(text("rated_at").strip())
    except ValueError:
        made_at = None
    if made_at is None or made_at.utcoffset() is None:
        raise RecordError("rated_at must be when the correction was made, with its UTC offset")
    practitioner = text("practitioner") or None
    reason = text(REASON_COLUMN) or None
    target = text(TARGET_COLUMN).strip()
    if action == RENAME:
        if not CLIENT_CODE_RE.fullmatch(target) or target == client:
            raise RecordError("a rename must name the new client code in target")
        return (
            Correction(
                cid,
                client,
                RENAME,
                made_at,
                reason=reason,
                practitioner=practitioner,
                new_client=target,
            ),
            None,
        )
    if not target:
        raise RecordError(f"a {action} must name the corrected rating's id in target")
    session_text = cells[where["session"]].strip()
    if not (session_text.isascii() and session_text.isdigit() and session_text[:1] != "0"):
        raise RecordError("session must be the number of the corrected session")
    session = int(session_text)
    if action == VOID:
        if not (reason or "").strip():
            raise RecordError("a void must say why in reason")
        correction = Correction(
            cid, client, VOID, made_at, rating=target, session=session, reason=reason,
            practitioner=practitioner,
        )  # fmt: skip
        return correction, None
    answers: dict[str, int] = {}
    for item in header.items:
        cell = cells[where[item]].strip()
        if cell:
            if not _ANSWER_RE.fullmatch(cell):
                raise RecordError(f"answer {item} = {cell!r} is not a whole number")
            answers[item] = int(cell)
    skipped: tuple[str, ...] = ()
    if text(SKIPPED_COLUMN):
        skipped = tuple(text(SKIPPED_COLUMN).split(SKIP_SEPARATOR))
        if not all(ITEM_ID_RE.fullmatch(s) for s in skipped) or not set(skipped).isdisjoint(
            answers
        ):
            raise RecordError("skipped must list unanswered item ids separated by ';'")
    comment_cell = cells[where[COMMENT_COLUMN]]
    comment = None if comment_cell == "" else "" if comment_cell == NO_COMMENT else comment_cell
    if comment:
        comment = _unescape(comment)
    correction = Correction(
        cid, client, AMEND, made_at, rating=target, session=session, reason=reason,
        practitioner=practitioner, answers=answers, skipped=skipped, comment=comment,
    )  # fmt: skip
    problem = None
    instrument = text("instrument")
    version_text = cells[where["instrument_version"]].strip()
    if rules is not None and version_text.isascii() and version_text.isdigit():
        amended = Rating(
            target, client, session, made_at, instrument, int(version_text), answers,
            skipped=skipped,
        )  # fmt: skip
        problem = rules.problem(amended)
    return correction, problem


def note_correction(
    parsed: ParsedCsv, header: Header, cells: list[str], line: int
) -> tuple[str | None, str | None]:
    """Read a correction row into ``parsed`` (``csv_parse``): the problem that makes the row
    damaged, or ``None`` and the client code it is stored under (``None`` too when it breaks the
    amended rating's instrument: noted here as a problem of kind "invalid")."""
    try:
        correction, invalid = correction_from_cells(cells, header, parsed.rules)
    except RecordError as exc:
        return f"correction row: {exc}", None
    if invalid is not None:
        parsed.problems.append(
            Problem(
                parsed.path,
                f"the amend correction {correction.id} does not fit: {invalid}",
                line,
                kind="invalid",
                session=correction.session,
            )
        )
        return None, None
    parsed.corrections.append(correction)
    parsed.correction_lines.append(line)
    parsed.correction_at.append(len(parsed.ratings))
    return None, correction.client


def correction_cells(correction: Correction, header: Header, target: Rating | None) -> list[str]:
    """One correction as the cells of a row; ``target`` is the rating it voids or amends."""
    from ratetool.corrections import AMEND, RENAME

    c = correction
    where = {col: i for i, col in enumerate(header.columns)}
    cells = [""] * len(where)
    cells[where["id"]] = escape_text(c.id)
    cells[where["client"]] = escape_text(c.client)
    cells[where["rated_at"]] = escape_text(c.made_at.isoformat())
    if c.practitioner:
        cells[where["practitioner"]] = escape_text(c.practitioner)
    cells[where[CORRECTION_COLUMN]] = c.action
    if c.action == RENAME:
        cells[where[TARGET_COLUMN]] = escape_text(c.new_client or "")
    else:
        cells[where["session"]] = str(c.session)
        cells[where[TARGET_COLUMN]] = escape_text(c.rating or "")
    if c.reason:
        cells[where[REASON_COLUMN]] = escape_text(c.reason)
    if c.action == AMEND:
        if target is not None:
            cells[where["instrument"]] = escape_text(target.instrument)
            cells[where["instrument_version"]] = str(target.instrument_version)
        missing = [item for item in c.answers or {} if item not in header.items]
        if missing:
            raise StoreError(
                f"ratings.csv has no column for item {', '.join(missing)} of the amended "
                "session. Run `ratetool migrate --to csv` to write a wider ratings.csv (the old "
                "file is kept), then amend again. Nothing was written."
            )
        for item, value in (c.answers or {}).items():
            cells[where[item]] = str(value)
        if c.skipped:
            cells[where[SKIPPED_COLUMN]] = escape_text(SKIP_SEPARATOR.join(c.skipped))
        if c.comment is not None:
            cells[where[COMMENT_COLUMN]] = escape_text(c.comment) if c.comment else NO_COMMENT
    cells[where[FORMAT_COLUMN]] = FORMAT_TEXT
    for i, cell in enumerate(cells):
        if len(cell) > MAX_CELL:
            raise StoreError(
                f"the {header.columns[i]} of correction {c.id} is longer than {MAX_CELL} "
                "characters, more than ratings.csv can hold in a cell; nothing was written."
            )
    return cells


def shown_codes(renames: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Stored code -> the code its rows are shown under, for every code renamed away, after the
    renames ``(old, new)`` in the order appended: a rename moves every row shown under the old
    code, and makes the new code a code in use (so ``A -> B`` then ``B -> A`` puts all back)."""
    shown: dict[str, str] = {}
    for old, new in renames:
        for code, now in shown.items():
            if now == old:
                shown[code] = new
        shown[old] = new
        shown.pop(new, None)
    return shown


def final_code(code: str, shown: Mapping[str, str]) -> str:
    """The code the rows stored under ``code`` are shown under (``shown_codes``)."""
    return shown.get(code, code)


def renames_of(corrections: Sequence[Correction]) -> dict[str, str]:
    """``shown_codes`` of the renames among ``corrections``."""
    return shown_codes((c.client, c.new_client) for c in corrections if c.new_client)


def corrected(
    path: Path,
    ratings: list[Rating],
    corrections: Sequence[Correction],
    lines: Sequence[int],
    problems: list[Problem],
) -> ReadResult:
    """The corrected view (``corrections.apply``) as a ``ReadResult``; a correction that does not
    apply is a problem of kind "invalid" naming its line (``lines``, one per correction)."""
    if not corrections:
        return ReadResult(ratings, problems)
    from ratetool.corrections import RENAME, apply

    # Voids and amends by ``corrections.apply``; renames here, in the order appended (a rename
    # may be undone by renaming back, which ``apply``'s code-to-code map does not follow).
    view = apply(ratings, [c for c in corrections if c.action != RENAME])
    shown = renames_of(corrections)
    if shown:
        view.ratings = [_shown(r, shown) for r in view.ratings]
        view.voided = [_shown(r, shown) for r in view.voided]
        done = {id(c) for c in view.applied}
        view.applied = [c for c in corrections if c.action == RENAME or id(c) in done]
    if view.problems:
        line_of = {id(c): line for c, line in zip(corrections, lines)}
        problems = problems + [
            Problem(
                path,
                f"the {c.action} correction {c.id} does not apply: {why}. Fix or remove the row "
                "by hand",
                line_of.get(id(c)),
                kind="invalid",
                session=c.session,
            )
            for c, why in view.problems
        ]
    return ReadResult(view.ratings, problems, view.voided, view.applied)


def _shown(rating: Rating, shown: Mapping[str, str]) -> Rating:
    from dataclasses import replace

    code = shown.get(rating.client)
    return rating if code is None else replace(rating, client=code)


class Grouped(NamedTuple):
    """A whole file parsed, its ratings and corrections by the code they are stored under."""

    parsed: ParsedCsv
    ratings: dict[str, list[Rating]]
    corrections: dict[str, list[int]]
    renames: dict[str, str]

    @classmethod
    def of(cls, parsed: ParsedCsv) -> Grouped:
        ratings: dict[str, list[Rating]] = {}
        for rating in parsed.ratings:
            ratings.setdefault(rating.client, []).append(rating)
        corrections: dict[str, list[int]] = {}
        for i, c in enumerate(parsed.corrections):
            corrections.setdefault(c.client, []).append(i)
        return cls(parsed, ratings, corrections, renames_of(parsed.corrections))


def sources(client: str, shown: Mapping[str, str]) -> set[str]:
    """The codes whose rows are shown under ``client``: its own and those renamed to it."""
    codes = {client}
    codes.update(old for old, new in shown.items() if new == client)
    return codes


def kept_name(path: Path, label: str) -> Path:
    """``<file>.<label>-<YYYYmmddTHHMMSS>`` beside ``path``, never an existing name."""
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    candidate = path.with_name(f"{path.name}.{label}-{stamp}")
    n = 2
    while os.path.lexists(candidate):
        candidate = path.with_name(f"{path.name}.{label}-{stamp}-{n}")
        n += 1
    return candidate


def file_text(parsed: ParsedCsv, header: Header) -> bytes:
    """The header and every row of ``parsed`` (ratings and corrections, in their order), written
    in ``header``'s layout."""
    from ratetool.store.csv_write import RowWriter

    writer = RowWriter(header)
    by_id = {r.id: r for r in parsed.ratings}
    parts = [header.line()]
    done = 0
    for correction, before in zip(parsed.corrections, parsed.correction_at):
        if before > done:
            parts.append(writer.rows(parsed.ratings[done:before]))
            done = before
        cells = correction_cells(correction, header, by_id.get(correction.rating or ""))
        parts.append(writer.correction_rows([cells], [correction]))
    if done < len(parsed.ratings):
        parts.append(writer.rows(parsed.ratings[done:]))
    return "".join(parts).encode("utf-8")


def write_anew(path: Path, data_dir: Path, parsed: ParsedCsv, header: Header, label: str) -> Path:
    """Replace ``path`` by the rows of ``parsed`` (a full parse with no problem, under the
    lock) in ``header``'s layout, after checking that the new bytes read back the same; the old
    file is kept whole (a second name, or a durable copy) and returned. Fsynced throughout."""
    from ratetool.fsutil import append_durably, fsync_dir, open_private, refuse_links, write_durably
    from ratetool.store.csv_parse import parse_csv_bytes

    refuse_links(path, data_dir)
    data = file_text(parsed, header)
    back = parse_csv_bytes(path, data, rules=parsed.rules)
    if back.problems or not _same(parsed, back):
        detail = str(back.problems[0]) if back.problems else "a row differs"
        raise StoreError(
            f"{path} could not be written anew so that it reads back the same ({detail}); "
            "it was not changed."
        )
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    try:
        try:
            write_durably(fd, data)
        finally:
            os.close(fd)
        kept = kept_name(path, label)
        try:
            os.link(path, kept)  # the old file keeps its bytes under a second name
        except OSError:  # no hard links on this file system: a durable copy instead
            append_durably(kept, path.read_bytes(), data_dir)
        fsync_dir(data_dir)
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise
    fsync_dir(data_dir)
    return kept


def _same(want: ParsedCsv, got: ParsedCsv) -> bool:
    if want.ratings != got.ratings or want.corrections != got.corrections:
        return False
    offsets = [r.rated_at.utcoffset() for r in want.ratings]
    return offsets == [r.rated_at.utcoffset() for r in got.ratings] and [
        c.made_at.utcoffset() for c in want.corrections
    ] == [c.made_at.utcoffset() for c in got.corrections]
