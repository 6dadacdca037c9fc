"""Corrections: how a mistake is put right without editing history.

Health records are never edited in place; a wrong entry is *marked*. ratetool follows FHIR's
``QuestionnaireResponse.status``: a rating is ``completed`` as saved, ``amended`` once a later
record replaced its answers, ``entered-in-error`` once a later record voided it. A correction is
such a later record, appended to the store like a rating (``Store.add_corrections``), and the
rating it corrects stays in the file, byte for byte:

- ``void``: the rating was entered in error (wrong client, a test, a duplicate). It counts nowhere:
  not in summaries, the caseload, charts or exports (unless an export asks for voided ratings).
- ``amend``: the rating's answers (and skips, and its comment when one is given) are replaced by
  the correction's; it keeps its id, session number and the moment it was rated.
- ``rename``: every rating of client ``client`` is shown under ``new_client`` (a code typed
  wrong). The stores keep the old data whole (see each store).

``apply`` turns the ratings as stored and their corrections into the *corrected view* every
command reads; ``check_new`` decides whether a new correction may be appended. Pure data and
rules, no I/O, nothing of Typer or rich.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ratetool.errors import RatetoolError
from ratetool.model import Rating

if TYPE_CHECKING:
    from ratetool.store.records import RatingRules

VOID = "void"
AMEND = "amend"
RENAME = "rename"
ACTIONS: tuple[str, ...] = (VOID, AMEND, RENAME)

#: A rating's status, as FHIR's QuestionnaireResponse names them.
COMPLETED = "completed"
AMENDED = "amended"
ENTERED_IN_ERROR = "entered-in-error"
STATUSES: tuple[str, ...] = (COMPLETED, AMENDED, ENTERED_IN_ERROR)


class CorrectionError(RatetoolError):
    """A correction cannot be made (no such session, already voided, answers that do not fit)."""


@dataclass(slots=True)
class Correction:
    """One appended correction (see the module docstring). Never changed once made.

    ``rating`` and ``session`` name the rating voided or amended (its id, and its session number
    so a person reading the file sees which one); ``answers``/``skipped``/``comment`` are an
    amend's new values (``comment`` ``None`` keeps the rating's comment); ``new_client`` is a
    rename's new code, ``client`` always the code the corrected ratings were stored under.
    """

    id: str
    client: str
    action: str
    made_at: datetime
    rating: str | None = None
    session: int | None = None
    reason: str | None = None
    practitioner: str | None = None
    answers: dict[str, int] | None = None
    skipped: tuple[str, ...] = ()
    comment: str | None = None
    new_client: str | None = None

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"Correction.action must be one of {ACTIONS}, not {self.action!r}")
        if self.made_at.tzinfo is None or self.made_at.utcoffset() is None:
            raise ValueError("Correction.made_at must be time-zone aware")

    def describe(self) -> str:
        """One line for ``summary --history``: what was done (the reason is shown beside it)."""
        if self.action == VOID:
            return f"session {self.session} voided (entered in error)"
        if self.action == AMEND:
            answers = ", ".join(f"{k}={v}" for k, v in (self.answers or {}).items())
            skipped = f"; skipped {', '.join(self.skipped)}" if self.skipped else ""
            comment = "; comment replaced" if self.comment is not None else ""
            return f"session {self.session} amended: {answers}{skipped}{comment}"
        return f"client code {self.client} renamed to {self.new_client}"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "action": self.action,
            "made_at": self.made_at.isoformat(),
            "client": self.client,
            "new_client": self.new_client,
            "rating": self.rating,
            "session": self.session,
            "reason": self.reason,
            "practitioner": self.practitioner,
            "answers": self.answers,
            "skipped": list(self.skipped),
            "comment": self.comment,
        }


def new_correction_id() -> str:
    return str(uuid.uuid4())


@dataclass
class CorrectedView:
    """The ratings as every command shows them, and what the corrections did."""

    #: Ratings that count, in the order given: amended ones carry their new answers and
    #: ``status == "amended"``; renamed ones their new client code.
    ratings: list[Rating] = field(default_factory=list)
    #: Voided ratings (``status == "entered-in-error"``), with their answers as last amended.
    voided: list[Rating] = field(default_factory=list)
    #: Every correction that applied, in the order given.
    applied: list[Correction] = field(default_factory=list)
    #: Corrections that could not apply, each with a sentence saying why (a hand edit).
    problems: list[tuple[Correction, str]] = field(default_factory=list)


def apply(ratings: list[Rating], corrections: list[Correction]) -> CorrectedView:
    """The corrected view of ``ratings`` (see ``CorrectedView``).

    Corrections apply in the order given (the order appended). One that names no rating stored
    under its client, or corrects a voided rating, does not apply and is returned as a problem:
    ``Store.add_corrections`` never appends such a one, so it comes from a hand edit.
    """
    if not corrections:
        return CorrectedView(ratings=ratings)
    current: dict[str, Rating] = {r.id: r for r in ratings}
    voided: dict[str, Rating] = {}
    view = CorrectedView()
    renames: dict[str, str] = {}
    for c in corrections:
        if c.action == RENAME:
            if not c.new_client:
                view.problems.append((c, "a rename must name the new client code"))
                continue
            renames[c.client] = c.new_client
            view.applied.append(c)
            continue
        target = current.get(c.rating or "")
        if target is None or target.client != c.client:
            if (c.rating or "") in voided:
                view.problems.append((c, f"it corrects session {c.session}, already voided"))
            else:
                view.problems.append(
                    (c, f"it names rating {c.rating}, which client {c.client} does not have")
                )
            continue
        if c.action == VOID:
            voided[target.id] = replace(target, status=ENTERED_IN_ERROR)
            del current[target.id]
        else:
            current[target.id] = replace(
                target,
                answers=dict(c.answers or {}),
                skipped=tuple(c.skipped),
                comment=target.comment if c.comment is None else (c.comment or None),
                status=AMENDED,
            )
        view.applied.append(c)
    for rating in ratings:
        shown = current.get(rating.id)
        if shown is not None and shown.client == rating.client:
            view.ratings.append(shown)
        elif rating.id in voided and voided[rating.id].client == rating.client:
            view.voided.append(voided[rating.id])
    if renames:
        view.ratings = [_renamed(r, renames) for r in view.ratings]
        view.voided = [_renamed(r, renames) for r in view.voided]
    return view


def _renamed(rating: Rating, renames: dict[str, str]) -> Rating:
    code = rating.client
    seen = {code}
    while code in renames:  # C-7 -> C-07 -> C-017: the last code wins
        code = renames[code]
        if code in seen:
            break
        seen.add(code)
    return rating if code == rating.client else replace(rating, client=code)


def check_new(
    correction: Correction, view: CorrectedView, rules: RatingRules | None = None
) -> Rating | None:
    """Raise ``CorrectionError`` unless ``correction`` may be appended to a store whose corrected
    view (of the correction's client, at least) is ``view``; returns the rating it corrects
    (``None`` for a rename).

    A void needs a reason; an amend's answers are held to the rating's instrument (``rules``), as
    a new rating's are. Reasons and comments are held to the comment limits.
    """
    from ratetool import limits

    for what, text in (("reason", correction.reason), ("comment", correction.comment)):
        if text:
            problem = limits.comment_problem(text)
            if problem is not None:
                raise CorrectionError(
                    f"The {what} cannot be saved: {problem}. Nothing was written."
                )
    if correction.action == RENAME:
        return None
    if correction.action == VOID and not (correction.reason or "").strip():
        raise CorrectionError(
            "Say why the rating is voided, e.g. --reason 'rated for the wrong client'. "
            "Nothing was written."
        )
    target = next((r for r in view.ratings if r.id == correction.rating), None)
    if target is None:
        if any(r.id == correction.rating for r in view.voided):
            raise CorrectionError(
                f"Session {correction.session} of client {correction.client} is already voided; "
                "nothing was written."
            )
        raise CorrectionError(
            f"Client {correction.client} has no session {correction.session}; nothing was written."
        )
    if correction.action == AMEND:
        amended = replace(
            target, answers=dict(correction.answers or {}), skipped=tuple(correction.skipped)
        )
        problem = rules.problem(amended) if rules is not None else None
        if problem is not None:
            raise CorrectionError(
                f"The new answers for session {correction.session} do not fit: {problem}. "
                "Nothing was written."
            )
    return target
