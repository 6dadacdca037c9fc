"""README's Quick start and .ci/run cannot drift apart: CI installs and tests exactly as README says."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [b.strip() for b in re.findall(r"```console\n(.*?)```", section, re.DOTALL)]


def test_quick_start_is_two_commands() -> None:
    commands = quick_start_commands()
    assert len(commands) == 2, commands
    assert all("\n" not in c for c in commands)
    install_and_run, test = commands
    assert "pip install ." in install_and_run and "ratetool rate" in install_and_run
    assert "pytest" in test


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    _, test = quick_start_commands()
    assert test in ci, f"{test!r} is not a line of .ci/run"


def test_ci_makes_a_fresh_virtual_environment() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "-m venv" in ci and 'rm -rf "$VENV"' in ci
