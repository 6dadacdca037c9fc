"""Exports: ratings with their scores as CSV, XLSX or JSON Lines, for spreadsheets and scripts.

``collect`` scores every client's full history (so trends and alerts are the ones ``summary``
shows, even when ``--since`` leaves earlier sessions out) and keeps the sessions asked for, in
client-code order, then session order. The history is the corrected view
(``ratetool.corrections``): amended ratings with their new answers, voided ones left out. With
``--include-voided`` the voided ratings are added as rows of their own (status
``entered-in-error``), scored as they were but with no alerts, and without touching the other
sessions' trends and alerts, which still come from the corrected view alone. The format modules
turn that into bytes:

- ``ratetool.exporters.csv_export.to_csv`` (RFC 4180, ``ratetool.csvformat`` layout),
- ``ratetool.exporters.xlsx.to_xlsx`` (needs the optional ``XlsxWriter``),
- ``ratetool.exporters.jsonl.to_jsonl``;
- ``ratetool.exporters.fhir.to_fhir`` (a FHIR R4 transaction Bundle, docs/fhir.md);
- ``ratetool.exporters.redcap.to_redcap`` (a data dictionary and records, for a REDCap project);
- ``ratetool.exporters.codebook.datapackage`` (a Frictionless Data Package beside a CSV);

``check_output`` and ``write_file`` put the bytes in place: an existing file only with ``force``,
through a private (0600) temp file in the same folder and ``os.replace``, so a failed export never
leaves half a file. Nothing here imports Typer or rich, and no format library is imported until
its format is asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from pathlib import Path

from ratetool.csvformat import Layout
from ratetool.errors import ExportError
from ratetool.instruments import Instrument
from ratetool.model import Rating
from ratetool.scoring import ClientScores, SessionScore, Thresholds, score_client

FORMATS: tuple[str, ...] = ("csv", "xlsx", "json", "fhir", "redcap")
#: File name endings that say which format is meant.
EXTENSIONS: dict[str, str] = {
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
}

Resolver = Callable[[str, int], "Instrument | None"]


# --------------------------------------------------------------------------------------------
# Which sessions


@dataclass(frozen=True)
class Period:
    """``--since`` / ``--until``, both inclusive.

    A bound given as a date is compared with the calendar date the session was rated on, in the
    time zone it was rated in; a bound with a time is compared with the moment of rating.
    """

    since: date | datetime | None = None
    until: date | datetime | None = None

    @property
    def everything(self) -> bool:
        """No bound given: every session is in."""
        return self.since is None and self.until is None

    def contains(self, when: datetime) -> bool:
        return _not_before(when, self.since) and _not_after(when, self.until)


def _not_before(when: datetime, bound: date | datetime | None) -> bool:
    if bound is None:
        return True
    if isinstance(bound, datetime):
        return when >= bound
    return when.date() >= bound


def _not_after(when: datetime, bound: date | datetime | None) -> bool:
    if bound is None:
        return True
    if isinstance(bound, datetime):
        return when <= bound
    return when.date() <= bound


def parse_bound(text: str, *, what: str) -> date | datetime:
    """``2026-11-01`` (a whole day) or ``2026-11-01T09:00`` (naive means local time)."""
    raw = text.strip()
    try:
        if len(raw) == 10:
            return date.fromisoformat(raw)
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ExportError(
            f"{what} {text!r} is not a date; give a date like 2026-11-01 or a date and time like "
            "2026-11-01T09:00."
        ) from None
    return value if value.tzinfo is not None else value.astimezone()


def make_period(since: str | None, until: str | None) -> Period:
    period = Period(
        parse_bound(since, what="--since") if since else None,
        parse_bound(until, what="--until") if until else None,
    )
    first, last = period.since, period.until
    if first is not None and last is not None:
        if isinstance(first, datetime) and isinstance(last, datetime):
            backwards = first > last
        else:
            backwards = _day(first) > _day(last)
        if backwards:
            raise ExportError(f"--since {since} is after --until {until}; nothing to export.")
    return period


def _day(bound: date | datetime) -> date:
    return bound.date() if isinstance(bound, datetime) else bound


# --------------------------------------------------------------------------------------------
# What is exported


class ExportData:
    """The sessions to export, with their scores.

    A writer that keeps its own copy of every cell until the end (XLSX) *takes* the sessions
    (``take``) and drops each one as soon as it is written, so the memory of the ratings and
    their scores is reused for the writer's cells instead of adding to them. Taken data is gone:
    ``sessions``, ``clients`` and a second ``take`` then raise ``RuntimeError`` rather than look
    empty; ``session_count`` and ``client_count`` stay, and so does ``layout`` if it was worked
    out before.
    """

    def __init__(
        self,
        sessions: list[SessionScore],
        clients: list[ClientScores],
        missing_clients: list[str] | None = None,
        voided_count: int = 0,
        thresholds: Thresholds = Thresholds(),
    ) -> None:
        self._sessions: list[SessionScore] | None = sessions
        #: One entry per exported client, holding only its exported sessions that count (voided
        #: ones are in ``sessions`` only; reliable change from the full corrected history), in
        #: client-code order.
        self._clients: list[ClientScores] | None = clients
        #: Client codes asked for with --client that have no ratings.
        self.missing_clients: list[str] = missing_clients if missing_clients is not None else []
        self.session_count = len(sessions)
        self.client_count = (
            len({s.rating.client for s in sessions}) if voided_count else len(clients)
        )
        #: Voided ratings among ``sessions`` (``--include-voided``).
        self.voided_count = voided_count
        #: The thresholds the alerts were decided with (the XLSX marks % max below ``low``).
        self.thresholds = thresholds

    @property
    def sessions(self) -> list[SessionScore]:
        """The exported sessions, in client-code order, then session order (voided ones, when
        asked for, among them)."""
        return self._held()[0]

    @property
    def clients(self) -> list[ClientScores]:
        return self._held()[1]

    def _held(self) -> tuple[list[SessionScore], list[ClientScores]]:
        if self._sessions is None or self._clients is None:
            raise RuntimeError(
                "These export data were taken by a writer, which dropped each session once "
                "written; collect them again to export them again."
            )
        return self._sessions, self._clients

    def take(self) -> tuple[list[SessionScore], list[ClientScores]]:
        """The sessions and clients, now the caller's alone: this object no longer holds them
        (see the class docstring)."""
        held = self._held()
        self._sessions = self._clients = None
        return held

    @cached_property
    def layout(self) -> Layout:
        """The spreadsheet columns these sessions need (CSV and XLSX; JSON nests answers).

        Raises ``ColumnNameError`` when an item id is one of the reserved column names.
        """
        return layout_for(self.sessions)

    @property
    def instruments(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.rating.instrument for s in self.sessions))


def item_ids_of(score: SessionScore) -> tuple[str, ...]:
    """The items of a session's instrument; for an unknown instrument, those in the rating."""
    if score.instrument is not None:
        return score.instrument.item_ids
    return (*score.rating.answers, *score.rating.skipped)


def dimension_ids_of(score: SessionScore) -> tuple[str, ...]:
    return score.instrument.dimension_ids if score.instrument is not None else ()


def layout_for(sessions: Iterable[SessionScore]) -> Layout:
    """Columns for these sessions (``ColumnNameError`` if an item id is a reserved name)."""
    parts: dict[tuple[str, int], tuple[str, tuple[str, ...], tuple[str, ...]]] = {}
    for s in sessions:
        key = (s.rating.instrument, s.rating.instrument_version)
        if key not in parts:
            parts[key] = (s.rating.instrument, item_ids_of(s), dimension_ids_of(s))
    return Layout.build(parts.values())


def collect(
    ratings: Iterable[Rating],
    resolve: Resolver,
    thresholds: Thresholds = Thresholds(),
    *,
    clients: Sequence[str] | None = None,
    period: Period = Period(),
    voided: Iterable[Rating] = (),
) -> ExportData:
    """Score each client's ratings and keep the asked-for clients and period.

    ``ratings`` is the corrected view (``ReadResult.ratings``). ``voided`` (``ReadResult.voided``,
    for ``--include-voided``) are added among each client's sessions, scored on their own with
    no alerts: they never change another session's trend or alerts.

    Raises ``AnswerError`` (from scoring) for a stored answer that does not fit its instrument.
    """
    by_client: dict[str, list[Rating]] = {}
    for rating in ratings:
        by_client.setdefault(rating.client, []).append(rating)
    voided_of: dict[str, list[Rating]] = {}
    for rating in voided:
        voided_of.setdefault(rating.client, []).append(rating)
    found = by_client.keys() | voided_of.keys() if voided_of else by_client.keys()
    wanted = list(dict.fromkeys(clients)) if clients else sorted(found)
    missing = [c for c in wanted if c not in found]
    sessions: list[SessionScore] = []
    kept_clients: list[ClientScores] = []
    voided_count = 0
    for code in sorted(c for c in wanted if c in found):
        kept: list[SessionScore] = []
        if code in by_client:
            scored = score_client(by_client[code], resolve, thresholds, client=code)
            kept = scored.sessions
            if not period.everything:
                kept = [s for s in kept if period.contains(s.rating.rated_at)]
            if kept:
                kept_clients.append(ClientScores(code, kept, scored.reliable_change))
        if code in voided_of:
            extra = _voided_sessions(voided_of[code], resolve, thresholds, code, period)
            voided_count += len(extra)
            if extra:
                kept = sorted([*kept, *extra], key=_session_order)
        sessions.extend(kept)
    return ExportData(sessions, kept_clients, missing, voided_count, thresholds)


def _voided_sessions(
    ratings: list[Rating], resolve: Resolver, thresholds: Thresholds, code: str, period: Period
) -> list[SessionScore]:
    """Voided ratings scored as they were (each session's scores are its own), with no alerts
    (alerts compare sessions, and a voided one is compared with nothing)."""
    scored = score_client(ratings, resolve, thresholds, client=code).sessions
    return [
        SessionScore(s.rating, s.instrument, s.items, s.dimensions, s.overall, s.pomp, s.total)
        for s in scored
        if period.everything or period.contains(s.rating.rated_at)
    ]


def _session_order(score: SessionScore) -> tuple[int, datetime, str]:
    r = score.rating
    return (r.session, r.rated_at, r.id)


# --------------------------------------------------------------------------------------------
# Where it goes


def format_for(path: str) -> str | None:
    """The format a file name's ending asks for, or ``None``."""
    return EXTENSIONS.get(Path(path).suffix.lower())


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def check_output(path: Path, *, force: bool, data_dir: Path | None = None) -> None:
    """Refuse, before any work, an output that would overwrite a file without ``force``, go to a
    folder that does not exist, or land inside the data folder."""
    if path.is_dir():
        raise ExportError(
            f"{path} is a folder; give a file name such as {path / 'ratings.csv'}. Nothing was "
            "written."
        )
    if not path.parent.is_dir():
        raise ExportError(
            f"The folder {path.parent} does not exist; create it or choose another place. Nothing "
            "was written."
        )
    if data_dir is not None and _inside(path, data_dir):
        raise ExportError(
            f"{path} is inside the data folder ({data_dir}), where ratetool keeps the ratings; "
            "write exports somewhere else. Nothing was written."
        )
    if path.exists() and not force:
        raise ExportError(
            f"{path} already exists; add --force to replace it, or choose another name. Nothing "
            "was written."
        )


def write_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` all at once: a 0600 temp file in the same folder, fsync,
    ``os.replace``. On any failure the old file (if any) is untouched and no temp file stays."""
    from ratetool.fsutil import atomic_write

    atomic_write(path, data)


def render(
    data: ExportData,
    fmt: str,
    *,
    excel: bool = False,
    delimiter: str = ",",
    one_line_comments: bool = False,
) -> bytes:
    """The export in ``fmt`` (``csv``, ``xlsx`` or ``json``) as bytes. (``redcap`` writes two
    files: ``ratetool.exporters.redcap.to_redcap``.)"""
    if fmt == "csv":
        from ratetool.exporters.csv_export import to_csv

        return to_csv(data, excel=excel, delimiter=delimiter, one_line_comments=one_line_comments)
    if fmt == "xlsx":
        from ratetool.exporters.xlsx import to_xlsx

        return to_xlsx(data)
    if fmt == "json":
        from ratetool.exporters.jsonl import to_jsonl

        return to_jsonl(data)
    if fmt == "fhir":
        from ratetool.exporters.fhir import to_fhir  # the default systems; see to_fhir

        return to_fhir(data)
    raise ExportError(f"Unknown format {fmt!r}; use one of {', '.join(FORMATS)}.")
