"""Tests for ratetool.scoring. Expected numbers are worked out by hand in the comments.

Instruments are built here from the dataclasses, not read from the built-in TOML files.
"""

from __future__ import annotations

import math
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ratetool.errors import AnswerError
from ratetool.instruments import Dimension, Instrument, Item, Norms, Scale
from ratetool.model import Rating
from ratetool.scoring import (
    ALERT_KINDS,
    Alert,
    ClientScores,
    Thresholds,
    attention_order,
    drop_alert,
    item_alert,
    item_percent,
    low_alert,
    places_for,
    reliable_change_index,
    reverse_score,
    round_score,
    score_answers,
    score_client,
    smallest_reliable_change,
)
from ratetool.scoring.attention import client_severity, session_severity

# ------------------------------------------------------------------------------------------------
# Builders

CHECKIN_DIMS = ("empathy", "warmth", "genuineness", "trust")
PUBLISHED_NORMS = Norms(sd=7.6, reliability=0.95, source="test value")


def checkin(
    *, id: str = "checkin", version: int = 1, norms: Norms | None = None, reverse: str = ""
) -> Instrument:
    """Like the built-in check-in: four 0-10 items, one per dimension (item id = dimension id)."""
    return Instrument(
        id=id,
        version=version,
        title="Session check-in",
        intro="",
        scale=Scale(0, 10, "not at all", "completely"),
        dimensions=tuple(Dimension(d, d.title()) for d in CHECKIN_DIMS),
        items=tuple(Item(d, d, f"{d}?", reverse=(d == reverse)) for d in CHECKIN_DIMS),
        norms=norms,
        allow_skip=True,
    )


def likert() -> Instrument:
    """1-5 scale; dimension "a" has 4 items (a4 reverse-worded), "b" has 3 items, "c" has 2."""
    items = (
        Item("a1", "a", "a1"),
        Item("a2", "a", "a2"),
        Item("a3", "a", "a3"),
        Item("a4", "a", "a4", reverse=True),
        Item("b1", "b", "b1"),
        Item("b2", "b", "b2"),
        Item("b3", "b", "b3"),
        Item("c1", "c", "c1"),
        Item("c2", "c", "c2"),
    )
    return Instrument(
        id="likert",
        version=1,
        title="Likert",
        intro="",
        scale=Scale(1, 5, "never", "always"),
        dimensions=(Dimension("a", "A"), Dimension("b", "B"), Dimension("c", "C")),
        items=items,
        allow_skip=True,
    )


def one_dimension(n_items: int, lo: int = 1, hi: int = 5, id: str = "onedim") -> Instrument:
    return Instrument(
        id=id,
        version=1,
        title="One dimension",
        intro="",
        scale=Scale(lo, hi, "low", "high"),
        dimensions=(Dimension("all", "All"),),
        items=tuple(Item(f"q{i}", "all", f"q{i}") for i in range(1, n_items + 1)),
    )


def checkin_answers(*values: int) -> dict[str, int]:
    return dict(zip(CHECKIN_DIMS, values, strict=True))


def answers_for_total(total: int) -> dict[str, int]:
    """Check-in answers (0-10 each) adding up to ``total`` (0-40)."""
    values = [min(10, max(0, total - 10 * i)) for i in range(4)]
    assert sum(values) == total
    return checkin_answers(*values)


T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def rating(
    session: int,
    answers: dict[str, int],
    *,
    client: str = "C-001",
    instrument: str = "checkin",
    version: int = 1,
    minutes: int = 0,
) -> Rating:
    return Rating(
        id=f"{client}-{instrument}-{session}-{minutes}",
        client=client,
        session=session,
        rated_at=T0 + timedelta(days=7 * session, minutes=minutes),
        instrument=instrument,
        instrument_version=version,
        answers=answers,
    )


def resolver(*instruments: Instrument):
    table = {(i.id, i.version): i for i in instruments}
    return lambda id_, version: table.get((id_, version))


def kinds(alerts) -> list[str]:
    return [a.kind for a in alerts]


# ------------------------------------------------------------------------------------------------
# 1. Item, dimension, overall, pomp and total scores


def test_reverse_score_is_min_plus_max_minus_answer() -> None:
    assert reverse_score(Scale(0, 10, "", ""), 2) == 8  # 0 + 10 - 2
    assert reverse_score(Scale(1, 5, "", ""), 2) == 4  # 1 + 5 - 2
    assert reverse_score(Scale(1, 7, "", ""), 7) == 1  # 1 + 7 - 7


def test_reverse_keyed_item_is_reversed_in_item_dimension_and_total() -> None:
    inst = checkin(reverse="warmth")
    s = score_answers(inst, checkin_answers(9, 2, 9, 9))
    # warmth answered 2, reverse-worded: 0 + 10 - 2 = 8
    assert s.items == {"empathy": 9.0, "warmth": 8.0, "genuineness": 9.0, "trust": 9.0}
    assert s.dimensions["warmth"] == 8.0
    assert s.total == 35.0  # 9 + 8 + 9 + 9
    assert s.overall == 8.75  # 35 / 4
    # Without reversing the same answers would total 29: the flag really matters.
    assert score_answers(checkin(), checkin_answers(9, 2, 9, 9)).total == 29.0


def test_proration_at_exactly_half_uses_mean_of_answered() -> None:
    # Dimension a has 4 items; 2 answered: a1 = 5, a4 = 2 reversed -> 1 + 5 - 2 = 4. Mean 4.5.
    s = score_answers(likert(), {"a1": 5, "a4": 2, "b1": 3, "b2": 4, "c1": 2})
    assert s.items["a4"] == 4.0
    assert s.dimensions["a"] == 4.5  # (5 + 4) / 2
    assert s.dimensions["b"] == 3.5  # 2 of 3 answered: (3 + 4) / 2
    assert s.dimensions["c"] == 2.0  # 1 of 2 answered: 2 / 1
    # overall = (4.5 + 3.5 + 2.0) / 3 = 10 / 3 = 3.333...
    assert s.overall == pytest.approx(10 / 3)
    # pomp = (3.333... - 1) / 4 * 100 = 58.333...
    assert s.pomp == pytest.approx(175 / 3)
    assert s.total is None  # items skipped


def test_below_half_answered_makes_dimension_and_overall_missing() -> None:
    # a: 1 of 4 answered -> missing; b: 1 of 3 -> missing; c: 2 of 2 -> (4 + 5) / 2 = 4.5
    s = score_answers(likert(), {"a1": 5, "b1": 4, "c1": 4, "c2": 5})
    assert s.dimensions == {"a": None, "b": None, "c": 4.5}
    assert s.overall is None
    assert s.pomp is None
    assert s.total is None


def test_nothing_answered() -> None:
    s = score_answers(likert(), {})
    assert set(s.items.values()) == {None}
    assert s.dimensions == {"a": None, "b": None, "c": None}
    assert (s.overall, s.pomp, s.total) == (None, None, None)


def test_skipped_item_is_not_zero() -> None:
    inst = one_dimension(2, lo=0, hi=10)
    skipped = score_answers(inst, {"q1": 8})
    answered_zero = score_answers(inst, {"q1": 8, "q2": 0})
    assert skipped.items["q2"] is None
    assert skipped.overall == 8.0  # 1 of 2 answered: 8 / 1
    assert answered_zero.overall == 4.0  # (8 + 0) / 2
    assert skipped.total is None
    assert answered_zero.total == 8.0


def test_pomp_on_0_to_10_scale() -> None:
    # answers 9, 9, 9, 8: overall 35 / 4 = 8.75; pomp (8.75 - 0) / 10 * 100 = 87.5; total 35
    s = score_answers(checkin(), checkin_answers(9, 9, 9, 8))
    assert s.overall == 8.75
    assert s.pomp == pytest.approx(87.5)
    assert s.total == 35.0
    assert score_answers(checkin(), checkin_answers(10, 10, 10, 10)).pomp == 100.0
    assert score_answers(checkin(), checkin_answers(0, 0, 0, 0)).pomp == 0.0


def test_pomp_on_1_to_5_scale() -> None:
    # every dimension 4.0 -> overall 4.0 -> pomp (4 - 1) / (5 - 1) * 100 = 75.0
    # a4 is reverse-worded: answer 2 -> 1 + 5 - 2 = 4
    answers = {"a1": 4, "a2": 4, "a3": 4, "a4": 2, "b1": 4, "b2": 4, "b3": 4, "c1": 4, "c2": 4}
    s = score_answers(likert(), answers)
    assert s.dimensions == {"a": 4.0, "b": 4.0, "c": 4.0}
    assert s.overall == 4.0
    assert s.pomp == 75.0
    assert s.total == 36.0  # 9 items x 4
    # all at the bottom (a4 = 5 reversed to 1) -> pomp 0; all at top -> 100
    bottom = dict.fromkeys(answers, 1) | {"a4": 5}
    top = dict.fromkeys(answers, 5) | {"a4": 1}
    assert score_answers(likert(), bottom).pomp == 0.0
    assert score_answers(likert(), top).pomp == 100.0


def test_overall_is_mean_of_dimensions_not_of_items() -> None:
    # a = (5 + 5 + 5 + 5) / 4 = 5 (a4 = 1 reversed to 5); b = (1 + 1 + 1) / 3 = 1;
    # c = (3 + 3) / 2 = 3
    # overall = (5 + 1 + 3) / 3 = 3.0, while the item mean would be (20 + 3 + 6) / 9 = 3.22
    answers = {"a1": 5, "a2": 5, "a3": 5, "a4": 1, "b1": 1, "b2": 1, "b3": 1, "c1": 3, "c2": 3}
    s = score_answers(likert(), answers)
    assert s.overall == 3.0
    assert s.pomp == 50.0  # (3 - 1) / 4 * 100
    assert s.total == 29.0


def test_total_only_when_every_item_answered() -> None:
    assert score_answers(checkin(), checkin_answers(5, 6, 7, 8)).total == 26.0
    s = score_answers(checkin(), {"empathy": 5, "warmth": 6, "genuineness": 7})
    assert s.total is None
    assert s.dimensions["trust"] is None  # 0 of 1 answered
    assert s.overall is None


def test_score_answers_unpacks_as_a_tuple() -> None:
    scores = score_answers(checkin(), checkin_answers(10, 10, 9, 9))
    items, dimensions, overall, pomp, total = scores
    assert (overall, total) == (9.5, 38.0)
    assert pomp == pytest.approx(95.0)
    assert list(items) == list(CHECKIN_DIMS)
    assert list(dimensions) == list(CHECKIN_DIMS)


@pytest.mark.parametrize(
    ("answers", "needle"),
    [
        ({"empathy": 11}, "outside its scale 0-10"),
        ({"empathy": -1}, "outside its scale 0-10"),
        ({"empathy": 7.5}, "not a whole number"),
        ({"empathy": True}, "not a whole number"),
        ({"kindness": 5}, "'kindness'"),
    ],
)
def test_invalid_answers_raise_answer_error_without_the_answer(answers, needle) -> None:
    with pytest.raises(AnswerError) as info:
        score_answers(checkin(), answers)
    message = str(info.value)
    assert needle in message
    value = str(next(iter(answers.values())))
    assert f" {value}" not in message.replace("0-10", "")


# ------------------------------------------------------------------------------------------------
# Rounding


@pytest.mark.parametrize(
    ("x", "places", "expected"),
    [
        (2.675, 2, 2.68),  # half away from zero on the decimal number (binary float is 2.67499...)
        (-2.915, 2, -2.92),
        (0.125, 2, 0.13),  # round-half-even would give 0.12
        (92.45, 1, 92.5),
        (61.24999999999999, 1, 61.3),  # float noise of an exact 61.25
        (-0.001, 2, 0.0),
        (-2.9126241606814007, 2, -2.91),
        (87.5, 1, 87.5),
        (35.0, 0, 35.0),
        # Ties go away from zero, on both sides of zero (half-even would give 0.12, 2.0, 0.0, -2.0).
        (-0.125, 2, -0.13),
        (2.5, 0, 3.0),
        (0.5, 0, 1.0),
        (-2.5, 0, -3.0),
        (-0.5, 0, -1.0),
        (1.005, 2, 1.01),  # binary 1.00499999999999989...
        (0.045, 2, 0.05),  # binary 0.04499999999999999...
        (99.95, 1, 100.0),
        (-92.45, 1, -92.5),
        # Noise below 1e-9 goes first: 4.9999999995 is 5.000000000 at nine places, so 5.0; and
        # 0.0049999999996 is 0.005000000, a tie at two places, so 0.01. Without noise no lift:
        (4.9999999995, 2, 5.0),
        (0.0049999999996, 2, 0.01),
        (0.004999999, 2, 0.0),
        (2.6749999995, 2, 2.68),  # 5e-10 short of the tie: noise, so a tie
        (2.674999999, 2, 2.67),  # 1e-9 short of the tie: a real difference
        (1 / 3, 2, 0.33),
        (2 / 3, 1, 0.7),
        (-0.004, 2, 0.0),  # never negative zero
        (1e51, 2, 1e51),  # far beyond any score, still rounded, never an error
    ],
)
def test_round_score(x: float, places: int, expected: float) -> None:
    result = round_score(x, places)
    assert result == expected
    assert str(result) != "-0.0"


def test_round_score_none_and_places() -> None:
    assert round_score(None) is None
    assert round_score(math.inf) == math.inf
    assert round_score(-math.inf, 1) == -math.inf
    assert math.isnan(round_score(math.nan))
    assert round_score(1.005) == 1.01  # default 2 places
    assert places_for("pomp") == 1
    assert places_for("overall") == 2
    assert places_for("warmth") == 2  # a dimension id
    assert places_for("rc") == 2
    assert places_for("total") == 0


def test_pomp_that_is_a_tie_by_hand_rounds_up_despite_float_noise() -> None:
    # 20 items on 1-5 in one dimension, total 69 -> mean 69 / 20 = 3.45,
    # pomp = (3.45 - 1) / 4 * 100 = 61.25 exactly by hand -> shown 61.3 (half away from zero)
    inst = one_dimension(20)
    answers = {f"q{i}": 4 for i in range(1, 10)} | {f"q{i}": 3 for i in range(10, 21)}
    s = score_answers(inst, answers)  # 9 x 4 + 11 x 3 = 69
    assert s.total == 69.0
    assert round_score(s.pomp, 1) == 61.3


# ------------------------------------------------------------------------------------------------
# 2. Reliable change


def test_published_reliable_change_example() -> None:
    # SE = 7.6 * sqrt(0.05) = 1.69941; S_diff = sqrt(2) * 1.69941 = 2.40333
    # RC = (18 - 25) / 2.40333 = -2.9126 -> reliable (|RC| > 1.96)
    s_diff, rc, reliable = reliable_change_index(PUBLISHED_NORMS, 25, 18)
    assert s_diff == pytest.approx(2.403, abs=0.001)
    assert round_score(s_diff, 2) == 2.40
    assert rc == pytest.approx(-2.91, abs=0.005)
    assert round_score(rc, 2) == -2.91
    assert reliable is True
    # smallest reliable change = 1.96 * 2.40333 = 4.7105 -> 4.71 points
    assert round_score(smallest_reliable_change(PUBLISHED_NORMS), 2) == 4.71


def test_reliable_change_threshold() -> None:
    # 4 points: RC = 4 / 2.40333 = 1.664 -> not reliable; 5 points: 2.080 -> reliable
    assert reliable_change_index(PUBLISHED_NORMS, 20, 24)[2] is False
    assert reliable_change_index(PUBLISHED_NORMS, 20, 25)[2] is True
    assert reliable_change_index(PUBLISHED_NORMS, 25, 20)[2] is True
    assert reliable_change_index(PUBLISHED_NORMS, 25, 25) == pytest.approx((2.40333, 0.0, False))
    # |RC| of exactly 1.96 is not "above 1.96"; 1.97 is
    s_diff = reliable_change_index(PUBLISHED_NORMS, 0, 0)[0]
    assert reliable_change_index(PUBLISHED_NORMS, 0, 1.96 * s_diff)[2] is False
    assert reliable_change_index(PUBLISHED_NORMS, 0, -1.96 * s_diff)[2] is False
    assert reliable_change_index(PUBLISHED_NORMS, 0, 1.97 * s_diff)[2] is True
    assert reliable_change_index(PUBLISHED_NORMS, 0, -1.97 * s_diff)[2] is True


def test_reliable_change_rejects_impossible_norms() -> None:
    with pytest.raises(ValueError, match="reliability"):
        reliable_change_index(Norms(sd=7.6, reliability=1.0, source="test value"), 25, 18)
    with pytest.raises(ValueError, match="sd"):
        reliable_change_index(Norms(sd=0.0, reliability=0.9, source="test value"), 25, 18)


def test_client_reliable_worsening_from_published_example() -> None:
    inst = checkin(norms=PUBLISHED_NORMS)
    ratings = [
        rating(1, checkin_answers(7, 6, 6, 6)),  # total 25
        rating(2, checkin_answers(7, 6, 6, 5)),  # total 24
        rating(3, checkin_answers(5, 5, 4, 4)),  # total 18
    ]
    scores = score_client(ratings, resolver(inst))
    rc = scores.reliable_change["checkin"]
    assert rc is not None
    assert (rc.first_session, rc.latest_session) == (1, 3)
    assert (rc.first_total, rc.latest_total) == (25.0, 18.0)
    assert rc.s_diff == pytest.approx(2.403, abs=0.001)
    assert round_score(rc.rc, 2) == -2.91
    assert rc.reliable is True
    assert rc.direction == "worsened"
    latest = scores.sessions[-1]
    expected = Alert(
        "reliable-worsening",
        "reliable worsening since session 1, the first complete session of checkin version 1 (RC -2.91)",
    )
    assert expected in latest.alerts
    assert "reliable-worsening" not in kinds(scores.sessions[0].alerts + scores.sessions[1].alerts)


def test_client_reliable_improvement_and_no_reliable_change() -> None:
    inst = checkin(norms=PUBLISHED_NORMS)
    up = score_client(
        [rating(1, answers_for_total(18)), rating(2, answers_for_total(25))], resolver(inst)
    )
    rc = up.reliable_change["checkin"]
    assert rc is not None and rc.direction == "improved" and rc.reliable
    assert round_score(rc.rc, 2) == 2.91  # (25 - 18) / 2.40333
    # a reliable improvement is good news, never an alert
    assert not any("reliable" in a.kind or "reliable" in a.reason for a in up.sessions[-1].alerts)
    flat = score_client(
        [rating(1, answers_for_total(30)), rating(2, answers_for_total(34))], resolver(inst)
    )
    rc = flat.reliable_change["checkin"]
    assert rc is not None and not rc.reliable and rc.direction == "no reliable change"
    assert round_score(rc.rc, 2) == 1.66  # 4 / 2.40333 = 1.664
    assert "reliable-worsening" not in kinds(flat.sessions[-1].alerts)


def test_reliable_change_none_without_norms() -> None:
    scores = score_client(
        [rating(1, answers_for_total(25)), rating(2, answers_for_total(18))], resolver(checkin())
    )
    assert scores.reliable_change == {"checkin": None}
    assert "reliable-worsening" not in kinds(scores.sessions[-1].alerts)


def test_reliable_change_none_with_one_session_with_a_total() -> None:
    inst = checkin(norms=PUBLISHED_NORMS)
    one = score_client([rating(1, answers_for_total(25))], resolver(inst))
    assert one.reliable_change == {"checkin": None}
    # two sessions, but the second has a skipped item -> no total -> still only one total
    two = score_client(
        [rating(1, answers_for_total(25)), rating(2, {"empathy": 2, "warmth": 2, "trust": 2})],
        resolver(inst),
    )
    assert two.sessions[1].total is None
    assert two.reliable_change == {"checkin": None}


def test_reliable_change_skips_sessions_without_total_and_attaches_to_latest_session() -> None:
    inst = checkin(norms=PUBLISHED_NORMS)
    ratings = [
        rating(1, {"empathy": 9}),  # no total
        rating(2, answers_for_total(25)),
        rating(3, answers_for_total(18)),
        rating(4, {"empathy": 5, "warmth": 5}),  # no total: latest session of the instrument
    ]
    scores = score_client(ratings, resolver(inst))
    rc = scores.reliable_change["checkin"]
    assert rc is not None and (rc.first_session, rc.latest_session) == (2, 3)
    assert scores.sessions[-1].alerts[0] == Alert(
        "reliable-worsening",
        "reliable worsening from session 2, the first complete session of checkin version 1, to "
        "session 3 (RC -2.91)",
    )
    assert "reliable-worsening" not in kinds(scores.sessions[2].alerts)


def test_reliable_change_needs_same_instrument_version() -> None:
    v1 = checkin(version=1, norms=PUBLISHED_NORMS)
    v2 = checkin(version=2, norms=PUBLISHED_NORMS)
    ratings = [
        rating(1, answers_for_total(25), version=1),
        rating(2, answers_for_total(18), version=2),
    ]
    assert score_client(ratings, resolver(v1, v2)).reliable_change == {"checkin": None}
    # with a second version-2 session, v2 sessions 2 and 3 are compared: 18 -> 26, RC +3.33
    ratings.append(rating(3, answers_for_total(26), version=2))
    rc = score_client(ratings, resolver(v1, v2)).reliable_change["checkin"]
    assert rc is not None and (rc.first_session, rc.latest_session) == (2, 3)
    assert round_score(rc.rc, 2) == 3.33  # 8 / 2.40333 = 3.3287
    assert rc.version == 2


def test_reliable_change_baseline_is_the_first_complete_session_of_the_version_and_is_named() -> (
    None
):
    """Not session 1 (version 1), not session 2 (version 2 but an item skipped): session 3, the
    first complete session of version 2; the alert says so."""
    v1 = checkin(version=1, norms=PUBLISHED_NORMS)
    v2 = checkin(version=2, norms=PUBLISHED_NORMS)
    ratings = [
        rating(1, answers_for_total(40), version=1),
        rating(2, {"empathy": 9, "warmth": 9, "trust": 9}, version=2),  # skipped: no total
        rating(3, answers_for_total(25), version=2),
        rating(4, answers_for_total(30), version=2),
        rating(5, answers_for_total(18), version=2),
    ]
    scores = score_client(ratings, resolver(v1, v2))
    rc = scores.reliable_change["checkin"]
    assert rc is not None
    assert (rc.version, rc.first_session, rc.latest_session) == (2, 3, 5)
    assert (rc.first_total, rc.latest_total) == (25.0, 18.0)
    assert scores.sessions[-1].alerts[0] == Alert(
        "reliable-worsening",
        "reliable worsening since session 3, the first complete session of checkin version 2 "
        "(RC -2.91)",
    )


# ------------------------------------------------------------------------------------------------
# 3. Alerts on constructed trajectories


def test_no_drop_on_equal_scores() -> None:
    scores = score_client(
        [rating(1, answers_for_total(30)), rating(2, checkin_answers(9, 7, 7, 7))],  # 30 and 30
        resolver(checkin()),
    )
    assert scores.sessions[1].pomp == scores.sessions[0].pomp == 75.0
    assert "drop" not in kinds(scores.sessions[1].alerts)


def test_drop_of_one_checkin_point_fires() -> None:
    # 37 -> 36: pomp 92.5 -> 90.0, a drop of exactly 2.5 points; 90.0 is not below 90
    scores = score_client(
        [rating(1, checkin_answers(10, 9, 9, 9)), rating(2, checkin_answers(9, 9, 9, 9))],
        resolver(checkin()),
    )
    assert [round_score(s.pomp, 1) for s in scores.sessions] == [92.5, 90.0]
    assert scores.sessions[1].alerts == (
        Alert("drop", "dropped 2.5 percentage points since session 1 (92.5% to 90.0%)"),
    )


@pytest.mark.parametrize("total", range(1, 41))
def test_every_one_point_checkin_drop_fires(total: int) -> None:
    # pomp = total * 2.5, so every 1-point fall of the total is a 2.5-point fall of pomp
    scores = score_client(
        [rating(1, answers_for_total(total)), rating(2, answers_for_total(total - 1))],
        resolver(checkin()),
    )
    assert "drop" in kinds(scores.sessions[1].alerts)


def test_drop_with_float_noise_still_fires() -> None:
    # 10 items on 1-5, totals 41 -> 40: means 4.1 -> 4.0, pomp 77.5 -> 75.0 by hand.
    # In binary floating point 77.49999999999999 - 75.0 = 2.49999999999999: must still fire.
    inst = one_dimension(10)
    first = {f"q{i}": 4 for i in range(1, 11)} | {"q1": 5}  # 41
    second = {f"q{i}": 4 for i in range(1, 11)}  # 40
    ratings = [rating(1, first, instrument="onedim"), rating(2, second, instrument="onedim")]
    scores = score_client(ratings, resolver(inst))
    assert scores.sessions[0].pomp - scores.sessions[1].pomp < 2.5  # the noise is really there
    assert "drop" in kinds(scores.sessions[1].alerts)


def test_drop_alert_function_edges() -> None:
    assert drop_alert(92.5, 90.0, 3) == Alert(
        "drop", "dropped 2.5 percentage points since session 3 (92.5% to 90.0%)"
    )
    assert drop_alert(92.5, 90.25, 3) is None  # 0.9 of a check-in point = 2.25 pomp points
    assert drop_alert(92.5, 92.5, 3) is None
    assert drop_alert(90.0, 92.5, 3) is None  # a rise
    assert drop_alert(None, 80.0, 3) is None
    assert drop_alert(80.0, None, 3) is None
    assert (
        drop_alert(95.0, 90.0, 3).reason
        == "dropped 5.0 percentage points since session 3 (95.0% to 90.0%)"
    )


def test_drop_compares_with_previous_session_that_has_a_pomp() -> None:
    ratings = [
        rating(1, answers_for_total(38)),  # 95.0
        rating(2, {"empathy": 9}),  # no pomp: skipped over
        rating(3, answers_for_total(36)),  # 90.0: 5.0 below session 1
    ]
    scores = score_client(ratings, resolver(checkin()))
    assert scores.sessions[1].pomp is None
    expected = Alert("drop", "dropped 5.0 percentage points since session 1 (95.0% to 90.0%)")
    assert expected in scores.sessions[2].alerts


def test_drop_is_against_previous_not_first_session() -> None:
    # 40 -> 30 -> 30: session 3 equals session 2, no drop even though far below session 1
    totals = [40, 30, 30]
    scores = score_client(
        [rating(n, answers_for_total(t)) for n, t in enumerate(totals, 1)], resolver(checkin())
    )
    assert "drop" in kinds(scores.sessions[1].alerts)
    assert "drop" not in kinds(scores.sessions[2].alerts)


def test_low_alert_is_strict() -> None:
    assert low_alert(89.9) == Alert("low", "overall 89.9%, below 90%")
    assert low_alert(90.0) is None
    assert low_alert(100.0) is None
    assert low_alert(None) is None
    # decided on the number as shown (1 decimal): 89.96 shows as 90.0, 89.94 as 89.9
    assert low_alert(89.96) is None
    assert low_alert(89.94) == Alert("low", "overall 89.9%, below 90%")


def test_low_alert_from_answers() -> None:
    inst = checkin()
    assert low_alert(score_answers(inst, answers_for_total(36)).pomp) is None  # 90.0
    assert low_alert(score_answers(inst, answers_for_total(35)).pomp) == Alert(
        "low", "overall 87.5%, below 90%"
    )
    # 1-5 scale, 5 items 5,5,5,4,4: mean 4.6, pomp (4.6 - 1) / 4 * 100 = 90.0 by hand but
    # 89.99999999999999 in floating point: must not fire.
    five = one_dimension(5)
    s = score_answers(five, {"q1": 5, "q2": 5, "q3": 5, "q4": 4, "q5": 4})
    assert s.pomp < 90.0  # the noise is really there
    assert low_alert(s.pomp) is None


def test_item_alert_at_seven_of_ten_not_eight() -> None:
    inst = checkin()
    seven = score_answers(inst, checkin_answers(10, 7, 10, 10))
    eight = score_answers(inst, checkin_answers(10, 8, 10, 10))
    assert item_alert(inst, seven.items) == Alert("item", "warmth 7 of 10 (at or below 70%)")
    assert item_alert(inst, eight.items) is None


def test_item_alert_names_every_low_item_and_ignores_skipped() -> None:
    inst = checkin()
    s = score_answers(inst, {"empathy": 6, "warmth": 9, "genuineness": 3})  # trust skipped
    assert item_alert(inst, s.items) == Alert(
        "item", "empathy 6 of 10; genuineness 3 of 10 (at or below 70%)"
    )


def test_item_alert_uses_reversed_score() -> None:
    inst = checkin(reverse="trust")
    # trust answered 3 -> scored 7 -> fires; answered 7 -> scored 3 -> fires; answered 2 -> 8 -> no
    assert item_alert(inst, score_answers(inst, checkin_answers(10, 10, 10, 3)).items) == Alert(
        "item", "trust 7 of 10 after reversing (at or below 70%)"
    )
    assert item_alert(inst, score_answers(inst, checkin_answers(10, 10, 10, 2)).items) is None
    assert item_alert(inst, score_answers(inst, checkin_answers(10, 10, 10, 8)).items) is not None


def test_item_alert_on_1_to_5_scale() -> None:
    inst = one_dimension(2)
    # 4 on 1-5 = (4 - 1) / 4 = 75% -> no; 3 = 50% -> fires
    assert item_alert(inst, {"q1": 4.0, "q2": 5.0}) is None
    assert item_alert(inst, {"q1": 3.0, "q2": 5.0}) == Alert(
        "item", "q1 3 on 1-5 (50.0%) (at or below 70%)"
    )
    assert item_percent(inst.scale, 3.0) == 50.0


def test_session_alerts_in_fixed_order_and_kinds() -> None:
    inst = checkin(norms=PUBLISHED_NORMS)
    ratings = [rating(1, answers_for_total(38)), rating(2, checkin_answers(8, 3, 3, 3))]  # 38 -> 17
    scores = score_client(ratings, resolver(inst))
    alerts = scores.sessions[1].alerts
    # RC = (17 - 38) / 2.40333 = -8.74; drop 95.0 -> 42.5 = 52.5; low; items 3 of 10
    assert kinds(alerts) == ["reliable-worsening", "drop", "low", "item"]
    assert set(kinds(alerts)) <= set(ALERT_KINDS)
    assert (
        alerts[0].reason
        == "reliable worsening since session 1, the first complete session of checkin version 1 (RC -8.74)"
    )
    assert alerts[1].reason == "dropped 52.5 percentage points since session 1 (95.0% to 42.5%)"
    assert alerts[2].reason == "overall 42.5%, below 90%"
    assert alerts[3].reason == (
        "warmth 3 of 10; genuineness 3 of 10; trust 3 of 10 (at or below 70%)"
    )
    assert scores.sessions[0].alerts == ()


# ------------------------------------------------------------------------------------------------
# 4. Configured thresholds


def test_configured_low_threshold() -> None:
    # total 34 -> pomp 85.0
    ratings = [rating(1, answers_for_total(34))]
    default = score_client(ratings, resolver(checkin()))
    assert "low" in kinds(default.sessions[0].alerts)
    relaxed = score_client(ratings, resolver(checkin()), Thresholds(low=80))
    assert "low" not in kinds(relaxed.sessions[0].alerts)
    strict = score_client(ratings, resolver(checkin()), Thresholds(low=85.1))
    assert Alert("low", "overall 85.0%, below 85.1%") in strict.sessions[0].alerts


def test_configured_item_threshold() -> None:
    ratings = [rating(1, checkin_answers(10, 7, 10, 10))]
    assert "item" in kinds(score_client(ratings, resolver(checkin())).sessions[0].alerts)
    assert "item" not in kinds(
        score_client(ratings, resolver(checkin()), Thresholds(item=60)).sessions[0].alerts
    )
    assert (
        Alert("item", "warmth 7 of 10 (at or below 60%)")
        not in score_client(ratings, resolver(checkin()), Thresholds(item=60)).sessions[0].alerts
    )
    eighty = score_client(ratings, resolver(checkin()), Thresholds(item=80))
    assert Alert("item", "warmth 7 of 10 (at or below 80%)") in eighty.sessions[0].alerts


def test_configured_drop_threshold() -> None:
    # 38 -> 36: pomp 95.0 -> 90.0, 5 points
    ratings = [rating(1, answers_for_total(38)), rating(2, answers_for_total(36))]
    assert "drop" in kinds(score_client(ratings, resolver(checkin())).sessions[1].alerts)
    at = score_client(ratings, resolver(checkin()), Thresholds(drop=5))
    assert "drop" in kinds(at.sessions[1].alerts)
    above = score_client(ratings, resolver(checkin()), Thresholds(drop=5.1))
    assert "drop" not in kinds(above.sessions[1].alerts)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"low": -1},
        {"low": 101},
        {"item": 100.5},
        {"drop": 0},
        {"drop": -2.5},
        {"drop": float("nan")},
        {"low": float("nan")},
    ],
)
def test_thresholds_reject_impossible_values(kwargs) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        Thresholds(**kwargs)


# ------------------------------------------------------------------------------------------------
# 5. Several instruments, ordering, unknown instruments, trends


def other_instrument(norms: Norms | None = None) -> Instrument:
    return Instrument(
        id="other",
        version=1,
        title="Other",
        intro="",
        scale=Scale(0, 10, "no", "yes"),
        dimensions=(Dimension("goals", "Goals"), Dimension("approach", "Approach")),
        items=(Item("goals", "goals", "?"), Item("approach", "approach", "?")),
        norms=norms,
    )


def test_two_instruments_drop_compared_within_instrument() -> None:
    ratings = [
        rating(1, answers_for_total(38)),  # checkin 95.0
        rating(2, {"goals": 5, "approach": 5}, instrument="other"),  # other 50.0
        rating(3, answers_for_total(38)),  # checkin 95.0: no drop (previous checkin also 95.0)
        rating(4, {"goals": 4, "approach": 4}, instrument="other"),  # other 40.0: drop 10 vs s2
    ]
    scores = score_client(ratings, resolver(checkin(norms=PUBLISHED_NORMS), other_instrument()))
    assert [s.session for s in scores.sessions] == [1, 2, 3, 4]
    assert scores.instruments == ("checkin", "other")
    assert scores.sessions[2].alerts == ()  # a naive "previous session" would compare with 50.0
    expected = Alert("drop", "dropped 10.0 percentage points since session 2 (50.0% to 40.0%)")
    assert expected in scores.sessions[3].alerts
    assert "drop" not in kinds(scores.sessions[1].alerts)  # first rating with "other"
    # reliable change per instrument: checkin 38 -> 38 (RC 0), other has no norms
    rc = scores.reliable_change["checkin"]
    assert rc is not None and rc.rc == 0.0 and rc.direction == "no reliable change"
    assert scores.reliable_change["other"] is None


def test_reliable_change_per_instrument_attached_to_each_latest_session() -> None:
    other = other_instrument(norms=Norms(sd=2.0, reliability=0.9, source="test value"))
    ratings = [
        rating(1, answers_for_total(25)),
        rating(1, {"goals": 3, "approach": 3}, instrument="other", minutes=5),  # total 6
        rating(2, answers_for_total(18)),
        rating(2, {"goals": 9, "approach": 9}, instrument="other", minutes=5),  # total 18
        rating(3, {"goals": 9, "approach": 8}, instrument="other"),  # total 17
    ]
    scores = score_client(ratings, resolver(checkin(norms=PUBLISHED_NORMS), other))
    # checkin: 25 -> 18, RC -2.91; other: S_diff = sqrt(2) * 2 * sqrt(0.1) = 0.894427,
    # RC = (17 - 6) / 0.894427 = 12.30
    assert round_score(scores.reliable_change["checkin"].rc, 2) == -2.91
    assert round_score(scores.reliable_change["other"].rc, 2) == 12.30
    by = {(s.session, s.rating.instrument): s for s in scores.sessions}
    assert by[(2, "checkin")].alerts[0] == Alert(
        "reliable-worsening",
        "reliable worsening since session 1, the first complete session of checkin version 1 (RC -2.91)",
    )
    # a reliable improvement is good news, not an alert
    assert "reliable-worsening" not in kinds(by[(3, "other")].alerts)
    assert "reliable-worsening" not in kinds(by[(2, "other")].alerts)


def test_sessions_ordered_by_session_then_rated_at_whatever_the_input_order() -> None:
    ratings = [
        rating(3, answers_for_total(30)),
        rating(1, answers_for_total(40), minutes=30),
        rating(2, answers_for_total(35)),
        rating(1, answers_for_total(20), minutes=10),
    ]
    for seed in range(5):
        shuffled = ratings[:]
        random.Random(seed).shuffle(shuffled)
        scores = score_client(shuffled, resolver(checkin()))
        assert [(s.session, s.total) for s in scores.sessions] == [
            (1, 20.0),
            (1, 40.0),
            (2, 35.0),
            (3, 30.0),
        ]
        # session 2 drops from the 40 rated later in session 1: 100.0 -> 87.5
        expected = Alert("drop", "dropped 12.5 percentage points since session 1 (100.0% to 87.5%)")
        assert expected in scores.sessions[2].alerts


def test_unknown_instrument_scores_none_and_no_alerts() -> None:
    ratings = [
        rating(1, {"x": 1, "y": 2}, instrument="gone"),
        rating(2, answers_for_total(30)),
    ]
    scores = score_client(ratings, resolver(checkin()))
    gone = scores.sessions[0]
    assert gone.instrument is None
    assert (gone.overall, gone.pomp, gone.total) == (None, None, None)
    assert gone.items == {"x": None, "y": None}
    assert gone.dimensions == {}
    assert gone.alerts == ()
    assert scores.reliable_change == {"gone": None, "checkin": None}
    assert scores.series("gone", "overall") == []


def test_score_client_wraps_answer_errors_with_client_and_session() -> None:
    with pytest.raises(AnswerError, match="Client C-001, session 2: .*'trust'"):
        score_client([rating(2, checkin_answers(1, 2, 3, 11))], resolver(checkin()))


def test_score_client_rejects_mixed_clients_and_needs_code_when_empty() -> None:
    with pytest.raises(ValueError, match="more than one client"):
        score_client(
            [rating(1, answers_for_total(30)), rating(2, answers_for_total(30), client="C-002")],
            resolver(checkin()),
        )
    with pytest.raises(ValueError):
        score_client([], resolver(checkin()))
    empty = score_client([], resolver(checkin()), client="C-009")
    assert (empty.client, empty.sessions, empty.reliable_change) == ("C-009", [], {})


def test_series_and_changes() -> None:
    ratings = [
        rating(1, checkin_answers(8, 8, 8, 8)),  # overall 8.0, pomp 80.0, total 32
        rating(2, checkin_answers(9, 9, 9, 9)),  # 9.0, 90.0, 36
        rating(3, {"empathy": 10}),  # empathy 10, rest missing
        rating(4, checkin_answers(10, 9, 9, 8)),  # 9.0, 90.0, 36; empathy 10
    ]
    scores = score_client(ratings, resolver(checkin()))
    assert scores.series("checkin", "total") == [(1, 32.0), (2, 36.0), (4, 36.0)]
    assert scores.series("checkin", "total", include_missing=True) == [
        (1, 32.0),
        (2, 36.0),
        (3, None),
        (4, 36.0),
    ]
    assert scores.series("checkin", "empathy") == [(1, 8.0), (2, 9.0), (3, 10.0), (4, 10.0)]
    assert scores.series("checkin", "pomp") == [(1, 80.0), (2, 90.0), (4, 90.0)]
    assert scores.change_since_first("checkin", "overall") == 1.0  # 9.0 - 8.0
    assert scores.change_since_previous("checkin", "overall") == 0.0  # 9.0 - 9.0 (session 2)
    assert scores.change_since_first("checkin", "empathy") == 2.0  # 10 - 8
    assert scores.change_since_previous("checkin", "empathy") == 0.0  # 10 - 10 (session 3)
    assert scores.change_since_first("checkin", "trust") == 0.0  # 8 - 8
    assert scores.change_since_first("other", "overall") is None
    assert scores.series("other", "overall") == []
    with pytest.raises(KeyError):
        scores.series("checkin", "kindness")
    # latest rating lacks the value -> no change is claimed
    missing_last = score_client(ratings[:3], resolver(checkin()))
    assert missing_last.change_since_first("checkin", "overall") is None
    assert missing_last.change_since_previous("checkin", "overall") is None
    assert missing_last.change_since_previous("checkin", "empathy") == 1.0  # 10 - 9
    # a single rating has no change
    single = score_client(ratings[:1], resolver(checkin()))
    assert single.change_since_first("checkin", "overall") is None
    assert single.latest("checkin") is single.sessions[0]
    assert single.latest("other") is None


# ------------------------------------------------------------------------------------------------
# Caseload order


def client_with(code: str, *totals_or_answers, inst: Instrument | None = None) -> ClientScores:
    ratings = [
        rating(n, t if isinstance(t, dict) else answers_for_total(t), client=code)
        for n, t in enumerate(totals_or_answers, 1)
    ]
    return score_client(ratings, resolver(inst or checkin(norms=PUBLISHED_NORMS)), client=code)


def test_attention_order() -> None:
    worsening = client_with("W", 39, 30)  # RC (30 - 39) / 2.403 = -3.74; also drop and low
    drop = client_with("D", 40, 38)  # 100.0 -> 95.0: drop, not low
    low_a = client_with("LA", 34)  # 85.0: low (and items at 7/10? 10,10,10,4 -> item too)
    low_b = client_with("LB", 33)  # 82.5: low, lower than LA -> before LA
    item = client_with("I", checkin_answers(10, 10, 10, 7))  # 92.5: item only
    calm_a = client_with("CA", 38)  # 95.0, no alert
    calm_b = client_with("CB", 38)  # 95.0, no alert: same pomp, ordered by code
    improved = client_with("UP", 30, 39)  # reliable improvement: not a reason for attention
    nothing = score_client([], resolver(checkin()), client="A-EMPTY")
    # an earlier low session does not count: only the latest session does
    recovered = client_with("R", 20, 36, checkin_answers(9, 9, 9, 9))  # latest 90.0, no alert
    # (R's 20 -> 36 is a reliable improvement, RC 6.66, which does not count)
    ordered = attention_order(
        [nothing, calm_b, improved, item, low_a, calm_a, drop, recovered, low_b, worsening]
    )
    # by severity (alert: W, LB, LA; watch: I, D; ok: R, CA, CB, UP), then lowest % max
    assert [c.client for c in ordered] == [
        "W",
        "LB",
        "LA",
        "I",
        "D",
        "R",
        "CA",
        "CB",
        "UP",
        "A-EMPTY",
    ]
    assert [client_severity(c) for c in ordered[:-1]] == ["alert"] * 3 + ["watch"] * 2 + ["ok"] * 4
    assert kinds(improved.sessions[-1].alerts) == []  # an improvement is never an alert
    assert kinds(drop.sessions[-1].alerts) == ["drop"]
    assert kinds(item.sessions[-1].alerts) == ["item"]


def test_fifty_percent_comes_before_ninety_seven_and_a_half() -> None:
    """Issue 12: a client one point down from a perfect score (97.5 %, a drop) is a watch and
    comes after a client at 50 % (low and item alerts), who is an alert."""
    slight = client_with("A-SLIGHT", 40, 39)  # 100.0 -> 97.5: drop
    half = client_with("Z-HALF", checkin_answers(5, 5, 5, 5))  # 50.0: low and item
    assert kinds(slight.sessions[-1].alerts) == ["drop"]
    assert kinds(half.sessions[-1].alerts) == ["low", "item"]
    assert [c.client for c in attention_order([slight, half])] == ["Z-HALF", "A-SLIGHT"]
    assert (client_severity(half), client_severity(slight)) == ("alert", "watch")
    assert session_severity(half, half.sessions[-1]) == "alert"
    assert session_severity(slight, slight.sessions[0]) == "ok"


def test_attention_order_uses_every_instrument_of_the_latest_session() -> None:
    ratings = [
        rating(1, answers_for_total(40), client="M"),
        rating(2, answers_for_total(40), client="M"),
        rating(2, {"goals": 5, "approach": 5}, client="M", instrument="other", minutes=5),  # 50.0
    ]
    multi = score_client(ratings, resolver(checkin(), other_instrument()))
    single_low = client_with("A", 30)  # 75.0: low
    ordered = attention_order([single_low, multi])
    # both have "low" (plus item on M's "other"); M's lowest pomp 50.0 < 75.0 -> M first
    assert [c.client for c in ordered] == ["M", "A"]


def test_attention_order_is_a_new_list_and_deterministic() -> None:
    clients = [client_with("B", 30), client_with("A", 30)]
    before = list(clients)
    assert [c.client for c in attention_order(clients)] == ["A", "B"]
    assert clients == before


# ------------------------------------------------------------------------------------------------
# Properties and purity


@given(
    lo=st.integers(-3, 3),
    width=st.integers(1, 10),
    n_items=st.integers(1, 6),
    data=st.data(),
)
def test_pomp_within_0_and_100_and_total_within_bounds(lo, width, n_items, data) -> None:
    hi = lo + width
    inst = Instrument(
        id="p",
        version=1,
        title="p",
        intro="",
        scale=Scale(lo, hi, "", ""),
        dimensions=(Dimension("x", "X"), Dimension("y", "Y")),
        items=tuple(
            Item(f"i{k}", "x" if k % 2 else "y", "", reverse=data.draw(st.booleans()))
            for k in range(n_items + 1)
        ),
    )
    answers = {
        item.id: data.draw(st.integers(lo, hi)) for item in inst.items if data.draw(st.booleans())
    }
    s = score_answers(inst, answers)
    if s.pomp is not None:
        assert 0.0 <= s.pomp <= 100.0
        assert 0.0 <= round_score(s.pomp, 1) <= 100.0
    if s.total is not None:
        assert len(inst.items) * lo <= s.total <= len(inst.items) * hi
    for value in s.items.values():
        assert value is None or lo <= value <= hi


@given(lo=st.integers(-5, 5), width=st.integers(1, 10), data=st.data())
def test_reversing_twice_is_identity(lo, width, data) -> None:
    scale = Scale(lo, lo + width, "", "")
    answer = data.draw(st.integers(lo, lo + width))
    assert scale.contains(int(reverse_score(scale, answer)))
    assert reverse_score(scale, reverse_score(scale, answer)) == answer


@given(st.floats(-1e6, 1e6, allow_nan=False), st.integers(0, 3))
def test_round_score_within_half_a_unit(x: float, places: int) -> None:
    assert abs(round_score(x, places) - x) <= 0.5 * 10**-places + 1e-9


def test_scoring_is_pure() -> None:
    inst = checkin(norms=PUBLISHED_NORMS)
    ratings = [rating(1, answers_for_total(37)), rating(2, answers_for_total(36))]
    answers_before = [dict(r.answers) for r in ratings]
    first = score_client(ratings, resolver(inst))
    second = score_client(list(reversed(ratings)), resolver(inst))
    assert first == second
    assert [dict(r.answers) for r in ratings] == answers_before


def test_importing_scoring_does_not_import_typer_or_rich() -> None:
    code = (
        "import sys, ratetool.scoring; "
        "print(sorted(m for m in ('typer', 'rich') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@given(
    st.lists(
        st.tuples(st.integers(1, 6), st.sampled_from(["checkin", "other"]), st.integers(0, 9)),
        min_size=1,
        max_size=12,
    )
)
def test_latest_sessions_are_every_rating_of_the_highest_session_number(plan) -> None:
    """Whatever the order ratings come in, and however many share a session number: the latest
    group is every rating of the highest number, in the client's order."""
    ratings = [
        rating(session, checkin_answers(7, 8, 9, 10), instrument=iid, minutes=minutes)
        for session, iid, minutes in plan
    ]
    ratings = list({r.id: r for r in ratings}.values())  # ids are unique in a client's file
    scores = score_client(ratings, resolver(checkin(), checkin(id="other")))
    last = max(r.session for r in ratings)
    assert scores.latest_sessions == [s for s in scores.sessions if s.session == last]
    assert scores.latest_sessions  # never empty when there are sessions
