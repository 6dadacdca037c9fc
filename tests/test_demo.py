"""``ratetool demo``: a check-in and the caseload in a temporary folder; nothing real is touched.

The practitioner's own folders (RATETOOL_DATA_DIR and RATETOOL_CONFIG_DIR, from the autouse
fixture) already hold a rating and a config.toml that chooses the CSV store: the demo must leave
both byte-identical, must not show their client, and must not follow their settings. Every run
points the temporary folder at a folder of the test's own, which must be empty afterwards.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers.store_kit import folder_snapshot
from ratetool import demo_caseload
from ratetool.cli import app
from ratetool.cli.demo import GONE

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CLIENTS = ROOT / "examples" / "data" / "clients"
CASELOAD = ("C-101", "C-102", "C-103", "C-104")
SAVED = re.compile(r"Saved: session (\d+) for (\S+) in (\S+)")
TIMEOUT = 20


def run(args: list[str], input: str | None = None):
    return CliRunner().invoke(app, args, input=input)


@pytest.fixture
def real_folders(data_dir: Path, config_dir: Path):
    """The practitioner's folders with a rating and settings in them; their snapshot."""
    config_dir.mkdir(parents=True)
    (config_dir / "config.toml").write_text(
        'practitioner = "ZZ"\nstore = "csv"\n', encoding="utf-8"
    )
    seeded = run(["rate", "C-014", "--answers", "5,5,5,5", "--yes"])
    assert seeded.exit_code == 0, seeded.output
    assert (data_dir / "ratings.csv").is_file()  # the real settings were followed here

    def snapshot() -> tuple[object, object]:
        return folder_snapshot(data_dir, with_cache=True), folder_snapshot(config_dir)

    before = snapshot()
    assert before[0] and before[1]
    return before, snapshot


@pytest.fixture
def temp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where tempfile makes folders in this process, and, as TMPDIR, in a child process."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    monkeypatch.setenv("TMPDIR", str(root))
    return root


def caseload_table(output: str) -> list[str]:
    """The client codes of the caseload table, in the order shown."""
    return re.findall(r"^\s*\d+\s+(\S+)\s+\d+\s+\d{4}-\d\d-\d\d", output, re.MULTILINE)


def assert_left_nothing(output: str, temp_root: Path, real_folders, client: str = "DEMO-1"):
    before, snapshot = real_folders
    (saved,) = SAVED.findall(output)
    session, saved_client, path = saved
    assert saved_client == client
    # The rating went to the demo's own TOML store (the real settings choose CSV) under the
    # temporary folder, which is gone with everything in it.
    assert Path(path).is_relative_to(temp_root) and path.endswith(f"clients/{client}.toml")
    assert list(temp_root.iterdir()) == []
    assert snapshot() == before
    return int(session)


# -- the package data is the example caseload -----------------------------------------------------


def test_package_data_is_the_example_caseload_byte_for_byte():
    examples = {p.name: p.read_bytes() for p in sorted(EXAMPLE_CLIENTS.glob("*.toml"))}
    assert sorted(examples) == [f"{code}.toml" for code in CASELOAD]
    assert demo_caseload.client_files() == examples, (
        "src/ratetool/demo_caseload/clients/ differs from examples/data/clients/: after "
        "examples/make_demo_data.py, copy its files there"
    )


def test_seed_writes_the_caseload_and_never_overwrites(tmp_path):
    assert demo_caseload.seed(tmp_path / "data") == list(CASELOAD)
    written = {p.name: p.read_bytes() for p in sorted((tmp_path / "data" / "clients").iterdir())}
    assert written == demo_caseload.client_files()
    with pytest.raises(FileExistsError):
        demo_caseload.seed(tmp_path / "data")


# -- non-interactive, piped, options ---------------------------------------------------------------


def test_answers_and_yes_show_the_caseload_and_leave_nothing(real_folders, temp_root):
    result = run(["demo", "--answers", "8,9,7,10", "--yes"])
    assert result.exit_code == 0, result.output
    assert assert_left_nothing(result.stdout, temp_root, real_folders) == 1
    shown = caseload_table(result.stdout)
    assert sorted(shown) == sorted([*CASELOAD, "DEMO-1"])  # not the real C-014
    # 8,9,7,10 is 85% with genuineness at 7 of 10: DEMO-1 is second, after C-103's drop.
    assert shown[:2] == ["C-103", "DEMO-1"]
    assert "DEMO-1 (session 1)  overall 85.0%, below 90%" in result.stdout
    assert result.stdout.rstrip().endswith(GONE)
    assert "ratetool rate CLIENT" in GONE
    assert result.stderr == ""


def test_client_option_rates_that_client(real_folders, temp_root):
    result = run(["demo", "--client", "C-102", "--answers", "8,9,7,10", "--yes"])
    assert result.exit_code == 0, result.output
    # C-102 has 9 sessions in the example caseload: the demo's is the tenth.
    assert assert_left_nothing(result.stdout, temp_root, real_folders, "C-102") == 10
    assert sorted(caseload_table(result.stdout)) == list(CASELOAD)


def test_piped_answers_go_through_the_questionnaire(real_folders, temp_root):
    # Four answers, no comment, Enter at the review: the questions rate asks, from a pipe.
    result = run(["demo"], input="8\n9\n7\n10\n\n\n")
    assert result.exit_code == 0, result.output
    assert "Question 4 of 4" in result.stdout and "Your answers" in result.stdout
    assert assert_left_nothing(result.stdout, temp_root, real_folders) == 1
    assert "DEMO-1" in caseload_table(result.stdout)


@pytest.mark.parametrize(
    "args,input,message",
    [
        (["--answers", "8,9", "--yes"], None, "--answers has 2 answers"),
        ([], "8\n9\n", "Input ended"),
    ],
    ids=["bad answers", "input ends"],
)
def test_an_error_leaves_nothing(real_folders, temp_root, args, input, message):
    before, snapshot = real_folders
    result = run(["demo", *args], input=input)
    assert result.exit_code == 1, result.output
    assert message in result.stderr and "Nothing was saved" in result.stderr
    assert "Traceback" not in result.output
    assert list(temp_root.iterdir()) == []
    assert snapshot() == before


def test_ctrl_c_leaves_nothing(real_folders, temp_root, monkeypatch):
    before, snapshot = real_folders
    made = []

    def interrupt(prompt: str = "") -> str:
        made.extend(temp_root.iterdir())  # the demo folder exists while the client answers
        raise KeyboardInterrupt

    monkeypatch.setattr("builtins.input", interrupt)
    result = run(["demo"])
    assert result.exit_code == 130, result.output
    assert "Nothing was saved" in result.stderr
    assert len(made) == 1 and made[0].name.startswith("ratetool-demo-")
    assert list(temp_root.iterdir()) == []
    assert snapshot() == before


def test_a_bad_client_code_is_refused_before_anything(real_folders, temp_root):
    before, snapshot = real_folders
    result = run(["demo", "--client", "Jane Doe", "--answers", "8,9,7,10", "--yes"])
    assert result.exit_code == 1
    assert "never a name" in result.stderr
    assert result.stdout == ""
    assert list(temp_root.iterdir()) == []
    assert snapshot() == before


def test_global_folder_options_are_not_used_either(tmp_path, temp_root):
    given = tmp_path / "given"
    result = run(
        [
            "--data-dir",
            str(given / "data"),
            "--config-dir",
            str(given / "config"),
            "demo",
            "--answers",
            "8,9,7,10",
            "--yes",
        ]
    )
    assert result.exit_code == 0, result.output
    assert not given.exists()
    assert list(temp_root.iterdir()) == []


def test_demo_help_does_not_load_rich(temp_root):
    probe = (
        "import json, sys\n"
        "sys.argv = ['ratetool', *sys.argv[1:]]\n"
        "from ratetool.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps([m for m in ('rich', 'ratetool.render') if m in sys.modules]))\n"
    )

    def loaded(*args: str) -> list[str]:
        proc = subprocess.run(
            [sys.executable, "-c", probe, *args],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "COLUMNS": "100"},
        )
        return json.loads(proc.stdout.strip().splitlines()[-1])

    assert loaded("demo", "--help") == []
    # Control: the same probe sees rich when the demo draws the caseload.
    assert "rich" in loaded("demo", "--answers", "8,9,7,10", "--yes")
    assert list(temp_root.iterdir()) == []


# -- in a real terminal ----------------------------------------------------------------------------


def spawn_demo(*args: str):
    """``ratetool demo`` in a pseudo-terminal, with TMPDIR and the real folders from the test."""
    import pexpect

    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "RATETOOL_DEBUG")}
    env.update(NO_COLOR="1", TERM="dumb", PYTHONUNBUFFERED="1")
    child = pexpect.spawn(
        sys.executable,
        ["-m", "ratetool", "demo", *args],
        env=env,
        encoding="utf-8",
        timeout=TIMEOUT,
        dimensions=(40, 100),
    )
    child.delaybeforesend = None  # every send follows the prompt it answers
    return child


def finish(child) -> None:
    import pexpect

    child.expect(pexpect.EOF)
    child.wait()
    child.ptyproc.delayafterclose = 0
    child.close()


def begin(child) -> None:
    """The demo waits for Enter before the check-in clears the screen for the client."""
    child.expect_exact("Press Enter to begin the check-in")
    child.sendline("")


def answer(child, value: str, question: int) -> None:
    child.expect_exact(f"Question {question} of 4")
    child.expect_exact("Your answer (")
    child.expect_exact("): ")
    child.sendline(value)


@pytest.mark.posix_only  # a pseudo-terminal
def test_demo_in_a_real_terminal_leaves_the_real_folders_byte_identical(real_folders, temp_root):
    child = spawn_demo()
    child.expect_exact("ratetool demo: a check-in for a made-up client, DEMO-1")
    begin(child)
    for question, value in enumerate(("8", "9", "7", "10"), 1):
        answer(child, value, question)
    child.expect_exact("Anything that would have made today better?")
    child.expect_exact("> ")
    child.sendline("")
    child.expect_exact("Press Enter to save")
    child.sendline("")
    child.expect_exact("Thank you. Please turn the screen back to your practitioner.")
    child.expect(SAVED.pattern)
    saved = child.match.group(0)
    child.expect_exact("Caseload: 5 clients")
    child.expect(r"\n\s*2\s+DEMO-1\s+1\s")  # second, after C-103: see the CliRunner test
    child.expect_exact("The demo folder is gone; nothing was kept.")
    finish(child)
    assert child.exitstatus == 0
    assert assert_left_nothing(saved, temp_root, real_folders) == 1


@pytest.mark.posix_only  # a pseudo-terminal and signals
@pytest.mark.parametrize("how", ["ctrl-c", "hangup", "terminate"])
def test_stopping_the_demo_in_a_terminal_leaves_nothing(real_folders, temp_root, how):
    before, snapshot = real_folders
    child = spawn_demo()
    begin(child)
    answer(child, "8", 1)
    child.expect_exact("Question 2 of 4")
    child.expect_exact("): ")
    assert [p.name[:14] for p in temp_root.iterdir()] == ["ratetool-demo-"]
    if how == "ctrl-c":
        child.sendintr()
        child.expect_exact("Stopped. Nothing was saved.")
    else:
        child.kill(signal.SIGHUP if how == "hangup" else signal.SIGTERM)
    finish(child)
    expected = {"ctrl-c": 130, "hangup": 128 + signal.SIGHUP, "terminate": 128 + signal.SIGTERM}
    assert child.exitstatus == expected[how], (child.exitstatus, child.signalstatus)
    assert list(temp_root.iterdir()) == []
    assert snapshot() == before
