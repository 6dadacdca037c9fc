"""One validation, everywhere: what ``check`` reports is what reading finds, for every command.

Each hand edit below passed ``ratetool check`` as OK before, then blocked the whole caseload or
was appended to. Now ``check`` names it (file, line, session), ``summary`` and ``export`` show
every other client, name the same problem and exit 1, and ``rate`` refuses before the first
question. Both stores are covered where the edit can be made in both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ratetool.cli import app

runner = CliRunner()


def run(*args: str, code: int = 0, stdin: str | None = None):
    result = runner.invoke(app, list(args), input=stdin)
    assert result.exit_code == code, (args, result.exit_code, result.stdout, result.stderr)
    return result


def rate(client: str, answers: str = "8,9,7,10", day: str = "2025-03-01", *extra: str) -> None:
    run("rate", client, "--answers", answers, "--date", day, "--yes", *extra)


def use_csv(config_dir: Path) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text('store = "csv"\n', encoding="utf-8")


def edit(path: Path, change: Callable[[str], str]) -> None:
    text = path.read_text(encoding="utf-8")
    changed = change(text)
    assert changed != text
    path.write_text(changed, encoding="utf-8")


def sub(pattern: str, repl: str, count: int = 1) -> Callable[[str], str]:
    return lambda text: re.sub(pattern, repl, text, count=count, flags=re.MULTILINE)


def problem_lines(stream: str, path: Path) -> list[str]:
    return [line.strip() for line in stream.splitlines() if str(path) in line]


# ------------------------------------------------------------------------------------------------
# The hand edits that passed `check` before


TOML_EDITS: dict[str, tuple[Callable[[str], str], str]] = {
    "answer outside the scale": (sub(r"empathy = 8,", "empathy = 80,"), "80 is outside 0–10"),
    "unknown item": (sub(r"answers = \{ ", "answers = { bogus = 3, "), "'bogus'"),
    "skipped without skips": (
        sub(r"^answers = \{ empathy = 8, ", 'skipped = ["empathy"]\nanswers = { '),
        "does not allow skipping",
    ),
    "missing item": (sub(r"empathy = 8, ", ""), "no answer for empathy"),
    "session number too big": (
        sub(r"^session = 1$", "session = 99999999999999999999"),
        "above 1,000,000",
    ),
    "duplicate id": (lambda text: _duplicate_id(text), "used twice"),
    "duplicate session number": (sub(r"^session = 2$", "session = 1"), "numbered session 1"),
}


def _duplicate_id(text: str) -> str:
    ids = re.findall(r'^id = "(.*)"$', text, flags=re.MULTILINE)
    return text.replace(ids[1], ids[0])


@pytest.mark.parametrize("name", list(TOML_EDITS))
def test_a_hand_edit_is_named_by_check_and_blocks_no_other_client(
    name: str, data_dir: Path, tmp_path: Path
) -> None:
    change, words = TOML_EDITS[name]
    rate("C-001", "9,9,9,9")
    rate("C-002", "8,9,7,10", "2025-03-01")
    rate("C-002", "8,9,7,10", "2025-03-08")
    rate("C-003", "5,5,5,5")
    path = data_dir / "clients" / "C-002.toml"
    edit(path, change)

    checked = run("check", code=1)
    [problem] = problem_lines(checked.stderr, path)
    assert words in problem, problem
    assert re.search(r", line \d+, session \d+: ", problem), problem  # file, line, session

    # the caseload shows every other client, names the same problem under the table, exits 1
    table = run("summary", code=1)
    assert "C-001" in table.stdout and "C-003" in table.stdout
    assert problem_lines(table.stdout, path) == [problem]
    assert table.stdout.rindex(problem) > table.stdout.index("C-003")  # under the table

    shown = run("summary", "--json", code=1)
    rows = json.loads(shown.stdout)  # still the documented list
    assert {"C-001", "C-003"} <= {r["client"] for r in rows}
    assert problem_lines(shown.stderr, path) == [problem]

    # the broken client shows what it can, and the problem
    one = run("summary", "C-002", "--json", code=1)
    data = json.loads(one.stdout)
    assert len(data["sessions"]) == 1
    [listed] = data["problems"]
    assert listed["file"] == str(path) and listed["problem"] in problem
    assert isinstance(listed["line"], int) and isinstance(listed["session"], int)

    # an export writes every other client, names the problem on stderr, exits 1
    out = tmp_path / "out.csv"
    exported = run("export", "--output", str(out), code=1)
    assert problem_lines(exported.stderr, path) == [problem]
    text = out.read_text(encoding="utf-8")
    assert "C-001" in text and "C-003" in text

    # rate refuses before the first question, naming the problem and what to do
    before = path.read_bytes()
    refused = run("rate", "C-002", code=1, stdin="")
    assert problem in refused.stderr and "ratetool check" in refused.stderr
    assert "Nothing was written" in refused.stderr
    assert "Today" not in refused.stdout  # no question was asked
    assert path.read_bytes() == before


def test_single_brackets_are_named_by_check_and_never_repaired_away(data_dir: Path) -> None:
    """``[sessions]`` for ``[[sessions]]`` (one session, or two): a hand edit, not a torn write,
    so ``check --repair`` must not move the file aside."""
    rate("C-001", "9,9,9,9")
    rate("C-002", "8,9,7,10", "2025-03-01")
    path = data_dir / "clients" / "C-002.toml"
    edit(path, sub(r"^\[\[sessions\]\]$", "[sessions]"))
    checked = run("check", code=1)
    [problem] = problem_lines(checked.stderr, path)
    assert "[sessions]" in problem and "[[sessions]]" in problem
    before = path.read_bytes()
    run("check", "--repair", code=1)
    assert path.read_bytes() == before
    table = run("summary", code=1)
    assert "C-001" in table.stdout and problem in table.stdout

    rate("C-003", "8,9,7,10", "2025-03-01")
    rate("C-003", "8,9,7,10", "2025-03-08")
    path = data_dir / "clients" / "C-003.toml"
    edit(path, sub(r"^\[\[sessions\]\]$", "[sessions]", count=0))
    before = path.read_bytes()
    checked = run("check", "--repair", code=1)
    assert "Repaired" not in checked.stdout
    assert path.read_bytes() == before
    assert "[sessions]" in checked.stderr


def test_check_reports_the_problem_summary_shows_word_for_word(data_dir: Path) -> None:
    rate("C-001")
    rate("C-002", "8,9,7,10", "2025-03-01")
    rate("C-002", "9,9,9,9", "2025-03-08")
    path = data_dir / "clients" / "C-002.toml"
    edit(path, sub(r"empathy = 8,", "empathy = 80,"))
    checked = problem_lines(run("check", code=1).stderr, path)
    assert checked == problem_lines(run("summary", code=1).stdout, path)
    assert checked == problem_lines(run("summary", "C-002", code=1).stdout, path)
    assert checked == problem_lines(run("summary", "--json", code=1).stderr, path)
    assert checked == problem_lines(run("summary", "--by", "month", code=1).stdout, path)
    assert checked == problem_lines(run("export", "--output", "-", code=1).stderr, path)
    assert len(checked) == 1
    # a client none of whose sessions reads: the problem, and no "no ratings" claim
    edit(path, sub(r"empathy = 9,", "empathy = 90,"))
    alone = run("summary", "C-002", code=1)
    assert problem_lines(alone.stderr, path) == problem_lines(run("check", code=1).stderr, path)
    assert "No ratings for client" not in alone.stderr and "could be read" in alone.stderr


@pytest.mark.parametrize("store_kind", ["toml", "csv"])
def test_one_broken_file_or_row_leaves_the_caseload_whole(
    store_kind: str, data_dir: Path, config_dir: Path
) -> None:
    if store_kind == "csv":
        use_csv(config_dir)
    for n in range(1, 6):
        rate(f"C-00{n}", "9,9,9,9")
    if store_kind == "csv":
        path = data_dir / "ratings.csv"
        edit(path, sub(r"^(.*,C-003,1,.*?,checkin,1,[^,]*,)9,", r"\g<1>80,"))
    else:
        path = data_dir / "clients" / "C-003.toml"
        edit(path, sub(r"empathy = 9,", "empathy = 80,"))
    for _ in range(2):  # cold, then through the cache
        result = run("summary", code=1)
        for n in (1, 2, 4, 5):
            assert f"C-00{n}" in result.stdout
        assert "80 is outside 0–10" in result.stdout
    rows = json.loads(run("summary", "--json", code=1).stdout)
    assert sorted(r["client"] for r in rows) == ["C-001", "C-002", "C-004", "C-005"]
    checked = problem_lines(run("check", code=1).stderr, path)
    assert checked == problem_lines(run("summary", code=1).stdout, path)
    assert checked and ", session 1:" in checked[0]


def test_csv_rows_are_held_to_their_instrument(data_dir: Path, config_dir: Path) -> None:
    use_csv(config_dir)
    rate("C-001")
    rate("C-002")
    path = data_dir / "ratings.csv"
    edit(path, sub(r"^(.*,C-002,1,.*?,checkin,1,[^,]*,)8,", r"\g<1>,"))  # empathy left empty
    [problem] = problem_lines(run("check", code=1).stderr, path)
    assert "no answer for empathy" in problem and ", line 3, session 1: " in problem
    refused = run("rate", "C-001", code=1, stdin="")
    assert problem in refused.stderr


def test_a_rating_whose_instrument_is_not_found_stays_readable(data_dir: Path) -> None:
    rate("C-001")
    path = data_dir / "clients" / "C-001.toml"
    edit(path, sub(r'^instrument = "checkin"', 'instrument = "gone"'))
    checked = run("check")
    assert "no problems" in checked.stdout
    result = run("summary", "C-001")
    assert "no definition of instrument gone" in result.stderr


def test_the_cache_never_keeps_a_client_whose_file_has_a_problem(data_dir: Path) -> None:
    rate("C-001")
    rate("C-002")
    run("summary")
    path = data_dir / "clients" / "C-002.toml"
    edit(path, sub(r"empathy = 8,", "empathy = 80,"))
    run("summary", code=1)
    cache = json.loads((data_dir / ".ratetool-cache" / "cache-v4.json").read_text("utf-8"))
    assert "C-001" in cache["clients"] and "C-002" not in cache["clients"]
    assert "80 is outside" in run("summary", code=1).stdout  # said again, every time


@pytest.mark.parametrize("store_kind", ["toml", "csv"])
def test_an_answer_of_5000_digits_in_a_file_is_a_problem_not_an_internal_error(
    store_kind: str, data_dir: Path, config_dir: Path
) -> None:
    if store_kind == "csv":
        use_csv(config_dir)
    rate("C-001")
    rate("C-002")
    if store_kind == "csv":
        path = data_dir / "ratings.csv"
        edit(path, sub(r"^(.*,C-002,1,.*?,checkin,1,[^,]*,)8,", r"\g<1>" + "9" * 5000 + ","))
    else:
        path = data_dir / "clients" / "C-002.toml"
        edit(path, sub(r"empathy = 8,", "empathy = " + "9" * 5000 + ","))
    [problem] = problem_lines(run("check", code=1).stderr, path)
    assert len(problem) < 300  # the 5,000 digits are not repeated
    assert f", line {3 if store_kind == 'csv' else 7}" in problem, problem
    table = run("summary", code=1)
    assert "C-001" in table.stdout and problem_lines(table.stdout, path) == [problem]
    assert run("export", "--output", "-", code=1).stdout.count("C-001") == 1


def test_a_client_file_nested_thousands_deep_is_a_problem_of_its_line(tmp_path) -> None:
    """tomllib recurses into every bracket: a hand-made file nested 3,000 deep is named by its
    line, for check and summary alike, and the other clients still show."""
    from typer.testing import CliRunner

    from ratetool.cli import app

    runner = CliRunner()
    data = tmp_path / "nested"
    env = {"RATETOOL_DATA_DIR": str(data), "RATETOOL_CONFIG_DIR": str(tmp_path / "cfg")}
    assert (
        runner.invoke(app, ["rate", "C-1", "--answers", "8,9,7,10", "--yes"], env=env).exit_code
        == 0
    )
    bad = data / "clients" / "C-2.toml"
    bad.write_text('format = 1\nclient = "C-2"\n\nx = ' + "[" * 3000 + "]" * 3000 + "\n")
    for args in (["check"], ["summary"], ["clients"]):
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 1, (args, result.output)
        assert "nested too deeply" in result.output, (args, result.output)
        assert "line 4" in result.output, (args, result.output)
    assert "C-1" in runner.invoke(app, ["summary"], env=env).output
