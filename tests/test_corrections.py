"""The corrected view (``ratetool.corrections.apply``) and the checks before a correction is
appended (``check_new``): pure rules, no store."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ratetool.corrections import (
    AMEND,
    AMENDED,
    ENTERED_IN_ERROR,
    RENAME,
    VOID,
    Correction,
    CorrectionError,
    apply,
    check_new,
)
from ratetool.model import Rating

WHEN = datetime(2026, 11, 3, 10, 50, tzinfo=UTC)


def rating(session: int, client: str = "C-7", **answers: int) -> Rating:
    return Rating(
        f"id-{client}-{session}",
        client,
        session,
        WHEN,
        "checkin",
        1,
        answers or {"empathy": 8, "warmth": 9, "genuineness": 7, "trust": 10},
        comment="first words",
    )


def correction(action: str, session: int | None = None, **fields: object) -> Correction:
    target = f"id-C-7-{session}" if session is not None else None
    return Correction(
        f"corr-{action}-{session}", "C-7", action, WHEN, rating=target, session=session, **fields
    )  # type: ignore[arg-type]


def test_without_corrections_the_ratings_are_the_view() -> None:
    ratings = [rating(1), rating(2)]
    view = apply(ratings, [])
    assert view.ratings == ratings and view.voided == [] and view.problems == []


def test_a_voided_rating_counts_nowhere_but_is_kept_as_entered_in_error() -> None:
    view = apply([rating(1), rating(2)], [correction(VOID, 1, reason="wrong client")])
    assert [r.session for r in view.ratings] == [2]
    assert [(r.session, r.status) for r in view.voided] == [(1, ENTERED_IN_ERROR)]


def test_an_amended_rating_keeps_its_id_session_and_time_with_new_answers() -> None:
    new = {"empathy": 5, "warmth": 5, "genuineness": 5, "trust": 5}
    view = apply([rating(1)], [correction(AMEND, 1, answers=new)])
    (shown,) = view.ratings
    assert (shown.id, shown.session, shown.rated_at) == ("id-C-7-1", 1, WHEN)
    assert shown.answers == new and shown.status == AMENDED
    assert shown.comment == "first words"  # no new comment given: the old one stays


def test_the_last_amend_wins_and_a_void_after_an_amend_voids() -> None:
    first = correction(AMEND, 1, answers={"empathy": 1})
    second = correction(AMEND, 1, answers={"empathy": 2}, comment="")
    view = apply([rating(1)], [first, second])
    assert view.ratings[0].answers == {"empathy": 2} and view.ratings[0].comment is None
    view = apply([rating(1)], [first, correction(VOID, 1, reason="test")])
    assert view.ratings == [] and view.voided[0].answers == {"empathy": 1}


def test_a_correction_of_an_unknown_or_voided_rating_is_a_problem_not_applied() -> None:
    unknown = correction(VOID, 9, reason="x")
    late = correction(AMEND, 1, answers={"empathy": 1})
    view = apply([rating(1)], [unknown, correction(VOID, 1, reason="x"), late])
    assert [c for c, _ in view.problems] == [unknown, late]
    assert "already voided" in view.problems[1][1]


def test_a_rename_shows_every_rating_under_the_new_code() -> None:
    rename = Correction("r1", "C-7", RENAME, WHEN, new_client="C-017")
    view = apply([rating(1), rating(2)], [rename])
    assert {r.client for r in view.ratings} == {"C-017"}
    assert view.applied == [rename]


def test_check_new_refuses_a_void_without_reason_and_an_unknown_session() -> None:
    view = apply([rating(1)], [])
    with pytest.raises(CorrectionError, match="Say why"):
        check_new(correction(VOID, 1, reason="  "), view)
    with pytest.raises(CorrectionError, match="has no session 4"):
        check_new(correction(VOID, 4, reason="x"), view)
    assert check_new(correction(VOID, 1, reason="x"), view) == rating(1)


def test_check_new_refuses_correcting_a_voided_rating() -> None:
    view = apply([rating(1)], [correction(VOID, 1, reason="x")])
    with pytest.raises(CorrectionError, match="already voided"):
        check_new(correction(AMEND, 1, answers={"empathy": 1}), view)


def test_check_new_holds_the_reason_to_the_comment_limits() -> None:
    view = apply([rating(1)], [])
    with pytest.raises(CorrectionError, match="reason cannot be saved"):
        check_new(correction(VOID, 1, reason="x" * 5000), view)
