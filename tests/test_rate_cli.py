"""``ratetool rate`` through the command line (Typer's ``CliRunner``, in process).

Covers the client's minute as typed input (wrong values, going back, comment, review), what the
client's screen never shows, the non-interactive ``--answers`` form and its refusals (each one
leaving the data folder byte-for-byte as it was), skipping, end of input, session numbering,
instruments by path and by id, and the practitioner default from config.toml.

Every failing run is also checked for calm: exit status 1, a message, and no traceback (a
``CliRunner`` result whose ``exception`` is anything but ``SystemExit`` means an exception escaped
the exit point in ``ratetool.cli``).
"""

from __future__ import annotations

import re
import tomllib
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers.store_kit import folder_snapshot
from ratetool.cli import app
from ratetool.instruments import load_instrument_file
from ratetool.store import open_store

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_INSTRUMENTS = sorted((REPO / "examples" / "instruments").glob("*.toml"))

CHECKIN_ITEMS = ("empathy", "warmth", "genuineness", "trust")
CORE_ITEMS = (
    "empathy_1",
    "warmth_1",
    "genuineness_1",
    "trust_1",
    "empathy_2",
    "warmth_2",
    "genuineness_2",
    "trust_2",
    "empathy_3",
    "warmth_3",
    "genuineness_3",
    "trust_3",
)


# -- helpers ---------------------------------------------------------------------------------------


def run(args: list[str], input: str | None = None):
    return CliRunner().invoke(app, args, input=input)


def lines(*answers: str) -> str:
    """Typed input: one line per answer, each ended with Enter."""
    return "".join(a + "\n" for a in answers)


def assert_calm(result, code: int) -> None:
    """Exit ``code`` through ratetool's exit point, with no traceback anywhere."""
    assert result.exit_code == code, (result.exit_code, result.output)
    if code == 0:
        assert result.exception is None, repr(result.exception)
    else:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert "Traceback" not in result.stderr


def snapshot(folder: Path) -> dict[str, bytes | None] | None:
    return folder_snapshot(folder)


def client_file(data_dir: Path, client: str) -> Path:
    return data_dir / "clients" / f"{client}.toml"


def stored_sessions(data_dir: Path, client: str) -> list[dict]:
    """The client's sessions as plain TOML tables, parsed independently of ratetool's reader."""
    doc = tomllib.loads(client_file(data_dir, client).read_text(encoding="utf-8"))
    assert doc["client"] == client
    return doc["sessions"]


def read_ratings(data_dir: Path, client: str):
    result = open_store(data_dir).read_client(client)
    assert result.problems == []
    return result.ratings


def rate_answers(client: str, answers: str, *extra: str):
    result = run(["rate", client, "--answers", answers, "--yes", *extra])
    assert_calm(result, 0)
    return result


def practitioner_part(output: str) -> tuple[str, str]:
    """Split output into what the client saw and the practitioner's final "Saved:" line."""
    before, sep, after = output.rpartition("Saved: ")
    assert sep, output
    return before, sep + after


# -- 1. the interactive check-in -------------------------------------------------------------------


def test_interactive_rating_forgives_wrong_values_goes_back_and_saves_corrected_answers(data_dir):
    typed = lines(
        "8",  # Q1 empathy
        "11",  # Q2: outside the scale
        "x",  # Q2: not a number
        "",  # Q2: nothing typed
        "9",  # Q2 warmth = 9 ...
        "b",  # Q3: back to Q2
        "3",  # Q2: ... changed to 3
        "7",  # Q3 genuineness
        "10",  # Q4 trust
        "More time at the end, please",  # comment
        "",  # review: Enter saves
    )
    result = run(["rate", "C-014"], input=typed)
    assert_calm(result, 0)
    out = result.output

    # Each wrong value got one gentle line and the same question again.
    assert out.count("Please type a whole number from 0 to 10.") == 2
    assert out.count("Please type a number from 0 to 10, then press Enter.") == 1
    # Going back showed question 2 again, offering to keep the earlier answer.
    assert out.count("Question 2 of 4") == 2
    assert "Enter keeps 9" in out
    assert "Your answers" in out  # the review
    assert "Thank you." in out
    assert "Saved: session 1 for C-014" in out
    assert out.rstrip().splitlines()[-1].startswith("Saved: session 1 for C-014 in ")

    expected = {"empathy": 8, "warmth": 3, "genuineness": 7, "trust": 10}
    (rating,) = read_ratings(data_dir, "C-014")
    assert rating.answers == expected
    assert rating.comment == "More time at the end, please"
    assert rating.skipped == ()
    assert rating.session == 1
    assert rating.instrument == "checkin"

    (session,) = stored_sessions(data_dir, "C-014")
    assert session["answers"] == expected
    assert session["comment"] == "More time at the end, please"
    assert session["session"] == 1
    assert "skipped" not in session
    # One session in the file, and the wrong and replaced values are in no key of it.
    text = client_file(data_dir, "C-014").read_text(encoding="utf-8")
    assert text.count("\n[[sessions]]") == 1
    assert "answers = { empathy = 8, warmth = 3, genuineness = 7, trust = 10 }" in text


def test_back_on_the_first_question_stays_there(data_dir):
    result = run(["rate", "C-014"], input=lines("b", "5", "6", "7", "8", "", ""))
    assert_calm(result, 0)
    assert "nothing to go back to" in result.output
    assert read_ratings(data_dir, "C-014")[0].answers == dict(zip(CHECKIN_ITEMS, (5, 6, 7, 8)))


def test_back_from_the_comment_returns_to_the_last_question(data_dir):
    result = run(["rate", "C-014"], input=lines("5", "6", "7", "8", "b", "2", "", ""))
    assert_calm(result, 0)
    assert result.output.count("Question 4 of 4") == 2
    (rating,) = read_ratings(data_dir, "C-014")
    assert rating.answers == dict(zip(CHECKIN_ITEMS, (5, 6, 7, 2)))
    assert rating.comment is None


# -- 2. the review ---------------------------------------------------------------------------------


def test_review_changes_an_answer_and_the_comment_before_saving(data_dir):
    typed = lines(
        "8",
        "9",
        "7",
        "10",
        "first thought",  # comment
        "2",  # review: change question 2
        "4",  # warmth 9 -> 4
        "c",  # review: change the comment
        "second thought",
        "",  # review: save
    )
    result = run(["rate", "C-014"], input=typed)
    assert_calm(result, 0)
    out = result.output
    assert out.count("Your answers") == 3  # shown after the comment and after each change
    assert "Enter keeps your comment: first thought" in out
    (rating,) = read_ratings(data_dir, "C-014")
    assert rating.answers == {"empathy": 8, "warmth": 4, "genuineness": 7, "trust": 10}
    assert rating.comment == "second thought"
    (session,) = stored_sessions(data_dir, "C-014")
    assert session["answers"] == rating.answers
    assert session["comment"] == "second thought"


def test_review_enter_keeps_answers_and_comment_unchanged(data_dir):
    typed = lines("8", "9", "7", "10", "kept", "3", "", "c", "", "")
    result = run(["rate", "C-014"], input=typed)
    assert_calm(result, 0)
    (rating,) = read_ratings(data_dir, "C-014")
    assert rating.answers == {"empathy": 8, "warmth": 9, "genuineness": 7, "trust": 10}
    assert rating.comment == "kept"


def test_review_can_remove_the_comment(data_dir):
    result = run(["rate", "C-014"], input=lines("8", "9", "7", "10", "oops", "c", "-", ""))
    assert_calm(result, 0)
    assert "Type - to remove it" in result.output
    (rating,) = read_ratings(data_dir, "C-014")
    assert rating.comment is None
    assert "comment" not in stored_sessions(data_dir, "C-014")[0]


def test_back_while_changing_question_1_from_the_review_returns_to_the_review(data_dir):
    result = run(["rate", "C-014"], input=lines("8", "9", "7", "10", "", "1", "b", ""))
    assert_calm(result, 0)
    assert "nothing to go back to" not in result.output
    assert read_ratings(data_dir, "C-014")[0].answers["empathy"] == 8


def test_review_refuses_an_unknown_choice_gently_in_one_line(data_dir):
    typed = lines("8", "9", "7", "10", "", "9", "zz", "²", "0", "9" * 5000, "")
    result = run(["rate", "C-014"], input=typed)
    assert_calm(result, 0)
    bad_choice = "Please press Enter (or y) to save, or type a number from 1 to 4, or c: "
    assert result.output.count(bad_choice) == 5
    # asked again in one line each time: the review itself was shown once
    assert result.output.count("Your answers") == 1
    assert result.output.count("Press Enter to save, a number to change that answer") == 1
    assert read_ratings(data_dir, "C-014")[0].answers["trust"] == 10


@pytest.mark.parametrize("typed", ["y", "Y", "yes", "  YES ", "Yes", ""])
def test_review_saves_on_enter_y_and_yes(data_dir, typed):
    result = run(["rate", "C-014"], input=lines("8", "9", "7", "10", "", typed))
    assert_calm(result, 0)
    assert "Please press Enter" not in result.output
    assert result.output.count("Your answers") == 1
    (rating,) = read_ratings(data_dir, "C-014")
    assert rating.answers == {"empathy": 8, "warmth": 9, "genuineness": 7, "trust": 10}


def test_review_prompt_is_one_line_that_fits_the_screen(data_dir):
    result = run(["rate", "C-014"], input=lines("8", "9", "7", "10", "", "y"))
    assert_calm(result, 0)
    review = result.output[result.output.index("Your answers") :]
    comment_line = next(line for line in review.splitlines() if "Comment:" in line)
    after = review[review.index(comment_line) + len(comment_line) + 1 :]
    prompt = after.splitlines()[0]  # the line right after the review is the prompt itself
    assert prompt.startswith("Press Enter to save, a number to change that answer, or c ")
    assert len(prompt.partition("Thank you")[0]) < 80


def test_a_comment_too_long_to_keep_is_refused_before_the_answers_are_lost(data_dir):
    long = "y" * 4001
    result = run(["rate", "C-014"], input=lines("8", "9", "7", "10", long, "shorter", ""))
    assert_calm(result, 0)
    assert "too long" in result.output
    assert read_ratings(data_dir, "C-014")[0].comment == "shorter"


# -- 3. privacy: the client's screen ---------------------------------------------------------------


def test_client_screen_shows_no_scores_and_nothing_of_other_clients(data_dir):
    secret = "PRIVATE-NOTE-ABOUT-C001"
    rate_answers("C-001", "2,3,1,4", "--comment", secret, "--practitioner", "AB")
    result = run(["rate", "C-002"], input=lines("8", "9", "7", "10", "fine", ""))
    assert_calm(result, 0)
    seen_by_client, practitioner_line = practitioner_part(result.output)
    assert practitioner_line.startswith("Saved: session 1 for C-002")
    assert "C-001" not in seen_by_client
    assert secret not in result.output
    # The earlier client's answers are not offered as defaults.
    assert "Enter keeps" not in seen_by_client
    assert "%" not in seen_by_client
    for word in ("score", "scores", "overall", "total", "average", "percent", "session 1"):
        assert not re.search(rf"\b{word}\b", seen_by_client, re.IGNORECASE), word
    # ... and the client's own code is not on their screen either.
    assert "C-002" not in seen_by_client


# -- 4. non-interactive --answers ------------------------------------------------------------------


@pytest.mark.parametrize(
    "answers",
    [
        "8,9,7,10",
        "empathy=8,warmth=9,genuineness=7,trust=10",
        "trust=10, genuineness=7 ,warmth=9,empathy=8",  # any order, spaces forgiven
    ],
)
def test_answers_option_stores_exactly_those_answers(data_dir, answers):
    result = rate_answers("C-014", answers)
    assert result.output.strip().startswith("Saved: session 1 for C-014 in ")
    assert str(client_file(data_dir, "C-014")) in result.output
    expected = {"empathy": 8, "warmth": 9, "genuineness": 7, "trust": 10}
    (rating,) = read_ratings(data_dir, "C-014")
    assert rating.answers == expected
    assert list(rating.answers) == list(CHECKIN_ITEMS)
    assert stored_sessions(data_dir, "C-014")[0]["answers"] == expected
    # No questionnaire, no thank-you: this is the practitioner's form.
    assert "Question" not in result.output
    assert "Thank you" not in result.output


def test_answers_option_keeps_comment_practitioner_and_date(data_dir):
    rate_answers(
        "C-014",
        "8,9,7,10",
        "--comment",
        "Paper form, session 3",
        "--practitioner",
        "JD",
        "--date",
        "2026-11-03",
    )
    (rating,) = read_ratings(data_dir, "C-014")
    assert rating.comment == "Paper form, session 3"
    assert rating.practitioner == "JD"
    assert rating.rated_at.date() == date(2026, 11, 3)
    assert rating.rated_at.utcoffset() is not None
    (session,) = stored_sessions(data_dir, "C-014")
    assert session["practitioner"] == "JD"
    assert session["comment"] == "Paper form, session 3"
    assert isinstance(session["rated_at"], datetime)
    assert session["rated_at"].date() == date(2026, 11, 3)


def test_answers_option_keeps_the_time_zone_offset_given(data_dir):
    rate_answers("C-014", "8,9,7,10", "--date", "2026-11-03T10:50+01:00")
    plus_one = timezone(timedelta(hours=1))
    (rating,) = read_ratings(data_dir, "C-014")
    assert rating.rated_at == datetime(2026, 11, 3, 10, 50, tzinfo=plus_one)
    assert rating.rated_at.utcoffset() == timedelta(hours=1)
    (session,) = stored_sessions(data_dir, "C-014")
    assert session["rated_at"].utcoffset() == timedelta(hours=1)
    assert session["rated_at"].replace(tzinfo=None) == datetime(2026, 11, 3, 10, 50)
    assert "2026-11-03T10:50:00+01:00" in client_file(data_dir, "C-014").read_text()


BAD_ANSWERS = [
    # (--answers value, text the message must contain)
    ("11,9,7,10", "empathy"),
    ("8,-1,7,10", "warmth"),
    ("8,9,7.5,10", "genuineness"),
    ("8,9,7,x", "trust"),
    ("8,9,7", "trust"),  # three values for four items: the message lists the items in order
    ("8,9,7,10,6", "empathy, warmth, genuineness, trust"),
    ("", "empathy, warmth, genuineness, trust"),
    ("empathy=8,warmth=9,genuineness=7", "trust"),
    ("empathy=8,warmth=9,genuineness=7,trust=10,focus=5", "focus"),
    ("empathy=8,warmth=9,genuineness=7,trst=10", "trst"),
    ("empathy=8,warmth=9,warmth=9,genuineness=7,trust=10", "warmth"),
    ("empathy=11,warmth=9,genuineness=7,trust=10", "empathy"),
    ("8,s,7,10", "warmth"),  # checkin cannot be skipped
    ("empathy=8,warmth=9,genuineness=skip,trust=10", "genuineness"),
]


@pytest.mark.parametrize("existing", [False, True], ids=["no-data-dir", "client-has-a-session"])
@pytest.mark.parametrize("answers,named", BAD_ANSWERS)
def test_bad_answers_are_refused_naming_the_item_and_nothing_changes(
    data_dir, answers, named, existing
):
    if existing:
        rate_answers("C-014", "5,5,5,5", "--comment", "first")
    before = snapshot(data_dir)
    result = run(["rate", "C-014", "--answers", answers, "--yes"])
    assert_calm(result, 1)
    assert named in result.stderr
    assert "Nothing was saved" in result.stderr
    assert "Saved:" not in result.output
    assert snapshot(data_dir) == before
    if not existing:
        assert not data_dir.exists()


@pytest.mark.parametrize(
    "args,named",
    [
        (["--date", "2026-02-30"], "--date"),
        (["--date", "next tuesday"], "--date"),
        (["--date", "2999-01-01"], "future"),
        (["--practitioner", "x" * 101], "--practitioner"),
        (["--comment", "c" * 4001], "comment"),
        (["--instrument", "no-such-instrument"], "no-such-instrument"),
    ],
)
def test_other_bad_options_are_refused_and_nothing_changes(data_dir, args, named):
    rate_answers("C-014", "5,5,5,5")
    before = snapshot(data_dir)
    result = run(["rate", "C-014", "--answers", "8,9,7,10", "--yes", *args])
    assert_calm(result, 1)
    assert named in result.stderr
    assert snapshot(data_dir) == before


@pytest.mark.parametrize("code", ["Jane Doe", "C/014", "../C-014", "con", "x" * 65])
def test_unsafe_client_codes_are_refused_before_any_question(data_dir, code):
    result = run(["rate", code], input=lines("8", "9", "7", "10", "", ""))
    assert_calm(result, 1)
    assert "Question" not in result.output
    assert "pseudonymous code" in result.stderr
    assert not data_dir.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["--practitioner", "x" * 101],
        ["--comment", "c" * 4001],
        ["--date", "2026-02-30"],
        ["--instrument", "nope"],
    ],
)
def test_bad_options_are_refused_before_the_client_answers(data_dir, args):
    """The client must not spend a minute on answers that could then not be saved."""
    result = run(["rate", "C-014", *args], input=lines("8", "9", "7", "10", "", ""))
    assert_calm(result, 1)
    assert "Question 1" not in result.output
    assert not data_dir.exists()


# -- 5. the core instrument and skipping -----------------------------------------------------------


def test_core_answers_option_stores_skips_as_missing_never_zero(data_dir):
    values = ["1", "2", "s", "4", "5", "1", "skip", "3", "4", "5", "-", "2"]
    rate_answers("C-014", ",".join(values), "--instrument", "core")
    skipped = ("genuineness_1", "genuineness_2", "genuineness_3")
    (rating,) = read_ratings(data_dir, "C-014")
    assert rating.instrument == "core"
    assert rating.skipped == skipped
    assert set(rating.answers) == set(CORE_ITEMS) - set(skipped)
    assert 0 not in rating.answers.values()
    assert rating.answers["trust_3"] == 2
    (session,) = stored_sessions(data_dir, "C-014")
    assert session["skipped"] == list(skipped)
    assert not set(skipped) & set(session["answers"])
    assert len(session["answers"]) == 9


def test_core_refuses_values_outside_its_scale(data_dir):
    zeros = ",".join(["0"] * 12)
    result = run(["rate", "C-014", "--instrument", "core", "--answers", zeros, "--yes"])
    assert_calm(result, 1)
    assert "empathy_1" in result.stderr and "1 to 5" in result.stderr
    assert not data_dir.exists()


def test_core_interactive_skip_with_s(data_dir):
    typed = ["3"] * 12
    typed[1] = "s"  # warmth_1 skipped
    typed[5] = "S"  # warmth_2 skipped (any case)
    typed[11:12] = ["", "6", "0", "skip"]  # trust_3: empty, outside 1-5 twice, then skipped
    result = run(["rate", "C-014", "--instrument", "core"], input=lines(*typed, "", ""))
    assert_calm(result, 0)
    out = result.output
    assert "You can type s to skip" in out
    assert "Please type a number from 1 to 5, or s to skip." in out
    assert out.count("Please type a whole number from 1 to 5.") == 2
    assert "skipped" in out  # the review says which were skipped
    (rating,) = read_ratings(data_dir, "C-014")
    assert rating.skipped == ("warmth_1", "warmth_2", "trust_3")
    assert set(rating.answers) == set(CORE_ITEMS) - set(rating.skipped)
    assert set(rating.answers.values()) == {3}
    (session,) = stored_sessions(data_dir, "C-014")
    assert session["skipped"] == ["warmth_1", "warmth_2", "trust_3"]


def test_s_on_checkin_is_gently_refused(data_dir):
    result = run(["rate", "C-014"], input=lines("s", "8", "9", "skip", "7", "10", "", ""))
    assert_calm(result, 0)
    assert result.output.count("This one can't be skipped. Please type a number from 0 to 10.") == 2
    assert "You can type s to skip" not in result.output
    (rating,) = read_ratings(data_dir, "C-014")
    assert rating.answers == {"empathy": 8, "warmth": 9, "genuineness": 7, "trust": 10}
    assert rating.skipped == ()


# -- 6. end of input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [lines("8", "9"), "", lines("8", "9", "7", "10"), lines("8", "9", "7", "10", "a comment")],
    ids=["mid-questionnaire", "at-once", "at-the-comment", "at-the-review"],
)
def test_end_of_input_saves_nothing_and_says_so_calmly(data_dir, typed):
    result = run(["rate", "C-014"], input=typed)
    assert_calm(result, 1)
    message = result.stderr.strip()
    assert message == "Input ended before the questionnaire was finished. Nothing was saved."
    assert "Saved:" not in result.output
    assert not data_dir.exists()


def test_end_of_input_leaves_an_existing_client_file_unchanged(data_dir):
    rate_answers("C-014", "5,5,5,5")
    before = snapshot(data_dir)
    result = run(["rate", "C-014"], input=lines("8", "9"))
    assert_calm(result, 1)
    assert snapshot(data_dir) == before


# -- 7. session numbers ----------------------------------------------------------------------------


def test_session_numbers_count_up(data_dir):
    first = rate_answers("C-014", "8,9,7,10")
    second = run(["rate", "C-014"], input=lines("7", "7", "7", "7", "", ""))
    assert_calm(second, 0)
    third = rate_answers("C-014", "empathy=1,warmth=2,genuineness=3,trust=4")
    other = rate_answers("C-015", "1,1,1,1")  # another client starts at 1
    assert "Saved: session 1 for C-014" in first.output
    assert "Saved: session 2 for C-014" in second.output
    assert "Saved: session 3 for C-014" in third.output
    assert "Saved: session 1 for C-015" in other.output
    assert [r.session for r in read_ratings(data_dir, "C-014")] == [1, 2, 3]
    assert [s["session"] for s in stored_sessions(data_dir, "C-014")] == [1, 2, 3]
    assert [s["answers"]["trust"] for s in stored_sessions(data_dir, "C-014")] == [10, 7, 4]


# -- 8. instruments by path and by id --------------------------------------------------------------

OWN_INSTRUMENT = """\
format = 1
id = "test-three"
version = 2
title = "Three questions"
intro = "Three short questions."
allow_skip = true

[scale]
min = 1
max = 7
min_label = "no"
max_label = "yes"

[dimensions]
bond = "Bond"

[[items]]
id = "one"
dimension = "bond"
text = "First statement."

[[items]]
id = "two"
dimension = "bond"
text = "Second statement."

[[items]]
id = "three"
dimension = "bond"
text = "Third statement."
reverse = true
"""


def instrument_files(tmp_path: Path) -> list[Path]:
    own = tmp_path / "elsewhere" / "three.toml"
    own.parent.mkdir()
    own.write_text(OWN_INSTRUMENT, encoding="utf-8")
    return [*EXAMPLE_INSTRUMENTS, own]


def test_instrument_given_as_a_path(data_dir, tmp_path):
    files = instrument_files(tmp_path)
    for n, path in enumerate(files, start=1):
        inst = load_instrument_file(path)
        span = inst.scale.max - inst.scale.min + 1
        values = [inst.scale.min + i % span for i in range(len(inst.items))]
        client = f"P-{n}"
        rate_answers(client, ",".join(map(str, values)), "--instrument", str(path))
        (rating,) = read_ratings(data_dir, client)
        assert rating.instrument == inst.id
        assert rating.instrument_version == inst.version
        assert rating.answers == dict(zip(inst.item_ids, values))
        (session,) = stored_sessions(data_dir, client)
        assert session["instrument"] == inst.id
        assert session["answers"] == dict(zip(inst.item_ids, values))


def test_instrument_path_interactively(data_dir, tmp_path):
    (own,) = instrument_files(tmp_path)[-1:]
    result = run(["rate", "C-014", "-i", str(own)], input=lines("7", "s", "1", "", ""))
    assert_calm(result, 0)
    assert "Question 3 of 3" in result.output
    assert "1 = no" in result.output and "7 = yes" in result.output
    (rating,) = read_ratings(data_dir, "C-014")
    assert rating.answers == {"one": 7, "three": 1}
    assert rating.skipped == ("two",)


def test_custom_instrument_in_the_config_folder_is_usable_by_id(data_dir, config_dir):
    folder = config_dir / "instruments"
    folder.mkdir(parents=True)
    (folder / "mine.toml").write_text(OWN_INSTRUMENT, encoding="utf-8")
    rate_answers("C-014", "one=2,two=s,three=7", "--instrument", "test-three")
    (rating,) = read_ratings(data_dir, "C-014")
    assert (rating.instrument, rating.instrument_version) == ("test-three", 2)
    assert rating.answers == {"one": 2, "three": 7}
    assert rating.skipped == ("two",)


def test_default_instrument_from_config(data_dir, config_dir):
    config_dir.mkdir(parents=True)
    (config_dir / "config.toml").write_text('instrument = "core"\n', encoding="utf-8")
    rate_answers("C-014", ",".join(["4"] * 12))
    assert read_ratings(data_dir, "C-014")[0].instrument == "core"


def test_unknown_instrument_lists_the_known_ids(data_dir, config_dir):
    folder = config_dir / "instruments"
    folder.mkdir(parents=True)
    (folder / "mine.toml").write_text(OWN_INSTRUMENT, encoding="utf-8")
    result = run(["rate", "C-014", "--instrument", "chekin", "--answers", "8,9,7,10", "--yes"])
    assert_calm(result, 1)
    assert "'chekin'" in result.stderr
    for known in ("checkin", "core", "test-three"):
        assert known in result.stderr
    assert not data_dir.exists()


def test_missing_instrument_file_is_refused(data_dir, tmp_path):
    missing = tmp_path / "nowhere" / "gone.toml"
    result = run(["rate", "C-014", "--instrument", str(missing)], input=lines("8"))
    assert_calm(result, 1)
    assert str(missing) in result.stderr
    assert "Question" not in result.output
    assert not data_dir.exists()


# -- 9. config.toml --------------------------------------------------------------------------------


def test_practitioner_default_comes_from_config(data_dir, config_dir):
    config_dir.mkdir(parents=True)
    (config_dir / "config.toml").write_text('practitioner = "AB"\n', encoding="utf-8")
    rate_answers("C-014", "8,9,7,10")
    result = run(["rate", "C-014"], input=lines("8", "9", "7", "10", "", ""))
    assert_calm(result, 0)
    rate_answers("C-014", "8,9,7,10", "--practitioner", "XY")
    assert [r.practitioner for r in read_ratings(data_dir, "C-014")] == ["AB", "AB", "XY"]
    assert [s["practitioner"] for s in stored_sessions(data_dir, "C-014")] == ["AB", "AB", "XY"]


def test_no_practitioner_anywhere_stores_none(data_dir):
    rate_answers("C-014", "8,9,7,10")
    assert read_ratings(data_dir, "C-014")[0].practitioner is None
    assert "practitioner" not in stored_sessions(data_dir, "C-014")[0]


@pytest.mark.parametrize(
    "content,named",
    [
        ('practitioner = "AB"\npractioner = "CD"\n', "practioner"),
        ('practitioner = "AB"\n[alerts]\nlow = 90\nhigh = 5\n', "high"),
        ('store = "sqlite"\n', "store"),
        ('practitioner = "AB\n', "line 1"),
    ],
    ids=["unknown-key", "unknown-alert-key", "bad-store", "toml-syntax"],
)
@pytest.mark.parametrize("interactive", [False, True], ids=["answers", "interactive"])
def test_a_bad_config_is_refused_naming_file_and_key(
    data_dir, config_dir, content, named, interactive
):
    config_dir.mkdir(parents=True)
    config = config_dir / "config.toml"
    config.write_text(content, encoding="utf-8")
    config_before = snapshot(config_dir)
    if interactive:
        result = run(["rate", "C-014"], input=lines("8", "9", "7", "10", "", ""))
    else:
        result = run(["rate", "C-014", "--answers", "8,9,7,10", "--yes"])
    assert_calm(result, 1)
    assert str(config) in result.stderr
    assert named in result.stderr
    assert "Question" not in result.output
    assert not data_dir.exists()
    assert snapshot(config_dir) == config_before


# -- 10. no traceback for a damaged client file either ---------------------------------------------


def test_a_damaged_client_file_is_refused_before_any_question(data_dir):
    rate_answers("C-014", "8,9,7,10")
    path = client_file(data_dir, "C-014")
    with path.open("ab") as fh:
        fh.write(b'\n[[sessions]]\nid = "cut-short')
    before = snapshot(data_dir)
    result = run(["rate", "C-014"], input=lines("8", "9", "7", "10", "", ""))
    assert_calm(result, 1)
    assert "Question" not in result.output
    assert "ratetool check --repair" in result.stderr
    assert snapshot(data_dir) == before


def test_no_message_ever_contains_a_traceback_or_python_repr(data_dir):
    """A sweep over many user mistakes at once: every one is a plain message and exit 1."""
    attempts = [
        ["rate", "C-014", "--answers", "1,2", "--yes"],
        ["rate", "C-014", "--answers", "a=b", "--yes"],
        ["rate", "C-014", "--answers", "=,=,=", "--yes"],
        ["rate", "C-014", "--answers", ",,,", "--yes"],
        ["rate", "C-014", "--answers", "8,9,7,10", "--date", "", "--yes"],
        ["rate", "C-014", "--answers", "8,9,7,10", "--instrument", "", "--yes"],
        ["rate", "C-014", "--answers", "8,9,7,10", "--instrument", "x.toml", "--yes"],
        ["rate", "", "--answers", "8,9,7,10", "--yes"],
    ]
    for args in attempts:
        result = run(args)
        assert_calm(result, 1)
        assert result.stderr.strip(), args
        assert not re.search(r"\b(Error|Exception)\(", result.stderr), result.stderr
    assert not data_dir.exists()
