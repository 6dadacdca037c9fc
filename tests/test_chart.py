"""``ratetool chart CLIENT``: a line chart in the terminal (plotext).

Exact bytes depend on plotext's drawing, so these tests check the structure: the title, the
legend (a letter per series, so it reads without colour), the `low` threshold line and its
label, the width, and that colour appears only when it is allowed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ratetool.cli import app

runner = CliRunner()
ANSI = re.compile(r"\x1b\[")
LEGEND = "E Empathy W Warmth G Genuineness T Trust O Overall"


def run(*args: str, ok: bool = True):
    result = runner.invoke(app, list(args))
    if ok:
        assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return result


def rate(client: str, answers: str, day: str, instrument: str | None = None) -> None:
    args = ["rate", client, "--answers", answers, "--date", day, "--yes"]
    if instrument:
        args += ["--instrument", instrument]
    run(*args)


@pytest.fixture
def rupture() -> None:
    for day, answers in enumerate(
        ["9,9,9,9", "10,10,9,10", "6,8,7,5", "7,9,8,7", "9,9,9,8", "10,10,9,10"], 1
    ):
        rate("C-001", answers, f"2025-03-{day:02d}")


def plot_lines(text: str) -> list[str]:
    """The lines of the plot area: those with the y axis (a tick or the frame)."""
    return [line for line in text.splitlines() if re.match(r"^\s*[\d.]*[┤│]", line)]


@pytest.mark.parametrize("width", [80, 60, 100])
def test_chart_structure_fits_the_width_without_colour(rupture, width: int) -> None:
    text = run("chart", "C-001", "--width", str(width)).stdout
    assert not ANSI.search(text)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width
    assert "C-001: checkin (Session check-in, 0-10), 6 sessions" in lines[0]
    assert "session" in text  # the x axis label
    start = next(i for i, line in enumerate(lines) if line.startswith("E Empathy   W Warmth"))
    legend = " ".join(" ".join(lines[start:]).split())
    assert LEGEND in legend
    assert "--- low: 90% of the scale = 9" in legend
    # the threshold is drawn: a run of dashes across the plot, on the row ticked 9
    row = next(line for line in plot_lines(text) if line.lstrip().startswith("9┤"))
    assert row.count("-") >= width // 4
    # every series has its letter at the sessions (here all four dimensions differ somewhere)
    plot = "\n".join(plot_lines(text))
    for letter in "EWGTO":
        assert letter in plot
    # the x axis names the sessions
    axis = next(line for line in lines if re.match(r"^\s+1\s+2\s+3", line))
    assert axis.split() == ["1", "2", "3", "4", "5", "6"]


def test_chart_height(rupture) -> None:
    short = run("chart", "C-001", "--width", "80", "--height", "10").stdout
    tall = run("chart", "C-001", "--width", "80", "--height", "30").stdout
    assert len(short.splitlines()) < len(tall.splitlines())
    assert len(plot_lines(short)) <= 10


def test_chart_default_width_follows_the_terminal(rupture, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "72")
    text = run("chart", "C-001").stdout
    assert max(len(line) for line in text.splitlines()) <= 72


def test_chart_colour_only_when_allowed(rupture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("FORCE_COLOR", "1")
    text = run("chart", "C-001", "--width", "80").stdout
    assert ANSI.search(text)
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text)
    assert LEGEND in " ".join(plain.split())  # the letters still tell the lines apart


@pytest.mark.parametrize(
    "env",
    [{}, {"FORCE_COLOR": "1", "TERM": "dumb"}, {"FORCE_COLOR": "1", "NO_COLOR": "1"}],
    ids=["piped", "FORCE_COLOR with TERM=dumb", "FORCE_COLOR with NO_COLOR"],
)
def test_chart_colour_follows_rich(rupture, monkeypatch: pytest.MonkeyPatch, env) -> None:
    """No colour where rich would not colour: output that is not a terminal, TERM=dumb, NO_COLOR."""
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "xterm-256color")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    text = run("chart", "C-001", "--width", "80").stdout
    assert not ANSI.search(text)
    assert LEGEND in " ".join(text.split())


def test_configured_low_threshold_moves_the_line(rupture, config_dir: Path) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text("[alerts]\nlow = 75\n", encoding="utf-8")
    text = run("chart", "C-001", "--width", "80").stdout
    assert "--- low: 75% of the scale = 7.5" in " ".join(text.split())


def test_chart_per_instrument() -> None:
    rate("C-001", "9,9,9,9", "2025-03-01")
    rate("C-001", "4,4,4,4,5,5,5,5,2,2,2,1", "2025-03-08", instrument="core")
    rate("C-001", "10,9,9,9", "2025-03-15")
    default = run("chart", "C-001", "--width", "80").stdout  # the latest session's instrument
    assert "C-001: checkin (Session check-in, 0-10), 2 sessions" in default
    assert "Also rated with core" in default
    assert "ratetool chart C-001 --instrument core" in default
    core = run("chart", "C-001", "--instrument", "core", "--width", "80").stdout
    assert "C-001: core (Relationship questionnaire, 1-5), 1 session" in core
    assert "low: 90% of the scale = 4.6" in " ".join(core.split())
    assert "Also rated with checkin" in core
    assert max(len(line) for line in core.splitlines()) <= 80


def test_chart_errors() -> None:
    rate("C-001", "9,9,9,9", "2025-03-01")
    missing = run("chart", "C-999", ok=False)
    assert missing.exit_code == 1 and "No ratings for client C-999" in missing.stderr
    other = run("chart", "C-001", "--instrument", "core", ok=False)
    assert other.exit_code == 1
    assert "no ratings with instrument 'core'" in other.stderr and "checkin" in other.stderr
    assert run("chart", "C-001", "--width", "20", ok=False).exit_code == 2
    assert run("chart", "../x", ok=False).exit_code == 1


def test_chart_markers_are_distinct() -> None:
    from ratetool.render import chart_markers

    assert chart_markers(["Empathy", "Warmth", "Genuineness", "Trust", "Overall"]) == list("EWGTO")
    assert chart_markers(["Bond", "Boundaries", "Belief", "Overall"]) == ["B", "b", "1", "O"]
    assert len(set(chart_markers(["-x", "-y", "", ""]))) == 4


def test_chart_does_not_load_plotext_until_asked() -> None:
    import subprocess
    import sys

    code = "import sys, ratetool.cli; print('plotext' in sys.modules, 'rich' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
