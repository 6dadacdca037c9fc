"""Triage a practitioner can trust at a glance (issue 12): severity and its order, colour that
always comes with a symbol or word, and tables that fit any terminal from 60 columns up.

Data is made with ``ratetool rate`` and read back through the command line, with the autouse
fixture's folders (colour off, 100 columns unless a test says otherwise).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ratetool.cli import app

runner = CliRunner()
ANSI = re.compile(r"\x1b\[[0-9;]*m")
LONG_ID = "therapeutic-alliance-extended-questionnaire-with-a-long-id-2026"
DIMENSIONS = ("empathy", "warmth", "genuineness", "trust", "hope")


def run(*args: str, env: dict[str, str | None] | None = None) -> str:
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return result.stdout


def rate(client: str, answers: str, day: str, instrument: str | None = None) -> None:
    args = ["rate", client, "--answers", answers, "--date", day, "--yes"]
    run(*args, *(["--instrument", instrument] if instrument else []))


def write_normed(config_dir: Path) -> None:
    """The check-in's four items with published norms (sd 7.6, reliability .95)."""
    folder = config_dir / "instruments"
    folder.mkdir(parents=True, exist_ok=True)
    items = "".join(
        f'[[items]]\nid = "{d}"\ndimension = "{d}"\ntext = "{d}?"\n' for d in DIMENSIONS[:4]
    )
    (folder / "normed.toml").write_text(
        'id = "normed"\nversion = 1\ntitle = "Normed"\nintro = "Four questions."\n'
        '[scale]\nmin = 0\nmax = 10\nmin_label = "no"\nmax_label = "yes"\n'
        "[dimensions]\n"
        + "".join(f'{d} = "{d.title()}"\n' for d in DIMENSIONS[:4])
        + items
        + '[norms]\nsd = 7.6\nreliability = 0.95\nsource = "Jacobson & Truax example"\n',
        encoding="utf-8",
    )


def write_long(config_dir: Path) -> None:
    """A custom instrument with a 63-character id, long labels, long item ids and texts."""
    folder = config_dir / "instruments"
    folder.mkdir(parents=True, exist_ok=True)
    items = "".join(
        f'[[items]]\nid = "{d}_felt_in_todays_session_all_things_considered"\n'
        f'dimension = "{d}"\ntext = "How much {d} did you feel with your therapist in '
        "today's session, all things considered, compared with how you usually feel?\"\n"
        for d in DIMENSIONS
    )
    labels = {
        "empathy": "Empathic understanding",
        "warmth": "Warmth and positive regard",
        "genuineness": "Genuineness",
        "trust": "Trust",
        "hope": "Hope",
    }
    (folder / "long.toml").write_text(
        f'id = "{LONG_ID}"\nversion = 1\n'
        'title = "Therapeutic alliance, extended version with a very long descriptive title"\n'
        'intro = "Five questions."\n'
        '[scale]\nmin = 0\nmax = 10\nmin_label = "not at all"\nmax_label = "completely"\n'
        "[dimensions]\n" + "".join(f'{d} = "{label}"\n' for d, label in labels.items()) + items,
        encoding="utf-8",
    )


# ------------------------------------------------------------------------------------------------
# Severity (must show 1)


def test_fifty_percent_before_ninety_seven_and_a_half_with_severities_in_json(
    config_dir: Path,
) -> None:
    write_normed(config_dir)
    # A-SLIGHT: one point down from a perfect score (100.0 -> 97.5): a drop, so "watch"
    rate("A-SLIGHT", "10,10,10,10", "2025-03-01")
    rate("A-SLIGHT", "10,10,10,9", "2025-03-08")
    # Z-HALF: 50 %, low and item alerts: "alert", listed first though its code sorts last
    rate("Z-HALF", "5,5,5,5", "2025-03-02")
    # M-UP: a reliable improvement (total 30 -> 39, RC 3.74) to 97.5 %: good news, "ok"
    rate("M-UP", "8,8,7,7", "2025-03-03", instrument="normed")
    rate("M-UP", "10,10,10,9", "2025-03-10", instrument="normed")
    # B-DOWN: a reliable worsening (total 38 -> 31, RC -2.91) while at 77.5 %: "alert"
    rate("B-DOWN", "10,10,9,9", "2025-03-04", instrument="normed")
    rate("B-DOWN", "8,8,8,7", "2025-03-11", instrument="normed")
    rows = json.loads(run("summary", "--json"))
    assert [(r["client"], r["severity"], r["latest_pomp"]) for r in rows] == [
        ("Z-HALF", "alert", 50.0),
        ("B-DOWN", "alert", 77.5),
        ("A-SLIGHT", "watch", 97.5),
        ("M-UP", "ok", 97.5),
    ]
    by = {r["client"]: r for r in rows}
    assert by["Z-HALF"]["alerts"] == ["low", "item"]
    assert by["B-DOWN"]["alerts"] == ["reliable-worsening", "drop", "low", "item"]
    assert by["A-SLIGHT"]["alerts"] == ["drop"]
    # an improvement is not listed as an alert
    assert by["M-UP"]["alerts"] == [] and by["M-UP"]["alert_reasons"] == []
    assert [r["band"] for r in rows] == ["alert", "alert", "watch", "ok"]

    up = json.loads(run("summary", "M-UP", "--json"))
    assert up["reliable_change"]["direction"] == "improved" and up["reliable_change"]["reliable"]
    assert [(s["severity"], s["alerts"]) for s in up["sessions"]] == [
        ("alert", ["low", "item"]),
        ("ok", []),
    ]
    down = json.loads(run("summary", "B-DOWN", "--json"))["sessions"]
    assert [(s["severity"], s["alerts"]) for s in down] == [
        ("ok", []),
        ("alert", ["reliable-worsening", "drop", "low", "item"]),
    ]
    slight = json.loads(run("summary", "A-SLIGHT", "--json"))["sessions"]
    assert [s["severity"] for s in slight] == ["ok", "watch"]

    # the table: the improvement is told as good news, never among the alerts
    text = run("summary", "M-UP")
    assert "a reliable improvement" in " ".join(text.split())
    assert "reliable improvement" not in text.split("\nAlerts\n", 1)[1].split("\nTrend")[0]
    caseload = run("summary")
    order = [line.split()[1] for line in caseload.splitlines() if re.match(r"^\d+\s+[A-Z]-", line)]
    assert order == ["Z-HALF", "B-DOWN", "A-SLIGHT", "M-UP"]
    assert "reliable improvement" not in caseload


# ------------------------------------------------------------------------------------------------
# Colour, always with a symbol or word


def test_colour_marks_what_the_eye_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    rate("C-001", "10,10,10,10", "2025-03-01")
    rate("C-001", "9,9,9,8", "2025-03-08")  # 87.5 %: below the cutoff
    rate("C-002", "9,9,9,9", "2025-03-02")
    rate("C-002", "10,10,10,10", "2025-03-09")  # better
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("FORCE_COLOR", "1")
    red, green = r"\x1b\[(?:[0-9;]*;)?31m", r"\x1b\[(?:[0-9;]*;)?32m"
    text = run("summary", "C-001")
    assert re.search(red + r"\s*87\.5", text)  # % max below the cutoff
    assert re.search(red + r"\s*-12\.5", text)  # a change for the worse
    assert re.search(red + "▅", text) and re.search(green + "█", text)  # sparkline by zone
    better = run("summary", "C-002")
    assert re.search(green + r"\s*\+10\.0", better)  # a change for the better
    assert not re.search(red + r"\s*100\.0", better)
    caseload = run("summary")
    assert re.search(red + r"\s*87\.5", caseload)
    assert re.search(r"\x1b\[[0-9;]*31m! alert", caseload)
    assert re.search(r"\x1b\[[0-9;]*32m✓ ok", caseload)
    # without colour the same words and signs are there
    plain = ANSI.sub("", text)
    assert "! alert" in plain and "-12.5" in plain and "87.5" in plain


# ------------------------------------------------------------------------------------------------
# Any width from 60 columns up (must show 2)


@pytest.fixture
def long_caseload(config_dir: Path) -> None:
    """Five clients on the long instrument (one also on the check-in, so the instrument column
    shows), with long alert texts: every item low names all five long item ids."""
    write_long(config_dir)
    trajectories = {
        "C-0001-with-a-long-client-code": ["10,10,10,10,10", "3,3,3,3,3"],
        "C-0002": ["10,10,10,10,10", "10,10,10,10,9"],
        "C-0003": ["9,9,9,9,9", "10,10,10,10,10"],
        "C-0004": ["6,6,6,6,6", "7,7,7,7,7"],
        "C-0005": ["10,10,10,10,10", "10,10,10,10,10"],
    }
    for client, answers in trajectories.items():
        for day, given in enumerate(answers, 1):
            rate(client, given, f"2025-03-{day:02d}", instrument=LONG_ID)
    rate("C-0005", "10,10,10,9", "2025-03-09")


def assert_fits(text: str, width: int) -> list[str]:
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width, max(lines, key=len)
    # no column squeezed to a letter per line
    assert not [line for line in lines if re.fullmatch(r"\s*\S\s*", line)]
    return lines


@pytest.mark.parametrize("width", [60, 80, 120])
def test_caseload_fits(long_caseload, width: int) -> None:
    lines = assert_fits(run("summary", env={"COLUMNS": str(width)}), width)
    rows = [line for line in lines if re.match(r"^\d\s", line)]
    assert len(rows) == 5  # one line per client
    assert all(("alert" in r) or ("watch" in r) or ("ok" in r) for r in rows)
    # the table itself: a line per client, and two more where the long code folds (at 60); a
    # five-client caseload once took 80 lines at 80 columns, a letter per line
    header = next(i for i, line in enumerate(lines) if line.startswith("#"))
    # (and the note that dates are yy-mm-dd, where the table is at its narrowest)
    assert lines.index("", header) - header - 1 <= {60: 9, 80: 6, 120: 5}[width]
    assert len(lines) < 60
    # the instrument id is cut in the table and named in full under it
    if width < 120:
        assert f"={LONG_ID}." in "".join("".join(lines).split())  # folded, never cut
    text = " ".join(" ".join(lines).split())
    assert (
        "empathy_felt_in_todays_session_all_things_considered 3 of 10" in text.replace("- ", "-")
        or "empathy_felt_in_todays" in text
    )


@pytest.mark.parametrize("width", [60, 80, 120])
def test_client_summary_fits(long_caseload, width: int) -> None:
    text = run("summary", "C-0001-with-a-long-client-code", env={"COLUMNS": str(width)})
    lines = assert_fits(text, width)
    sessions = [line for line in lines if re.match(r"^(20)?25-03-0\d\s", line)]
    assert len(sessions) == 2  # one line per session, every number whole
    assert sessions[1].split()[-2:] == ["!", "alert"]
    assert "30.0" in sessions[1]
    assert len(lines) < 60
    both = run("summary", "C-0005", "--items", "--comments", env={"COLUMNS": str(width)})
    assert_fits(both, width)


@pytest.mark.parametrize("width", [60, 80, 120])
def test_instruments_list_fits(long_caseload, width: int) -> None:
    lines = assert_fits(run("instruments", "list", env={"COLUMNS": str(width)}), width)
    assert any(line.startswith("checkin (default)") for line in lines)
    joined = "".join(line.strip() for line in lines)
    assert LONG_ID in joined.replace(" ", "")  # folded, never cut
    assert "long.toml" in joined
    assert len(lines) < 25
