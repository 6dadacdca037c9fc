"""ratetool.term: widths, wrapping, colour rules and the column tables every summary is drawn with."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ratetool.term import Column, Styled, Table, Terminal, cell_len, wrap


class Tty(io.StringIO):
    """Output that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_cell_len_counts_wide_and_zero_width_characters() -> None:
    assert cell_len("C-014") == 5
    assert cell_len("é") == 1  # one precomposed letter
    assert cell_len("e\u0301") == 1  # a letter and a combining accent
    assert cell_len("中文") == 4
    assert cell_len("ok 😀") == 5
    assert cell_len("▁▅█ ✓ ▲ –") == 9


def test_wrap_breaks_between_words_and_folds_only_a_word_longer_than_a_line() -> None:
    assert wrap("one two three four", 9) == ["one two", "three", "four"]
    assert wrap("short line", 40) == ["short line"]
    assert wrap("abcdefghij xy", 4) == ["abcd", "efgh", "ij", "xy"]
    assert wrap("first\nsecond line here", 11) == ["first", "second line", "here"]
    assert wrap("", 10) == [""]
    assert wrap("中文中文 ab", 5) == ["中文", "中文", "ab"]


def test_a_line_that_fits_is_kept_exactly() -> None:
    assert wrap("  two  spaces", 20) == ["  two  spaces"]


@given(st.text(alphabet=st.sampled_from("ab é中 \n"), max_size=60), st.integers(2, 30))
def test_wrapped_lines_fit_and_keep_every_word(text: str, width: int) -> None:
    lines = wrap(text, width)
    assert all(cell_len(line) <= width for line in lines)
    assert "".join("".join(lines).split()) == "".join(text.split())


def table() -> Table:
    return Table(
        [
            Column("Date", no_wrap=True),
            Column("#", justify="right", no_wrap=True),
            Column("Alerts"),
        ],
        [
            ["2026-11-03", 9, "drop, low, item"],
            ["2026-11-10", 10, None],
            ["2026-11-17", 11, Styled("low", "bold red")],
        ],
    )


def test_columns_are_as_wide_as_their_widest_cell_numbers_right_aligned() -> None:
    lines = table().lines(Terminal(io.StringIO(), width=80))
    assert lines == [
        "Date         #  Alerts",
        "2026-11-03   9  drop, low, item",
        "2026-11-10  10",
        "2026-11-17  11  low",
    ]
    assert (
        table().lines(Terminal(io.StringIO(), width=80), gap=1)[1]
        == "2026-11-03  9 drop, low, item"
    )


def test_a_table_too_wide_wraps_its_last_column_under_itself() -> None:
    term = Terminal(io.StringIO(), width=24)
    t = table()
    assert not t.fits(24, 2, wrap_last=False)
    assert t.fits(24, 2, wrap_last=True)
    assert t.lines(term)[:3] == [
        "Date         #  Alerts",
        "2026-11-03   9  drop,",
        "                low,",
    ]


def test_only_columns_that_may_wrap_are_narrowed() -> None:
    t = Table(
        [Column("Id", no_wrap=True), Column("Text"), Column("Source")],
        [["checkin", "How well did you feel understood today by me", "built-in"]],
    )
    lines = t.lines(Terminal(io.StringIO(), width=40))
    assert all(cell_len(line) <= 40 for line in lines)
    assert lines[1].startswith("checkin  How well")
    assert " ".join(" ".join(line.split()) for line in lines[1:]) == (
        "checkin How well did you feel built-in understood today by me"
    )


def test_headers_are_bold_and_styles_follow_the_colour_rules(monkeypatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    coloured = Terminal(Tty(), width=80)
    assert coloured.styles and coloured.colour
    lines = table().lines(coloured)
    assert lines[0].startswith("\x1b[1mDate\x1b[0m")
    assert lines[3].endswith("\x1b[1;31mlow\x1b[0m")

    monkeypatch.setenv("NO_COLOR", "1")  # colours off, bold kept
    assert Terminal(Tty(), width=80).paint("low", "bold red") == "\x1b[1mlow\x1b[0m"

    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "dumb")
    assert Terminal(Tty(), width=80).paint("low", "bold red") == "low"

    monkeypatch.setenv("TERM", "xterm")  # not a terminal: plain, unless FORCE_COLOR
    assert Terminal(io.StringIO(), width=80).paint("low", "red") == "low"
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert Terminal(io.StringIO(), width=80).paint("low", "red") == "\x1b[31mlow\x1b[0m"


@pytest.mark.parametrize(
    ("env", "width"),
    [({"TERMINAL_WIDTH": "61", "COLUMNS": "99"}, 61), ({"COLUMNS": "99"}, 99), ({}, 80)],
)
def test_width_from_the_environment_else_80_for_output_that_is_not_a_terminal(
    monkeypatch, env: dict[str, str], width: int
) -> None:
    monkeypatch.delenv("TERMINAL_WIDTH")
    monkeypatch.delenv("COLUMNS")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert Terminal(io.StringIO()).width == width


def test_echo_wraps_prose_and_keeps_what_a_legacy_code_page_cannot_show() -> None:
    out = io.TextIOWrapper(io.BytesIO(), encoding="cp1252")
    term = Terminal(out, width=20)
    term.echo("Session 3: the client wrote 中文")
    term.print()
    out.flush()
    text = out.buffer.getvalue().decode("cp1252")
    assert text == "Session 3: the\nclient wrote ??\n\n"
