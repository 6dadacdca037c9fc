"""The fast block reader agrees with tomllib on every block ratetool writes, and steps aside
(returns None, so tomllib decides) on anything else."""

from __future__ import annotations

import tomllib
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ratetool.model import Rating
from ratetool.store.fastblock import parse_block
from ratetool.store.records import session_block

ids = st.text(st.characters(codec="utf-8"), min_size=1, max_size=40).filter(str.strip)
texts = st.one_of(st.none(), st.text(st.characters(codec="utf-8"), min_size=1, max_size=80))
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda m: timezone(timedelta(minutes=m))
)
moments = st.builds(
    lambda dt, tz: dt.replace(tzinfo=tz),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)),
    offsets,
)
item_ids = st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True)


@st.composite
def ratings(draw) -> Rating:
    answered = draw(st.lists(item_ids, unique=True, max_size=6))
    skipped = draw(st.lists(item_ids.filter(lambda i: i not in answered), unique=True, max_size=3))
    return Rating(
        id=draw(ids),
        client="C-1",
        session=draw(st.integers(min_value=1, max_value=10**6)),
        rated_at=draw(moments),
        instrument=draw(item_ids),
        instrument_version=draw(st.integers(min_value=1, max_value=99)),
        answers={i: draw(st.integers(min_value=0, max_value=100)) for i in answered},
        practitioner=draw(texts),
        comment=draw(texts),
        skipped=tuple(skipped),
    )


@given(ratings())
def test_fast_reader_equals_tomllib_on_written_blocks(rating: Rating) -> None:
    text = session_block(rating).lstrip("\n")
    expected = tomllib.loads(text)["sessions"][0]
    assert parse_block(text) == expected


@given(ratings(), st.data())
def test_fast_reader_never_accepts_a_cut_block_tomllib_reads_differently(rating, data) -> None:
    text = session_block(rating).lstrip("\n")
    cut = data.draw(st.integers(min_value=0, max_value=len(text) - 1))
    fast = parse_block(text[:cut])
    if fast is None:
        return
    # Whatever the fast reader accepts, tomllib reads the same way.
    assert tomllib.loads(text[:cut])["sessions"][0] == fast


@pytest.mark.parametrize(
    "block",
    [
        '[[sessions]]\nid = "a"\nsession = 1\nrated_at = 2026-11-28T10:50:00+01:00\n'
        'instrument = "checkin"\ninstrument_version = 1\n[sessions.answers]\nempathy = 8\n',
        '[[sessions]]  # a comment\nid = "a"\n',
        '[[sessions]]\nsession = 1\nid = "a"\nrated_at = 2026-11-28T10:50:00Z\n'
        'instrument = "x"\ninstrument_version = 1\nanswers = {}\n',
        '[[sessions]]\nid = "a"\nid = "b"\n',
        "[[sessions]]\nid = 'a'\nsession = 1\nrated_at = 2026-11-28T10:50:00+01:00\n"
        'instrument = "x"\ninstrument_version = 1\nanswers = {}\n',
        '[[sessions]]\nid = "a"\nsession = 01\nrated_at = 2026-11-28T10:50:00+01:00\n'
        'instrument = "x"\ninstrument_version = 1\nanswers = {}\n',
        '[[sessions]]\nid = "a"\nsession = 1\nrated_at = 2026-11-28T10:50:00+01:00\n'
        'instrument = "x"\ninstrument_version = 1\nanswers = { a = 1, a = 2 }\n',
    ],
    ids=[
        "subtable",
        "comment",
        "order-and-Z",
        "duplicate",
        "literal-string",
        "leading-zero",
        "duplicate-answer",
    ],
)
def test_fast_reader_steps_aside_for_anything_else(block: str) -> None:
    assert parse_block(block) is None


@given(st.text(st.characters(codec="utf-8"), max_size=30))
def test_a_quoted_value_reads_as_tomllib_reads_it_or_steps_aside(text: str) -> None:
    """Any text between double quotes, escapes, quotes and control characters included: the fast
    reader gives what tomllib gives, or steps aside (``None``); never anything else."""
    from ratetool.store.fastblock import _string

    quoted = f'"{text}"'
    fast = _string(quoted)
    try:
        expected = tomllib.loads(f"v = {quoted}")["v"]
    except tomllib.TOMLDecodeError:
        assert fast is None
    else:
        assert fast in (None, expected)
        if "\\" not in text and '"' not in text and text.isprintable():
            assert fast == expected  # plain text never steps aside
