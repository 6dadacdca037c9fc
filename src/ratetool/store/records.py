"""Turning a stored record (a dict read from TOML or CSV) into a ``Rating``, and back to TOML text.

Both stores and the importer use ``rating_from_record`` so a record is judged by one set of rules
for its shape; ``RatingRules`` then holds each rating read to its instrument and to the limits of
``ratetool.limits``, and ``Duplicates`` finds an id or session number used twice in one client.
Both stores apply them to every rating they read, so ``summary``, ``export``, ``rate`` and
``check`` all meet the same problems.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from ratetool import limits
from ratetool.codes import CLIENT_CODE_RE
from ratetool.model import DATE_ONLY_HOUR, Rating

if TYPE_CHECKING:
    from ratetool.corrections import Correction
    from ratetool.instruments import Instrument

REQUIRED = ("id", "session", "rated_at", "instrument", "instrument_version", "answers")
OPTIONAL = ("practitioner", "comment", "skipped")
REQUIRED_SET = frozenset(REQUIRED)
KNOWN = frozenset(REQUIRED + OPTIONAL)
ITEM_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


class RecordError(ValueError):
    """A record is missing a field or holds a wrong value. ``args[0]`` is a plain sentence."""


def new_id() -> str:
    return str(uuid.uuid4())


def _short(value: object) -> str:
    """``repr(value)``, cut to 40 characters (a cell can hold a megabyte)."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def rating_from_record(record: dict[str, Any], client: str) -> Rating:
    """Validate a record's shape and types; raise ``RecordError`` naming the field.

    Every session of every file goes through here, so each check is one cheap test and the
    message is worked out only when a check fails. ``type(x) is int`` keeps out ``bool`` (an
    ``int`` too); tomllib, json and the CSV reader only make plain ``str``, ``int``, ``dict``.
    """
    keys = record.keys()
    if not keys >= REQUIRED_SET:
        raise RecordError(f"missing {', '.join(key for key in REQUIRED if key not in record)}")
    if not keys <= KNOWN:
        raise RecordError(f"unknown key {', '.join(sorted(keys - KNOWN))}")
    rid = record["id"]
    if type(rid) is not str or not rid.strip():
        raise RecordError("id must be non-empty text")
    session = record["session"]
    if type(session) is not int or session < 1:
        raise RecordError(f"session must be a whole number from 1 (got {_short(session)})")
    rated_at = record["rated_at"]
    if type(rated_at) is not datetime:
        if isinstance(rated_at, date) and not isinstance(rated_at, datetime):
            rated_at = datetime.combine(rated_at, time(DATE_ONLY_HOUR)).astimezone()
        if not isinstance(rated_at, datetime):
            raise RecordError("rated_at must be a date and time, e.g. 2026-11-28T10:50:00+01:00")
    if rated_at.tzinfo is None:
        rated_at = rated_at.astimezone()  # a hand-typed local time: read it as local
    instrument = record["instrument"]
    if type(instrument) is not str or not ITEM_ID_RE.fullmatch(instrument):
        raise RecordError("instrument must be an instrument id")
    version = record["instrument_version"]
    if type(version) is not int or version < 1:
        raise RecordError("instrument_version must be a whole number from 1")
    answers = record["answers"]
    if type(answers) is not dict:
        raise RecordError("answers must be a table of item = whole number")
    for key, value in answers.items():
        if type(value) is not int:
            raise RecordError(f"answer {key} = {_short(value)} is not a whole number")
    skipped = record.get("skipped", ())
    if skipped:
        if type(skipped) is not list or not all(type(s) is str for s in skipped):
            raise RecordError("skipped must be a list of item ids")
        both = set(skipped).intersection(answers)
        if both:
            raise RecordError(f"item {', '.join(sorted(both))} is both answered and skipped")
    elif type(skipped) not in (list, tuple):
        raise RecordError("skipped must be a list of item ids")
    practitioner = record.get("practitioner")
    if practitioner is not None and type(practitioner) is not str:
        raise RecordError("practitioner must be text")
    comment = record.get("comment")
    if comment is not None and type(comment) is not str:
        raise RecordError("comment must be text")
    if not CLIENT_CODE_RE.fullmatch(client):
        raise RecordError(f"client code {client!r} is not valid")
    return Rating(
        rid,
        client,
        session,
        rated_at,
        instrument,
        version,
        dict(answers),
        practitioner or None,
        comment or None,
        tuple(skipped),
    )


# -- Rules beyond the shape -------------------------------------------------------------------


_UNSEEN: Any = object()


class RatingRules:
    """What a stored rating is held to besides its shape: the session-number limit
    (``limits.session_problem``) and, when its instrument's definition is found, the instrument
    (every item answered or skipped, no other item, answers whole numbers on the scale, skips only
    where the instrument allows them). ``rate`` and ``import`` hold a new rating to the same.

    The comment and date limits (``limits.comment_problem``, ``limits.date_problem``) are held at
    entry (``rate``, ``import``), not here: files written by earlier versions hold comments of up
    to 5,000 characters and dates before 1900 that were accepted then, a comment is shown with
    its control characters made visible, and a date after tomorrow today is a fine date next
    week; none of them stops a rating being scored, so each stays readable.

    ``resolve`` is the store's (``Store.resolve``); without one, or for an instrument whose
    definition is not found, only the limits apply: such a rating stays readable (it is shown
    without scores, with a warning). One object serves one read: definitions and answer patterns
    are looked at once each (a caseload repeats a few answer patterns thousands of times).
    """

    def __init__(self, resolve: Callable[[str, int], Instrument | None] | None) -> None:
        self.resolve = resolve
        self._instruments: dict[tuple[str, int], Instrument | None] = {}
        self._verdicts: dict[tuple[Any, ...], str | None] = {}

    def problem(self, rating: Rating) -> str | None:
        """Why ``rating`` cannot be read as it is, in a sentence, or ``None``.

        Called for every rating read (100,000 in a large caseload), so the common case is one
        comparison and one lookup of the rating's instrument and answer pattern."""
        session = rating.session
        if session > limits.MAX_SESSION or session < 1:
            return limits.session_problem(session)
        pattern = (
            rating.instrument,
            rating.instrument_version,
            tuple(rating.answers.items()),
            rating.skipped,
        )
        found = self._verdicts.get(pattern, _UNSEEN)
        if found is _UNSEEN:
            found = self._verdicts[pattern] = self._judge(rating)
        return found  # type: ignore[no-any-return]

    def _judge(self, rating: Rating) -> str | None:
        key = (rating.instrument, rating.instrument_version)
        if key in self._instruments:
            instrument = self._instruments[key]
        else:
            instrument = self._instruments[key] = self._resolve(*key)
        return None if instrument is None else answers_problem(instrument, rating)

    def _resolve(self, instrument_id: str, version: int) -> Instrument | None:
        from ratetool.errors import RatetoolError

        if self.resolve is None:
            return None
        try:
            return self.resolve(instrument_id, version)
        except RatetoolError:  # a definition that cannot be read: shown without scores
            return None


def answers_problem(instrument: Instrument, rating: Rating) -> str | None:
    """Why the answers and skips of ``rating`` do not fit ``instrument``, or ``None``."""
    where = f"{instrument.id} version {instrument.version}"
    items = instrument.item_ids
    for item_id, value in rating.answers.items():
        problem = instrument.answer_problem(item_id, value)
        if problem is not None:
            if item_id not in items:
                return f"there is an answer for {item_id!r}, which is not an item of {where}"
            return f"{where}: {problem.split(';')[0]}"
    if rating.skipped:
        if not instrument.allow_skip:
            return f"{', '.join(rating.skipped)} skipped, but {where} does not allow skipping"
        unknown = [s for s in rating.skipped if s not in items]
        if unknown:
            return f"skipped lists {', '.join(unknown)}, not an item of {where}"
    missing = [i for i in items if i not in rating.answers and i not in rating.skipped]
    if missing:
        return f"no answer for {', '.join(missing)} of {where}, and not listed under skipped"
    return None


class Duplicates:
    """Ids and session numbers already met in one client's ratings (in file order)."""

    def __init__(self) -> None:
        self.ids: dict[str, Rating] = {}
        self.sessions: dict[tuple[str, int], Rating] = {}

    def problem(self, rating: Rating) -> tuple[str, str] | None:
        """``(kind, sentence)`` when ``rating`` repeats the id or the session number of a rating
        of the same client met before, else ``None``; the first rating with an id, and with a
        session number, is remembered (asking again about one rating gives the same answer)."""
        twin = self.ids.setdefault(rating.id, rating)
        if twin is not rating and twin.client == rating.client:
            return "duplicate-id", (
                f"the id {rating.id} is used twice (sessions {twin.session} and "
                f"{rating.session}); ids must be unique. Remove the copy by hand"
            )
        twin = self.sessions.setdefault((rating.client, rating.session), rating)
        if twin is not rating:
            return "duplicate-session", (
                f"there are two ratings numbered session {rating.session} (ids {twin.id} and "
                f"{rating.id}); summaries cannot order them. Give one of them a free session "
                "number by hand"
            )
        return None


# -- TOML text ---------------------------------------------------------------------------------

_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def toml_string(text: str) -> str:
    """A TOML basic string: one line, every control character escaped."""
    out = ['"']
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def toml_datetime(value: datetime) -> str:
    offset = value.utcoffset()
    if offset is None:
        raise ValueError("rated_at must be time-zone aware")
    if offset % timedelta(minutes=1):  # TOML offsets are whole minutes (LMT is not)
        value = value.astimezone(UTC)
    text = value.isoformat()
    return text


def session_block(rating: Rating) -> str:
    """The ``[[sessions]]`` block appended for one rating (starts with a blank line).

    No blank line and no multi-line string inside, so a block is easy to read and to find.
    """
    lines = [
        "",
        "[[sessions]]",
        f"id = {toml_string(rating.id)}",
        f"session = {rating.session}",
        f"rated_at = {toml_datetime(rating.rated_at)}",
        f"instrument = {toml_string(rating.instrument)}",
        f"instrument_version = {rating.instrument_version}",
    ]
    if rating.practitioner:
        lines.append(f"practitioner = {toml_string(rating.practitioner)}")
    if rating.comment:
        lines.append(f"comment = {toml_string(rating.comment)}")
    if rating.skipped:
        lines.append("skipped = [" + ", ".join(toml_string(s) for s in rating.skipped) + "]")
    # The answers go last, on one line, as an inline table: a block cut short by a crash then
    # always fails to parse or lacks its answers, so it can never read as a different rating.
    pairs = ", ".join(f"{key} = {value}" for key, value in rating.answers.items())
    lines.append(f"answers = {{ {pairs} }}" if pairs else "answers = {}")
    return "\n".join(lines) + "\n"


def file_header(client: str, data_format: int) -> str:
    return (
        "# ratetool ratings for one client: one [[sessions]] block per rating, oldest first.\n"
        "# ratetool only ever appends to this file. Answers are whole numbers on the\n"
        "# instrument's scale; a skipped item is listed under `skipped`, never stored as 0.\n"
        f"format = {data_format}\n"
        f"client = {toml_string(client)}\n"
    )


# -- Corrections (``ratetool.corrections``) as stored ------------------------------------------

CORRECTION_REQUIRED: dict[str, tuple[str, ...]] = {
    "void": ("id", "action", "rating", "session", "made_at", "reason"),
    "amend": ("id", "action", "rating", "session", "made_at", "answers"),
    "rename": ("id", "action", "made_at", "from"),
}
CORRECTION_KNOWN: dict[str, frozenset[str]] = {
    "void": frozenset(CORRECTION_REQUIRED["void"] + ("practitioner",)),
    "amend": frozenset(
        CORRECTION_REQUIRED["amend"] + ("practitioner", "reason", "comment", "skipped")
    ),
    "rename": frozenset(CORRECTION_REQUIRED["rename"] + ("practitioner", "reason", "to")),
}


def correction_from_record(record: dict[str, Any], client: str) -> Correction:
    """A stored correction (a ``[[corrections]]`` block of ``client``'s file, as a dict) checked
    for shape and types; ``RecordError`` naming the field otherwise. A missing key is reported as
    ``missing ...`` (as for a rating: the TOML store tells a torn block by it)."""
    from ratetool.corrections import Correction

    action = record.get("action")
    if "action" not in record:
        raise RecordError("missing action")
    if type(action) is not str or action not in CORRECTION_REQUIRED:
        raise RecordError(f"action must be void, amend or rename (got {_short(action)})")
    required = CORRECTION_REQUIRED[action]
    missing = [key for key in required if key not in record]
    if missing:
        raise RecordError(f"missing {', '.join(missing)}")
    unknown = sorted(record.keys() - CORRECTION_KNOWN[action])
    if unknown:
        raise RecordError(f"unknown key {', '.join(unknown)} in a {action} correction")
    cid = record["id"]
    if type(cid) is not str or not cid.strip():
        raise RecordError("id must be non-empty text")
    made_at = record["made_at"]
    if type(made_at) is not datetime:
        raise RecordError("made_at must be a date and time, e.g. 2026-12-04T11:20:00+01:00")
    if made_at.tzinfo is None:
        made_at = made_at.astimezone()  # a hand-typed local time: read it as local
    texts = {}
    for key in ("practitioner", "reason", "comment"):
        value = record.get(key)
        if value is not None and type(value) is not str:
            raise RecordError(f"{key} must be text")
        texts[key] = value
    if action == "void" and not (texts["reason"] or "").strip():
        raise RecordError("a void must give its reason")
    if not CLIENT_CODE_RE.fullmatch(client):
        raise RecordError(f"client code {client!r} is not valid")
    if action == "rename":
        old, new = record["from"], record.get("to", client)
        for key, code in (("from", old), ("to", new)):
            if type(code) is not str or not CLIENT_CODE_RE.fullmatch(code):
                raise RecordError(f"{key} must be a client code (got {_short(code)})")
        return Correction(
            cid,
            old,
            action,
            made_at,
            reason=texts["reason"] or None,
            practitioner=texts["practitioner"] or None,
            new_client=new,
        )
    rating = record["rating"]
    if type(rating) is not str or not rating.strip():
        raise RecordError("rating must be the id of the rating corrected")
    session = record["session"]
    if type(session) is not int or session < 1:
        raise RecordError(f"session must be a whole number from 1 (got {_short(session)})")
    answers: dict[str, int] | None = None
    skipped: tuple[str, ...] = ()
    if action == "amend":
        given = record["answers"]
        if type(given) is not dict:
            raise RecordError("answers must be a table of item = whole number")
        for key, value in given.items():
            if type(value) is not int:
                raise RecordError(f"answer {key} = {_short(value)} is not a whole number")
        answers = dict(given)
        listed = record.get("skipped", [])
        if type(listed) is not list or not all(type(s) is str for s in listed):
            raise RecordError("skipped must be a list of item ids")
        both = set(listed).intersection(answers)
        if both:
            raise RecordError(f"item {', '.join(sorted(both))} is both answered and skipped")
        skipped = tuple(listed)
    return Correction(
        cid,
        client,
        action,
        made_at,
        rating=rating,
        session=session,
        reason=texts["reason"] or None,
        practitioner=texts["practitioner"] or None,
        answers=answers,
        skipped=skipped,
        comment=texts["comment"],
    )


def correction_block(correction: Correction) -> str:
    """The ``[[corrections]]`` block appended for one correction (starts with a blank line).

    Like a rating's block, it ends with a key it cannot do without, on one line: ``answers``
    for an amend, ``reason`` for a void, ``from`` for a rename. A block cut short by a crash then
    fails to parse or lacks that key, so it is told apart as torn and never read as another
    correction."""
    c = correction
    lines = [
        "",
        "[[corrections]]",
        f"id = {toml_string(c.id)}",
        f"action = {toml_string(c.action)}",
    ]
    if c.action != "rename":
        lines.append(f"rating = {toml_string(c.rating or '')}")
        lines.append(f"session = {c.session}")
    lines.append(f"made_at = {toml_datetime(c.made_at)}")
    if c.practitioner:
        lines.append(f"practitioner = {toml_string(c.practitioner)}")
    if c.action == "void":
        lines.append(f"reason = {toml_string(c.reason or '')}")
        return "\n".join(lines) + "\n"
    if c.reason:
        lines.append(f"reason = {toml_string(c.reason)}")
    if c.action == "rename":
        # ``to``: the file's client when written; kept so a later rename does not rewrite history
        lines.append(f"to = {toml_string(c.new_client or '')}")
        lines.append(f"from = {toml_string(c.client)}")
        return "\n".join(lines) + "\n"
    if c.comment is not None:
        lines.append(f"comment = {toml_string(c.comment)}")
    if c.skipped:
        lines.append("skipped = [" + ", ".join(toml_string(s) for s in c.skipped) + "]")
    pairs = ", ".join(f"{key} = {value}" for key, value in (c.answers or {}).items())
    lines.append(f"answers = {{ {pairs} }}" if pairs else "answers = {}")
    return "\n".join(lines) + "\n"
