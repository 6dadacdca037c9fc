"""Corrections in the TOML store: void, amend and rename appended (or kept whole), never a byte
already stored changed; read back as the corrected view, with torn, damaged and hand-made
corrections named by line; format 1 still read and raised to format 2 by the first correction."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers.store_kit import (
    CET,
    chop,
    corrupt_files,
    folder_snapshot,
    make_rating,
    snapshot,
)
from ratetool.cli import app
from ratetool.corrections import (
    AMEND,
    AMENDED,
    ENTERED_IN_ERROR,
    RENAME,
    VOID,
    Correction,
    CorrectionError,
    new_correction_id,
)
from ratetool.errors import ClientCodeError, DamagedFileError, FormatTooNewError
from ratetool.instruments import Registry
from ratetool.store import DATA_FORMAT, OLDEST_FORMAT, Store, open_store
from ratetool.store.records import correction_block

C = "C-7"
MADE = datetime(2026, 12, 4, 11, 20, tzinfo=CET)
NEW_ANSWERS = {"empathy": 1, "warmth": 2, "genuineness": 3, "trust": 4}


@pytest.fixture
def store(data_dir: Path) -> Store:
    """A TOML store holding three sessions of C-7, holding ratings to their instruments."""
    s = open_store(data_dir, "toml", Registry(None).get_version)
    s.add([make_rating(C, n) for n in range(3)])
    return s


def rating_id(store: Store, session: int, client: str = C) -> str:
    result = store.read_client(client)
    return next(r.id for r in (*result.ratings, *result.voided) if r.session == session)


def void(store: Store, session: int, reason: str = "rated for the wrong client") -> Correction:
    return Correction(
        new_correction_id(), C, VOID, MADE, rating=rating_id(store, session), session=session,
        reason=reason,
    )  # fmt: skip


def amend(store: Store, session: int, answers: dict[str, int] | None = None, **more) -> Correction:
    return Correction(
        new_correction_id(), C, AMEND, MADE, rating=rating_id(store, session), session=session,
        answers=dict(answers or NEW_ANSWERS), **more,
    )  # fmt: skip


def rename(old: str = C, new: str = "C-07", reason: str | None = "typed wrong") -> Correction:
    return Correction(new_correction_id(), old, RENAME, MADE, new_client=new, reason=reason)


def as_format_1(path: Path) -> bytes:
    """Turn a file ratetool wrote into one an earlier ratetool wrote (format 1)."""
    data = path.read_bytes().replace(b"format = 2\n", b"format = 1\n", 1)
    path.write_bytes(data)
    return data


# -- appending ----------------------------------------------------------------------------------


def test_void_appends_a_block_and_the_rating_counts_nowhere(store: Store) -> None:
    path = store.file_for(C)
    before = path.read_bytes()
    correction = void(store, 2)
    assert store.add_corrections([correction]) == [path]
    after = path.read_bytes()
    assert after.startswith(before)  # no byte already in the file changed
    assert after[len(before) :].decode() == correction_block(correction)
    assert correction_block(correction).splitlines()[-1] == 'reason = "rated for the wrong client"'
    result = store.read_client(C)
    assert [r.session for r in result.ratings] == [1, 3]
    assert [(r.session, r.status) for r in result.voided] == [(2, ENTERED_IN_ERROR)]
    assert [c.id for c in result.corrections] == [correction.id] and result.problems == []
    assert store.check() == []
    # the voided rating's id stays known (an import must not store it again) and its number used
    assert rating_id(store, 2) in store.existing_ids()
    store.add_corrections([void(store, 3)])
    (added,) = store.add([make_rating(C, 9)]).added
    assert added.session == 4


def test_amend_appends_and_the_session_keeps_its_number_time_and_id(store: Store) -> None:
    path = store.file_for(C)
    stored = store.read_client(C).ratings[0]
    before = path.read_bytes()
    store.add_corrections([amend(store, 1, comment="in her words")])
    assert path.read_bytes().startswith(before)
    shown = store.read_client(C).ratings[0]
    assert (shown.id, shown.session, shown.rated_at) == (stored.id, 1, stored.rated_at)
    assert (shown.answers, shown.comment, shown.status) == (NEW_ANSWERS, "in her words", AMENDED)
    last = path.read_text().splitlines()[-1]
    assert last == "answers = { empathy = 1, warmth = 2, genuineness = 3, trust = 4 }"


def test_refused_corrections_write_nothing(store: Store, data_dir: Path) -> None:
    store.add_corrections([void(store, 3)])
    before = folder_snapshot(data_dir)
    voided_again = void(store, 3)
    refused = {
        "no reason": replace(void(store, 1), reason="  "),
        "unknown session": replace(void(store, 1), rating="no-such-id", session=9),
        "already voided": voided_again,
        "answers off the scale": amend(store, 1, {**NEW_ANSWERS, "trust": 11}),
        "an item missing": amend(store, 1, {"empathy": 1}),
        "a good one and a bad one": [void(store, 1), voided_again],
        "another client": replace(void(store, 1), client="C-8"),
    }
    for name, corrections in refused.items():
        batch = corrections if isinstance(corrections, list) else [corrections]
        with pytest.raises(CorrectionError) as error:
            store.add_corrections(batch)
        assert "othing was written" in str(error.value), name
        assert folder_snapshot(data_dir) == before, name


def test_a_file_with_problems_gets_no_correction(store: Store, data_dir: Path) -> None:
    path = store.file_for(C)
    path.write_bytes(path.read_bytes().replace(b"empathy = 9", b"empathy = 99", 1))
    before = folder_snapshot(data_dir)
    with pytest.raises(DamagedFileError):
        store.add_corrections([void(store, 1)])
    with pytest.raises(DamagedFileError):
        store.rename_client(rename())
    assert folder_snapshot(data_dir) == before


# -- format 1 ------------------------------------------------------------------------------------


def test_format_constants() -> None:
    assert (OLDEST_FORMAT, DATA_FORMAT) == (1, 2)


def test_the_first_correction_raises_a_format_1_file_keeping_it_whole(
    store: Store, data_dir: Path
) -> None:
    path = store.file_for(C)
    old = as_format_1(path)
    ratings = store.read_client(C).ratings  # format 1 reads
    assert len(ratings) == 3 and store.check() == []
    correction = void(store, 1)
    store.add_corrections([correction])
    (kept,) = [p for p in path.parent.iterdir() if ".format1-" in p.name]
    assert kept.name.startswith("C-7.toml.format1-")
    assert kept.read_bytes() == old  # the old file, byte for byte
    new = path.read_bytes()
    raised = old.replace(b"format = 1\n", b"format = 2\n", 1)
    assert new == raised + correction_block(correction).encode()
    assert [a for a, b in zip(old.splitlines(), raised.splitlines(), strict=True) if a != b] == [
        b"format = 1"
    ]
    assert store.read_client(C).ratings == ratings[1:]
    notes = store.notes()
    assert len(notes) == 1 and str(kept) in notes[0] and "not read" in notes[0]
    # later corrections append; the kept file is not made again
    before = path.read_bytes()
    store.add_corrections([void(store, 2)])
    assert path.read_bytes().startswith(before)
    assert len([p for p in path.parent.iterdir() if ".format1-" in p.name]) == 1


def test_a_format_1_file_without_its_format_line_is_not_raised(store: Store, data_dir: Path):
    path = store.file_for(C)
    path.write_bytes(path.read_bytes().replace(b"format = 2\n", b"format = 0x1\n", 1))
    assert store.read_client(C).problems == []  # 0x1 is 1 in TOML
    before = folder_snapshot(data_dir)
    with pytest.raises(CorrectionError, match="format = 1"):
        store.add_corrections([void(store, 1)])
    assert folder_snapshot(data_dir) == before


def test_a_format_1_file_with_a_correction_block_is_a_problem(store: Store) -> None:
    path = store.file_for(C)
    as_format_1(path)
    with path.open("a") as f:
        f.write(correction_block(void(store, 1)))
    result = store.read_client(C)
    (problem,) = result.problems
    block_line = path.read_text().splitlines().index("[[corrections]]") + 1
    assert "format = 2" in problem.message and problem.line == block_line
    assert len(result.ratings) == 3  # the correction is not applied


def test_format_3_is_refused_by_every_operation(store: Store, data_dir: Path) -> None:
    path = store.file_for(C)
    correction = void(store, 1)
    path.write_bytes(path.read_bytes().replace(b"format = 2\n", b"format = 3\n", 1))
    before = folder_snapshot(data_dir)
    for operation in (
        lambda: store.read_client(C),
        store.check,
        lambda: store.add_corrections([correction]),
        lambda: store.rename_client(rename()),
    ):
        with pytest.raises(FormatTooNewError) as refused:
            operation()
        assert "data format 3" in str(refused.value) and "format 2" in str(refused.value)
        assert folder_snapshot(data_dir) == before


# -- reading what a crash or a hand left -----------------------------------------------------------


@pytest.mark.parametrize("action", [VOID, AMEND])
def test_a_torn_correction_block_is_detected_and_repairable(
    store: Store, data_dir: Path, action: str
) -> None:
    path = store.file_for(C)
    intact = path.read_bytes()
    correction = void(store, 2) if action == VOID else amend(store, 2)
    store.add_corrections([correction])
    whole = path.read_bytes()
    block = len(whole) - len(intact)
    ratings = store.read_client(C).ratings
    # every cut inside the block, bar its leading blank line and its last newline
    for cut in range(2, block - 1):
        path.write_bytes(whole)
        chop(path, cut)
        result = store.read_client(C)
        assert [p.kind for p in result.problems] == ["torn"], (cut, result.problems)
        # the line of the block, or of the line in it that does not parse
        assert intact.count(b"\n") + 2 <= (result.problems[0].line or 0) <= whole.count(b"\n")
        assert "block is incomplete" in result.problems[0].message
        # the intact sessions read; the torn correction applies to nothing
        assert [r.session for r in result.ratings] == [1, 2, 3] and result.voided == []
    assert store.repair() and [p.kind for p in store.check()] == []
    assert path.read_bytes() == intact + b"\n"  # the blank line before the torn block stays
    (moved,) = corrupt_files(data_dir)
    assert path.read_bytes() + moved.read_bytes() == whole[: len(whole) - cut]
    store.add_corrections([correction])  # appending works again
    assert store.read_client(C).ratings == ratings


def test_a_damaged_correction_is_named_with_its_line(store: Store) -> None:
    path = store.file_for(C)
    store.add_corrections([void(store, 1)])
    store.add_corrections([amend(store, 2)])
    text = path.read_text()
    lines = text.splitlines()
    line = lines.index("[[corrections]]") + 1
    path.write_text(text.replace('action = "void"', 'action = "delete"'))
    result = store.read_client(C)
    (problem,) = result.problems
    assert (problem.kind, problem.line, problem.session) == ("damaged", line, 1)
    assert "action must be void, amend or rename" in problem.message
    # the last correction still applies; the damaged one does not
    assert [(r.session, r.status) for r in result.ratings][:2] == [(1, "completed"), (2, AMENDED)]
    # a complete-looking last block that fails is damaged, never moved aside
    path.write_text(text.replace("answers = { empathy = 1,", "answers = { empathy = x,"))
    (problem,) = store.read_client(C).problems
    assert problem.kind == "damaged" and problem.line == len(lines)


def test_a_hand_made_correction_of_an_unknown_session_is_a_problem(store: Store) -> None:
    path = store.file_for(C)
    ghost = replace(void(store, 1), rating="not-a-rating", session=8)
    off_scale = amend(store, 3, {**NEW_ANSWERS, "trust": 40})
    with path.open("a") as f:
        f.write(correction_block(ghost) + correction_block(off_scale))
    result = store.read_client(C)
    assert [(p.kind, p.session) for p in result.problems] == [("invalid", 8), ("invalid", 3)]
    first_line = path.read_text().splitlines().index("[[corrections]]") + 1
    assert [p.line for p in result.problems] == [first_line, first_line + 8]
    assert "client C-7 does not have" in result.problems[0].message
    assert "new answers do not fit" in result.problems[1].message
    assert [r.status for r in result.ratings] == ["completed"] * 3 and result.corrections == []
    assert [p.kind for p in store.check()] == ["invalid", "invalid"]


# -- rename ----------------------------------------------------------------------------------------


def test_rename_keeps_every_byte_and_shows_every_session_under_the_new_code(
    store: Store, data_dir: Path
) -> None:
    old_path = store.file_for(C)
    store.add_corrections([void(store, 2)])
    old = old_path.read_bytes()
    view = store.read_client(C)
    correction = rename(reason="typed wrong")
    new_path, kept = store.rename_client(correction)
    assert new_path == store.file_for("C-07") and not old_path.exists()
    assert kept.name.startswith("C-7.toml.renamed-to-C-07-") and kept.read_bytes() == old
    blocks = old[old.index(b"\n[[sessions]]") + 1 :]
    new = new_path.read_bytes()
    assert new.endswith(blocks + correction_block(correction).encode())
    assert b'format = 2\nclient = "C-07"\n\n[[sessions]]' in new
    assert store.client_codes() == ["C-07"]
    moved = store.read_client("C-07")
    assert moved.ratings == [replace(r, client="C-07") for r in view.ratings]
    assert moved.voided == [replace(r, client="C-07") for r in view.voided]
    assert [c.describe() for c in moved.corrections][-1] == "client code C-7 renamed to C-07"
    assert store.check() == []
    (note,) = store.notes()
    assert "kept after `clients rename C-7 C-07`" in note
    (added,) = store.add([make_rating("C-07", 5)]).added
    assert added.session == 4
    # the old code is not used again by mistake: it would start another client
    with pytest.raises(ClientCodeError, match="renamed to C-07"):
        store.add([make_rating(C, 6)])
    with pytest.raises(ClientCodeError, match="renamed to C-07"):
        store.refuse_case_twin(C)
    # and renamed twice, each rename says what it did
    store.rename_client(rename("C-07", "C-017"))
    history = [c.describe() for c in store.read_client("C-017").corrections]
    assert history[-2:] == ["client code C-7 renamed to C-07", "client code C-07 renamed to C-017"]


def test_a_rename_can_be_undone_by_renaming_back(store: Store) -> None:
    view = store.read_client(C).ratings
    store.rename_client(rename(C, "C-07"))
    store.rename_client(rename("C-07", C, reason="the first code was right"))
    assert store.client_codes() == [C]
    assert store.read_client(C).ratings == view
    (added,) = store.add([make_rating(C, 5)]).added  # C-7 has its file again: not refused
    assert added.session == 4
    with pytest.raises(ClientCodeError, match="renamed to C-7"):
        store.add([make_rating("C-07", 6)])


def test_refused_renames_write_nothing(store: Store, data_dir: Path) -> None:
    store.add([make_rating("C-8")])
    store.add([make_rating("c-9")])
    before = folder_snapshot(data_dir)
    for old, new, words in [
        (C, "C-8", "cannot merge two clients yet"),
        (C, "C-9", "only in upper and lower case"),
        ("C-99", "C-98", "no ratings"),
        (C, C, "already the client's code"),
    ]:
        with pytest.raises(CorrectionError, match=words):
            store.rename_client(rename(old, new))
        assert folder_snapshot(data_dir) == before


def test_an_interrupted_rename_is_named_by_check(store: Store) -> None:
    old = store.file_for(C).read_bytes()
    store.rename_client(rename())
    store.file_for(C).write_bytes(old)  # the crash came before the old file was moved aside
    problems = store.check()
    assert problems[0].path == store.file_for(C)
    assert "was interrupted" in problems[0].message and "Move this file out" in problems[0].message
    assert all(p.kind == "duplicate-id" for p in problems)


# -- the caseload cache ----------------------------------------------------------------------------


def test_a_void_makes_the_cached_caseload_row_stale(store: Store, data_dir: Path) -> None:
    runner = CliRunner()

    def caseload(**env: str) -> dict:
        result = runner.invoke(app, ["summary", "--json"], env=env or None)
        assert result.exit_code == 0, result.output
        return {row["client"]: row for row in json.loads(result.stdout)}

    assert caseload()[C]["sessions"] == 3
    cache_file = data_dir / ".ratetool-cache" / "cache-v4.json"
    cached = cache_file.read_bytes()
    assert b'"C-7"' in cached
    stat = os.stat(store.file_for(C))
    store.add_corrections([void(store, 3)])
    assert os.stat(store.file_for(C)).st_size > stat.st_size
    assert caseload()[C]["sessions"] == 2
    assert cache_file.read_bytes() != cached
    assert caseload() == caseload(RATETOOL_NO_CACHE="1")
    assert snapshot(data_dir)  # the data is there, the cache aside
