"""``ratetool chart CLIENT``: a line chart in the terminal (plotext).

Exact bytes depend on plotext's drawing, so these tests check the structure: the title, the
legend, the cutoff line and its label, that every row's label is exactly the value drawn on it at
every height, that no dimension can vanish with --dimensions, the width, and that colour appears
only when it is allowed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ratetool.cli import app

runner = CliRunner()
ANSI = re.compile(r"\x1b\[")
LEGEND = "O Overall % max x below the cutoff"
CUTOFF = "--- cutoff 90% (the low alert, on overall % max)"


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


def rows(text: str) -> list[tuple[float | None, str]]:
    """The rows of one plot, top first: (the label beside the row or None, what is drawn on it)."""
    out = []
    for line in plot_lines(text):
        label, _, drawn = re.match(r"^\s*([\d.]*)([┤│])(.*)$", line).groups()  # type: ignore[union-attr]
        out.append((float(label) if label else None, drawn))
    return out


def row_values(text: str) -> list[float]:
    """The value of every row, top first, worked out from the labels alone: they must be evenly
    spaced (one step per row), so every unlabelled row has an exact value too."""
    found = rows(text)
    labelled = [(i, label) for i, (label, _) in enumerate(found) if label is not None]
    assert len(labelled) >= 2, text
    (i0, v0), (i1, v1) = labelled[0], labelled[1]
    step = (v0 - v1) / (i1 - i0)
    for i, label in labelled:
        assert label == pytest.approx(v0 - (i - i0) * step), f"row {i} labelled {label}\n{text}"
    return [v0 - (i - i0) * step for i in range(len(found))]


def nearest_row(values: list[float], value: float) -> int:
    """The row a value belongs on: the nearest one (a half step rounds up, as plotext draws)."""
    return min(range(len(values)), key=lambda i: (abs(values[i] - value), -values[i]))


@pytest.mark.parametrize("width", [60, 80, 120])
def test_chart_structure_fits_the_width_without_colour(rupture, width: int) -> None:
    text = run("chart", "C-001", "--width", str(width)).stdout
    assert not ANSI.search(text)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width
    title = " ".join(" ".join(lines[:2]).split())
    assert title.startswith("C-001: checkin (Session check-in, 0-10), overall % max, 6 sessions")
    assert "session" in text  # the x axis label
    start = next(i for i, line in enumerate(lines) if line.startswith("O Overall % max"))
    legend = " ".join(" ".join(lines[start:]).split())
    assert LEGEND in legend and CUTOFF in legend
    # the cutoff is drawn: a run of dashes across the plot, on the row labelled 90
    values = row_values(text)
    drawn = [d for _, d in rows(text)]
    dashed = [i for i, d in enumerate(drawn) if d.count("-") >= width // 4]
    assert [values[i] for i in dashed] == [90]
    # sessions at or above the cutoff are O, those below x (sessions 3, 4 and 5: 65, 77.5, 87.5)
    plot = "".join(drawn)
    assert plot.count("O") == 3 and plot.count("x") == 3
    # the x axis names the sessions
    axis = next(line for line in lines if re.match(r"^\s+1\s+2\s+3", line))
    assert axis.split() == ["1", "2", "3", "4", "5", "6"]


POMPS = [100.0, 97.5, 90.0, 87.5, 80.0, 77.5, 62.5, 50.0, 42.5, 5.0]


@pytest.mark.parametrize("height", [8, 9, 10, 12, 16, 20, 25, 40])
@pytest.mark.parametrize("values", [[90.0, 80.0], POMPS[:6], POMPS], ids=["80-90", "high", "all"])
def test_every_row_label_is_exact_at_every_height(height: int, values: list[float]) -> None:
    """Each labelled row is exactly its value, rows are evenly spaced, the cutoff is on the row of
    90, and every point is on the row nearest its value, at every height (the plot is taller than
    asked rather than coarser than 10 percentage points a row)."""
    from ratetool.render.chart import chart_text

    text = chart_text(
        title="t",
        sessions=list(range(1, len(values) + 1)),
        series=[("Overall % max", values)],
        threshold=(90.0, "cutoff 90%"),
        y_range=(50.0, 100.0),
        width=80,
        height=height,
        colour=False,
    )
    row_value = row_values(text)
    drawn = [d for _, d in rows(text)]
    assert abs(row_value[0] - row_value[1]) <= 10
    assert len(drawn) <= max(height - 4, 11 - min([*values, 50]) // 10)  # 10 points a row
    assert [row_value[i] for i, d in enumerate(drawn) if "-" in d] == [90]
    expected = [0] * len(drawn)
    for v in values:
        expected[nearest_row(row_value, v)] += 1
    assert [d.count("O") + d.count("x") for d in drawn] == expected, text
    for i, d in enumerate(drawn):  # x only below the cutoff, O only at or above it
        below = [v for v in values if v < 90 and nearest_row(row_value, v) == i]
        assert d.count("x") == len(below), text


def test_at_the_minimum_height_80_and_the_cutoff_at_90_are_on_different_rows(rupture) -> None:
    rate("C-002", "8,8,8,8", "2025-03-01")  # 80%
    rate("C-002", "9,9,9,9", "2025-03-08")  # 90%
    text = run("chart", "C-002", "--width", "60", "--height", "8").stdout
    by_label = {label: drawn for label, drawn in rows(text) if label is not None}
    assert "x" in by_label[80] and "-" not in by_label[80]
    assert "O" in by_label[90] and "-" in by_label[90]
    assert row_values(text)  # evenly spaced, exact labels


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
    assert LEGEND in " ".join(plain.split())  # the markers still tell the points apart
    assert max(len(line) for line in plain.splitlines()) <= 80
    panels = run("chart", "C-001", "--width", "80", "--dimensions").stdout
    assert ANSI.search(panels)
    plain = re.sub(r"\x1b\[[0-9;]*m", "", panels)
    assert max(len(line) for line in plain.splitlines()) <= 80


@pytest.mark.parametrize(
    "env",
    [{}, {"FORCE_COLOR": "1", "TERM": "dumb"}, {"FORCE_COLOR": "1", "NO_COLOR": "1"}],
    ids=["piped", "FORCE_COLOR with TERM=dumb", "FORCE_COLOR with NO_COLOR"],
)
@pytest.mark.parametrize("extra", [[], ["--dimensions"]], ids=["overall", "dimensions"])
def test_chart_colour_follows_rich(
    rupture, monkeypatch: pytest.MonkeyPatch, env, extra: list[str]
) -> None:
    """No colour where rich would not colour: output that is not a terminal, TERM=dumb, NO_COLOR."""
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "xterm-256color")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    text = run("chart", "C-001", "--width", "80", *extra).stdout
    assert not ANSI.search(text)
    assert CUTOFF in " ".join(text.split())


def test_configured_low_threshold_moves_the_line(rupture, config_dir: Path) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text("[alerts]\nlow = 75\n", encoding="utf-8")
    text = run("chart", "C-001", "--width", "80").stdout
    assert "--- cutoff 75% (the low alert, on overall % max)" in " ".join(text.split())
    values = row_values(text)
    assert [values[i] for i, (_, d) in enumerate(rows(text)) if "---" in d] == [75]
    assert "".join(d for _, d in rows(text)).count("x") == 1  # 65% only


def test_dimensions_none_can_vanish(monkeypatch: pytest.MonkeyPatch) -> None:
    """All four dimensions on the same values: each still has its own panel with its letter at
    every session, then overall with the cutoff."""
    for day, answers in enumerate(["9,9,9,9", "8,8,8,8", "10,10,10,10"], 1):
        rate("C-001", answers, f"2025-03-{day:02d}")
    for width in (60, 80, 120):
        text = run("chart", "C-001", "--width", str(width), "--dimensions").stdout
        lines = text.splitlines()
        assert max(len(line) for line in lines) <= width
        assert "each dimension as % of the scale, then overall % max" in " ".join(text.split())
        for name in ("E Empathy", "W Warmth", "G Genuineness", "T Trust", "O Overall % max"):
            assert name in text
        plot = "".join(d for _, d in rows(text))
        for letter in "EWGT":
            assert plot.count(letter) == 3, (letter, text)
        assert plot.count("O") == 2 and plot.count("x") == 1
        assert CUTOFF in " ".join(text.split())
    at_80 = run("chart", "C-001", "--width", "80", "--dimensions").stdout.splitlines()
    assert any("E Empathy" in line and "W Warmth" in line for line in at_80)  # side by side
    at_60 = run("chart", "C-001", "--width", "60", "--dimensions").stdout.splitlines()
    assert not any("E Empathy" in line and "W Warmth" in line for line in at_60)


def test_chart_fits_with_a_custom_instrument_and_long_labels(config_dir: Path) -> None:
    folder = config_dir / "instruments"
    folder.mkdir(parents=True)
    long = "A very long dimension label that goes on and on about the working alliance"
    (folder / "wide.toml").write_text(
        'id = "wide-alliance-questionnaire"\nversion = 1\n'
        'title = "A questionnaire with a long title about the working alliance today"\n'
        'intro = "x"\n[scale]\nmin = 1\nmax = 7\nmin_label = "no"\nmax_label = "yes"\n'
        f'[dimensions]\nbond = "{long}"\ntask = "Tasks and goals agreed between us both"\n'
        '[[items]]\nid = "b"\ndimension = "bond"\ntext = "b"\n'
        '[[items]]\nid = "t"\ndimension = "task"\ntext = "t"\n',
        encoding="utf-8",
    )
    for day, answers in enumerate(["7,7", "6,5", "7,6", "3,7"], 1):
        rate("C-001", answers, f"2025-03-{day:02d}", instrument="wide-alliance-questionnaire")
    for width in (40, 60, 80, 120):
        for extra in ([], ["--dimensions"]):
            text = run("chart", "C-001", "--width", str(width), *extra).stdout
            assert max(len(line) for line in text.splitlines()) <= width, text
            assert "4 sessions" in " ".join(text.split())


def test_chart_of_one_session_and_of_sessions_without_a_score() -> None:
    rate("C-001", "9,9,9,9", "2025-03-01")
    one = run("chart", "C-001", "--width", "80").stdout
    assert "1 session" in one and "O" in "".join(d for _, d in rows(one))
    from ratetool.render.chart import chart_text

    empty = chart_text(
        title="none",
        sessions=[1, 2],
        series=[("Overall % max", [None, None])],
        threshold=(90.0, "cutoff 90%"),
        y_range=(50.0, 100.0),
        width=60,
        height=8,
        colour=False,
    )
    assert "cutoff 90%" in empty and "below the cutoff" not in empty


def test_chart_per_instrument() -> None:
    rate("C-001", "9,9,9,9", "2025-03-01")
    rate("C-001", "4,4,4,4,5,5,5,5,2,2,2,1", "2025-03-08", instrument="core")
    rate("C-001", "10,9,9,9", "2025-03-15")
    default = run("chart", "C-001", "--width", "80").stdout  # the latest session's instrument
    assert "C-001: checkin (Session check-in, 0-10), overall % max, 2 sessions" in default
    assert "Also rated with core" in default
    assert "ratetool chart C-001 --instrument core" in default
    core = run("chart", "C-001", "--instrument", "core", "--width", "80").stdout
    assert "C-001: core (Relationship questionnaire, 1-5), overall % max, 1 session" in core
    assert CUTOFF in " ".join(core.split())
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
    assert run("chart", "C-001", "--height", "7", ok=False).exit_code == 2
    assert run("chart", "../x", ok=False).exit_code == 1


def test_chart_markers_are_distinct() -> None:
    from ratetool.render.chart import chart_markers

    assert chart_markers(["Empathy", "Warmth", "Genuineness", "Trust", "Overall"]) == list("EWGTO")
    assert chart_markers(["Bond", "Boundaries", "Belief", "Overall"]) == ["B", "b", "1", "O"]
    assert len(set(chart_markers(["-x", "-y", "", ""]))) == 4


def test_chart_does_not_load_plotext_until_asked() -> None:
    import subprocess
    import sys

    code = "import sys, ratetool.cli; print('plotext' in sys.modules, 'rich' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
