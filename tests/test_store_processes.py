"""The store under real processes: concurrent writers and a writer killed mid-loop.

Writers are ``tests/helpers/append_loop.py`` (store API in a loop, or ``ratetool rate`` in a
loop with --cli). Starts are synchronised with a pipe barrier (each writer prints ``ready`` and
waits for a line on stdin) and progress is read from the writers' stdout: no sleeping.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers.store_kit import CLIENT, STORE_KINDS, corrupt_files, make_rating, write_config
from ratetool.cli import app
from ratetool.errors import DamagedFileError
from ratetool.store import Store, open_store

HELPER = Path(__file__).parent / "helpers" / "append_loop.py"
#: Appends per writer through the store API, as the check-in issue asks: 2 x 200 to one client.
#: Each append reads the client file (like `rate`) and parses it again under the lock.
API_APPENDS = 200
#: ``ratetool rate`` processes per writer (each costs ~0.5 s of start-up).
CLI_APPENDS = 6
#: Saves to see before killing the writer.
SAVES_BEFORE_KILL = 30
#: Safety net only (never used to synchronise): kill a writer that hangs.
HANG_SECONDS = 120


@pytest.fixture(params=STORE_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    return request.param


def start_writer(data_dir: Path, kind: str, count: int, *flags: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(HELPER), str(data_dir), kind, CLIENT, str(count), *flags],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ,
    )


def watchdog(procs: list[subprocess.Popen[str]]) -> threading.Timer:
    """Kill the writers if the test hangs, so it fails instead of blocking forever."""
    timer = threading.Timer(HANG_SECONDS, lambda: [p.kill() for p in procs if p.poll() is None])
    timer.daemon = True
    timer.start()
    return timer


def release_together(procs: list[subprocess.Popen[str]]) -> None:
    """Pipe barrier: wait until every writer is ready, then let them all go."""
    for proc in procs:
        line = proc.stdout.readline()
        assert line == "ready\n", (line, proc.stderr.read() if proc.poll() is not None else "")
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()


def parse_saved(lines: list[str]) -> list[tuple[int, str]]:
    saved = []
    for line in lines:
        word, session, rid = line.split()
        assert word == "saved", line
        saved.append((int(session), rid))
    return saved


def run_two_writers(
    data_dir: Path, kind: str, count: int, *flags: str
) -> list[list[tuple[int, str]]]:
    procs = [start_writer(data_dir, kind, count, "--barrier", *flags) for _ in range(2)]
    timer = watchdog(procs)
    try:
        release_together(procs)
        outputs = [proc.communicate() for proc in procs]
    finally:
        timer.cancel()
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
    for proc, (_out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err
        assert err == "", err
    return [parse_saved(out.splitlines()) for out, _ in outputs]


def assert_sessions_exactly(store: Store, total: int) -> list:
    result = store.read_client(CLIENT)
    assert result.problems == []
    sessions = sorted(r.session for r in result.ratings)
    assert sessions == list(range(1, total + 1))  # each number exactly once, none missing
    assert len({r.id for r in result.ratings}) == total
    assert store.check() == []
    return result.ratings


# ------------------------------------------------------------------------------------------------
# 13. Concurrent writers
# ------------------------------------------------------------------------------------------------


def test_two_processes_append_to_one_client_through_the_store(data_dir: Path, store_kind: str):
    per_writer = run_two_writers(data_dir, store_kind, API_APPENDS)
    reported = [item for saved in per_writer for item in saved]
    assert len(reported) == 2 * API_APPENDS
    for saved in per_writer:  # each writer's sessions count up
        sessions = [s for s, _ in saved]
        assert sessions == sorted(sessions) and len(set(sessions)) == len(sessions)
    ratings = assert_sessions_exactly(open_store(data_dir, store_kind), 2 * API_APPENDS)
    assert {(r.session, r.id) for r in ratings} == set(reported)  # what was said is what is kept


def test_two_lanes_of_cli_processes_append_to_one_client(
    data_dir: Path, config_dir: Path, store_kind: str
):
    write_config(config_dir, store_kind)
    per_writer = run_two_writers(data_dir, store_kind, CLI_APPENDS, "--cli")
    reported = sorted(s for saved in per_writer for s, _ in saved)
    assert reported == list(range(1, 2 * CLI_APPENDS + 1))  # the CLI said each number once
    assert_sessions_exactly(open_store(data_dir, store_kind), 2 * CLI_APPENDS)


# ------------------------------------------------------------------------------------------------
# 14. A writer killed with SIGKILL
# ------------------------------------------------------------------------------------------------


def cli(*args: str):
    return CliRunner().invoke(app, list(args))


def repair_cycle_via_cli(store: Store, data_dir: Path, path: Path) -> bytes:
    """A torn tail: check names it, rate is refused (file unchanged), check --repair moves the
    torn bytes to a new .corrupt file (no byte lost); returns what is left in the file."""
    torn = path.read_bytes()
    problems = store.check()
    assert problems and all(p.kind == "torn" for p in problems), problems
    checked = cli("check")
    assert checked.exit_code == 1 and str(path) in checked.stderr
    with pytest.raises(DamagedFileError, match="check --repair"):
        store.add([make_rating(CLIENT, 1)])
    refused = cli("rate", CLIENT, "--answers", "8,9,7,10", "--yes")
    assert refused.exit_code == 1 and "check --repair" in refused.stderr
    assert path.read_bytes() == torn
    already = set(corrupt_files(data_dir))
    repaired = cli("check", "--repair")
    assert repaired.exit_code == 0, repaired.output
    [moved] = [p for p in corrupt_files(data_dir) if p not in already]
    left = path.read_bytes()
    assert left + moved.read_bytes() == torn
    assert store.check() == []
    return left


@pytest.mark.posix_only  # SIGKILL
def test_sigkilled_writer_loses_no_reported_rating(
    data_dir: Path, config_dir: Path, tmp_path: Path, store_kind: str
):
    write_config(config_dir, store_kind)
    with start_writer(data_dir, store_kind, 0) as proc:  # 0: append until killed
        timer = watchdog([proc])
        try:
            lines = []
            while len(lines) < SAVES_BEFORE_KILL:
                line = proc.stdout.readline()
                assert line, f"writer stopped early: {proc.stderr.read()}"
                lines.append(line)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            lines += proc.stdout.read().splitlines()  # saves reported before the kill landed
        finally:
            timer.cancel()
    assert proc.returncode == -signal.SIGKILL
    reported = parse_saved(lines)
    assert [s for s, _ in reported] == list(range(1, len(reported) + 1))

    store = open_store(data_dir, store_kind)
    [path] = store.files()
    result = store.read_client(CLIENT)
    assert all(p.kind == "torn" for p in result.problems), result.problems
    kept = {r.id: r.session for r in result.ratings}
    for session, rid in reported:
        assert kept.get(rid) == session, (session, rid)  # every reported save is readable
    # At most one more: saved, killed before it could say so.
    assert len(reported) <= len(kept) <= len(reported) + 1
    assert sorted(kept.values()) == list(range(1, len(kept) + 1))
    if result.problems:  # a kill cannot be made to tear a write, but if it did, repair it
        repair_cycle_via_cli(store, data_dir, path)

    # Make the torn case by hand: the first half of the bytes one more append would add (taken
    # from the same store kind in a scratch folder, so this works for every layout).
    scratch = open_store(tmp_path / "scratch", store_kind)
    scratch.add([make_rating(CLIENT, 0)])
    [scratch_path] = scratch.files()
    size = scratch_path.stat().st_size
    scratch.add([make_rating(CLIENT, 1, comment="half of this block is lost in the crash")])
    record = scratch_path.read_bytes()[size:]
    intact = path.read_bytes()
    with open(path, "ab") as fh:
        fh.write(record[: len(record) // 2])

    left = repair_cycle_via_cli(store, data_dir, path)
    assert left.startswith(intact) and left[len(intact) :].strip() == b""  # at most a blank line
    assert {r.id: r.session for r in store.read_client(CLIENT).ratings} == kept
    again = cli("rate", CLIENT, "--answers", "8,9,7,10", "--yes")
    assert again.exit_code == 0, again.output
    assert f"session {len(kept) + 1} for {CLIENT}" in again.stdout
    assert path.read_bytes().startswith(intact)
    assert_sessions_exactly(store, len(kept) + 1)
