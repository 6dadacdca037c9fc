"""The limits every way in holds a rating to (``ratetool.limits``)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ratetool import limits


def test_dates_from_1900_to_tomorrow() -> None:
    today = date(2026, 12, 4)
    assert limits.date_problem(date(1900, 1, 1), today) is None
    assert limits.date_problem(date(2026, 12, 5), today) is None
    assert "before 1900-01-01" in (limits.date_problem(date(1899, 12, 31), today) or "")
    assert "before 1900-01-01" in (limits.date_problem(date(1, 1, 1), today) or "")
    assert "after 2026-12-05" in (limits.date_problem(date(2026, 12, 6), today) or "")


@pytest.mark.parametrize(
    ("session", "ok"),
    [(1, True), (1_000_000, True), (0, False), (1_000_001, False), (10**20, False)],
)
def test_session_numbers_from_1_to_a_million(session: int, ok: bool) -> None:
    assert (limits.session_problem(session) is None) is ok


def test_comments_keep_tabs_and_line_breaks_and_refuse_other_control_characters() -> None:
    assert limits.comment_problem("first\tsecond\nthird") is None
    assert limits.comment_problem("x" * limits.MAX_COMMENT) is None
    assert "4,001 characters" in (limits.comment_problem("x" * 4001) or "")
    for bad in ("\x1b[31mred", "bell\x07", "del\x7f", "c1\x9b", "nul\x00", "cr\rback"):
        problem = limits.comment_problem(bad)
        assert problem is not None and "control character" in problem
    assert "\\x1b" in (limits.comment_problem("a\x1b") or "")


def test_visible_shows_control_characters_as_escapes() -> None:
    assert limits.visible("ok\ttab\nline") == "ok\ttab\nline"
    assert limits.visible("\x1b[31mred\x07") == "\\x1b[31mred\\x07"
    assert limits.visible("del\x7f c1\x9b") == "del\\x7f c1\\x9b"


def test_line_breaks_become_line_feeds() -> None:
    assert limits.normalise_line_breaks("a\r\nb\rc\nd") == "a\nb\nc\nd"


def test_answers_of_many_digits_are_refused() -> None:
    assert limits.answer_digits_problem("10") is None
    assert limits.answer_digits_problem("100000") is None
    assert limits.answer_digits_problem("1000000") is not None
    assert "5,000 digits" in (limits.answer_digits_problem("9" * 5000) or "")


#: Any character, lone surrogates and control characters among them, and often one of those.
ANY_TEXT = st.lists(  # joined by hand: ``st.text`` leaves lone surrogates out
    st.one_of(
        st.characters(codec=None, exclude_categories=()),
        st.sampled_from(["\udcff", "\ud800", "\x1b", "\x00", "\x7f", "\x9b", "\t", "\n", "é"]),
    )
).map("".join)


@given(ANY_TEXT)
def test_visible_escapes_every_control_character_and_lone_surrogate(text: str) -> None:
    """Whatever a file or the command line holds, what is shown has no control character but
    tab and line feed and no lone surrogate; each is escaped as Python writes it (``\\x1b``,
    ``\\udcff``), everything else is kept, and ``has_control`` says whether any was there."""
    shown = limits.visible(text)
    unshowable = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
    expected = unshowable.sub(
        lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", text
    )
    assert shown == expected
    assert not unshowable.search(shown)
    assert limits.has_control(text) == (unshowable.search(text) is not None)
