"""No internal errors from input, the same limits at every way in, and control characters
(issue 10): each input that once ended in "internal error" (exit 70) gets a clear message and
exit 1 with nothing written; ``rate`` and ``import`` hold a rating to the same limits
(``ratetool.limits``); and text from files is shown with its control characters visible.

Everything runs in process through Typer's ``CliRunner``; the data folder lives in ``tmp_path``
(see conftest.py).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers.store_kit import folder_snapshot
from ratetool import limits
from ratetool.cli import app
from ratetool.render.chart import chart_text

HEADER = "client,date,empathy,warmth,genuineness,trust,comment\n"
ESC_BEL_DEL = "a\x1b[31mred\x07bell\x7fdel"


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input)


def snapshot(folder: Path) -> dict[str, bytes | None] | None:
    return folder_snapshot(folder, with_cache=True)


def refused(result, *words: str) -> None:
    """Exit 1 through ratetool's exit point with a message holding ``words``, no traceback."""
    assert result.exit_code == 1, (result.exit_code, result.output)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "internal error" not in result.output and "Traceback" not in result.output
    for word in words:
        assert word in result.stderr, (word, result.stderr)


def write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def rate(*extra: str, answers: str = "7,8,8,6"):
    return run("rate", "C-1", "--answers", answers, "--yes", *extra)


# -- rate: answers, dates, comments ------------------------------------------------------------


@pytest.mark.parametrize("answers", ["9" * 5000 + ",1,1,1", "empathy=" + "9" * 5000 + ",warmth=1"])
def test_a_5000_digit_answer_to_rate_is_refused(data_dir: Path, answers: str) -> None:
    result = rate(answers=answers)
    refused(result, "empathy: an answer of 5,000 digits is not on any scale", "Nothing was saved")
    assert snapshot(data_dir) is None


def test_a_5000_digit_answer_at_the_question_is_asked_again(data_dir: Path) -> None:
    typed = "9" * 5000 + "\n7\n8\n8\n6\n\n\n"
    result = run("rate", "C-1", input=typed)
    assert result.exit_code == 0, result.output
    assert "Saved: session 1" in result.output


@pytest.mark.parametrize(
    ("day", "words"),
    [
        ("0001-01-01", "before 1900-01-01"),
        ("0001-01-01T00:00+05:00", "before 1900-01-01"),
        ("1899-12-31", "before 1900-01-01"),
        ("9999-12-31T23:59-05:00", "in the future"),
    ],
)
def test_rate_dates_outside_1900_to_tomorrow_are_refused(data_dir: Path, day: str, words) -> None:
    refused(rate("--date", day), f"--date {day!r}", words)
    assert snapshot(data_dir) is None


def test_rate_takes_the_first_and_last_days_of_the_range(data_dir: Path) -> None:
    assert rate("--date", "1900-01-01").exit_code == 0
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    assert rate("--date", tomorrow).exit_code == 0


@pytest.mark.parametrize("bad", ["\x1b[31mred", "bell\x07", "del\x7f", "c1\x9b", "nul\x00"])
def test_rate_refuses_control_characters_in_a_comment(data_dir: Path, bad: str) -> None:
    refused(rate("--comment", bad), "--comment: the comment holds the control character \\x")
    assert snapshot(data_dir) is None


def test_rate_keeps_tabs_and_line_breaks_in_a_comment(data_dir: Path) -> None:
    assert rate("--comment", "one\ttwo\r\nthree").exit_code == 0
    shown = run("summary", "C-1", "--comments", "--json")
    assert json.loads(shown.stdout)["sessions"][0]["comment"] == "one\ttwo\nthree"


def test_rate_and_import_refuse_the_same_comment_length(tmp_path: Path, data_dir: Path) -> None:
    longest = "x" * limits.MAX_COMMENT
    assert rate("--comment", longest).exit_code == 0
    refused(rate("--comment", longest + "x"), "4,001 characters long; at most 4,000")
    path = write(tmp_path, "x.csv", HEADER + f"C-2,2026-11-01,7,8,8,6,{longest}x\n")
    refused(run("import", str(path)), "row 2: the comment is 4,001 characters long")
    path = write(tmp_path, "y.csv", HEADER + f"C-2,2026-11-01,7,8,8,6,{'x' * 5000}\n")
    refused(run("import", str(path)), "row 2: the comment is 5,000 characters long")


def test_the_comment_prompt_asks_again_for_a_control_character(data_dir: Path) -> None:
    # An arrow key where the terminal has no line editing arrives as ESC [ D.
    result = run("rate", "C-1", input="7\n8\n8\n6\nbetter\x1b[D\nbetter\n\n")
    assert result.exit_code == 0, result.output
    assert "cannot be kept (\\x1b: perhaps an arrow" in result.output
    assert "type it again" in result.output and "\x1b" not in result.output
    shown = json.loads(run("summary", "C-1", "--comments", "--json").stdout)
    assert shown["sessions"][0]["comment"] == "better"


# -- import: the same limits, and messages instead of internal errors ----------------------------


def test_a_5000_digit_answer_in_an_import_is_named_by_row(tmp_path: Path, data_dir: Path) -> None:
    path = write(tmp_path, "x.csv", HEADER + f"C-1,2026-11-01,{'9' * 5000},8,8,6,\n")
    refused(run("import", str(path)), "row 2: empathy: an answer of 5,000 digits")
    record = {"client": "C-1", "date": "2026-11-01", "answers": {"empathy": int("9" * 4000)}}
    text = json.dumps(record).replace("9" * 4000, "9" * 5000)
    path = write(tmp_path, "x.jsonl", text + "\n")
    refused(run("import", str(path)), "line 1: not valid JSON (a number of more than 4,300 digits)")
    assert snapshot(data_dir) is None


def test_deeply_nested_json_lines_are_named_by_line(tmp_path: Path, data_dir: Path) -> None:
    good = json.dumps({"client": "C-1", "date": "2026-11-01", "answers": {}})
    nested = '{"client": "C-1", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    path = write(tmp_path, "x.jsonl", good + "\n" + nested + "\n")
    refused(run("import", str(path)), "x.jsonl, line 2: brackets are nested too deeply")
    assert snapshot(data_dir) is None


@pytest.mark.parametrize(
    ("day", "words"), [("1899-12-31", "before 1900-01-01"), ("0001-01-01", "")]
)
def test_import_dates_are_held_to_the_same_range(tmp_path, data_dir, day: str, words: str) -> None:
    path = write(tmp_path, "x.csv", HEADER + f"C-1,{day},7,8,8,6,\n")
    refused(run("import", str(path)), f"row 2: date {day!r}", words)
    refused(rate("--date", day), f"--date {day!r}", words)
    assert snapshot(data_dir) is None


def test_import_refuses_control_characters_naming_the_row(tmp_path: Path, data_dir: Path) -> None:
    path = write(
        tmp_path,
        "x.csv",
        HEADER + 'C-1,2026-11-01,7,8,8,6,"fine\tand\nkept"\n'
        f'C-1,2026-11-02,7,8,8,6,"{ESC_BEL_DEL}"\n',
    )
    refused(run("import", str(path)), "row 3: the comment holds the control character \\x1b")
    record = {"client": "C-1", "date": "2026-11-01", "answers": {}, "comment": "bell\x07"}
    path = write(tmp_path, "x.jsonl", json.dumps(record) + "\n")
    refused(run("import", str(path)), "line 1: the comment holds the control character \\x07")
    assert snapshot(data_dir) is None


def test_import_keeps_tabs_and_line_breaks(tmp_path: Path, data_dir: Path) -> None:
    path = write(tmp_path, "x.csv", HEADER + 'C-1,2026-11-01,7,8,8,6,"one\ttwo\r\nthree"\n')
    assert run("import", str(path)).exit_code == 0
    shown = json.loads(run("summary", "C-1", "--comments", "--json").stdout)
    assert shown["sessions"][0]["comment"] == "one\ttwo\nthree"


def test_import_session_numbers_are_at_most_a_million(tmp_path: Path, data_dir: Path) -> None:
    head = "client,date,empathy,warmth,genuineness,trust,session\n"
    for number in ("1000001", "99999999999999999999"):
        path = write(tmp_path, "x.csv", head + f"C-1,2026-11-01,7,8,8,6,{number}\n")
        refused(run("import", str(path)), f"row 2: the session number {number} is above 1,000,000")
    path = write(tmp_path, "x.csv", head + f"C-1,2026-11-01,7,8,8,6,{'9' * 4301}\n")
    refused(run("import", str(path)), "row 2: session of 4,301 digits is too large")
    path = write(tmp_path, "x.csv", head + "C-1,2026-11-01,7,8,8,6,1000000\n")
    assert run("import", str(path)).exit_code == 0


def test_a_huge_csv_cell_is_named_by_row_column_and_size(tmp_path: Path, data_dir: Path) -> None:
    import csv

    before = csv.field_size_limit()
    big = "x" * (10 * 1024 * 1024)
    path = write(
        tmp_path,
        "x.csv",
        HEADER + "C-1,2026-11-01,7,8,8,6,ok\n" + f"C-1,2026-11-02,7,8,8,6,{big}\n",
    )
    result = run("import", str(path))
    refused(result, "row 3: column 7 ('comment') holds 10,485,760 characters", "at most 131,072")
    assert "quoting" not in result.stderr
    assert csv.field_size_limit() == before  # the reader's limit is put back
    assert snapshot(data_dir) is None


def test_an_undecodable_byte_in_an_import_comment_names_the_line(tmp_path, data_dir) -> None:
    data = (HEADER + "C-1,2026-11-01,7,8,8,6,fine\nC-1,2026-11-02,7,8,8,6,ab").encode() + b"\xff\n"
    refused(
        run("import", str(write(tmp_path, "x.csv", data))), "x.csv, line 3: the file is not UTF-8"
    )
    assert snapshot(data_dir) is None


def test_an_undecodable_byte_in_a_client_file_comment_names_file_and_line(data_dir: Path) -> None:
    assert rate("--comment", "PLACEHOLDER").exit_code == 0
    path = data_dir / "clients" / "C-1.toml"
    path.write_bytes(path.read_bytes().replace(b"PLACEHOLDER", b"ab\xffc"))
    for args in (("summary", "C-1", "--comments"), ("summary",), ("check",)):
        result = run(*args)
        assert result.exit_code != 70 and "internal error" not in result.output, args
        assert f"{path}, line " in result.output and "not UTF-8" in result.output, args


# -- config.toml and instrument files ----------------------------------------------------------


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "+inf"])
def test_alert_thresholds_must_be_finite(config_dir: Path, data_dir: Path, value: str) -> None:
    config_dir.mkdir()
    for key in ("drop", "low", "item"):
        (config_dir / "config.toml").write_text(f"[alerts]\n{key} = {value}\n")
        result = run("summary")
        refused(result, f"config.toml: [alerts] {key} = ")
        assert "finite number" in result.stderr or "outside 0-100" in result.stderr


def test_deeply_nested_config_names_file_and_line(config_dir: Path) -> None:
    config_dir.mkdir()
    (config_dir / "config.toml").write_text(
        'practitioner = "AB"\nx = ' + "[" * 5000 + "]" * 5000 + "\n"
    )
    refused(run("summary"), "config.toml, line 2: brackets are nested too deeply")


def test_deeply_nested_instrument_file_names_file_and_line(tmp_path: Path, data_dir) -> None:
    path = write(tmp_path, "deep.toml", 'id = "deep"\nx = ' + "{a = " * 3000 + "1" + "}" * 3000)
    result = run("rate", "C-1", "--instrument", str(path), "--answers", "1", "--yes")
    refused(result, "deep.toml, line 2: brackets are nested too deeply")
    assert snapshot(data_dir) is None


def test_config_practitioner_must_be_one_plain_line(config_dir: Path) -> None:
    config_dir.mkdir()
    (config_dir / "config.toml").write_text('practitioner = "A\\u001b[2JB"\n')
    refused(run("summary"), "'practitioner' must be short initials or a code on one line")


# -- showing text from files ---------------------------------------------------------------------


def test_control_characters_written_into_a_client_file_are_shown_escaped(data_dir: Path) -> None:
    assert rate("--comment", "PLACEHOLDER").exit_code == 0
    path = data_dir / "clients" / "C-1.toml"
    escaped = "a\\u001B[31mred\\u0007bell\\u007Fdel\\u009Bc1"
    path.write_bytes(path.read_bytes().replace(b"PLACEHOLDER", escaped.encode()))
    result = run("summary", "C-1", "--comments")
    assert result.exit_code == 0, result.output
    assert "a\\x1b[31mred\\x07bell\\x7fdel\\x9bc1" in result.stdout
    for raw in ("\x1b", "\x07", "\x7f", "\x9b"):
        assert raw not in result.output


def test_the_render_layer_escapes_every_cell_note_and_chart_label() -> None:
    import io

    from rich.console import Console

    from ratetool.render.tables import print_notes, say, table

    con = Console(file=io.StringIO(), width=80, color_system=None)
    con.print(table(["Code"], [[ESC_BEL_DEL]]))
    print_notes(con, [("who\x1b]0;x\x07", ESC_BEL_DEL)])
    say(con, ESC_BEL_DEL)
    out = con.file.getvalue()  # type: ignore[attr-defined]
    assert out.count("a\\x1b[31mred\\x07bell\\x7fdel") == 3 and "who\\x1b]0;x\\x07" in out
    assert not any(ch in out for ch in "\x1b\x07\x7f")
    drawn = chart_text(
        title="C-1 \x1b[2J",
        sessions=[1, 2],
        series=[("Empathy\x1b[31m", [5.0, 6.0])],
        threshold=None,
        y_range=(0, 10),
        width=60,
        height=10,
        colour=False,
    )
    assert "C-1 \\x1b[2J" in drawn and "Empathy\\x1b[31m" in drawn and "\x1b" not in drawn


def test_an_undecodable_byte_in_a_command_line_comment_is_refused(data_dir: Path) -> None:
    # A byte that is not UTF-8 on the command line reaches Python as a lone surrogate.
    refused(rate("--comment", "ab\udcffc"), "--comment: the comment holds a byte that is not UTF-8")
    refused(rate("--practitioner", "A\udcff"), "--practitioner must be a short name")
    assert snapshot(data_dir) is None


def test_a_line_that_is_not_text_at_a_question_is_asked_again() -> None:
    from ratetool.instruments import load_builtin
    from ratetool.questionnaire import Interview

    instrument = load_builtin("checkin")
    said: list[str] = []
    typed = iter([None, "7", "8", "8", "6", None, "fine", ""])

    def ask(prompt: str) -> str:
        line = next(typed)
        if line is None:
            raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")
        return line

    result = Interview(instrument, ask=ask, say=said.append).run()
    assert result.answers["empathy"] == 7 and result.comment == "fine"
    assert (
        said.count(
            "That could not be read as text (is the terminal set to UTF-8?). Please type it again."
        )
        == 2
    )


def test_control_characters_in_the_csv_store_are_shown_escaped(config_dir: Path, data_dir) -> None:
    config_dir.mkdir()
    (config_dir / "config.toml").write_text('store = "csv"\n')
    assert rate("--comment", "PLACEHOLDER").exit_code == 0
    path = data_dir / "ratings.csv"
    path.write_bytes(path.read_bytes().replace(b"PLACEHOLDER", ESC_BEL_DEL.encode()))
    result = run("summary", "C-1", "--comments")
    assert result.exit_code == 0, result.output
    assert "a\\x1b[31mred\\x07bell\\x7fdel" in result.stdout
    assert not any(ch in result.output for ch in "\x1b\x07\x7f")
