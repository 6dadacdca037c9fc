"""``ratetool rate`` in a real terminal: the installed entry point run in a pseudo-terminal.

``CliRunner`` feeds text to ``input()``; here a client types into a real tty, presses Ctrl-C
(SIGINT from the terminal) and Ctrl-D (end of input at an empty line), and the exit status is the
one the shell sees. Every ``expect`` waits for text the program prints, so nothing sleeps.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tomllib
from pathlib import Path

import pexpect  # a test dependency on POSIX; conftest.py leaves this file out on Windows
import pytest
from typer.testing import CliRunner

from helpers.store_kit import folder_snapshot
from ratetool.cli import app
from ratetool.store import open_store

TIMEOUT = 20
PROMPT = "Your answer (0–10): "


def ratetool_command() -> list[str]:
    """The installed ``ratetool`` script of this interpreter's environment, else ``-m``."""
    beside = Path(sys.executable).with_name("ratetool")
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which("ratetool")
    if found:
        return [found]
    return [sys.executable, "-m", "ratetool"]


def terminal_env(term: str = "dumb") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "RATETOOL_DEBUG")}
    env.update(NO_COLOR="1", TERM=term, PYTHONUNBUFFERED="1")
    return env  # RATETOOL_DATA_DIR / RATETOOL_CONFIG_DIR come from the autouse fixture


def spawn(*args: str, term: str = "dumb", program: list[str] | None = None):
    program, *rest = program or ratetool_command()
    child = pexpect.spawn(
        program,
        [*rest, *args],
        env=terminal_env(term),
        encoding="utf-8",
        timeout=TIMEOUT,
        dimensions=(40, 100),
    )
    # Every send follows the prompt it answers (expect_exact), so pexpect's safety delay before
    # each send is not needed.
    child.delaybeforesend = None
    child.logfile_read = transcript = _Transcript()
    child.transcript = transcript
    return child


class _Transcript:
    """Everything the terminal showed, for assertions over the whole session."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        self.parts.append(text)

    def flush(self) -> None:
        pass

    def __str__(self) -> str:
        return "".join(self.parts)


def finish(child) -> str:
    """Wait for the program to end; return the whole transcript."""
    child.expect(pexpect.EOF)
    child.wait()  # the real exit status; the process has ended, so close() need not linger
    child.ptyproc.delayafterclose = 0
    child.close()
    return str(child.transcript)


def snapshot(folder: Path) -> dict[str, bytes | None] | None:
    return folder_snapshot(folder)


def answer(child, value: str, question: int, total: int = 4) -> None:
    child.expect_exact(f"Question {question} of {total}")
    child.expect_exact("Your answer (")
    child.expect_exact("): ")
    child.sendline(value)


def seed_session(client: str = "C-014") -> None:
    result = CliRunner().invoke(app, ["rate", client, "--answers", "5,5,5,5", "--yes"])
    assert result.exit_code == 0, result.output


# -- 11. a whole check-in --------------------------------------------------------------------------


def test_a_client_completes_the_check_in_in_a_terminal(data_dir):
    child = spawn("rate", "C-014")
    child.expect_exact("Session check-in")
    child.expect_exact("Question 1 of 4")
    child.expect_exact(PROMPT)
    child.sendline("12")
    child.expect_exact("Please type a whole number from 0 to 10.")
    child.expect_exact(PROMPT)
    child.sendline("8")
    answer(child, "9", 2)
    answer(child, "b", 3)  # back to question 2 ...
    child.expect_exact("Question 2 of 4")
    child.expect_exact("Enter keeps 9): ")
    child.sendline("4")  # ... and change 9 to 4
    answer(child, "7", 3)
    answer(child, "10", 4)
    child.expect_exact("Anything that would have made today better?")
    child.expect_exact("> ")
    child.sendline("A bit more time")
    child.expect_exact("Your answers")
    child.expect_exact("Comment: A bit more time")
    child.expect_exact("Press Enter to save")
    child.sendline("")
    child.expect_exact("Thank you. Please turn the screen back to your practitioner.")
    child.expect_exact("Saved: session 1 for C-014 in ")
    shown = finish(child)
    assert child.exitstatus == 0, shown
    assert "Traceback" not in shown

    (rating,) = open_store(data_dir).read_client("C-014").ratings
    assert rating.answers == {"empathy": 8, "warmth": 4, "genuineness": 7, "trust": 10}
    assert rating.comment == "A bit more time"
    doc = tomllib.loads((data_dir / "clients" / "C-014.toml").read_text(encoding="utf-8"))
    (session,) = doc["sessions"]
    assert session["answers"] == {"empathy": 8, "warmth": 4, "genuineness": 7, "trust": 10}
    assert session["comment"] == "A bit more time"


def test_review_changes_an_answer_in_a_terminal(data_dir):
    child = spawn("rate", "C-014", "--instrument", "core")
    child.expect_exact("You can type s to skip")
    for n in range(1, 13):
        answer(child, "s" if n == 4 else "3", n, total=12)
    child.expect_exact("> ")
    child.sendline("")
    child.expect_exact("Comment: (none)")
    child.expect_exact("Press Enter to save")
    child.sendline("4")
    child.expect_exact("Question 4 of 12")
    child.expect_exact("Enter keeps skipped): ")
    child.sendline("5")
    child.expect_exact("Press Enter to save")
    child.sendline("")
    child.expect_exact("Saved: session 1 for C-014")
    shown = finish(child)
    assert child.exitstatus == 0, shown
    # the review is a table: the answers right-aligned in one column, skipped ones said so
    rows = re.findall(r"^ +(\d+)\. +(\S.*?) +(\d|skipped)\r?$", shown, re.MULTILINE)
    assert [n for n, _, _ in rows[:12]] == [str(n) for n in range(1, 13)]
    assert rows[3][1:] == ("I could say what was really on my mind.", "skipped")
    assert rows[15][1:] == ("I could say what was really on my mind.", "5")  # after the change
    (rating,) = open_store(data_dir).read_client("C-014").ratings
    assert rating.answers["trust_1"] == 5
    assert rating.skipped == ()
    assert len(rating.answers) == 12


# -- the screen is cleared before the client sees it -----------------------------------------------

#: What `rate` writes to clear the screen, the cursor home, then the scrollback.
CLEAR = "\x1b[2J\x1b[1;1H\x1b[3J"


def test_the_screen_is_cleared_before_the_first_question(data_dir):
    """`ratetool clients; ratetool rate C-7` in one terminal: the caseload (another client's
    code) is on screen, then `rate` clears the screen and the scrollback before its introduction,
    so the client sees only their questions."""
    seed_session("C-001")
    shell = ["sh", "-c", '"$@" clients && exec "$@" rate C-7', "sh", *ratetool_command()]
    child = spawn(term="xterm", program=shell)
    child.expect_exact("C-001")  # the caseload, as the practitioner left it
    assert child.expect_exact([CLEAR, "Session check-in"]) == 0  # the clear comes first
    child.expect_exact("Session check-in")
    for n, value in enumerate(("8", "9", "7", "10"), start=1):
        answer(child, value, n)
    child.expect_exact("> ")
    child.sendline("")
    child.expect_exact("Press Enter to save")
    child.sendline("y")
    child.expect_exact("Saved: session 1 for C-7")
    shown = finish(child)
    assert child.exitstatus == 0, shown
    before, clear, after = shown.partition(CLEAR)
    assert clear and "C-001" in before
    assert "Question 1 of 4" not in before and "Session check-in" not in before
    assert "C-001" not in after  # nothing of the caseload is drawn again below the clear
    assert after.count(CLEAR) == 0  # cleared once, before the introduction


@pytest.mark.parametrize(
    "term,args", [("dumb", ()), ("xterm", ("--answers", "8,9,7,10"))], ids=["dumb", "answers"]
)
def test_no_clear_on_a_dumb_terminal_or_with_answers(data_dir, term, args):
    child = spawn("rate", "C-014", *args, term=term)
    if args:
        child.expect_exact("Save this rating for C-014?")
        child.sendline("y")
    else:
        for n, value in enumerate(("8", "9", "7", "10"), start=1):
            answer(child, value, n)
        child.expect_exact("> ")
        child.sendline("")
        child.expect_exact("Press Enter to save")
        child.sendline("")
    child.expect_exact("Saved: session 1 for C-014")
    shown = finish(child)
    assert child.exitstatus == 0, shown
    assert "\x1b[2J" not in shown and "\x1b[3J" not in shown


# -- 12. Ctrl-C ------------------------------------------------------------------------------------


def _interrupt_at_question_2(child) -> None:
    answer(child, "8", 1)
    child.expect_exact("Question 2 of 4")
    child.expect_exact(PROMPT)
    child.sendintr()


def _interrupt_at_the_review(child) -> None:
    for n, value in enumerate(("8", "9", "7", "10"), start=1):
        answer(child, value, n)
    child.expect_exact("> ")
    child.sendline("all good")
    child.expect_exact("Press Enter to save")
    child.sendintr()


@pytest.mark.parametrize("existing", [False, True], ids=["first-session", "client-has-a-session"])
@pytest.mark.parametrize(
    "interrupt", [_interrupt_at_question_2, _interrupt_at_the_review], ids=["mid", "review"]
)
def test_ctrl_c_stops_calmly_and_saves_nothing(data_dir, existing, interrupt):
    if existing:
        seed_session()
    before = snapshot(data_dir)
    child = spawn("rate", "C-014")
    interrupt(child)
    child.expect_exact("Stopped. Nothing was saved.")
    shown = finish(child)
    assert child.exitstatus == 130, shown
    assert child.signalstatus is None
    assert "Traceback" not in shown
    assert "KeyboardInterrupt" not in shown
    assert "Saved:" not in shown
    assert snapshot(data_dir) == before
    if not existing:
        assert not data_dir.exists()


def test_ctrl_c_at_the_save_question_of_answers_option(data_dir):
    """--answers in a terminal asks before saving; Ctrl-C there is a stop, not "Aborted."."""
    child = spawn("rate", "C-014", "--answers", "8,9,7,10")
    child.expect_exact("Save this rating for C-014?")
    child.sendintr()
    child.expect_exact("Stopped. Nothing was saved.")
    shown = finish(child)
    assert child.exitstatus == 130, shown
    assert "Aborted" not in shown
    assert "Traceback" not in shown
    assert not data_dir.exists()


def test_answers_option_in_a_terminal_saves_after_yes(data_dir):
    child = spawn("rate", "C-014", "--answers", "8,9,7,10", "--comment", "paper")
    child.expect_exact("checkin: empathy=8, warmth=9, genuineness=7, trust=10")
    child.expect_exact("comment: paper")
    child.expect_exact("Save this rating for C-014?")
    child.sendline("y")
    child.expect_exact("Saved: session 1 for C-014")
    shown = finish(child)
    assert child.exitstatus == 0, shown
    (rating,) = open_store(data_dir).read_client("C-014").ratings
    assert rating.answers == {"empathy": 8, "warmth": 9, "genuineness": 7, "trust": 10}


# -- 13. Ctrl-D ------------------------------------------------------------------------------------


@pytest.mark.parametrize("existing", [False, True], ids=["first-session", "client-has-a-session"])
def test_ctrl_d_ends_input_calmly_and_saves_nothing(data_dir, existing):
    if existing:
        seed_session()
    before = snapshot(data_dir)
    child = spawn("rate", "C-014")
    answer(child, "8", 1)
    child.expect_exact("Question 2 of 4")
    child.expect_exact(PROMPT)
    child.sendeof()
    child.expect_exact("Nothing was saved.")
    shown = finish(child)
    assert child.exitstatus == 1, shown
    assert "Traceback" not in shown
    assert "EOFError" not in shown
    assert snapshot(data_dir) == before
    if not existing:
        assert not data_dir.exists()


def test_ctrl_d_at_the_save_question_of_answers_option(data_dir):
    child = spawn("rate", "C-014", "--answers", "8,9,7,10")
    child.expect_exact("Save this rating for C-014?")
    child.sendeof()
    child.expect_exact("Nothing was saved.")
    shown = finish(child)
    assert child.exitstatus == 1, shown
    assert "Aborted" not in shown
    assert not data_dir.exists()
