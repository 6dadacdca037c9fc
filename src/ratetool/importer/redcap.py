"""Reading REDCap records: ``records.csv`` of ``ratetool export --format redcap``, or a REDCap
export of that project (raw data, CSV), which has the same layout.

A file is read this way when its header has ``record_id`` and ``redcap_repeat_instrument``. Each
row of a repeating instrument is one rating: ``record_id`` is the client, the form is the
instrument (``ratetool.exporters.redcap.redcap_name`` of a known instrument id),
``redcap_repeat_instance`` the session, and the form's fields the rating
(``ratetool.exporters.redcap``). A row with no repeating instrument and nothing in it (the
record's own row REDCap may export) is passed over, and so are REDCap's own columns
(``redcap_data_access_group``, ``redcap_survey_identifier``, ``<form>_timestamp``). Text is taken as written: REDCap adds no
``'`` escapes, so none are removed. The status codes (``entered_in_error``) are read back as
ratetool's statuses, which become corrections as for any import.
"""

from __future__ import annotations

from pathlib import Path

from ratetool.errors import ImportRowsError
from ratetool.exporters.redcap import (
    COMMENT,
    COMPLETE_SUFFIX,
    ID,
    PRACTITIONER,
    RATED_AT,
    RECORD_ID,
    REPEAT_INSTANCE,
    REPEAT_INSTRUMENT,
    STATUS,
    STATUS_CODES,
    VERSION,
    field_name,
    redcap_name,
)
from ratetool.importer.rows import MISSING, ImportFile, ImportRow, RawRow
from ratetool.importer.validating import (
    CellError,
    Settings,
    collect_rows,
    validate_row,
    whole_number,
)
from ratetool.instruments import Instrument

_STATUS_OF_CODE = {code: status for status, code in STATUS_CODES.items()}
_OWN = (ID, RATED_AT, VERSION, PRACTITIONER, STATUS, COMMENT)


def read_redcap(
    path: Path,
    result: ImportFile,
    header: list[str],
    records: list[tuple[int, list[str]]],
    settings: Settings,
) -> ImportFile:
    """Validate each row of a REDCap records file (``result`` is the empty ``ImportFile``)."""
    names = [h.strip().casefold() for h in header]
    index = {name: i for i, name in enumerate(names) if name}
    forms = {redcap_name(i): i for i in settings.instruments.known_ids()}
    used = {
        form
        for _, cells in records
        if (form := _cell(cells, index, REPEAT_INSTRUMENT).strip().casefold())
    }
    expected: set[str] = {RECORD_ID}
    problems: list[str] = []
    for form in sorted(used):
        instrument_id = forms.get(form)
        if instrument_id is None:
            continue  # said on each of its rows
        expected.update(field_name(form, s) for s in _OWN)
        expected.add(form + COMPLETE_SUFFIX)
        for inst in _versions(settings, instrument_id):
            expected.update(field_name(form, item) for item in inst.item_ids)
        if field_name(form, RATED_AT) not in index:
            problems.append(f"there is no column {field_name(form, RATED_AT)!r} (form {form})")
    for form in forms:  # empty columns of other forms a REDCap export may hold
        if form not in used:
            expected.update(n for n in index if n.startswith(form + "_"))
    for name, i in index.items():
        # REDCap's own columns (data access group, survey identifier and time stamps) hold no
        # part of a rating.
        if (
            name in expected
            or name.endswith((COMPLETE_SUFFIX, "_timestamp"))
            or name.startswith("redcap_")
        ):
            continue
        rows = [n for n, cells in records if i < len(cells) and cells[i].strip()]
        if rows:
            problems.append(
                f"column {name!r} is no field ratetool writes, and it has values (row "
                f"{', '.join(map(str, rows[:8]))}{' …' if len(rows) > 8 else ''}); export the "
                "project without it"
            )
    if problems:
        raise ImportRowsError(
            "\n".join(f"{path}, row 1 (the header): {p}" for p in problems)
            + "\nNothing was written."
        )
    validated: list[ImportRow | tuple[int, list[str]]] = []
    for number, cells in records:
        form = _cell(cells, index, REPEAT_INSTRUMENT).strip().casefold()
        if not form:
            filled = [
                n
                for n, i in index.items()
                if n != RECORD_ID
                and not n.startswith("redcap_")
                and not n.endswith((COMPLETE_SUFFIX, "_timestamp"))
                and i < len(cells)
                and cells[i].strip()
            ]
            if filled:
                validated.append(
                    (
                        number,
                        [
                            f"has values ({', '.join(filled[:5])}) but no "
                            f"{REPEAT_INSTRUMENT}; ratetool reads ratings from repeating "
                            "instruments"
                        ],
                    )
                )
            continue
        validated.append(_row(number, cells, index, form, forms.get(form), settings))
    return collect_rows(result, validated)


def _versions(settings: Settings, instrument_id: str) -> list[Instrument]:
    listing = settings.instruments.registry.list()
    return [x.instrument for x in listing if x.instrument and x.instrument.id == instrument_id]


def _cell(cells: list[str], index: dict[str, int], name: str) -> str:
    i = index.get(name)
    return cells[i] if i is not None and i < len(cells) else ""


def _row(
    number: int,
    cells: list[str],
    index: dict[str, int],
    form: str,
    instrument_id: str | None,
    settings: Settings,
) -> ImportRow | tuple[int, list[str]]:
    def text(suffix: str) -> str | None:
        return _cell(cells, index, field_name(form, suffix)).strip() or None

    raw = RawRow(number)
    raw.client = _cell(cells, index, RECORD_ID).strip() or None
    raw.session = _cell(cells, index, REPEAT_INSTANCE).strip() or None
    raw.id = text(ID)
    raw.rated_at = text(RATED_AT)
    raw.version = text(VERSION)
    if field_name(form, PRACTITIONER) in index:
        raw.practitioner = text(PRACTITIONER)
    else:
        raw.practitioner = MISSING
    comment = _cell(cells, index, field_name(form, COMMENT))
    raw.comment = comment if comment.strip() else None
    status = text(STATUS)
    if status is not None:
        raw.status = _STATUS_OF_CODE.get(status.casefold(), status)
    if instrument_id is None:
        return (
            number,
            [
                f"{REPEAT_INSTRUMENT} {form!r} is not the form of an instrument known here "
                f"(known: {', '.join(settings.instruments.known_ids())})"
            ],
        )
    raw.instrument = instrument_id
    instrument: Instrument | None = None
    try:
        version = whole_number(raw.version, "instrument_version")
        instrument = settings.instruments.get(instrument_id, version)
    except CellError as exc:
        raw.problems.append(str(exc))
    if instrument is not None:
        for item_id in instrument.item_ids:
            name = field_name(form, item_id)
            if name not in index:
                raw.problems.append(f"there is no column {name!r} for item {item_id}")
            raw.answers[item_id] = _cell(cells, index, name)
    outcome = validate_row(raw, instrument, settings)
    return (number, outcome) if isinstance(outcome, list) else outcome
