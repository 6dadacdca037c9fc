"""Benchmark ratetool as whole processes and check the performance targets.

    python benchmarks/run.py [--runs 7] [--keep DIR] [--only NAME ...]

Every measurement runs a real ``ratetool`` process (the one on PATH beside this Python). Commands
that are compared are run in turn, A B A B ..., so both see the same machine; the ratio is taken
pair by pair and its median reported. Wall time comes from ``time.perf_counter`` around the
process, peak memory from the kernel's accounting of the finished child (``os.wait4``'s
``ru_maxrss``). Data folders of 1,000 clients x 100 sessions are made once per store format with
``benchmarks/make_data.py`` (under ``--keep DIR`` to reuse them between runs).

Prints one line per target: the measured median, the target, and PASS or FAIL; exits 1 if any
target fails.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
RATETOOL = str(shutil.which("ratetool", path=str(BIN)) or shutil.which("ratetool") or "ratetool")
PY = sys.executable


@dataclass
class Run:
    seconds: float
    max_rss_mb: float
    status: int


def run_once(cmd: list[str], env: dict[str, str], stdin: int | None = subprocess.DEVNULL) -> Run:
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss is KiB on Linux, bytes on macOS.
    rss = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    return Run(seconds, rss, proc.returncode)


def series(cmd: list[str], env: dict[str, str], runs: int, warmup: int = 1) -> list[Run]:
    for _ in range(warmup):
        run_once(cmd, env)
    return [run_once(cmd, env) for _ in range(runs)]


def paired(
    a: list[str], b: list[str], env: dict[str, str], runs: int
) -> tuple[list[Run], list[Run]]:
    run_once(a, env)
    run_once(b, env)
    ra: list[Run] = []
    rb: list[Run] = []
    for _ in range(runs):
        ra.append(run_once(a, env))
        rb.append(run_once(b, env))
    return ra, rb


def median(values: list[float]) -> float:
    return statistics.median(values)


@dataclass
class Result:
    name: str
    measured: str
    target: str
    #: None: shown for information, not a target.
    ok: bool | None


def make_data(base: Path, store: str) -> Path:
    out = base / f"bench-{store}"
    if not (out / "data").exists():
        if out.exists():
            shutil.rmtree(out)
        subprocess.run([PY, str(HERE / "make_data.py"), str(out), "--store", store], check=True)
    return out


def env_for(root: Path | None, base_env: dict[str, str]) -> dict[str, str]:
    env = dict(base_env)
    if root is not None:
        env["RATETOOL_DATA_DIR"] = str(root / "data")
        env["RATETOOL_CONFIG_DIR"] = str(root / "config")
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="ratetool performance targets")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="folder for the synthetic data (reused)")
    parser.add_argument("--stores", nargs="+", default=["toml", "csv"])
    args = parser.parse_args(argv)

    base = args.keep or Path(tempfile.mkdtemp(prefix="ratetool-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    # Measure ratetool as installed: compiled modules reused (pip compiles them on install; an
    # environment that forbids writing them would time the compiler instead).
    base_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("RATETOOL_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    import ratetool

    subprocess.run([PY, "-m", "compileall", "-q", str(Path(ratetool.__file__).parent)], check=False)
    base_env["NO_COLOR"] = "1"
    base_env["COLUMNS"] = "100"
    results: list[Result] = []
    n = args.runs

    def ratio_target(
        name: str, a: list[str], b: list[str], limit: float, env: dict[str, str]
    ) -> None:
        ra, rb = paired(a, b, env, n)
        ratios = [x.seconds / y.seconds for x, y in zip(ra, rb)]
        r = median(ratios)
        results.append(
            Result(
                name,
                f"{r:.2f}x ({median([x.seconds for x in ra]) * 1000:.0f} ms vs "
                f"{median([y.seconds for y in rb]) * 1000:.0f} ms)",
                f"<= {limit:.1f}x",
                r <= limit,
            )
        )

    def abs_target(
        name: str, cmd: list[str], seconds: float, env: dict[str, str], mb: float | None = None
    ) -> None:
        runs = series(cmd, env, n)
        bad = [r.status for r in runs if r.status != 0]
        t = median([r.seconds for r in runs])
        m = max(r.max_rss_mb for r in runs)
        ok = t <= seconds and not bad and (mb is None or m <= mb)
        text = f"{t:.3f} s, {m:.0f} MB peak" + (f" (exit {bad[0]})" if bad else "")
        target = f"<= {seconds:g} s" + (f", <= {mb:g} MB" if mb else "")
        results.append(Result(name, text, target, ok))

    # -- start-up ------------------------------------------------------------------------------
    empty = base / "empty"
    if empty.exists():
        shutil.rmtree(empty)
    (empty / "data").mkdir(parents=True)
    (empty / "config").mkdir()
    env0 = env_for(empty, base_env)
    typer_import = [PY, "-c", "import typer"]
    ratio_target(
        "ratetool --version vs import typer", [RATETOOL, "--version"], typer_import, 1.2, env0
    )
    ratio_target(
        "ratetool rate --help vs import typer",
        [RATETOOL, "rate", "--help"],
        typer_import,
        1.6,
        env0,
    )
    # Time to the first question: stdin is empty, so rate prints the intro and the first
    # question, meets end of input and stops without saving.
    ratio_target(
        "rate: first question vs import typer",
        [RATETOOL, "rate", "C-0001"],
        typer_import,
        1.6,
        env0,
    )

    answers = ["--answers", "8,9,7,10", "--yes"]
    for store in args.stores:
        root = make_data(base, store)
        env = env_for(root, base_env)
        fresh = base / f"fresh-{store}"
        if fresh.exists():
            shutil.rmtree(fresh)
        (fresh / "config").mkdir(parents=True)
        (fresh / "config" / "config.toml").write_text(f'store = "{store}"\n', encoding="utf-8")
        env_fresh = env_for(fresh, base_env)
        # Appending to a data folder of 100,000 sessions against appending to an empty one,
        # side by side (each run appends one more session to each).
        ra, rb = [], []
        run_once([RATETOOL, "rate", "C-0001", *answers], env)
        run_once([RATETOOL, "rate", "C-0001", *answers], env_fresh)
        for _ in range(n):
            ra.append(run_once([RATETOOL, "rate", "C-0001", *answers], env))
            rb.append(run_once([RATETOOL, "rate", "C-0001", *answers], env_fresh))
        r = median([x.seconds / y.seconds for x, y in zip(ra, rb)])
        results.append(
            Result(
                f"[{store}] append to 100,000 vs to empty",
                f"{r:.2f}x ({median([x.seconds for x in ra]) * 1000:.0f} ms vs "
                f"{median([y.seconds for y in rb]) * 1000:.0f} ms)",
                "<= 1.2x",
                r <= 1.2 and all(x.status == 0 for x in ra + rb),
            )
        )
        abs_target(
            f"[{store}] summary (caseload, 100,000)", [RATETOOL, "summary"], 1.0, env, mb=200
        )
        abs_target(f"[{store}] summary C-0500", [RATETOOL, "summary", "C-0500"], 0.2, env)
        # Not a target: the same without the client's cached summary (the first view after a
        # rating works it out from the file).
        runs = series([RATETOOL, "summary", "C-0500"], {**env, "RATETOOL_NO_CACHE": "1"}, n)
        results.append(
            Result(
                f"[{store}] summary C-0500, not cached",
                f"{median([r.seconds for r in runs]):.3f} s",
                "none (first view after a rating)",
                None,
            )
        )
        out = base / f"export-{store}"
        out.mkdir(exist_ok=True)
        abs_target(
            f"[{store}] export csv (100,000)",
            [RATETOOL, "export", "--format", "csv", "--output", str(out / "x.csv"), "--force"],
            1.5,
            env,
        )
        abs_target(
            f"[{store}] export xlsx (100,000)",
            [RATETOOL, "export", "--format", "xlsx", "--output", str(out / "x.xlsx"), "--force"],
            10.0,
            env,
        )

    baseline = median([r.seconds for r in series(typer_import, env0, n)])
    width = max(len(r.name) for r in results)
    print(
        f"\nratetool performance targets ({n} runs each, medians; {sys.platform}, "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}; "
        f"python -c 'import typer' takes {baseline * 1000:.0f} ms here)"
    )
    for r in results:
        status = "INFO" if r.ok is None else "PASS" if r.ok else "FAIL"
        print(f"{status}  {r.name:<{width}}  {r.measured:<34}  target {r.target}")
    failed = sum(r.ok is False for r in results)
    passed = sum(r.ok is True for r in results)
    print(f"{passed} passed, {failed} failed")
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
