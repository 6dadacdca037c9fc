"""What people see in a terminal: tables, colour, width and encodings, as rich decides them.

The summaries are drawn with rich (``ratetool.render``); these tests pin what users rely on:
numbers right-aligned in columns as wide as their widest cell, words wrapped under themselves
when a table is too wide, no colour when piped or under ``NO_COLOR`` or ``TERM=dumb``, colour
under ``FORCE_COLOR``, the width from ``COLUMNS`` (else 80 when not a terminal), text from files
shown as written (never read as markup), no crash on a legacy code page, and JSON never drawn.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ratetool.cli import app

runner = CliRunner()
ANSI = re.compile(r"\x1b\[")
COLOUR = re.compile(r"\x1b\[(?:[0-9]*;)*(?:3[0-9]|9[0-7])(?:;[0-9]*)*m")


def run(*args: str, env: dict[str, str | None] | None = None) -> str:
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return result.stdout


def rate(client: str, answers: str, day: str, comment: str | None = None) -> None:
    args = ["rate", client, "--answers", answers, "--date", day, "--yes"]
    run(*args, *(["--comment", comment] if comment else []))


@pytest.fixture
def caseload() -> None:
    for day, answers in enumerate(["10,10,10,10", "9,9,9,9", "6,8,7,5"], 1):
        rate("C-001", answers, f"2025-03-{day:02d}")
    rate("C-002", "10,10,10,10", "2025-03-02", comment="Good [red]talk[/red] :smile: today")


def subprocess_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("FORCE_COLOR", "NO_COLOR", "COLUMNS", "TERM", "RATETOOL_DEBUG")
    }
    env.update(extra)
    return env


def ratetool(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    """ratetool in a real process with every stream a pipe (no terminal anywhere)."""
    return subprocess.run(
        [sys.executable, "-m", "ratetool", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
        check=True,
    )


# -- tables ------------------------------------------------------------------------------------


def test_columns_are_as_wide_as_their_widest_cell_numbers_right_aligned() -> None:
    from rich.console import Console

    from ratetool.render.tables import table

    t = table(
        [("Date", {"no_wrap": True}), ("#", {"justify": "right", "no_wrap": True}), "Alerts"],
        [["2026-11-03", 9, "drop, low, item"], ["2026-11-10", 10, None]],
    )
    con = Console(file=io.StringIO(), width=80)
    con.print(t)
    assert [line.rstrip() for line in con.file.getvalue().splitlines()] == [  # type: ignore[attr-defined]
        "Date         #  Alerts",
        "2026-11-03   9  drop, low, item",
        "2026-11-10  10",
    ]


NOTES = [
    ("C-0710 (session 100)", "dropped 7.5 points since session 99 (57.5% to 50.0%)"),
    ("", "overall 50.0%, below 90%"),
    ("", "empathy 5 of 10; warmth 5 of 10; genuineness 5 of 10; trust 5 of 10 (at or below 70%)"),
    ("C-9 (session 2)", "a-very-long-word-" * 6 + " then short words after it"),
    ("Session 3 (2026-01-02)", "first line\nsecond line, written on its own\n\nafter a gap"),
    ("C-Ω (session 1)", "漢字 wide characters 漢字漢字 漢字 " * 3),
]


@pytest.mark.parametrize("width", [80, 60, 44, 41, 30, 120])
def test_notes_are_drawn_as_their_table_would_be(width: int) -> None:
    """Alert reasons and comments: the hanging-indent text is line for line what the rich table
    draws, wherever the words have room beside the labels (20 columns); narrower, the labels
    go on a line of their own and the words under them, indented, never past the width."""
    from rich.cells import cell_len
    from rich.console import Console

    from ratetool.render.tables import print_notes, reasons_table

    def lines(draw) -> list[str]:
        con = Console(file=io.StringIO(), width=width, markup=False, highlight=False, emoji=False)
        draw(con)
        return [line.rstrip() for line in con.file.getvalue().splitlines()]

    for rows in (NOTES, [(a, "x", b) for a, b in NOTES], NOTES[:1]):
        labels = len(rows[0]) - 1
        indent = sum(max(cell_len(r[i]) for r in rows) + 2 for i in range(labels))
        drawn = lines(lambda con, rows=rows: print_notes(con, rows))
        if width - indent >= 20:
            assert drawn == lines(lambda con, rows=rows: con.print(reasons_table(rows)))
        else:
            assert max(cell_len(line) for line in drawn) <= width
            assert drawn[0] == "  ".join(c for c in rows[0][:-1] if c)
            assert all(line.startswith("  ") for line in drawn[1:3])
            words = " ".join(drawn).split()
            for row in rows:  # every note's words are there (long ones folded)
                assert all(w in words for w in row[-1].split() if len(w) < 12)


def session_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if re.match(r"^(20)?25-03-0\d ", line)]


def test_a_table_too_wide_shortens_and_keeps_the_numbers(caseload) -> None:
    text = run("summary", "C-001", env={"COLUMNS": "60"})
    lines = [line.rstrip() for line in text.splitlines()]
    assert max(len(line.rstrip()) for line in lines) <= 60
    # short headers, dates without the century; every number in full on the session's line
    assert "Date     # Empa. Warm. Genu. Trust Over. % max Total Status" in lines
    assert "Dates as yy-mm-dd, to fit the terminal." in lines
    third = lines.index(session_rows(text)[2].rstrip())
    assert lines[third].split() == [
        *("25-03-03", "3", "6.00", "8.00", "7.00", "5.00", "6.50", "65.0", "26"),
        *("!", "alert"),
    ]
    # the alerts are listed under the table, kind and words
    assert "item  empathy 6 of 10" in " ".join(section(text, "Alerts"))


def section(text: str, heading: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index(heading)
    return [line.strip() for line in lines[start + 1 : lines.index("", start)]]


def test_narrower_than_any_table_numbers_are_never_cut_short(caseload) -> None:
    text = run("summary", "C-001", env={"COLUMNS": "50"})
    assert "…" not in text
    assert max(len(line.rstrip()) for line in text.splitlines()) <= 50
    # the dimension scores go to the trend table, the rest stays whole
    assert session_rows(text)[2].split() == ["25-03-03", "3", "6.50", "65.0", "!", "alert"]
    assert "Dimension scores: in the trend tables below" in " ".join(text.split())
    trend = section(text, "Trend, checkin (sessions 1-3)")
    assert trend[2].split()[0] == "Empathy" and trend[2].split()[-4:] == [
        "10.00",
        "6.00",
        "-4.00",
        "-3.00",
    ]


def test_text_from_files_is_shown_as_written_never_as_markup(caseload) -> None:
    text = run("summary", "C-002", "--comments", env={"FORCE_COLOR": "1", "NO_COLOR": None})
    assert "Good [red]talk[/red] :smile: today" in text


# -- width ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("columns", "width"), [("70", 70), ("200", 200), (None, 80)])
def test_width_is_columns_else_80_when_not_a_terminal(caseload, columns, width) -> None:
    env = subprocess_env(**({"COLUMNS": columns} if columns else {}))
    out = ratetool("summary", "C-001", "--items", env=env).stdout.decode("utf-8")
    longest = max(len(line.rstrip()) for line in out.splitlines())
    assert longest <= width
    if width < 100:  # the prose of the legend fills narrow lines
        assert longest > width - 15


# -- colour --------------------------------------------------------------------------------------


def test_piped_output_has_no_escapes_and_no_box_drawing(caseload) -> None:
    out = ratetool("summary", env=subprocess_env(TERM="xterm-256color")).stdout.decode("utf-8")
    assert "C-001" in out and "! alert" in out
    assert not ANSI.search(out)
    assert not re.search("[\u2500-\u257f]", out)  # no box-drawing characters


def test_force_color_colours_a_pipe(caseload) -> None:
    out = ratetool("summary", env=subprocess_env(FORCE_COLOR="1", TERM="xterm-256color"))
    assert COLOUR.search(out.stdout.decode("utf-8"))


def test_no_color_keeps_bold_and_drops_colours(caseload) -> None:
    env = subprocess_env(FORCE_COLOR="1", NO_COLOR="1", TERM="xterm-256color")
    out = ratetool("summary", env=env).stdout.decode("utf-8")
    assert not COLOUR.search(out)
    assert "\x1b[1m" in out  # bold headers: NO_COLOR is about colour


@pytest.mark.parametrize("forced", [False, True], ids=["plain", "FORCE_COLOR"])
def test_term_dumb_has_no_escapes(caseload, forced) -> None:
    env: dict[str, str | None] = {"TERM": "dumb", "NO_COLOR": None}
    if forced:
        env["FORCE_COLOR"] = "1"
    for args in (("summary",), ("summary", "C-001")):
        assert not ANSI.search(run(*args, env=env)), args


def test_json_is_never_drawn_or_coloured(caseload) -> None:
    env = subprocess_env(FORCE_COLOR="1", TERM="xterm-256color", COLUMNS="30")
    for args in (("summary", "--json"), ("summary", "C-001", "--json"), ("clients", "--json")):
        out = ratetool(*args, env=env).stdout.decode("utf-8")
        assert not ANSI.search(out), args
        json.loads(out)  # one document, not wrapped at 30 columns
    probe = (
        "import sys\nsys.argv = ['ratetool', 'summary', '--json']\n"
        "from ratetool.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('rich', 'ratetool.render') if m in sys.modules), file=sys.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert done.stderr.strip().splitlines()[-1] == "[]"


# -- encodings -----------------------------------------------------------------------------------


def test_a_legacy_code_page_shows_ascii_symbols_and_does_not_crash(caseload, monkeypatch) -> None:
    """cp1252 (Windows with output redirected): no Unicode blocks or ticks, and what a client
    typed that the code page cannot encode shows as ``?`` instead of failing mid-table."""
    rate("C-003", "9,9,9,9", "2025-03-01", comment="Session went well 中文 ✓")
    out = io.TextIOWrapper(io.BytesIO(), encoding="cp1252")
    monkeypatch.setattr(sys, "stdout", out)
    app(["summary", "C-003", "--items", "--comments"], prog_name="ratetool", standalone_mode=False)
    out.flush()
    text = out.buffer.getvalue().decode("cp1252")
    assert "Session went well ?? ?" in text
    assert "+ ok" in text and "✓" not in text and "▁" not in text
    assert "Sparklines: one block per session" in text  # to the end


def test_a_cp1252_process_prints_the_summary(caseload) -> None:
    rate("C-003", "9,9,9,9", "2025-03-01", comment="中文")
    env = subprocess_env(PYTHONIOENCODING="cp1252")
    out = ratetool("summary", "C-003", "--comments", env=env).stdout.decode("cp1252")
    assert "Comments" in out and "??" in out and "+ ok" in out


# -- the review at the end of `rate` -----------------------------------------------------------


def review_lines(width: int, comment: str | None = "Fine") -> list[str]:
    from ratetool.instruments import load_builtin
    from ratetool.questionnaire import SKIPPED, Interview

    said: list[str] = []
    interview = Interview(
        load_builtin("core"), ask=input, say=said.append, comment=comment, width=width
    )
    for n, item in enumerate(interview.instrument.items):
        interview.values[item.id] = SKIPPED if n == 3 else n % 5 + 1
    interview.show_review()
    return said


def test_the_review_is_a_table_with_the_answers_in_one_column() -> None:
    lines = review_lines(100)
    assert lines[:2] == ["", "Your answers"]
    rows = lines[2:14]
    assert rows[0].startswith("   1.  What I was trying to say got through.   ")
    assert rows[9].startswith("  10.  I felt I was being judged.   ")
    # the answers end in one column, right-aligned
    assert len({len(row) for row in rows}) == 1
    assert [row.split()[-1] for row in rows] == ["1", "2", "3", "skipped", *"51234512"]
    # the way on is the prompt's one line, not another line of the review
    assert lines[14:] == ["  Comment: Fine"]


def test_the_review_wraps_long_questions_between_words_at_its_width() -> None:
    lines = review_lines(40, comment=None)
    rows = lines[2:-1]
    assert max(len(line) for line in rows) <= 40
    assert len(rows) > 12  # some questions take two lines or three
    answered = [row for row in rows if re.search(r"\s(\d|skipped)$", row)]
    assert [row.split()[-1] for row in answered] == ["1", "2", "3", "skipped", *"51234512"]
    assert len({len(row) for row in answered}) == 1
    sixth = rows.index(answered[5])
    assert [row.strip() for row in rows[sixth : sixth + 3]] == [
        "6.  I felt cared about as a         1",
        "person, not just as a",
        "problem to fix.",
    ]
    assert lines[-1] == "  Comment: (none)"


@given(st.text(max_size=40))
@settings(max_examples=200, deadline=None)
def test_a_cell_is_measured_as_rich_measures_it(text: str) -> None:
    """Fitting a table reads each cell's narrowest and widest from its text: the same numbers
    rich's own measurement gives, for plain strings and Text alike."""
    from rich.console import Console
    from rich.measure import Measurement
    from rich.text import Text

    from ratetool.render.tables import _measure

    con = Console(file=io.StringIO(), width=80, markup=False, highlight=False, emoji=False)
    options = con.options.update_width(1_000_000)
    for cell in (text, Text(text)):
        size = Measurement.get(con, options, cell)
        assert _measure(con, options, cell) == (size.minimum, size.maximum)
