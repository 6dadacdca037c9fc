"""Answers from the command line: ``--answers 8,9,7,10`` or ``--answers empathy=8,warmth=9,...``.

Also ``build_rating``, which turns validated answers into a new ``Rating`` ready for the store.
Every problem is reported at once, each naming the item, and nothing is written.
"""

from __future__ import annotations

from datetime import datetime

from ratetool.errors import AnswerError
from ratetool.instruments import Instrument, check_answer
from ratetool.limits import (
    MAX_PRACTITIONER,
    comment_problem,
    has_control,
    normalise_line_breaks,
)
from ratetool.model import Rating, now, validate_client_code

SKIP_WORDS = frozenset({"s", "skip", "-"})


def parse_answers_option(
    instrument: Instrument, text: str
) -> tuple[dict[str, int], tuple[str, ...]]:
    """Parse ``--answers``; returns answers in item order and the skipped item ids."""
    parts = [p.strip() for p in text.split(",")]
    ids = instrument.item_ids
    listing = ", ".join(ids)
    problems: list[str] = []
    raw: dict[str, str] = {}
    if any("=" in p for p in parts):
        for part in parts:
            if not part:
                continue
            key, sep, value = part.partition("=")
            key = key.strip()
            if not sep:
                problems.append(
                    f"{part!r} has no item name; use the form item=number for every answer "
                    f"(items: {listing})"
                )
            elif key not in ids:
                problems.append(f"{key!r} is not an item of {instrument.id} (items: {listing})")
            elif key in raw:
                problems.append(f"{key} is given twice")
            else:
                raw[key] = value.strip()
    else:
        if len(parts) != len(ids):
            given = 0 if parts == [""] else len(parts)
            raise AnswerError(
                f"--answers has {given} answer{'s' if given != 1 else ''} but {instrument.id} "
                f"has {len(ids)} items, in this order: {listing}. Nothing was saved."
            )
        raw = dict(zip(ids, parts))
    answers: dict[str, int] = {}
    skipped: list[str] = []
    for item_id in ids:
        if item_id not in raw:
            if not any("=" in p for p in parts):
                continue
            problems.append(f"{item_id}: missing answer")
            continue
        value = raw[item_id]
        if value.lower() in SKIP_WORDS:
            if instrument.allow_skip:
                skipped.append(item_id)
            else:
                problems.append(
                    f"{item_id}: {instrument.id} does not allow skipping; give a whole number "
                    f"from {instrument.scale.min} to {instrument.scale.max}"
                )
            continue
        try:
            answers[item_id] = check_answer(instrument, item_id, value)
        except AnswerError as exc:
            problems.append(str(exc))
    if problems:
        raise AnswerError("\n".join(problems + ["Nothing was saved."]))
    return answers, tuple(skipped)


def clean_comment(comment: str | None) -> str | None:
    if comment is None:
        return None
    text = normalise_line_breaks(comment).strip()
    if not text:
        return None
    problem = comment_problem(text)
    if problem is not None:
        raise AnswerError(f"--comment: {problem}. Nothing was saved.")
    return text


def clean_practitioner(name: str | None) -> str | None:
    if name is None:
        return None
    text = name.strip()
    if not text:
        return None
    if len(text) > MAX_PRACTITIONER or "\t" in text or "\n" in text or has_control(text):
        raise AnswerError(
            f"--practitioner must be a short name or initials on one line (at most "
            f"{MAX_PRACTITIONER} characters)."
        )
    return text


def build_rating(
    instrument: Instrument,
    client: str,
    answers: dict[str, int],
    skipped: tuple[str, ...] = (),
    *,
    rated_at: datetime | None = None,
    practitioner: str | None = None,
    comment: str | None = None,
) -> Rating:
    """A new rating (fresh id; session 0 until the store numbers it) from validated answers."""
    from ratetool.store.records import new_id

    validate_client_code(client)
    accounted = set(answers) | set(skipped)
    missing = [i for i in instrument.item_ids if i not in accounted]
    if missing:
        raise AnswerError(f"Missing answer for {', '.join(missing)}. Nothing was saved.")
    if skipped and not instrument.allow_skip:
        raise AnswerError(f"{instrument.id} does not allow skipping. Nothing was saved.")
    for item_id, value in answers.items():
        check_answer(instrument, item_id, str(value))
    ordered = {i: answers[i] for i in instrument.item_ids if i in answers}
    return Rating(
        id=new_id(),
        client=client,
        session=0,
        rated_at=rated_at or now(),
        instrument=instrument.id,
        instrument_version=instrument.version,
        answers=ordered,
        practitioner=clean_practitioner(practitioner),
        comment=clean_comment(comment),
        skipped=tuple(i for i in instrument.item_ids if i in skipped),
    )
