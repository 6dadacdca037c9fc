"""README.md and docs/ keep their promises.

- README's Quick start and .ci/run cannot drift apart: CI installs and tests exactly as README says.
- The README stays a five-minute read that links every page of the manual in docs/.
- Every relative link (and #anchor) in README.md and docs/*.md leads somewhere.
- Every ``ratetool …`` command shown in code exists, with the options it is shown with.
- LICENSE is the licence pyproject.toml declares.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS]

FENCE = re.compile(r"^(```+)([^\n]*)\n(.*?)^\1[ \t]*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`([^`\n]+(?:\n[^`\n]+)?)`")  # may wrap onto a second line
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
SHELL_BLOCKS = {"console", "text", "sh", "bash", "shell", ""}  # not toml, json, csv
GLOBAL_OPTIONS_WITH_VALUE = {"--data-dir", "--config-dir"}
GLOBAL_FLAGS = {"--debug", "--version", "--help", "-h"}


def quick_start_commands() -> list[str]:
    readme = README.read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [b.strip() for b in re.findall(r"```console\n(.*?)```", section, re.DOTALL)]


def test_quick_start_is_two_commands() -> None:
    commands = quick_start_commands()
    assert len(commands) == 2, commands
    assert all("\n" not in c for c in commands)
    install_and_run, test = commands
    assert "pip install ." in install_and_run and install_and_run.endswith("ratetool demo")
    assert "pytest" in test


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    _, test = quick_start_commands()
    assert test in ci, f"{test!r} is not a line of .ci/run"


def test_ci_runs_the_readme_demo_from_a_regular_install() -> None:
    """The first command installs with `pip install .` (a built wheel, not the source tree) and
    runs `ratetool demo`: CI does both, so the demo's package data is tested as installed."""
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    install_and_run, _ = quick_start_commands()
    assert "python -m pip install ." in install_and_run
    install = ci.index("python -m pip install --quiet .")
    demo = next(n for n, line in enumerate(ci) if line.startswith("ratetool demo --answers "))
    assert install < demo and "--yes" in ci[demo]


def test_ci_makes_a_fresh_virtual_environment() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "-m venv" in ci and 'rm -rf "$VENV"' in ci


LINT_COMMANDS = ["ruff check .", "ruff format --check .", "mypy"]


def test_ci_runs_the_linters_contributing_names() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    missing = [command for command in LINT_COMMANDS if command not in ci]
    assert not missing, f".ci/run does not run {missing}"
    readme = README.read_text(encoding="utf-8")
    contributing = readme.split("## Contributing", 1)[1].split("\n## ", 1)[0]
    assert " && ".join(LINT_COMMANDS) in contributing
    install = 'python -m pip install -e ".[lint]"'
    assert f"`{install}`" in contributing
    assert any(line.startswith(install) for line in ci), f"{install!r} is not in .ci/run"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lint = project["optional-dependencies"]["lint"]
    assert {re.split(r"[~<>=!]", req)[0] for req in lint} == {"ruff", "mypy"}


# ------------------------------------------------------------------------------------------------
# A README a newcomer reads in five minutes, and the manual it leads to


def test_readme_is_short() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 300, len(lines)


def test_readme_links_every_page_of_the_manual() -> None:
    assert (ROOT / "docs" / "README.md") in DOCS and len(DOCS) >= 5
    targets = {(README.parent / link.split("#", 1)[0]).resolve() for link in links(README) if link}
    unlinked = [p.relative_to(ROOT).as_posix() for p in DOCS if p.resolve() not in targets]
    assert not unlinked, f"README.md does not link {unlinked}"


def test_the_index_links_every_page() -> None:
    index = ROOT / "docs" / "README.md"
    targets = {(index.parent / link.split("#", 1)[0]).resolve() for link in links(index)}
    unlinked = [p.name for p in DOCS if p != index and p.resolve() not in targets]
    assert not unlinked, f"docs/README.md does not link {unlinked}"


def test_readme_says_how_to_get_help_and_every_everyday_command() -> None:
    from ratetool.cli import COMMANDS

    readme = README.read_text(encoding="utf-8")
    assert "ratetool --help" in readme and "ratetool COMMAND --help" in readme
    shown = {command for command, _ in shown_commands(README)}
    assert set(COMMANDS) <= shown, set(COMMANDS) - shown


def test_license_is_the_one_pyproject_declares() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge" in text
    authors = project["authors"][0]["name"]
    assert f"Copyright (c) 2026 {authors}" in text


# ------------------------------------------------------------------------------------------------
# Links


def without_code(text: str) -> str:
    text = FENCE.sub("", text)
    return re.sub(r"`[^`]*`", "", text)


def links(page: Path) -> list[str]:
    found = LINK.findall(without_code(page.read_text(encoding="utf-8")))
    return [link for link in found if not re.match(r"[a-z]+:", link)]  # not https:, mailto:


def anchors(page: Path) -> set[str]:
    """The #anchors GitHub gives the page's headings."""
    headings = re.findall(r"^#+ (.+)$", FENCE.sub("", page.read_text(encoding="utf-8")), re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves(page: Path) -> None:
    broken = []
    for link in links(page):
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        if not target.exists():
            broken.append(link)
        elif anchor and (target.suffix != ".md" or anchor not in anchors(target)):
            broken.append(link)
    assert not broken, f"{page.relative_to(ROOT)}: {broken}"


# ------------------------------------------------------------------------------------------------
# Commands shown in the docs


def code_of(page: Path) -> list[str]:
    """Each line of every fenced block, and every inline code span, of a page."""
    text = page.read_text(encoding="utf-8")
    lines = [
        line
        for match in FENCE.finditer(text)
        if match.group(2).strip() in SHELL_BLOCKS
        for line in match.group(3).splitlines()
    ]
    return lines + [" ".join(span.split()) for span in CODE_SPAN.findall(FENCE.sub("", text))]


def shown_commands(page: Path) -> list[tuple[str, list[str]]]:
    """(command, its words) for every ``ratetool COMMAND …`` in the page's code.

    Global options before the command are skipped; placeholders in capitals (``COMMAND``) and
    ``ratetool`` alone or with only global options are left out.
    """
    found = []
    for line in code_of(page):
        line = re.split(r"\s+#\s", line, maxsplit=1)[0]  # a shell comment
        for part in re.split(r"&&|\|\||[|;]", line):
            words = part.split()
            if "ratetool" not in words:
                continue
            words = words[words.index("ratetool") + 1 :]
            while words and (words[0] in GLOBAL_OPTIONS_WITH_VALUE | GLOBAL_FLAGS):
                words = words[2:] if words[0] in GLOBAL_OPTIONS_WITH_VALUE else words[1:]
            if words and not words[0].isupper() and re.fullmatch(r"[a-z_-]+", words[0]):
                found.append((words[0], words[1:]))
    return found


@cache
def help_text(*command: str) -> str:
    from typer.testing import CliRunner

    from ratetool.cli import app

    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, (command, result.output)
    return result.stdout


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_command_shown_exists_with_its_options(page: Path) -> None:
    from ratetool.cli import COMMANDS

    problems = []
    for command, words in shown_commands(page):
        if command not in COMMANDS:
            problems.append(f"ratetool {command}: no such command")
            continue
        path = [command]
        if words and re.fullmatch(r"[a-z]+", words[0]) and "Commands:" in help_text(command):
            path.append(words.pop(0))  # a subcommand: ratetool instruments show
            if f"  {path[1]} " not in help_text(command):
                problems.append(f"ratetool {' '.join(path)}: no such command")
                continue
        for word in words:
            option = word.split("=", 1)[0]
            if re.fullmatch(r"--[a-z][a-z-]*", option) and option not in help_text(*path):
                problems.append(f"ratetool {' '.join(path)}: no option {option}")
    assert not problems, f"{page.relative_to(ROOT)}: {problems}"
