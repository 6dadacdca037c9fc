"""What the client's screen shows during ``ratetool rate``, and what the exit status says.

- Nothing technical reaches the client: whatever the store would refuse (a CSV store whose
  ``ratings.csv`` has no column for the instrument's items, a torn or linked client file) is
  refused before the first question, with what to do, and nothing is written.
- A save that still fails after the questions shows the client a calm thank-you; the reason and
  a command that saves the same answers later go to the practitioner on standard error.
- The screen is cleared only at a terminal (see ``test_rate_terminal.py`` for the real one):
  never into a pipe.
- A saved rating exits 0, even when the reader of the output went away (``| true``).

In process through Typer's ``CliRunner``, except the closed-pipe tests, which need a real process
and a real pipe.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers.store_kit import folder_snapshot, write_config
from ratetool.cli import app
from ratetool.errors import StoreError
from ratetool.store import Store, open_store

CHECKIN = {"empathy": 8, "warmth": 9, "genuineness": 7, "trust": 10}
TYPED = "8\n9\n7\n10\nA kind word\ny\n"  # four answers, a comment, y at the review
THANK_YOU = "Thank you. Please turn the screen back to your practitioner."

NEW_INSTRUMENT = """\
format = 1
id = "later"
version = 1
title = "Added later"
intro = "Two short questions."

[scale]
min = 1
max = 5
min_label = "no"
max_label = "yes"

[dimensions]
bond = "Bond"

[[items]]
id = "felt_safe"
dimension = "bond"
text = "I felt safe."

[[items]]
id = "came_back"
dimension = "bond"
text = "I want to come back."
"""


def run(args: list[str], input: str | None = None):
    return CliRunner().invoke(app, args, input=input)


def refused_before_any_question(result) -> None:
    assert result.exit_code == 1, (result.exit_code, result.output)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Question" not in result.output
    assert "Traceback" not in result.output


def csv_store_then_new_instrument(config_dir: Path) -> None:
    """A CSV data folder whose ratings.csv exists, then an instrument added after it was made."""
    write_config(config_dir, "csv")
    assert run(["rate", "C-001", "--answers", "5,5,5,5", "--yes"]).exit_code == 0
    folder = config_dir / "instruments"
    folder.mkdir()
    (folder / "later.toml").write_text(NEW_INSTRUMENT, encoding="utf-8")


# -- refused before the first question -------------------------------------------------------------


@pytest.mark.parametrize("answers", [False, True], ids=["interactive", "answers"])
def test_csv_store_without_columns_for_the_instrument_is_refused_before_question_1(
    data_dir, config_dir, answers
):
    csv_store_then_new_instrument(config_dir)
    before = folder_snapshot(data_dir)
    if answers:
        result = run(["rate", "C-014", "-i", "later", "--answers", "4,5", "--yes"])
    else:
        result = run(["rate", "C-014", "-i", "later"], input="4\n5\n\ny\n")
    refused_before_any_question(result)
    assert "Your answers" not in result.output and THANK_YOU not in result.output
    message = result.stderr
    assert "instrument later" in message
    assert "felt_safe, came_back" in message
    assert "ratetool migrate --to csv" in message
    assert "Nothing was written" in message
    assert "disk space" not in message
    assert folder_snapshot(data_dir) == before


def test_the_advice_works_after_migrate_to_csv_the_check_in_saves(data_dir, config_dir):
    csv_store_then_new_instrument(config_dir)
    refused_before_any_question(run(["rate", "C-014", "-i", "later"], input="4\n5\n\ny\n"))
    migrated = run(["migrate", "--to", "csv"])
    assert migrated.exit_code == 0, migrated.output
    result = run(["rate", "C-014", "-i", "later"], input="4\n5\n\ny\n")
    assert result.exit_code == 0, result.output
    (rating,) = open_store(data_dir, "csv").read_client("C-014").ratings
    assert rating.answers == {"felt_safe": 4, "came_back": 5}


def test_csv_check_can_add_accepts_a_new_file_and_items_it_has_columns_for(data_dir, config_dir):
    from ratetool.instruments import load_builtin

    open_store(data_dir, "csv").check_can_add("C-014", load_builtin("checkin"))  # no file yet
    assert not data_dir.exists()  # checking writes nothing
    write_config(config_dir, "csv")
    assert run(["rate", "C-001", "--answers", "5,5,5,5", "--yes"]).exit_code == 0
    # core was known when ratings.csv was made, so it has its columns too
    open_store(data_dir, "csv").check_can_add("C-014", load_builtin("core"))


def test_a_torn_client_file_is_refused_before_any_question_with_the_repair_advice(data_dir):
    assert run(["rate", "C-014", "--answers", "8,9,7,10", "--yes"]).exit_code == 0
    path = data_dir / "clients" / "C-014.toml"
    path.write_bytes(path.read_bytes() + b'\n[[sessions]]\nid = "cut')
    before = folder_snapshot(data_dir)
    result = run(["rate", "C-014"], input=TYPED)
    refused_before_any_question(result)
    assert "ratetool check --repair" in result.stderr
    assert folder_snapshot(data_dir) == before


@pytest.mark.posix_only
def test_a_linked_client_file_is_refused_before_any_question(data_dir, tmp_path):
    assert run(["rate", "C-014", "--answers", "8,9,7,10", "--yes"]).exit_code == 0
    path = data_dir / "clients" / "C-014.toml"
    outside = tmp_path / "outside.toml"
    path.rename(outside)
    path.symlink_to(outside)
    before = outside.read_bytes()
    result = run(["rate", "C-014"], input=TYPED)
    refused_before_any_question(result)
    assert "symbolic link" in result.stderr and str(path) in result.stderr
    assert outside.read_bytes() == before


@pytest.mark.posix_only
def test_a_linked_lock_file_is_refused_before_any_question(data_dir, tmp_path):
    data_dir.mkdir()
    elsewhere = tmp_path / "elsewhere.lock"
    elsewhere.write_bytes(b"keep")
    (data_dir / ".ratetool.lock").symlink_to(elsewhere)
    result = run(["rate", "C-014"], input=TYPED)
    refused_before_any_question(result)
    assert "symbolic link" in result.stderr
    assert elsewhere.read_bytes() == b"keep"


# -- a save that still fails after the questions ---------------------------------------------------


def failing_add(self, ratings, **kwargs):
    raise StoreError(
        "ratings.csv has no column for item trust of instrument checkin. Run `ratetool migrate "
        "--to csv`, then save again. Nothing was written."
    )


@pytest.mark.parametrize("retry", [False, True], ids=["refused-at-once", "quit-after-retry"])
def test_a_failed_save_thanks_the_client_and_tells_the_practitioner_how_to_save_later(
    data_dir, config_dir, monkeypatch, retry
):
    from ratetool.errors import DamagedFileError

    def damaged_add(self, ratings, **kwargs):
        raise DamagedFileError("C-014.toml, line 3: damaged. Nothing was written.")

    typed = TYPED + ("q\n" if retry else "")
    with monkeypatch.context() as patched:  # only Store.add: the folders stay the test's own
        patched.setattr(Store, "add", failing_add if retry else damaged_add)
        result = run(["rate", "C-014", "--practitioner", "A B"], input=typed)
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    # What the client saw after the questions: the thank-you, nothing technical.
    client_part = result.stdout[result.stdout.index("Your answers") :]
    assert THANK_YOU in client_part
    assert "ratings.csv" not in result.stdout and "damaged" not in result.stdout
    # The practitioner's part, on standard error: the reason, then how to save later.
    err = result.stderr
    assert ("no column for item trust" if retry else "line 3: damaged") in err
    assert "Nothing was saved. To save these answers later, run:" in err
    assert not data_dir.exists()

    # The printed command saves exactly these answers, comment, date and practitioner.
    command = shlex.split(err.rstrip().splitlines()[-1])
    assert command[:3] == ["ratetool", "rate", "C-014"]
    assert "--yes" in command
    saved = run(command[1:])
    assert saved.exit_code == 0, saved.output
    (rating,) = open_store(data_dir).read_client("C-014").ratings
    assert rating.answers == CHECKIN
    assert rating.comment == "A kind word"
    assert rating.practitioner == "A B"
    assert rating.rated_at.utcoffset() is not None


def test_the_save_later_command_keeps_skips_folders_and_a_comment_that_looks_like_an_option(
    tmp_path, monkeypatch
):
    chosen = tmp_path / "chosen data"
    typed = "1\ns\n" + "3\n" * 10 + "-- it's fine; $(rm -rf /)\ny\nq\n"
    with monkeypatch.context() as patched:
        patched.setattr(Store, "add", failing_add)
        result = run(["--data-dir", str(chosen), "rate", "C-014", "-i", "core"], input=typed)
    assert result.exit_code == 1, result.output
    command = shlex.split(result.stderr.rstrip().splitlines()[-1])
    assert f"--data-dir={chosen}" in command
    saved = run(command[1:])
    assert saved.exit_code == 0, saved.output
    (rating,) = open_store(chosen).read_client("C-014").ratings
    assert rating.skipped == ("warmth_1",)
    assert rating.answers["empathy_1"] == 1 and len(rating.answers) == 11
    assert rating.comment == "-- it's fine; $(rm -rf /)"


def test_the_save_later_command_finds_an_instrument_file_from_another_folder(
    data_dir, tmp_path, monkeypatch
):
    here = tmp_path / "here"
    here.mkdir()
    (here / "later.toml").write_text(NEW_INSTRUMENT, encoding="utf-8")
    monkeypatch.chdir(here)
    with monkeypatch.context() as patched:
        patched.setattr(Store, "add", failing_add)
        result = run(["rate", "C-014", "-i", "later.toml"], input="4\n5\n\ny\nq\n")
    assert result.exit_code == 1, result.output
    command = shlex.split(result.stderr.rstrip().splitlines()[-1])
    assert f"--instrument={here / 'later.toml'}" in command
    monkeypatch.chdir(tmp_path)
    saved = run(command[1:])
    assert saved.exit_code == 0, saved.output
    (rating,) = open_store(data_dir).read_client("C-014").ratings
    assert (rating.instrument, rating.answers) == ("later", {"felt_safe": 4, "came_back": 5})


def test_ctrl_c_at_the_retry_question_still_tells_how_to_save_later(data_dir, monkeypatch):
    monkeypatch.setattr(Store, "add", failing_add)
    answers = iter(["8", "9", "7", "10", "", "y"])

    def ask(prompt: str = "") -> str:
        try:
            return next(answers)
        except StopIteration:
            raise KeyboardInterrupt from None

    monkeypatch.setattr("builtins.input", ask)
    result = run(["rate", "C-014"])
    assert result.exit_code == 130, result.output
    assert "To save these answers later, run:" in result.stderr
    assert "--answers=empathy=8,warmth=9,genuineness=7,trust=10" in result.stderr
    assert not data_dir.exists()


# -- the screen is cleared only at a terminal ------------------------------------------------------


def test_no_clear_screen_sequence_into_a_pipe(data_dir):
    result = run(["rate", "C-014"], input=TYPED)
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output


# -- exit status: 0 when saved, whatever happens to the "Saved" line -------------------------------


def subprocess_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "RATETOOL_DEBUG")}


RATE = [sys.executable, "-m", "ratetool", "rate", "C-014", "--answers", "8,8,8,8", "--yes"]


def test_a_saved_rating_exits_0_when_the_reader_has_gone(data_dir):
    """`ratetool rate X --answers ... --yes | true`: the pipe is closed before ratetool writes."""
    with subprocess.Popen(
        RATE,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env(),
    ) as proc:
        proc.stdout.close()  # the reader went away before the "Saved" line
        err = proc.stderr.read().decode("utf-8", "replace")
        proc.wait(timeout=60)
    assert proc.returncode == 0, err
    assert (len(open_store(data_dir).read_client("C-014").ratings)) == 1
    assert "Traceback" not in err and "Exception ignored" not in err
    assert "BrokenPipe" not in err
    # the practitioner still learns it was saved, on standard error
    assert err.startswith("Saved: session 1 for C-014 in "), err


@pytest.mark.posix_only
def test_a_saved_rating_exits_0_with_standard_output_closed(data_dir):
    proc = subprocess.run(
        ["sh", "-c", 'exec "$@" >&-', "sh", *RATE],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert len(open_store(data_dir).read_client("C-014").ratings) == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("Saved: session 1 for C-014 in "), proc.stderr


def test_a_reader_gone_before_the_save_still_exits_1_and_saves_nothing(data_dir):
    """Control: the pipe breaks before the save (the confirmation question of --answers at a
    terminal is not asked here, so this uses the questionnaire's first line), nothing is
    stored and the exit status is not 0."""
    with subprocess.Popen(
        [sys.executable, "-m", "ratetool", "rate", "C-014"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env(),
    ) as proc:
        proc.stdout.close()
        proc.stdin.close()
        err = proc.stderr.read().decode("utf-8", "replace")
        proc.wait(timeout=60)
    assert proc.returncode == 1, err
    assert "Traceback" not in err
    assert not data_dir.exists()


@pytest.mark.posix_only
def test_standard_input_closed_is_the_end_of_input_not_a_bug(data_dir):
    proc = subprocess.run(
        ["sh", "-c", 'exec "$@" <&-', "sh", sys.executable, "-m", "ratetool", "rate", "C-014"],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Nothing was saved" in proc.stderr and "internal error" not in proc.stderr
    assert "Question" not in proc.stdout
    assert not data_dir.exists()
