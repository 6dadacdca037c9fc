"""``ratetool void``, ``ratetool amend`` and ``ratetool clients rename`` on the TOML store: what
the practitioner sees, what every other command shows afterwards, and refusals that write
nothing."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers.store_kit import folder_snapshot
from ratetool.cli import app

ANSWERS = ["8,9,7,10", "5,6,7,8", "9,9,9,9"]


def run(*args: str, input: str | None = None, code: int = 0):
    result = CliRunner().invoke(app, list(args), input=input)
    assert result.exit_code == code, (args, result.exit_code, result.output)
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def rated(data_dir: Path) -> Path:
    """C-7 with three sessions, C-8 with one; returns C-7's file."""
    for answers in ANSWERS:
        run("rate", "C-7", "--answers", answers, "--comment", "first words", "--yes")
    run("rate", "C-8", "--answers", "1,2,3,4", "--yes")
    return data_dir / "clients" / "C-7.toml"


def sessions_of(client: str) -> list[int]:
    report = json.loads(run("summary", client, "--json").stdout)
    return [s["session"] for s in report["sessions"]]


def caseload() -> dict[str, dict]:
    return {row["client"]: row for row in json.loads(run("summary", "--json").stdout)}


def exported() -> list[dict[str, str]]:
    text = run("export", "--format", "csv", "--output", "-").stdout
    return list(csv.DictReader(io.StringIO(text)))


# -- void ------------------------------------------------------------------------------------------


def test_void_shows_the_rating_and_it_counts_nowhere_after(rated: Path) -> None:
    before = rated.read_bytes()
    assert caseload()["C-7"]["sessions"] == 3  # fills the caseload cache too
    result = run("void", "C-7", "2", "--reason", "rated for the wrong client", "--yes")
    assert "Void session 2 of C-7: rated 2026-" in result.stdout
    assert "checkin version 1" in result.stdout and "empathy=5, warmth=6" in result.stdout
    assert "Voided session 2 of C-7" in result.stdout
    assert f"The original rating stays in {rated}" in result.stdout
    assert rated.read_bytes().startswith(before)
    assert sessions_of("C-7") == [1, 3]
    assert caseload()["C-7"]["sessions"] == 2
    rows = exported()
    assert [(r["client"], r["session"]) for r in rows] == [("C-7", "1"), ("C-7", "3"), ("C-8", "1")]
    # the next rating gets the next number, never the voided one's
    assert "Saved: session 4 for C-7" in run("rate", "C-7", "--answers", "1,1,1,1", "--yes").stdout


def test_void_asks_to_confirm_and_no_writes_nothing(rated: Path, data_dir: Path, monkeypatch):
    from ratetool.cli import corrections

    before = folder_snapshot(data_dir)
    monkeypatch.setattr(corrections, "at_terminal", lambda: True)
    result = CliRunner().invoke(app, ["void", "C-7", "1", "--reason", "test"], input="n\n")
    assert result.exit_code == 1 and "Void session 1 of C-7?" in result.output
    assert "Nothing was written." in result.output
    assert folder_snapshot(data_dir) == before
    result = CliRunner().invoke(app, ["void", "C-7", "1", "--reason", "test"], input="y\n")
    assert result.exit_code == 0 and "Voided session 1 of C-7" in result.output
    assert sessions_of("C-7") == [2, 3]


def test_without_a_terminal_void_needs_yes(rated: Path, data_dir: Path) -> None:
    before = folder_snapshot(data_dir)
    result = run("void", "C-7", "1", "--reason", "test", code=1)
    assert "add --yes" in result.stderr and "Nothing was written" in result.stderr
    assert folder_snapshot(data_dir) == before


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["void", "C-7", "1", "--yes"], "Say why the rating is voided"),
        (["void", "C-7", "1", "--reason", " ", "--yes"], "Say why the rating is voided"),
        (["void", "C-7", "9", "--reason", "x", "--yes"], "has no session 9"),
        (["void", "C-9", "1", "--reason", "x", "--yes"], "no ratings for client C-9"),
        (["void", "C-7", "3", "--reason", "x", "--yes"], "already voided"),
        (["amend", "C-7", "3", "--answers", "1,1,1,1", "--yes"], "already voided"),
        (["amend", "C-7", "1", "--answers", "1,1,1,99", "--yes"], "outside 0–10"),
        (["amend", "C-7", "1", "--answers", "1,1,1", "--yes"], "has 4 items"),
        (["amend", "C-7", "1", "--answers", "1,1,1,1", "--comment", "\x1b[2J", "--yes"], "comment"),
        (["clients", "rename", "C-7", "C-8", "--yes"], "cannot merge two clients yet"),
        (["clients", "rename", "C-7", "c-8", "--yes"], "only in upper and lower case"),
        (["clients", "rename", "C-9", "C-10", "--yes"], "no ratings"),
        (["clients", "rename", "C-7", "../x", "--yes"], "../x"),
    ],
)
def test_refusals_write_nothing(rated: Path, data_dir: Path, args: list[str], words: str) -> None:
    run("void", "C-7", "3", "--reason", "a test", "--yes")
    before = folder_snapshot(data_dir)
    result = run(*args, code=1)
    assert words in result.stderr
    assert folder_snapshot(data_dir) == before


# -- amend -----------------------------------------------------------------------------------------


def test_amend_with_answers_shows_the_new_answers_everywhere(rated: Path) -> None:
    before = rated.read_bytes()
    result = run(
        "amend", "C-7", "2", "--answers", "empathy=1,warmth=2,genuineness=3,trust=4",
        "--comment", "typed from paper", "--reason", "typed wrong", "--yes",
    )  # fmt: skip
    assert "New answers: empathy=1, warmth=2, genuineness=3, trust=4" in result.stdout
    assert "Amended session 2 of C-7" in result.stdout
    assert rated.read_bytes().startswith(before)
    report = json.loads(run("summary", "C-7", "--json").stdout)
    (second,) = [s for s in report["sessions"] if s["session"] == 2]
    assert second["dimensions"] == {"empathy": 1.0, "warmth": 2.0, "genuineness": 3.0, "trust": 4.0}
    row = next(r for r in exported() if r["session"] == "2" and r["client"] == "C-7")
    assert (row["empathy"], row["trust"], row["comment"]) == ("1", "4", "typed from paper")
    assert sessions_of("C-7") == [1, 2, 3]


def test_amend_asks_each_question_again_with_the_stored_answer_as_default(rated: Path) -> None:
    # Enter keeps 5, b goes back from question 3 to 2, then 2 -> 3, Enter keeps 7, trust -> 1
    result = run("amend", "C-7", "2", "--yes", input="\n6\nb\n3\n\n1\n")
    assert "Enter keeps 5" in result.stdout and "Enter keeps 8" in result.stdout
    assert "New answers: empathy=5, warmth=3, genuineness=7, trust=1" in result.stdout
    row = next(r for r in exported() if r["session"] == "2" and r["client"] == "C-7")
    assert [row[k] for k in ("empathy", "warmth", "genuineness", "trust")] == ["5", "3", "7", "1"]
    assert row["comment"] == "first words"  # no --comment: the comment stays


def test_amend_that_changes_nothing_writes_nothing(rated: Path, data_dir: Path) -> None:
    before = folder_snapshot(data_dir)
    result = run("amend", "C-7", "1", "--answers", "8,9,7,10", "--yes")
    assert "Nothing changed" in result.stdout
    assert folder_snapshot(data_dir) == before


# -- rename ----------------------------------------------------------------------------------------


def test_rename_moves_every_session_to_the_new_code(rated: Path, data_dir: Path) -> None:
    old = rated.read_bytes()
    run("void", "C-7", "2", "--reason", "a test", "--yes")
    voided = rated.read_bytes()
    assert voided.startswith(old)
    result = run("clients", "rename", "C-7", "C-07", "--reason", "typed wrong", "--yes")
    assert "Renamed C-7 to C-07" in result.stdout
    (kept,) = (data_dir / "clients").glob("C-7.toml.renamed-to-C-07-*")
    assert kept.read_bytes() == voided  # every byte kept
    listed = [row["client"] for row in json.loads(run("clients", "--json").stdout)]
    assert listed == ["C-07", "C-8"]
    assert "C-07" in run("clients").stdout and "C-7 " not in run("clients").stdout
    assert sessions_of("C-07") == [1, 3]
    assert set(caseload()) == {"C-07", "C-8"}
    assert {r["client"] for r in exported()} == {"C-07", "C-8"}
    saved = run("rate", "C-07", "--answers", "1,1,1,1", "--yes").stdout
    assert "Saved: session 4 for C-07" in saved
    refused = run("rate", "C-7", "--answers", "1,1,1,1", "--yes", code=1)
    assert "renamed to C-07" in refused.stderr
    checked = run("check")
    assert "Note:" in checked.stdout and "kept after `clients rename C-7 C-07`" in checked.stdout


def test_clients_without_a_subcommand_still_lists(rated: Path) -> None:
    table = run("clients").stdout
    assert "C-7" in table and "C-8" in table
    assert [r["client"] for r in json.loads(run("clients", "--json").stdout)] == ["C-7", "C-8"]
    assert run("clients", "nonsense", code=2).exit_code == 2


@pytest.mark.parametrize(
    "args", [["void", "--help"], ["amend", "--help"], ["clients", "rename", "--help"]]
)
def test_help_gives_an_example(args: list[str]) -> None:
    assert "Example: ratetool " in run(*args).stdout


@pytest.mark.parametrize("store", ["toml", "csv"])
def test_summary_and_chart_of_a_renamed_away_code_name_the_new_code(
    config_dir: Path, data_dir: Path, store: str
) -> None:
    run("init", "--store", store)
    run("rate", "C-7", "--answers", "8,9,7,10", "--yes")
    run("clients", "rename", "C-7", "C-017", "--yes")
    for command in ("summary", "chart"):
        result = run(command, "C-7", code=1)
        assert "renamed to C-017" in result.stderr and f"ratetool {command} C-017" in result.stderr
    assert "No ratings for client C-9" in run("summary", "C-9", code=1).stderr
