"""The benchmark harness runs and its floors do what they say (no timing here: speed is measured
only by ``benchmarks/run.py``)."""

from __future__ import annotations

import csv
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
FLOORS = BENCH / "floors"


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def floors(monkeypatch: pytest.MonkeyPatch) -> dict[str, ModuleType]:
    monkeypatch.syspath_prepend(str(FLOORS))  # the CSV and XLSX floors import the read floor
    return {p.stem: load(p) for p in sorted(FLOORS.glob("*.py"))}


@pytest.fixture
def tiny_store(tmp_path: Path) -> Path:
    """2 clients x 3 sessions, written by ratetool's store through make_data.py."""
    make_data = load(BENCH / "make_data.py")
    out = tmp_path / "bench"
    assert make_data.main([str(out), "--clients", "2", "--sessions", "3"]) == 0
    return out / "data"


def test_run_help_lists_the_options_and_targets() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    for word in ("--runs", "--heavy-runs", "--quick", "--keep", "--only", "export-xlsx"):
        assert word in result.stdout


def test_only_refuses_a_name_that_matches_no_target() -> None:
    run = load(BENCH / "run.py")
    with pytest.raises(SystemExit) as exc:
        run.main(["--only", "no-such-target"])
    assert exc.value.code == 2


def test_every_floor_is_there() -> None:
    assert {p.stem for p in FLOORS.glob("*.py")} == {
        "start",
        "stack",
        "read",
        "csv_write",
        "xlsx_write",
    }


def test_read_floor_parses_every_client_file(
    floors: dict[str, ModuleType], tiny_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert floors["read"].main([str(tiny_store)]) == 0
    assert capsys.readouterr().out == "read 2 files, 6 sessions\n"


def test_csv_floor_writes_one_row_per_session(
    floors: dict[str, ModuleType], tiny_store: Path, tmp_path: Path
) -> None:
    out = tmp_path / "floor.csv"
    assert floors["csv_write"].main([str(tiny_store), str(out)]) == 0
    with out.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert [(r[1], r[2]) for r in rows] == [
        (f"C-000{c}", str(s)) for c in (1, 2) for s in (1, 2, 3)
    ]
    assert rows[0][3].startswith("2024-01-") and "T" in rows[0][3]


def test_xlsx_floor_writes_one_row_per_session_in_a_table(
    floors: dict[str, ModuleType], tiny_store: Path, tmp_path: Path
) -> None:
    import openpyxl

    out = tmp_path / "floor.xlsx"
    assert floors["xlsx_write"].main([str(tiny_store), str(out)]) == 0
    sheet = openpyxl.load_workbook(out).active
    assert sheet is not None
    assert sheet.max_row == 7
    [(_, cells)] = sheet.tables.items()
    assert cells == f"A1:{sheet.cell(1, sheet.max_column).column_letter}7"


def test_first_question_clock_stops_at_the_marker_or_reports_it_missing() -> None:
    run = load(BENCH / "run.py")
    start = [sys.executable, str(FLOORS / "start.py"), "--mark"]
    assert run.run_to_marker(start, None, run.FLOOR_READY).status == 0
    quiet = [sys.executable, "-c", "pass"]
    assert run.run_to_marker(quiet, None, run.FLOOR_READY).status != 0


def test_a_target_fails_over_its_ratio_or_when_the_command_fails() -> None:
    run = load(BENCH / "run.py")
    fast, slow = run.Sample(0.1, None, 0), run.Sample(0.2, None, 0)
    assert run.time_line("t", "f", [fast], [slow], 1.2).ok is True
    line = run.time_line("t", "f", [slow], [fast], 1.2)
    assert (line.ok, line.ratio) == (False, "2.00x")
    assert run.time_line("t", "f", [run.Sample(0.1, None, 1)], [slow], 1.2).ok is False
    assert run.time_line("t", "f", [fast], [run.Sample(0.2, None, 2)], 1.2).ok is False


def test_the_ratio_is_taken_pair_by_pair() -> None:
    """Runs taken in turn on a machine whose speed drifts (here it doubles half-way, and one
    floor run is caught by a slow moment): each pair's ratio holds, the medians' would not."""
    run = load(BENCH / "run.py")
    seconds = [(1.1, 1.0), (1.1, 1.0), (1.1, 1.5), (2.2, 2.0), (2.2, 2.0)]
    ra = [run.Sample(a, None, 0) for a, _ in seconds]
    rb = [run.Sample(b, None, 0) for _, b in seconds]
    line = run.time_line("t", "f", ra, rb, 1.15)
    assert (line.measured, line.floor_value) == ("1.10 s", "1.50 s")  # medians: 0.73x
    assert (line.ok, line.ratio) == (True, "1.10x")


def test_a_floor_line_says_when_the_machine_was_busy() -> None:
    """The same floor, run after run, takes the same time on a quiet machine: a median well over
    its fastest run says the ratios of that run read high."""
    run = load(BENCH / "run.py")
    quiet = [run.Sample(s, 19.0, 0) for s in (0.090, 0.091, 0.093, 0.095, 0.120)]
    line = run.floor_info("stack", quiet)
    assert line.startswith("INFO  floor stack: 93 ms, 19 MB (median of 5, fastest 90 ms): ")
    assert "busy" not in line
    busy = [run.Sample(s, None, 0) for s in (0.090, 0.120, 0.125, 0.130, 0.150)]
    line = run.floor_info("stack", busy)
    assert "(median of 5, fastest 90 ms; 39% over its fastest run: a busy machine)" in line


def test_the_light_targets_run_in_rounds_that_share_out_the_pairs() -> None:
    run = load(BENCH / "run.py")
    assert run.rounds(21) == [7, 7, 7]
    assert run.rounds(11) == [4, 4, 3]
    assert run.rounds(3) == [3]  # --quick: one round
    assert sum(run.rounds(31)) == 31


def test_a_light_target_gathers_its_pairs_over_the_rounds(tmp_path: Path) -> None:
    """Each round's pairs join the target's earlier ones; its line is made from all of them."""
    run = load(BENCH / "run.py")
    bench = run.Bench(tmp_path, 2, 1, 10, 20, (10, 20), {})
    one = [run.Sample(0.12, None, 0), run.Sample(0.12, None, 0)]
    floor = [run.Sample(0.10, None, 0), run.Sample(0.10, None, 0)]
    assert bench.gather("t", "stack", one, floor, 1.5) == []
    slow = [run.Sample(0.30, None, 0), run.Sample(0.30, None, 0)]  # a busy round
    assert bench.gather("t", "stack", slow, floor, 1.5) == []
    assert bench.gather("t", "stack", one, floor, 1.5) == []
    [line] = bench.lines()
    assert (line.name, line.ratio, line.ok) == ("t", "1.20x", True)
    assert len(bench.floor_samples["stack"]) == 6


def test_a_heavy_target_gathers_one_pair_a_round(tmp_path: Path) -> None:
    """The heavy targets run one pair a round, in turn: each call adds its pair to the ones
    before, and the floor's INFO line counts them all."""
    run = load(BENCH / "run.py")
    bench = run.Bench(tmp_path, 1, 1, 10, 20, (10, 20), {})
    quick = [sys.executable, "-c", "pass"]
    ra, rb = bench.heavy(quick, "start", "start.py", [], dict(run.os.environ))
    assert (len(ra), len(rb)) == (1, 1)
    ra, rb = bench.heavy(quick, "start", "start.py", [], dict(run.os.environ))
    assert (len(ra), len(rb)) == (2, 2)
    assert all(s.status == 0 for s in (*ra, *rb))
    assert len(bench.floor_samples["start"]) == 2
