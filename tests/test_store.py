"""The store's promise: never lose a rating.

Interface-level tests are parametrised over ``store_kind`` (``helpers.store_kit.STORE_KINDS``), so
the CSV store gets the same tests by adding one word there. Tests of the TOML file layout (bytes,
header, truncation offsets, hand edits) are named ``test_toml_*`` and run on the TOML store only.
Process tests (concurrent writers, SIGKILL) are in ``test_store_processes.py``.
"""

from __future__ import annotations

import json
import os
import re
import stat
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import Phase, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from helpers.store_kit import (
    ANSWERS,
    CET,
    CLIENT,
    STORE_KINDS,
    assert_newer_format_refused,
    chop,
    corrupt_files,
    make_rating,
    same_rating,
    snapshot,
    write_config,
)
from ratetool.cli import app
from ratetool.errors import (
    ClientCodeError,
    DamagedFileError,
    LockTimeoutError,
)
from ratetool.model import Rating, validate_client_code
from ratetool.store import LOCK_NAME, Store, open_store
from ratetool.store.toml_parse import parse_client_bytes

POSIX = os.name == "posix"
posix_only = pytest.mark.posix_only  # file modes: deselected where there are none (conftest)
ITEMS = list(ANSWERS)


@pytest.fixture(params=STORE_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def store(data_dir: Path, store_kind: str) -> Store:
    return open_store(data_dir, store_kind)


@pytest.fixture
def toml_store(data_dir: Path) -> Store:
    return open_store(data_dir, "toml")


@pytest.fixture
def cli_store(store_kind: str, config_dir: Path, data_dir: Path) -> Store:
    """config.toml chooses ``store_kind`` for the CLI; the same store, for looking at the files."""
    write_config(config_dir, store_kind)
    return open_store(data_dir, store_kind)


def cli(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input)


def rate_cli(client: str = CLIENT, answers: str = "8,9,7,10"):
    return cli("rate", client, "--answers", answers, "--yes")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def only_file(store: Store) -> Path:
    files = store.files()
    assert len(files) == 1, files
    return files[0]


# ------------------------------------------------------------------------------------------------
# 1. Round trip and session numbers
# ------------------------------------------------------------------------------------------------


def test_round_trip_numbers_sessions_per_client(store: Store, store_kind: str, data_dir: Path):
    zones = [
        UTC,
        timezone(timedelta(hours=5, minutes=45)),
        timezone(timedelta(hours=-3, minutes=-30)),
        CET,
        timezone(timedelta(hours=14)),
    ]
    a = [
        make_rating(
            "C-014", i, rated_at=datetime(2026, 1, 5 + i, 9, 5, 7, 123456 * i, tzinfo=zones[i])
        )
        for i in range(5)
    ]
    a[1] = replace(a[1], session=99, practitioner="AB", comment="Felt heard today.")
    a[2] = replace(a[2], answers={"empathy": 3, "warmth": 0, "genuineness": 10}, skipped=("trust",))
    b = [make_rating("C-020", 10 + i, practitioner="XY") for i in range(3)]

    files_before: dict[str, bytes] = {}

    def add(ratings: list[Rating]) -> list[Rating]:
        nonlocal files_before
        added = store.add(ratings).added
        after = snapshot(data_dir)
        for name, old in files_before.items():  # append-only: old bytes stay a prefix
            assert after[name].startswith(old), name
        files_before = after
        return added

    added = add([a[0]]) + add([b[0]]) + add([a[1]]) + add([b[1]]) + add([a[2], b[2], a[3]])
    added += add([a[4]])
    # Numbered per client, in the order given (the order of AddResult.added across clients is
    # not part of the interface).
    assert {r.id: (r.client, r.session) for r in added} == {
        a[0].id: ("C-014", 1), b[0].id: ("C-020", 1), a[1].id: ("C-014", 2),
        b[1].id: ("C-020", 2), a[2].id: ("C-014", 3), b[2].id: ("C-020", 3),
        a[3].id: ("C-014", 4), a[4].id: ("C-014", 5),
    }  # fmt: skip

    want_a = [replace(r, session=i + 1) for i, r in enumerate(a)]
    want_b = [replace(r, session=i + 1) for i, r in enumerate(b)]
    fresh = open_store(data_dir, store_kind)  # a new Store object reads the files, not a cache
    for client, want in (("C-014", want_a), ("C-020", want_b)):
        got = fresh.read_client(client)
        assert got.problems == []
        assert sorted(got.ratings, key=lambda r: r.session) == want
        for g, w in zip(sorted(got.ratings, key=lambda r: r.session), want):
            assert same_rating(g, w)
            assert g.rated_at.isoformat() == w.rated_at.isoformat()  # offset and microseconds
            assert g.rated_at.tzinfo is not None
            assert list(g.answers) == list(w.answers)  # item order kept
            assert type(g.skipped) is tuple and g.skipped == w.skipped
    everything = fresh.read_all()
    assert everything.problems == []
    assert sorted(r.id for r in everything.ratings) == sorted(r.id for r in a + b)
    assert fresh.client_codes() == ["C-014", "C-020"]
    assert fresh.check() == []
    assert fresh.read_client("C-999").ratings == []  # unknown client: empty, no file created
    assert fresh.read_client("C-999").problems == []


def test_toml_answers_keep_any_given_order(toml_store: Store):
    odd_order = {"trust": 1, "genuineness": 2, "empathy": 3, "warmth": 4}
    toml_store.add([make_rating(answers=odd_order)])
    [got] = toml_store.read_client(CLIENT).ratings
    assert list(got.answers.items()) == list(odd_order.items())


# ------------------------------------------------------------------------------------------------
# 2. Any text and any time zone survive write -> read (Hypothesis)
# ------------------------------------------------------------------------------------------------

NASTY = [
    '"', '"""', "'''", "\\", "\\n", "\\u0041", "\n", "\r", "\r\n", "\t", "\x00", "\x01", "\x08",
    "\x0b", "\x0c", "\x1b[31m", "\x7f", "\x85", "\u2028", "\u2029", "\ufeff", "😀", "é", "ß",
    "\u0301", "[[sessions]]\nid = \"x\"", "\n[[sessions]]\n", "answers = {}", "}", "# comment",
    "format = 2", "client = \"C-999\"", "[sessions.answers]", "\n[", "[", " = ",
]  # fmt: skip
texts = st.one_of(
    st.text(),
    st.sampled_from(NASTY),
    st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=5)), max_size=8).map("".join),
)
offsets = st.one_of(
    st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(lambda m: timedelta(minutes=m)),
    # Local mean time (e.g. Amsterdam 1890: +00:19:32) has offsets in seconds.
    st.integers(-(24 * 3600 - 1), 24 * 3600 - 1).map(lambda s: timedelta(seconds=s)),
)
moments = st.builds(
    lambda when, offset: when.replace(tzinfo=timezone(offset)),
    st.datetimes(min_value=datetime(1850, 1, 1), max_value=datetime(2200, 12, 31)),
    offsets,
)


@st.composite
def ratings(draw: st.DrawFn, client: str) -> Rating:
    skipped = draw(st.sets(st.sampled_from(ITEMS)))
    answers = {i: draw(st.integers(0, 10)) for i in ITEMS if i not in skipped}
    return Rating(
        id=draw(st.one_of(st.uuids().map(str), texts.filter(lambda t: t.strip()))),
        client=client,
        session=0,
        rated_at=draw(moments),
        instrument="checkin",
        instrument_version=draw(st.integers(1, 1000)),
        answers=answers,
        practitioner=draw(st.one_of(st.none(), texts)),
        comment=draw(st.one_of(st.none(), texts)),
        skipped=tuple(i for i in ITEMS if i in skipped),
    )


@given(first=ratings(CLIENT), second=ratings(CLIENT), other=ratings("C-020"))
# The profile's settings, without the "explain" phase: it traces every line and made shrinking a
# failure here take five minutes instead of seconds.
@settings(phases=[phase for phase in Phase if phase != Phase.explain])
def test_any_text_and_offset_round_trips(
    tmp_path: Path,
    store_kind: str,
    monkeypatch: pytest.MonkeyPatch,
    first: Rating,
    second: Rating,
    other: Rating,
):
    assume(len({first.id, second.id, other.id}) == 3)  # equal ids are a separate test
    # About text, not durability: skip disk flushes so shrinking a failure takes seconds.
    monkeypatch.setattr(os, "fsync", lambda fd: None)
    folder = tmp_path / uuid.uuid4().hex  # fixtures are shared between examples: fresh folder
    store = open_store(folder, store_kind)
    store.add([first])
    store.add([other, second])
    fresh = open_store(folder, store_kind)
    mine = fresh.read_client(CLIENT)
    assert mine.problems == []
    theirs = fresh.read_client("C-020")
    assert theirs.problems == []
    assert fresh.check() == []
    got = sorted(mine.ratings, key=lambda r: r.session) + theirs.ratings
    want = [(first, 1), (second, 2), (other, 1)]
    assert len(got) == len(want)
    for g, (w, session) in zip(got, want):
        # Empty text is stored as "not given" (None); everything else exactly as typed.
        expected = replace(
            w, session=session, comment=w.comment or None, practitioner=w.practitioner or None
        )
        assert g == expected  # every field; rated_at as the same instant
        offset = w.rated_at.utcoffset()
        if offset % timedelta(minutes=1) == timedelta(0):
            assert g.rated_at.utcoffset() == offset  # whole-minute offsets kept exactly
        assert g.rated_at.tzinfo is not None


# ------------------------------------------------------------------------------------------------
# 3. Truncation at every byte offset (TOML layout)
# ------------------------------------------------------------------------------------------------


def _three_for_truncation() -> list[Rating]:
    return [
        make_rating(CLIENT, 0, practitioner="ÅB", comment='Très "bien" 😀 \\ [[sessions]]\nx'),
        make_rating(
            CLIENT, 1, answers={"empathy": 10, "warmth": 0, "genuineness": 5}, skipped=("trust",)
        ),
        make_rating(CLIENT, 2, comment="ok", rated_at=datetime(2026, 12, 1, 8, 0, tzinfo=UTC)),
    ]


def test_toml_truncation_at_every_offset_never_misreads(toml_store: Store, tmp_path: Path):
    """Cut the file at every byte: each complete block still reads (and only complete blocks,
    exactly as written); a cut is only ever 'torn', never 'damaged'; and the torn part starts
    after the last complete block, so repair can never move a saved rating aside."""
    toml_store.add(_three_for_truncation())
    path = toml_store.file_for(CLIENT)
    full = path.read_bytes()
    stored = toml_store.read_client(CLIENT).ratings
    assert [r.session for r in stored] == [1, 2, 3]
    ends = [m.end() for m in re.finditer(rb"^answers = \{[^\n]*\}", full, re.MULTILINE)]
    header_end = re.search(rb'^client = "C-014"', full, re.MULTILINE).end()
    assert len(ends) == 3 and header_end < ends[0]

    for off in range(len(full) + 1):
        cut = full[:off]
        parsed = parse_client_bytes(path, cut, CLIENT)
        complete = sum(end <= off for end in ends)
        assert parsed.ratings == stored[:complete], off
        assert all(same_rating(g, w) for g, w in zip(parsed.ratings, stored)), off
        kinds = [p.kind for p in parsed.problems]
        assert kinds in ([], ["torn"]), (off, parsed.problems)
        anchor = ends[complete - 1] if complete else (header_end if off >= header_end else 0)
        expect_torn = cut[anchor:].strip() != b""
        assert (kinds == ["torn"]) == expect_torn, (off, cut[anchor:], parsed.problems)
        if expect_torn:
            assert parsed.torn_offset is not None
            assert parsed.torn_offset >= anchor, off  # never inside a complete block/header
            assert cut[anchor : parsed.torn_offset].strip() == b"", off
            if parsed.torn_offset > 0:  # a torn block is named by its line
                assert parsed.problems[0].line is not None, off
        else:
            assert parsed.torn_offset is None


def _repair_cycle_at(folder: Path, cut: bytes, stored: list[Rating], complete: int) -> None:
    store = open_store(folder, "toml")
    path = store.file_for(CLIENT)
    path.parent.mkdir(parents=True, exist_ok=True)
    for old in path.parent.iterdir():  # one folder for every cut (fast): start empty
        old.unlink()
    path.write_bytes(cut)
    torn = any(p.kind == "torn" for p in store.read_client(CLIENT).problems)
    if torn:
        with pytest.raises(DamagedFileError, match="check --repair"):
            store.add([make_rating(CLIENT, 9)])
        assert path.read_bytes() == cut
    done = store.repair()
    moved = corrupt_files(folder)
    # A file whose first write was torn is moved aside whole, and the empty file removed.
    left = path.read_bytes() if path.exists() else b""
    if torn:
        assert len(done) == 1 and len(moved) == 1
        assert moved[0].name.startswith(f"{path.name}.corrupt-")
        assert left + moved[0].read_bytes() == cut  # not one byte lost
        assert path.exists() == (left != b"")
    else:
        assert done == [] and moved == [] and left == cut
    # An empty file (here only one written empty on purpose) is reported, and blocks nothing.
    assert [p.kind for p in store.check()] == (["empty"] if path.exists() and not left else [])
    assert store.read_client(CLIENT).ratings == stored[:complete]
    new = store.add([make_rating(CLIENT, 9)]).added[0]
    assert new.session == complete + 1
    assert path.read_bytes().startswith(left)
    after = store.read_client(CLIENT)
    assert after.problems == [] and after.ratings == stored[:complete] + [new]


def test_toml_repair_after_truncation_keeps_every_byte(
    toml_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """For cuts at every offset of the last block and every 11th offset before it: repair moves
    exactly the torn bytes aside (remaining file + .corrupt file == the cut file), and then
    appending works with the next session number and check() is clean."""
    toml_store.add(_three_for_truncation())
    full = toml_store.file_for(CLIENT).read_bytes()
    stored = toml_store.read_client(CLIENT).ratings
    ends = [m.end() for m in re.finditer(rb"^answers = \{[^\n]*\}", full, re.MULTILINE)]
    offsets = sorted(set(range(0, ends[1], 11)) | set(range(ends[1], len(full) + 1)))
    # This test is about which bytes go where, not durability: skip the disk flushes (fast).
    monkeypatch.setattr(os, "fsync", lambda fd: None)
    for off in offsets:
        complete = sum(end <= off for end in ends)
        _repair_cycle_at(tmp_path / "cuts", full[:off], stored, complete)


def test_toml_file_saved_with_a_byte_order_mark_reads(toml_store: Store):
    """An editor that adds a byte-order mark before the header does not make the file damaged."""
    rating = make_rating(CLIENT, 0)
    toml_store.add([rating])
    path = toml_store.file_for(CLIENT)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    result = toml_store.read_client(CLIENT)
    assert result.problems == [] and [r.id for r in result.ratings] == [rating.id]


def test_toml_clean_file_is_parsed_by_one_tomllib_loads(
    toml_store: Store, monkeypatch: pytest.MonkeyPatch
):
    """A file without problems is read by one ``tomllib.loads`` of the whole file; a damaged one
    is read again block by block (one call for the whole file, one for the header, one per
    block), so its problem can be named by line."""
    import tomllib

    toml_store.add([make_rating(CLIENT, n) for n in range(3)])
    calls: list[str] = []
    real = tomllib.loads

    def spy(text: str, **kw: object) -> dict[str, object]:
        calls.append(text)
        return real(text)

    monkeypatch.setattr(tomllib, "loads", spy)
    assert len(toml_store.read_client(CLIENT).ratings) == 3
    assert len(calls) == 1 and calls[0].count("\n[[sessions]]\n") == 3
    path = toml_store.file_for(CLIENT)
    path.write_text(path.read_text().replace("session = 2", "session = 0"))
    calls.clear()
    result = toml_store.read_client(CLIENT)
    lines = path.read_text().split("\n")
    block = lines.index("session = 0") - 1  # the 1-based line of its [[sessions]]
    assert lines[block - 1] == "[[sessions]]"
    assert len(result.ratings) == 2 and [p.line for p in result.problems] == [block]
    assert len(calls) == 1 + 1 + 3


def test_toml_file_layout_is_header_then_one_block_per_rating(toml_store: Store):
    rating = make_rating(
        CLIENT,
        0,
        id="6f1c3a52-0000-4000-8000-000000000001",
        practitioner="AB",
        comment='She said "better"\nthan last week',
        answers={"empathy": 8, "warmth": 9, "genuineness": 7},
        skipped=("trust",),
    )
    toml_store.add([rating])
    path = toml_store.file_for(CLIENT)
    assert path == toml_store.data_dir / "clients" / "C-014.toml"
    first = path.read_bytes()
    assert first.decode("utf-8") == (
        "# ratetool ratings for one client: one [[sessions]] block per rating, oldest first.\n"
        "# ratetool only ever appends to this file. Answers are whole numbers on the\n"
        "# instrument's scale; a skipped item is listed under `skipped`, never stored as 0.\n"
        "format = 2\n"
        'client = "C-014"\n'
        "\n"
        "[[sessions]]\n"
        'id = "6f1c3a52-0000-4000-8000-000000000001"\n'
        "session = 1\n"
        "rated_at = 2026-11-03T10:50:00+01:00\n"
        'instrument = "checkin"\n'
        "instrument_version = 1\n"
        'practitioner = "AB"\n'
        'comment = "She said \\"better\\"\\nthan last week"\n'
        'skipped = ["trust"]\n'
        "answers = { empathy = 8, warmth = 9, genuineness = 7 }\n"
    )
    toml_store.add([make_rating(CLIENT, 1, id="second")])
    second = path.read_bytes()
    assert second.startswith(first)  # appended, header not repeated
    tail = second[len(first) :].decode("utf-8")
    assert tail.startswith('\n[[sessions]]\nid = "second"\nsession = 2\n')
    assert tail.splitlines()[-1].startswith("answers = { ")  # answers last: a cut never misreads
    assert tail.count("format =") == 0


# ------------------------------------------------------------------------------------------------
# 4. Torn tail, end to end through the CLI
# ------------------------------------------------------------------------------------------------


def test_torn_tail_end_to_end_via_cli(cli_store: Store, data_dir: Path):
    for n in (1, 2, 3):
        result = rate_cli()
        assert result.exit_code == 0, result.output
        assert f"session {n} for {CLIENT}" in result.stdout
    path = only_file(cli_store)
    torn = chop(path, 10)

    listed = cli("clients", "--json")
    assert listed.exit_code == 1, listed.output  # all it could, then the problem named
    [row] = json.loads(listed.stdout)
    assert (row["client"], row["sessions"]) == (CLIENT, 2)
    assert "1 problem" in listed.stderr and "check --repair" in listed.stderr

    before = snapshot(data_dir)
    refused = rate_cli()
    assert refused.exit_code == 1
    assert "check --repair" in refused.stderr
    assert "Nothing was written" in refused.stderr
    assert snapshot(data_dir) == before
    assert path.read_bytes() == torn

    checked = cli("check")
    assert checked.exit_code == 1
    found = re.search(re.escape(str(path)) + r", line (\d+)", checked.stderr)
    assert found, checked.stderr
    assert "check --repair" in checked.stderr
    assert snapshot(data_dir) == before

    repaired = cli("check", "--repair")
    assert repaired.exit_code == 0, repaired.output
    assert "Repaired" in repaired.stdout and "OK" in repaired.stdout
    [moved] = corrupt_files(data_dir)
    left = path.read_bytes()
    assert left + moved.read_bytes() == torn
    assert moved.parent == path.parent and moved.name.startswith(f"{path.name}.corrupt-")
    # The line named lies in the torn part that was moved aside.
    first_torn_line = left.count(b"\n") + 1
    assert first_torn_line <= int(found.group(1)) <= torn.count(b"\n") + 1

    again = rate_cli()
    assert again.exit_code == 0, again.output
    assert f"session 3 for {CLIENT}" in again.stdout
    assert path.read_bytes().startswith(left)
    ok = cli("check")
    assert ok.exit_code == 0, ok.output
    listed = cli("clients", "--json")
    assert json.loads(listed.stdout)[0]["sessions"] == 3 and listed.stderr == ""
    assert moved.read_bytes() == torn[len(left) :]  # the .corrupt file is left alone


def test_repeated_repairs_never_overwrite_a_corrupt_file(store: Store, data_dir: Path):
    """Two crashes, two repairs within the same second: two .corrupt files, the first intact."""
    store.add([make_rating(CLIENT, 0), make_rating(CLIENT, 1)])
    path = only_file(store)
    first_cut = chop(path, 9)
    assert len(store.repair()) == 1
    [first] = corrupt_files(data_dir)
    first_bytes = first.read_bytes()
    left = path.read_bytes()
    assert left + first_bytes == first_cut
    store.add([make_rating(CLIENT, 2)])
    second_cut = chop(path, 4)
    assert len(store.repair()) == 1
    moved = corrupt_files(data_dir)
    assert len(moved) == 2 and first in moved
    assert first.read_bytes() == first_bytes
    [second] = [m for m in moved if m != first]
    assert path.read_bytes() + second.read_bytes() == second_cut
    assert store.check() == []


def test_lock_timeout_writes_nothing(store: Store, data_dir: Path, monkeypatch: pytest.MonkeyPatch):
    """Another writer holding the lock too long: add() gives up with a calm message and writes
    nothing. (The wait is the store's own timeout, shortened; nothing here sleeps.)"""
    from filelock import FileLock

    import ratetool.store

    store.add([make_rating(CLIENT, 0)])
    before = snapshot(data_dir)
    monkeypatch.setattr(ratetool.store, "LOCK_TIMEOUT_SECONDS", 0.2)
    other = FileLock(data_dir / LOCK_NAME)  # another open file: conflicts like another process
    with other:
        with pytest.raises(LockTimeoutError, match="nothing was written"):
            store.add([make_rating(CLIENT, 1)])
        with pytest.raises(LockTimeoutError):
            store.repair()
    assert snapshot(data_dir) == before
    assert [r.session for r in store.add([make_rating(CLIENT, 1)]).added] == [2]


# ------------------------------------------------------------------------------------------------
# 5-7. Hand-damaged files (TOML layout)
# ------------------------------------------------------------------------------------------------


def _line_index(lines: list[bytes], text: bytes, start: int = 0) -> int:
    return next(i for i in range(start, len(lines)) if lines[i] == text)


@pytest.mark.parametrize("damage", ["syntax", "value", "unknown-key"])
def test_toml_damaged_middle_block_is_reported_not_repaired(
    toml_store: Store, data_dir: Path, damage: str
):
    r1, r2, r3 = (make_rating(CLIENT, i) for i in range(3))
    toml_store.add([r1, r2, r3])
    path = toml_store.file_for(CLIENT)
    lines = path.read_bytes().split(b"\n")
    block2 = [i for i, line in enumerate(lines) if line == b"[[sessions]]"][1]
    if damage == "syntax":  # a hand edit that breaks TOML in block 2: error on that very line
        i = _line_index(lines, b"instrument_version = 1", block2)
        lines[i] = b"instrument_version = = 1"
        expected_line = i + 1
    elif damage == "value":  # valid TOML, wrong value: reported at the block's first line
        i = _line_index(lines, b"session = 2", block2)
        lines[i] = b'session = "two"'
        expected_line = block2 + 1
    else:
        i = _line_index(lines, b"session = 2", block2)
        lines[i] = b"session = 2\nmood = 3"
        expected_line = block2 + 1
    damaged = b"\n".join(lines)
    path.write_bytes(damaged)

    result = toml_store.read_client(CLIENT)
    assert [r.id for r in result.ratings] == [r1.id, r3.id]
    [problem] = result.problems
    assert (problem.kind, problem.line, problem.path) == ("damaged", expected_line, path)
    assert not problem.repairable
    assert f"line {expected_line}" in str(problem)
    assert problem in toml_store.check()

    with pytest.raises(DamagedFileError) as refused:
        toml_store.add([make_rating(CLIENT, 5)])
    assert f"line {expected_line}" in str(refused.value)
    assert "text editor" in str(refused.value)
    assert path.read_bytes() == damaged

    assert toml_store.repair() == []
    assert path.read_bytes() == damaged
    assert corrupt_files(data_dir) == []

    repaired = cli("check", "--repair")
    assert repaired.exit_code == 1
    assert f"{path}, line {expected_line}" in repaired.stderr
    assert path.read_bytes() == damaged and corrupt_files(data_dir) == []


def test_toml_newer_format_is_refused_everywhere(toml_store: Store, data_dir: Path):
    toml_store.add([make_rating()])
    path = toml_store.file_for(CLIENT)
    path.write_bytes(path.read_bytes().replace(b"format = 2\n", b"format = 3\n", 1))
    before = snapshot(data_dir)
    operations = {
        "read_client": lambda: toml_store.read_client(CLIENT),
        "read_all": toml_store.read_all,
        "check": toml_store.check,
        "existing_ids": toml_store.existing_ids,
        "add": lambda: toml_store.add([make_rating(CLIENT, 1)]),
        "add-skip": lambda: toml_store.add([make_rating(CLIENT, 1)], skip_existing_ids=True),
        "repair": toml_store.repair,
    }
    assert_newer_format_refused(operations, path, unchanged=lambda: snapshot(data_dir) == before)
    for args in (
        ["rate", CLIENT, "--answers", "8,9,7,10", "--yes"],
        ["clients"],
        ["check", "--repair"],
    ):
        result = cli(*args)
        assert result.exit_code == 1, args
        assert "format 2" in result.stderr and "format 1" in result.stderr, args
        assert "data format 3" in result.stderr, args
    assert snapshot(data_dir) == before


def test_toml_client_mismatch_is_reported_and_blocks_appending(toml_store: Store):
    toml_store.add([make_rating()])
    path = toml_store.file_for(CLIENT)
    edited = path.read_bytes().replace(b'client = "C-014"', b'client = "C-999"', 1)
    path.write_bytes(edited)
    problems = toml_store.read_client(CLIENT).problems
    [problem] = [p for p in problems if "C-999" in p.message]
    assert problem.kind == "damaged" and problem.line == 1 and problem.path == path
    assert "C-014" in problem.message
    assert problem in toml_store.check()
    with pytest.raises(DamagedFileError, match="C-999"):
        toml_store.add([make_rating(CLIENT, 1)])
    assert toml_store.repair() == []
    assert path.read_bytes() == edited


# ------------------------------------------------------------------------------------------------
# 8. Client codes
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["C-014", "a_b-9", "x" * 64, "C", "007", "conx", "com10"])
def test_client_code_accepted(code: str):
    assert validate_client_code(code) == code


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ("../x", "'.'"),
        ("a/b", "'/'"),
        ("a\\b", "'\\\\'"),
        ("a b", "a space"),
        ("", "needed"),
        ("x" * 65, "65 characters"),
        ("con", "Windows"),
        ("NUL", "Windows"),
        ("com1", "Windows"),
        ("lpt9", "Windows"),
        ("Aux", "Windows"),
        ("C-014.toml", "'.'"),
        ("C-014\n", "'\\n'"),
        ("C\x00", "'\\x00'"),
        ("Zoë", "'ë'"),
    ],
)
def test_client_code_refused_with_reason(code: str, why: str):
    with pytest.raises(ClientCodeError) as refused:
        validate_client_code(code)
    message = str(refused.value)
    assert why in message
    assert "name" in message and "code" in message  # says why: codes, never names


@pytest.mark.parametrize("code", ["../x", "../../x", "a/b", "con", ".."])
def test_cli_refuses_unsafe_client_code_and_writes_nothing(tmp_path: Path, code: str):
    before = snapshot(tmp_path)
    result = rate_cli(code)
    assert result.exit_code == 1
    assert "name" in result.stderr and "Saved" not in result.stdout
    assert snapshot(tmp_path) == before
    assert not any(p.suffix == ".toml" for p in tmp_path.rglob("*"))


@pytest.mark.parametrize("code", ["../x", "../../escaped", "a/b", "con"])
def test_store_refuses_unsafe_client_code(store: Store, tmp_path: Path, code: str):
    """The store is the last line of defence: a caller that forgot to validate cannot make it
    write outside its folder (the client code becomes a file name in the TOML store)."""
    before = snapshot(tmp_path)
    with pytest.raises(ClientCodeError):
        store.add([make_rating(CLIENT, 0), make_rating(code, 1)])
    assert snapshot(tmp_path) == before


# ------------------------------------------------------------------------------------------------
# 9. Permissions
# ------------------------------------------------------------------------------------------------


@posix_only
@pytest.mark.parametrize("umask", [0o022, 0o002, 0o000])
def test_new_files_and_folders_are_private(store: Store, data_dir: Path, umask: int):
    old = os.umask(umask)
    try:
        store.add([make_rating("C-014", 0), make_rating("C-020", 1)])
        with store.lock():
            lock_mode = mode(data_dir / LOCK_NAME)
        chop(store.file_for("C-020"), 5)
        assert len(store.repair()) == 1
    finally:
        os.umask(old)
    assert mode(data_dir) == 0o700
    assert lock_mode == 0o600
    if (data_dir / LOCK_NAME).exists():
        assert mode(data_dir / LOCK_NAME) == 0o600
    assert store.files()
    for path in store.files():
        assert mode(path) == 0o600, path
        folder = path.parent
        while folder != data_dir.parent:
            assert mode(folder) == 0o700, folder
            folder = folder.parent
    [moved] = corrupt_files(data_dir)
    assert mode(moved) == 0o600


# ------------------------------------------------------------------------------------------------
# Durability: flushed to disk before "saved"
# ------------------------------------------------------------------------------------------------


@posix_only
def test_add_and_repair_fsync_before_returning(
    store: Store, data_dir: Path, monkeypatch: pytest.MonkeyPatch
):
    """A power cut cannot be simulated here, so watch ``os.fsync``: before add() returns, each
    file it wrote was fsynced at its final size, and the folder of a new file was fsynced (so
    the new name survives too). The same for repair: the .corrupt copy and the cut file."""
    real_fsync = os.fsync
    synced: list[tuple[int, int]] = []  # (inode, size at the moment of fsync)

    def spy(fd: int) -> None:
        real_fsync(fd)
        info = os.fstat(fd)
        synced.append((info.st_ino, info.st_size))

    monkeypatch.setattr(os, "fsync", spy)

    def assert_synced(path: Path) -> None:
        info = path.stat()
        assert (info.st_ino, info.st_size) in synced, path

    result = store.add([make_rating("C-014", 0), make_rating("C-020", 1)])
    assert result.files
    for path in result.files:
        assert_synced(path)
        assert path.parent.stat().st_ino in {ino for ino, _ in synced}  # the new name
    synced.clear()
    result = store.add([make_rating("C-014", 2)])
    for path in result.files:
        assert_synced(path)

    chop(store.file_for("C-014"), 5)
    synced.clear()
    assert len(store.repair()) == 1
    [moved] = corrupt_files(data_dir)
    assert_synced(moved)
    assert_synced(store.file_for("C-014"))


# ------------------------------------------------------------------------------------------------
# 10-12. Ids, idempotent adds, given session numbers, all-or-nothing refusal
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("second_client", ["C-014", "C-020"])
def test_duplicate_id_is_reported(store: Store, second_client: str):
    rating = make_rating(CLIENT, 0)
    store.add([rating, make_rating(CLIENT, 1)])
    store.add([replace(make_rating(second_client, 2), id=rating.id)])
    duplicates = [p for p in store.check() if p.kind == "duplicate-id"]
    assert len(duplicates) == 1
    assert rating.id in duplicates[0].message
    assert not duplicates[0].repairable


def test_skip_existing_ids_makes_add_idempotent(store: Store, data_dir: Path):
    r1, r2, r3, r4 = (make_rating(CLIENT, i) for i in range(4))
    store.add([r1, r2])
    before = snapshot(data_dir)

    again = store.add([r1, r2], skip_existing_ids=True)
    assert again.added == [] and again.files == []
    assert [r.id for r in again.skipped_existing] == [r1.id, r2.id]
    assert snapshot(data_dir) == before

    mixed = store.add([r1, r3, r2], skip_existing_ids=True)
    assert [(r.id, r.session) for r in mixed.added] == [(r3.id, 3)]
    assert [r.id for r in mixed.skipped_existing] == [r1.id, r2.id]

    twice = store.add([r4, r4], skip_existing_ids=True)  # a duplicate inside one batch
    assert [(r.id, r.session) for r in twice.added] == [(r4.id, 4)]
    assert [r.id for r in twice.skipped_existing] == [r4.id]

    elsewhere = store.add([replace(r1, client="C-020")], skip_existing_ids=True)
    assert elsewhere.added == [] and [r.id for r in elsewhere.skipped_existing] == [r1.id]

    result = store.read_all()
    assert result.problems == []
    assert sorted((r.session, r.id) for r in result.ratings) == [
        (1, r1.id), (2, r2.id), (3, r3.id), (4, r4.id)
    ]  # fmt: skip
    assert store.check() == []


def test_number_sessions_false_keeps_given_numbers(store: Store):
    given_numbers = [make_rating(CLIENT, 0, session=5), make_rating(CLIENT, 1, session=7)]
    added = store.add(given_numbers, number_sessions=False).added
    assert [r.session for r in added] == [5, 7]
    other = store.add([make_rating("C-020", 2, session=3)], number_sessions=False).added
    assert [r.session for r in other] == [3]
    assert [r.session for r in store.add([make_rating(CLIENT, 3)]).added] == [8]
    assert [r.session for r in store.add([make_rating("C-020", 4)]).added] == [4]
    got = sorted(store.read_client(CLIENT).ratings, key=lambda r: r.session)
    assert [r.session for r in got] == [5, 7, 8]
    assert [r.id for r in got[:2]] == [r.id for r in given_numbers]
    assert store.check() == []


def test_refusal_is_all_or_nothing_across_clients(store: Store, data_dir: Path):
    store.add([make_rating("C-014", 0), make_rating("C-020", 1)])
    chop(store.file_for("C-020"), 7)
    before = snapshot(data_dir)
    good, bad = make_rating("C-014", 2), make_rating("C-020", 3)
    for batch in ([good, bad], [bad, good]):
        for options in ({}, {"skip_existing_ids": True}, {"number_sessions": False}):
            with pytest.raises(DamagedFileError):
                store.add(batch, **options)
            assert snapshot(data_dir) == before, (batch, options)


def test_toml_torn_file_blocks_only_its_own_client(toml_store: Store, data_dir: Path):
    toml_store.add([make_rating("C-014", 0), make_rating("C-020", 1)])
    torn = chop(toml_store.file_for("C-020"), 7)
    added = toml_store.add([make_rating("C-014", 2)]).added
    assert [r.session for r in added] == [2]
    assert toml_store.file_for("C-020").read_bytes() == torn


def test_toml_hand_edited_last_block_is_damaged_not_torn(data_dir: Path) -> None:
    """A complete last block that was edited by hand (not cut short) is named at its line and
    never moved aside by repair."""
    store = open_store(data_dir, "toml")
    store.add([make_rating(), make_rating()])
    path = store.file_for(CLIENT)
    text = path.read_text(encoding="utf-8")
    head, sep, tail = text.rpartition("instrument_version = 1")
    path.write_text(head + "instrument_version = = 1" + tail, encoding="utf-8")
    before = path.read_bytes()
    problems = store.check()
    assert [p.kind for p in problems] == ["damaged"]
    assert problems[0].line == text[: len(head)].count("\n") + 1
    assert store.repair() == []
    assert path.read_bytes() == before
    assert len(store.read_client(CLIENT).ratings) == 1


@pytest.mark.parametrize("store_kind", STORE_KINDS)
def test_check_reports_two_ratings_with_one_session_number(store_kind: str, data_dir: Path) -> None:
    store = open_store(data_dir, store_kind)
    store.add([make_rating(session=3), make_rating(session=3)], number_sessions=False)
    problems = store.check()
    assert [p.kind for p in problems] == ["duplicate-session"]
    assert "two ratings numbered session 3" in problems[0].message


def test_a_toml_append_reuses_the_parse_of_the_same_bytes_only(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`rate` reads the client's file before the first question and again under the lock: the
    same bytes are parsed once; bytes changed in between (another window saved) are parsed
    again, so the new session number follows the other window's."""
    from ratetool.store import toml_parse

    store = open_store(data_dir, "toml")
    store.add([make_rating(CLIENT, n) for n in range(3)])
    parses: list[int] = []
    real = toml_parse.parse_client_bytes

    def counting(path: Path, data: bytes, client: str, *rules) -> toml_parse.ParsedFile:
        parses.append(len(data))
        return real(path, data, client, *rules)

    monkeypatch.setattr(toml_parse, "parse_client_bytes", counting)
    store = open_store(data_dir, "toml")
    before = store.read_client(CLIENT)
    before.ratings.clear()  # what a caller does with its copy never reaches the next read
    store.add([make_rating(CLIENT, 3)])
    assert len(parses) == 1
    assert [r.session for r in store.read_client(CLIENT).ratings] == [1, 2, 3, 4]
    assert len(parses) == 2  # the file grew: parsed anew

    open_store(data_dir, "toml").add([make_rating(CLIENT, 4)])  # another window saves
    store.add([make_rating(CLIENT, 5)])
    assert [r.session for r in store.read_client(CLIENT).ratings] == [1, 2, 3, 4, 5, 6]
