"""Benchmark ratetool against the floor of the libraries it is built on, and check the targets.

    python benchmarks/run.py [--runs 21] [--heavy-runs 5] [--keep DIR] [--only TEXT] [--quick]

Each target compares a whole ``ratetool`` process (the one installed beside this Python) with a
floor: a small script in ``benchmarks/floors/`` that does only what the chosen libraries must do
for the same job (start Python and import Typer; import the drawing stack; parse every client
file with tomllib; write the rows with ``csv`` or XlsxWriter). Command and floor run in turn,
A B A B ..., so both see the same machine; the ratio is the median of the pairs' ratios. The
light targets (start-up, summaries, appends) run in three rounds, a third of their pairs each,
one target after the other, and the heavy ones one pair a round, so that a busy spell of the
machine is shared among them. Wall time is ``time.perf_counter`` around the process; peak memory is the kernel's
account of the finished child (``os.wait4``'s ``ru_maxrss``; not measured where ``os.wait4``
is missing). Time to the first question of ``rate`` runs ``rate`` in a pseudo-terminal and stops
the clock when the question is on the screen; its floor is timed the same way, to the line the
start floor prints once Typer is imported.

The data are ``benchmarks/make_data.py``'s 1,000 clients x 100 sessions (a TOML store, and a CSV
store for the append), made once per run, or once for all runs under ``--keep DIR``.

Prints one line per target (measured, floor, ratio, target, PASS or FAIL) and one INFO line per
floor (its median and fastest run, for scale); exits 1 if any target fails.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
FLOORS = HERE / "floors"
PY = sys.executable
#: The ratetool installed beside this Python (the virtual environment's), else the one on PATH.
RATETOOL = (
    shutil.which("ratetool", path=str(Path(PY).parent)) or shutil.which("ratetool") or "ratetool"
)
ANSWERS = ["--answers", "8,9,7,10", "--yes"]
#: Where the first question of ``rate`` is on the screen: its answer prompt.
FIRST_QUESTION = b"Your answer"
FLOOR_READY = b"floor: ready"
MARKER_TIMEOUT = 120.0


@dataclass
class Sample:
    seconds: float
    #: Peak resident memory in MB, None where it cannot be measured.
    rss_mb: float | None
    status: int


def run_once(cmd: list[str], env: dict[str, str]) -> Sample:
    """Run ``cmd`` to its end, output discarded; wall time and peak memory."""
    err_file = tempfile.TemporaryFile()  # a file, not a pipe: a pipe could fill and block
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err_file
    )
    if hasattr(os, "wait4"):
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        # ru_maxrss is KiB on Linux and the BSDs, bytes on macOS.
        rss: float | None = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    else:
        proc.wait()
        seconds = time.perf_counter() - start
        rss = None
    err_file.seek(0)
    err = err_file.read().decode(errors="replace").strip()
    err_file.close()
    if proc.returncode:
        print(f"  ! {' '.join(cmd[-4:])}: exit {proc.returncode}: {err[-300:]}", file=sys.stderr)
    return Sample(seconds, rss, proc.returncode)


def run_to_marker(cmd: list[str], env: dict[str, str] | None, marker: bytes) -> Sample:
    """Start ``cmd`` at a terminal and stop the clock when ``marker`` appears on it; then stop it.

    A pseudo-terminal on POSIX (the process sees what a practitioner's terminal shows), pipes on
    Windows (input stays open, so the process waits at its first question all the same).
    """
    start = time.perf_counter()
    if sys.platform == "win32":
        proc, seen = _read_pipe_to(cmd, env, marker)
    else:
        proc, seen = _read_pty_to(cmd, env, marker)
    seconds = time.perf_counter() - start
    proc.kill()
    proc.wait()
    if marker not in seen:
        text = seen.decode(errors="replace").strip()[-300:]
        print(f"  ! {' '.join(cmd[-3:])}: {marker.decode()!r} never shown: {text}", file=sys.stderr)
        return Sample(seconds, None, proc.returncode or -1)
    return Sample(seconds, None, 0)


def _read_pty_to(
    cmd: list[str], env: dict[str, str] | None, marker: bytes
) -> tuple[subprocess.Popen[bytes], bytes]:
    import pty
    import select

    seen = b""
    main_fd, child_fd = pty.openpty()
    try:
        proc = subprocess.Popen(cmd, env=env, stdin=child_fd, stdout=child_fd, stderr=child_fd)
        os.close(child_fd)
        while marker not in seen:
            ready, _, _ = select.select([main_fd], [], [], MARKER_TIMEOUT)
            if not ready:
                break
            try:
                chunk = os.read(main_fd, 65536)
            except OSError:  # the child closed the terminal: it ended
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(main_fd)
    return proc, seen


def _read_pipe_to(
    cmd: list[str], env: dict[str, str] | None, marker: bytes
) -> tuple[subprocess.Popen[bytes], bytes]:
    seen = b""
    proc = subprocess.Popen(
        cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert proc.stdout is not None
    while marker not in seen:
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            break
        seen += chunk
    return proc, seen


def interleaved(
    a: Callable[[], Sample],
    b: Callable[[], Sample],
    runs: int,
    *,
    warmup: bool = True,
    before: Callable[[], None] | None = None,
) -> tuple[list[Sample], list[Sample]]:
    """``runs`` samples of each, A B A B ...; ``before`` runs (untimed) before each A."""
    if warmup:
        if before is not None:
            before()
        a()
        b()
    ra: list[Sample] = []
    rb: list[Sample] = []
    for _ in range(runs):
        if before is not None:
            before()
        ra.append(a())
        rb.append(b())
    return ra, rb


# -- results ---------------------------------------------------------------------------------


@dataclass
class Line:
    name: str
    floor: str
    measured: str
    floor_value: str
    ratio: str
    target: str
    #: None: information, not a target.
    ok: bool | None
    note: str = ""


def fmt_seconds(s: float) -> str:
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.2f} s" if s < 10 else f"{s:.1f} s"


def median_seconds(samples: list[Sample]) -> float:
    return statistics.median(s.seconds for s in samples)


def median_rss(samples: list[Sample]) -> float | None:
    values = [s.rss_mb for s in samples if s.rss_mb is not None]
    return statistics.median(values) if values else None


def failures(samples: list[Sample], who: str) -> str:
    bad = sorted({s.status for s in samples if s.status != 0})
    return f"{who} failed (exit {', '.join(map(str, bad))})" if bad else ""


def paired_ratio(ra: list[Sample], rb: list[Sample]) -> float:
    """The median of the ratios of the runs taken in turn (A B A B ...: ``ra[i]`` beside
    ``rb[i]``). A shared machine's speed drifts within a minute; each pair ran at about the
    same speed, so its ratio carries less of the drift than the ratio of the two medians."""
    return statistics.median(a.seconds / b.seconds for a, b in zip(ra, rb, strict=True))


def time_line(name: str, floor: str, ra: list[Sample], rb: list[Sample], limit: float) -> Line:
    a, b = median_seconds(ra), median_seconds(rb)
    note = failures(ra, "command") or failures(rb, "floor")
    ratio = paired_ratio(ra, rb)
    return Line(
        name,
        floor,
        fmt_seconds(a),
        fmt_seconds(b),
        f"{ratio:.2f}x",
        f"<= {limit:g}x",
        ratio <= limit and not note,
        note,
    )


#: A floor whose median run is this much slower than its fastest ran on a busy machine.
BUSY = 1.15


def floor_info(name: str, samples: list[Sample]) -> str:
    """The INFO line of a floor: its median (and memory), its fastest run, and a word when the
    median is more than ``BUSY`` times the fastest. The same work then took a varying time: the
    machine was busy, and on a busy machine the ratios read high (ratetool's own work, more
    computing and less loading than a floor's, loses more to a busy processor)."""
    rss = median_rss(samples)
    median = median_seconds(samples)
    fastest = min(s.seconds for s in samples)
    value = fmt_seconds(median) + (f", {rss:.0f} MB" if rss else "")
    busy = ""
    if median > BUSY * fastest:
        busy = f"; {median / fastest - 1:.0%} over its fastest run: a busy machine"
    return (
        f"INFO  floor {name}: {value} (median of {len(samples)}, fastest {fmt_seconds(fastest)}"
        f"{busy}): {FLOOR_COMMANDS[name]}"
    )


def memory_ratio_line(
    name: str, floor: str, ra: list[Sample], rb: list[Sample], limit: float
) -> Line:
    a, b = median_rss(ra), median_rss(rb)
    if a is None or b is None:
        return Line(name, floor, "n/a", "n/a", "", f"<= {limit:g}x", None, "memory not measured")
    return Line(
        name, floor, f"{a:.0f} MB", f"{b:.0f} MB", f"{a / b:.2f}x", f"<= {limit:g}x", a / b <= limit
    )


def memory_limit_line(name: str, ra: list[Sample], limit_mb: float) -> Line:
    values = [s.rss_mb for s in ra if s.rss_mb is not None]
    if not values:
        return Line(name, "-", "n/a", "", "", f"<= {limit_mb:g} MB", None, "memory not measured")
    peak = max(values)
    return Line(name, "-", f"{peak:.0f} MB", "", "", f"<= {limit_mb:g} MB", peak <= limit_mb)


# -- data ------------------------------------------------------------------------------------


@dataclass
class Store:
    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    def env(self, base: dict[str, str], **extra: str) -> dict[str, str]:
        return {
            **base,
            "RATETOOL_DATA_DIR": str(self.root / "data"),
            "RATETOOL_CONFIG_DIR": str(self.root / "config"),
            **extra,
        }


def make_store(base: Path, store: str, clients: int, sessions: int) -> Store:
    """The data folder for this size, made with make_data.py unless a finished one is there."""
    root = base / f"{store}-{clients}x{sessions}"
    done = root / "made"
    if not done.exists():
        if root.exists():
            shutil.rmtree(root)
        print(f"making {root} ...", file=sys.stderr, flush=True)
        cmd = [PY, str(HERE / "make_data.py"), str(root), "--store", store]
        cmd += ["--clients", str(clients), "--sessions", str(sessions)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        done.write_text("made by benchmarks/run.py\n", encoding="utf-8")
    return Store(root)


def empty_store(path: Path, store: str) -> Store:
    """A new, empty data folder (for append #1)."""
    if path.exists():
        shutil.rmtree(path)
    (path / "config").mkdir(parents=True)
    (path / "config" / "config.toml").write_text(
        f'store = "{store}"\npractitioner = "AB"\n', encoding="utf-8"
    )
    return Store(path)


# -- the targets -----------------------------------------------------------------------------


@dataclass
class Bench:
    base: Path
    runs: int
    heavy_runs: int
    clients: int
    sessions: int
    small: tuple[int, int]
    env0: dict[str, str]
    floor_samples: dict[str, list[Sample]] = field(default_factory=dict)
    stores: dict[str, Store] = field(default_factory=dict)
    #: The light targets' samples, gathered over the rounds: name -> (floor, limit, A, B).
    gathered: dict[str, tuple[str, float, list[Sample], list[Sample]]] = field(default_factory=dict)
    #: The heavy targets' samples (one floor each), gathered over the rounds: floor -> (A, B).
    heavy_gathered: dict[str, tuple[list[Sample], list[Sample]]] = field(default_factory=dict)

    def store(self, kind: str, size: tuple[int, int] | None = None) -> Store:
        clients, sessions = size or (self.clients, self.sessions)
        key = f"{kind}-{clients}x{sessions}"
        if key not in self.stores:
            self.stores[key] = make_store(self.base, kind, clients, sessions)
        return self.stores[key]

    @property
    def middle_client(self) -> str:
        """A client in the middle of the big store (summaries, the first question)."""
        return f"C-{self.clients // 2:04d}"

    @property
    def last_client(self) -> str:
        """The big store's last client, who gets the appended ratings."""
        return f"C-{self.clients:04d}"

    @property
    def big(self) -> Store:
        return self.store("toml")

    @property
    def scratch(self) -> Path:
        path = self.base / "scratch"
        path.mkdir(exist_ok=True)
        return path

    def record(self, floor: str, samples: list[Sample]) -> list[Sample]:
        """Keep the floor's timed samples for its INFO line."""
        self.floor_samples.setdefault(floor, []).extend(samples)
        return samples

    def gather(
        self,
        name: str,
        floor: str,
        ra: list[Sample],
        rb: list[Sample],
        limit: float,
        *,
        recorded_as: str | None = None,
    ) -> list[Line]:
        """Keep one round's samples of a light target (its line is made once every round has
        run: ``lines``); the floor's are kept for its INFO line, as ``recorded_as`` if given."""
        self.record(recorded_as or floor, rb)
        _, _, all_a, all_b = self.gathered.setdefault(name, (floor, limit, [], []))
        all_a.extend(ra)
        all_b.extend(rb)
        return []

    def lines(self) -> list[Line]:
        """The light targets' lines, from the samples of every round."""
        return [
            time_line(name, floor, ra, rb, limit)
            for name, (floor, limit, ra, rb) in self.gathered.items()
        ]

    def floor_cmd(self, script: str, *args: str) -> list[str]:
        return [PY, str(FLOORS / script), *args]

    def compare(
        self,
        name: str,
        cmd: list[str],
        floor: str,
        script: str,
        floor_args: list[str],
        env: dict[str, str],
        limit: float,
        *,
        before: Callable[[], None] | None = None,
    ) -> list[Line]:
        floor_cmd = self.floor_cmd(script, *floor_args)
        ra, rb = interleaved(
            lambda: run_once(cmd, env), lambda: run_once(floor_cmd, env), self.runs, before=before
        )
        return self.gather(name, floor, ra, rb, limit)

    # start floor ------------------------------------------------------------------------------
    def version(self) -> list[Line]:
        cmd = [RATETOOL, "--version"]
        return self.compare("ratetool --version", cmd, "start", "start.py", [], self.env, 1.15)

    def rate_help(self) -> list[Line]:
        cmd = [RATETOOL, "rate", "--help"]
        return self.compare("ratetool rate --help", cmd, "start", "start.py", [], self.env, 1.15)

    def first_question(self) -> list[Line]:
        env = self.env
        cmd = [RATETOOL, "rate", self.middle_client]
        floor_cmd = self.floor_cmd("start.py", "--mark")
        ra, rb = interleaved(
            lambda: run_to_marker(cmd, env, FIRST_QUESTION),
            lambda: run_to_marker(floor_cmd, env, FLOOR_READY),
            self.runs,
        )
        name = f"rate {self.middle_client}: first question"
        return self.gather(name, "start", ra, rb, 1.6, recorded_as="start (to its line)")

    # stack floor ------------------------------------------------------------------------------
    def summary_client_small(self) -> list[Line]:
        small = self.store("toml", self.small)
        name = f"summary C-0001, {self.small[0]} x {self.small[1]} store"
        cmd = [RATETOOL, "summary", "C-0001"]
        return self.compare(name, cmd, "stack", "stack.py", [], small.env(self.env0), 1.5)

    def summary_client(self) -> list[Line]:
        cmd = [RATETOOL, "summary", self.middle_client]
        name = f"summary {self.middle_client}, {self.clients:,} x {self.sessions} store"
        return self.compare(name, cmd, "stack", "stack.py", [], self.env, 1.5)

    def caseload_warm(self) -> list[Line]:
        # The warm-up run leaves the cache warm.
        cmd = [RATETOOL, "summary"]
        return self.compare("summary, warm cache", cmd, "stack", "stack.py", [], self.env, 1.5)

    @contextmanager
    def last_client_kept(self, store: Store) -> Iterator[None]:
        """Put the last client's TOML file back as it was once the ratings appended to it have
        been timed: with ``--keep`` the data are used again, and a client who gained two dozen
        sessions a run would make "append #100,000" an append to a file of hundreds."""
        path = store.data / "clients" / f"{self.last_client}.toml"
        before = path.read_bytes() if path.exists() else None
        try:
            yield
        finally:
            if before is not None:
                path.write_bytes(before)

    def caseload_after_rating(self) -> list[Line]:
        with self.last_client_kept(self.big):
            return self._caseload_after_rating()

    def _caseload_after_rating(self) -> list[Line]:
        env = self.env

        def rate_one() -> None:
            if run_once([RATETOOL, "rate", self.last_client, *ANSWERS], env).status:
                raise SystemExit("could not add a rating before the summary")

        cmd = [RATETOOL, "summary"]
        name = "summary, right after one new rating"
        return self.compare(name, cmd, "stack", "stack.py", [], env, 2.0, before=rate_one)

    # append -----------------------------------------------------------------------------------
    def append(self, kind: str) -> list[Line]:
        env = self.store(kind).env(self.env0)
        cmd = [RATETOOL, "rate", self.last_client, *ANSWERS]
        fresh = self.scratch / f"empty-{kind}"
        floor = f"append #1 ({kind})"

        def first_append() -> Sample:
            store = empty_store(fresh, kind)  # made anew each time: a true first append
            return run_once(cmd, store.env(self.env0))

        with self.last_client_kept(self.store(kind)):
            ra, rb = interleaved(lambda: run_once(cmd, env), first_append, self.runs)
        name = f"append, {self.clients:,} x {self.sessions} store ({kind})"
        return self.gather(name, floor, ra, rb, 1.2)

    def append_toml(self) -> list[Line]:
        return self.append("toml")

    def append_csv(self) -> list[Line]:
        return self.append("csv")

    # read, CSV and XLSX floors ----------------------------------------------------------------
    def heavy(
        self, cmd: list[str], floor: str, script: str, floor_args: list[str], env: dict[str, str]
    ) -> tuple[list[Sample], list[Sample]]:
        """This round's pairs of a heavy target; returns every round's so far (the heavy
        targets run one pair a round, in turn: ``main``)."""
        floor_cmd = self.floor_cmd(script, *floor_args)
        ra, rb = interleaved(
            lambda: run_once(cmd, env),
            lambda: run_once(floor_cmd, env),
            self.heavy_runs,
            warmup=False,
        )
        all_a, all_b = self.heavy_gathered.setdefault(floor, ([], []))
        all_a.extend(ra)
        all_b.extend(self.record(floor, rb))
        return all_a, all_b

    def caseload_no_cache(self) -> list[Line]:
        env = {**self.env, "RATETOOL_NO_CACHE": "1"}
        data = str(self.big.data)
        ra, rb = self.heavy([RATETOOL, "summary"], "read", "read.py", [data], env)
        name = "summary, RATETOOL_NO_CACHE=1"
        return [
            time_line(name, "read", ra, rb, 1.3),
            memory_limit_line(f"{name}: peak memory", ra, 200),
        ]

    def export_csv(self) -> list[Line]:
        env = {**self.env, "RATETOOL_NO_CACHE": "1"}
        out, floor_out = str(self.scratch / "export.csv"), str(self.scratch / "floor.csv")
        cmd = [RATETOOL, "export", "--format", "csv", "--output", out, "--force"]
        ra, rb = self.heavy(cmd, "csv", "csv_write.py", [str(self.big.data), floor_out], env)
        return [time_line("export --format csv, RATETOOL_NO_CACHE=1", "csv", ra, rb, 1.3)]

    def export_xlsx(self) -> list[Line]:
        out, floor_out = str(self.scratch / "export.xlsx"), str(self.scratch / "floor.xlsx")
        cmd = [RATETOOL, "export", "--format", "xlsx", "--output", out, "--force"]
        args = [str(self.big.data), floor_out]
        ra, rb = self.heavy(cmd, "xlsx", "xlsx_write.py", args, self.env)
        name = "export --format xlsx"
        return [
            time_line(name, "xlsx", ra, rb, 1.3),
            memory_ratio_line(f"{name}: peak memory", "xlsx", ra, rb, 1.3),
        ]

    @property
    def env(self) -> dict[str, str]:
        return self.big.env(self.env0)


#: (name for --only, method, heavy). A light target's method runs one round and keeps its samples
#: (``Bench.gather``; its line comes from ``Bench.lines`` after every round); a heavy one's
#: runs one round and returns the lines of every round so far.
TARGETS: list[tuple[str, Callable[[Bench], list[Line]], bool]] = [
    ("version", Bench.version, False),
    ("rate-help", Bench.rate_help, False),
    ("first-question", Bench.first_question, False),
    ("summary-client-small", Bench.summary_client_small, False),
    ("summary-client", Bench.summary_client, False),
    ("caseload-warm", Bench.caseload_warm, False),
    ("caseload-after-rating", Bench.caseload_after_rating, False),
    ("append-toml", Bench.append_toml, False),
    ("append-csv", Bench.append_csv, False),
    ("caseload-no-cache", Bench.caseload_no_cache, True),
    ("export-csv", Bench.export_csv, True),
    ("export-xlsx", Bench.export_xlsx, True),
]

FLOOR_COMMANDS = {
    "start": "python -c 'import typer' (floors/start.py)",
    "start (to its line)": "floors/start.py --mark, to its line at a terminal",
    "stack": "import typer, rich.console, rich.table, tomllib (floors/stack.py)",
    "read": "tomllib over every client file (floors/read.py)",
    "csv": "read + csv.writer, one row per session (floors/csv_write.py)",
    "xlsx": "read + XlsxWriter write_row per session + add_table (floors/xlsx_write.py)",
    "append #1 (toml)": "ratetool rate, first session of an empty TOML store",
    "append #1 (csv)": "ratetool rate, first session of an empty CSV store",
}


#: The light targets run in this many rounds (each target a few pairs a round, then the next
#: target): a busy spell of a few seconds then slows some pairs of every target, not every pair of
#: one target, and each target's median is taken over pairs from minutes apart.
ROUNDS = 3


def rounds(runs: int) -> list[int]:
    """The pairs of each round for ``runs`` pairs in all: ``ROUNDS`` rounds, one for few runs."""
    count = ROUNDS if runs >= 2 * ROUNDS else 1
    return [runs // count + (1 if i < runs % count else 0) for i in range(count)]


def print_line(line: Line, width: int) -> None:
    status = "INFO" if line.ok is None else "PASS" if line.ok else "FAIL"
    text = (
        f"{status}  {line.name:<{width}}  {line.floor:<16}  {line.measured:>9}  "
        f"{line.floor_value:>9}  {line.ratio:>6}  {line.target}"
    )
    print(text + (f"  ({line.note})" if line.note else ""), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Time ratetool against the floor of its libraries; PASS/FAIL per target.",
        epilog="Targets: " + ", ".join(name for name, _, _ in TARGETS),
    )
    parser.add_argument(
        "--runs", type=int, help="runs per command and floor, over 3 rounds (default 21)"
    )
    parser.add_argument(
        "--heavy-runs", type=int, help="runs for the no-cache summary and exports (default 5)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke test: 100 x 20 data, 3 runs, 1 heavy run"
    )
    parser.add_argument("--keep", type=Path, metavar="DIR", help="make the data here, or reuse it")
    parser.add_argument(
        "--only", action="append", metavar="TEXT", help="only targets whose name contains TEXT"
    )
    args = parser.parse_args(argv)
    runs = args.runs or (3 if args.quick else 21)
    heavy_runs = args.heavy_runs or (1 if args.quick else 5)
    if runs < 1 or heavy_runs < 1:
        parser.error("--runs and --heavy-runs must be at least 1")
    chosen = [
        t for t in TARGETS if not args.only or any(o.lower() in t[0].lower() for o in args.only)
    ]
    if not chosen:
        parser.error(f"no target matches {args.only}; targets: {[t[0] for t in TARGETS]}")
    if not shutil.which(RATETOOL):
        print("ratetool is not installed beside this Python or on PATH.", file=sys.stderr)
        return 2

    base = args.keep or Path(tempfile.mkdtemp(prefix="ratetool-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    # Measure ratetool as installed, its modules compiled (pip compiles them on install).
    env0 = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("RATETOOL_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env0.update(NO_COLOR="1", COLUMNS="100", LINES="40")
    import ratetool

    subprocess.run([PY, "-m", "compileall", "-q", str(Path(ratetool.__file__).parent)], check=False)
    subprocess.run([PY, "-m", "compileall", "-q", str(FLOORS)], check=False)

    clients, sessions = (100, 20) if args.quick else (1000, 100)
    bench = Bench(base, runs, heavy_runs, clients, sessions, (10, 20), env0)
    print(
        f"ratetool {ratetool.__version__} against its floors: {runs} runs "
        f"({heavy_runs} for the heavy ones), medians; data {clients:,} clients x {sessions} "
        f"sessions{' (--quick: a smoke test, not the targets)' if args.quick else ''}; "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        flush=True,
    )
    width = 44
    print(
        f"      {'target':<{width}}  {'against':<16}  {'measured':>9}  {'floor':>9}   ratio  limit"
    )
    lines: list[Line] = []
    try:
        light = [method for _, method, heavy in chosen if not heavy]
        for round_runs in rounds(runs) if light else []:
            bench.runs = round_runs
            for method in light:
                method(bench)
        for line in bench.lines():
            lines.append(line)
            print_line(line, width)
        heavy = [method for _, method, is_heavy in chosen if is_heavy]
        if heavy:
            # Every file in the OS cache before the first timed read.
            run_once([PY, str(FLOORS / "read.py"), str(bench.big.data)], bench.env)
        # One pair of each heavy target a round, in turn: a busy minute slows a pair or two of
        # each rather than every pair of one. Each call returns the lines of every round so far.
        bench.heavy_runs = 1
        last: list[Line] = []
        for _ in range(heavy_runs if heavy else 0):
            last = [line for method in heavy for line in method(bench)]
        for line in last:
            lines.append(line)
            print_line(line, width)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    for name, samples in bench.floor_samples.items():
        print(floor_info(name, samples))
    failed = sum(line.ok is False for line in lines)
    passed = sum(line.ok is True for line in lines)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
