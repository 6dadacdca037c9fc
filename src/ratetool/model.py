"""The rating record and the small rules every part of ratetool shares.

A ``Rating`` is one answered questionnaire: the unit that is appended to a client's file, exported
as one spreadsheet row and scored by ``ratetool.scoring``. Pure data and validation, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

# Re-exported: every part of ratetool takes the client-code rules from here.
from ratetool.codes import CLIENT_CODE_RE as CLIENT_CODE_RE
from ratetool.codes import validate_client_code as validate_client_code
from ratetool.errors import RatetoolError


@dataclass(slots=True)
class Rating:
    """One answered questionnaire for one client session.

    ``answers`` maps item id to the whole number the client chose, in the instrument's item order.
    Skipped items are absent from ``answers`` and listed in ``skipped``: a skip is missing, never 0.
    ``rated_at`` is always time-zone aware.

    A rating is never changed once made: a changed copy is made with ``dataclasses.replace``. The
    class is not ``frozen`` only because a frozen dataclass's ``__init__`` sets each field through
    ``object.__setattr__``, which made reading 100,000 ratings 0.17 s slower (6x the plain
    constructor; every read command builds one per stored session).
    """

    id: str
    client: str
    session: int
    rated_at: datetime
    instrument: str
    instrument_version: int
    answers: dict[str, int]
    practitioner: str | None = None
    comment: str | None = None
    skipped: tuple[str, ...] = field(default=())
    #: ``completed`` as saved; ``amended`` or ``entered-in-error`` in the corrected view
    #: (``ratetool.corrections``). Never stored with the rating: corrections are records of
    #: their own.
    status: str = "completed"

    def __post_init__(self) -> None:
        if self.rated_at.tzinfo is None or self.rated_at.utcoffset() is None:
            raise ValueError("Rating.rated_at must be time-zone aware")


def now() -> datetime:
    """The current local time, time-zone aware, to the second."""
    return datetime.now().astimezone().replace(microsecond=0)


#: Hour used when only a date is known (paper forms): noon keeps the same calendar day in every
#: time zone within twelve hours of the one it was written in.
DATE_ONLY_HOUR = 12


def parse_when(text: str, *, what: str = "--date") -> datetime:
    """Parse an ISO date or date-time the user typed; naive values are taken as local time.

    ``2026-11-03`` becomes noon local time on that day; ``2026-11-03T10:50`` and
    ``2026-11-03 10:50+01:00`` are accepted too. Raises ``RatetoolError`` naming ``what``.
    """
    raw = text.strip()
    if not raw:
        raise RatetoolError(f"{what} is empty; give a date like 2026-11-03 or 2026-11-03T10:50.")
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            value = datetime.combine(day, time(DATE_ONLY_HOUR))
        else:
            value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise RatetoolError(
            f"{what} {text!r} is not a real date; give a date like 2026-11-03 or a date and time "
            "like 2026-11-03T10:50."
        ) from None
    from ratetool.limits import date_problem

    # The day as written, before any time-zone arithmetic (which fails near year 1 and 9999).
    problem = date_problem(value.date())
    if problem is not None:
        raise RatetoolError(f"{what} {text!r}: {problem}.")
    if value.tzinfo is None:
        value = value.astimezone()  # local time zone, with the offset of that date
    return value.replace(microsecond=0)
