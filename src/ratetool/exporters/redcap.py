"""REDCap export: a data dictionary and the records of a project with repeating instruments.

``ratetool export --format redcap --output DIR`` writes two files into ``DIR``:

- ``data_dictionary.csv``: REDCap's data-dictionary columns (``DICTIONARY_HEADER``, exactly as
  REDCap names them). ``record_id`` (the client code) comes first, on the first form; then one
  form per ratetool instrument, named after its id, holding (``form_fields``): ``<form>_id``
  (the rating's id, read-only), ``<form>_rated_at`` (``datetime_seconds_ymd``),
  ``<form>_instrument_version``, ``<form>_practitioner``, ``<form>_status`` (a dropdown), one
  ``text`` field ``<form>_<item>`` per item with validation ``integer`` and the scale's min and
  max, and ``<form>_comment`` (``notes``). REDCap adds ``<form>_complete`` itself.
- ``records.csv``: REDCap's import layout for repeating instruments: ``record_id``,
  ``redcap_repeat_instrument`` (the form), ``redcap_repeat_instance`` (the session number), then
  every form's fields and ``<form>_complete`` (``2``, complete). One row per rating.

Names follow REDCap's rules: lowercase letters, digits and underscores, starting with a letter,
at most 100 characters (REDCap advises at most 26). ``redcap_name`` makes a ratetool id one
deterministically (lower case, ``-`` to ``_``, ``r_`` in front of one that does not start with a
letter); the importer (``ratetool.importer.redcap``) maps back with the same function. Two names
that would become one, or a name longer than 100 characters, are refused with ``ExportError``.

Dates are written as the wall-clock time the rating was made (REDCap keeps no UTC offset); the
importer reads them back as local time. Text is written as it is: REDCap is no spreadsheet, and
no leading ``'`` is added. Nothing here imports Typer or rich.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ratetool.corrections import STATUSES
from ratetool.errors import ExportError
from ratetool.exporters import ExportData, item_ids_of
from ratetool.instruments import Instrument
from ratetool.scoring import SessionScore

#: The data dictionary's header row, as REDCap writes and reads it.
DICTIONARY_HEADER: tuple[str, ...] = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)
DICTIONARY_FILE = "data_dictionary.csv"
RECORDS_FILE = "records.csv"
RECORD_ID = "record_id"
REPEAT_INSTRUMENT = "redcap_repeat_instrument"
REPEAT_INSTANCE = "redcap_repeat_instance"
#: ``<form>_complete``: REDCap's own status field of each form; ``2`` is complete.
COMPLETE_SUFFIX = "_complete"
COMPLETE = "2"
#: REDCap's date-and-time validation (``2026-11-03 10:50:00``) and how it is written.
DATETIME_VALIDATION = "datetime_seconds_ymd"
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_NAME = 100
#: REDCap warns about longer field names (some statistics packages cut them).
ADVISED_NAME = 26
#: The suffixes of each form's own fields (each a name no item may have: ``csvformat``).
ID, RATED_AT, VERSION, PRACTITIONER, STATUS, COMMENT = (
    "id",
    "rated_at",
    "instrument_version",
    "practitioner",
    "status",
    "comment",
)
#: A rating's status as a REDCap choice code (codes hold letters, digits and underscores).
STATUS_CODES: dict[str, str] = {s: s.replace("-", "_") for s in STATUSES}

_NOT_NAME = re.compile(r"[^a-z0-9_]")


def redcap_name(text: str) -> str:
    """A ratetool id as a REDCap name: lower case, anything but ``a-z0-9_`` as ``_``, and ``r_``
    in front when it does not start with a letter (``Check-In`` -> ``check_in``)."""
    name = _NOT_NAME.sub("_", text.lower())
    return name if name[:1].isascii() and name[:1].isalpha() else f"r_{name}"


def field_name(form: str, suffix: str) -> str:
    """``<form>_<item or own field>`` (the item part made a REDCap name too)."""
    return f"{form}_{_NOT_NAME.sub('_', suffix.lower())}"


@dataclass
class Form:
    """One REDCap form: a ratetool instrument (all its versions in the export)."""

    instrument: str
    name: str
    title: str = ""
    #: Item id -> its field, in instrument order (items of every version, newest first).
    items: dict[str, str] = field(default_factory=dict)
    #: Item id -> (label, minimum, maximum, required, note on the scale's ends), from the
    #: newest version that has it.
    details: dict[str, tuple[str, int | None, int | None, bool, str]] = field(default_factory=dict)

    def own(self, suffix: str) -> str:
        return field_name(self.name, suffix)

    @property
    def fields(self) -> tuple[str, ...]:
        """Every field of the form in dictionary order (``<form>_complete`` not included)."""
        return (
            self.own(ID),
            self.own(RATED_AT),
            self.own(VERSION),
            self.own(PRACTITIONER),
            self.own(STATUS),
            *self.items.values(),
            self.own(COMMENT),
        )


@dataclass
class Project:
    """The forms of an export, and the notes worth telling the user (renamed and long names)."""

    forms: list[Form]
    notes: list[str]

    @property
    def record_columns(self) -> tuple[str, ...]:
        columns: list[str] = [RECORD_ID, REPEAT_INSTRUMENT, REPEAT_INSTANCE]
        for form in self.forms:
            columns.extend(form.fields)
            columns.append(form.name + COMPLETE_SUFFIX)
        return tuple(columns)


def form_for(instrument_id: str, instruments: Sequence[Instrument]) -> Form:
    """The form of an instrument, from its versions (newest first), or from item ids alone."""
    form = Form(instrument_id, redcap_name(instrument_id))
    for inst in instruments:
        form.title = form.title or inst.title
        for item in inst.items:
            if item.id in form.details:
                continue
            form.items[item.id] = field_name(form.name, item.id)
            form.details[item.id] = (
                item.text,
                inst.scale.min,
                inst.scale.max,
                not inst.allow_skip,
                f"{inst.scale.min} = {inst.scale.min_label}, {inst.scale.max} = "
                f"{inst.scale.max_label}",
            )
    return form


def plan(sessions: Iterable[SessionScore]) -> Project:
    """The forms for these sessions; ``ExportError`` if a name breaks REDCap's rules."""
    versions: dict[str, dict[int, Instrument | None]] = {}
    unknown_items: dict[str, dict[str, None]] = {}
    for s in sessions:
        r = s.rating
        versions.setdefault(r.instrument, {}).setdefault(r.instrument_version, s.instrument)
        if s.instrument is None:
            unknown_items.setdefault(r.instrument, {}).update(dict.fromkeys(item_ids_of(s)))
    forms: list[Form] = []
    for instrument_id, by_version in versions.items():
        known = [by_version[v] for v in sorted(by_version, reverse=True)]
        form = form_for(instrument_id, [i for i in known if i is not None])
        for item_id in unknown_items.get(instrument_id, {}):
            if item_id not in form.items:
                form.items[item_id] = field_name(form.name, item_id)
                form.details[item_id] = (item_id, None, None, False, "")
        forms.append(form)
    return Project(forms, check_names(forms))


def check_names(forms: Sequence[Form]) -> list[str]:
    """Refuse names REDCap cannot take; return notes on renamed and long ones."""
    owner: dict[str, str] = {RECORD_ID: "the record id (client code)"}
    problems: list[str] = []
    notes: list[str] = []
    for form in forms:
        if form.name != form.instrument:
            notes.append(f"instrument {form.instrument!r} is the REDCap form {form.name!r}")
        named = [
            *((name, f"item {item!r} of {form.instrument!r}") for item, name in form.items.items()),
            *(
                (form.own(s), f"ratetool's field {s!r} of {form.instrument!r}")
                for s in (ID, RATED_AT, VERSION, PRACTITIONER, STATUS, COMMENT)
            ),
            (form.name + COMPLETE_SUFFIX, f"REDCap's status field of form {form.name!r}"),
        ]
        for name, what in named:
            if name in owner:
                problems.append(f"{what} and {owner[name]} would both be the field {name!r}")
                continue
            owner[name] = what
            if len(name) > MAX_NAME:
                problems.append(
                    f"{what} would be the field {name!r} of {len(name)} characters; REDCap "
                    f"allows at most {MAX_NAME}"
                )
        for item, name in form.items.items():
            if name != f"{form.name}_{item}":
                notes.append(f"item {item!r} of {form.instrument!r} is the field {name!r}")
        long = [n for n, _ in named if ADVISED_NAME < len(n) <= MAX_NAME]
        if long:
            notes.append(
                f"field name{'s' if len(long) > 1 else ''} {', '.join(long)} "
                f"{'are' if len(long) > 1 else 'is'} longer than {ADVISED_NAME} characters, "
                "which REDCap warns about (some statistics programs cut such names)"
            )
    if problems:
        raise ExportError(
            "Cannot write a REDCap project: "
            + "; ".join(problems)
            + ". Give the item or instrument another id in a new version of the instrument, or "
            "export with --format csv or json. Nothing was written."
        )
    return notes


def _csv(rows: Iterable[Sequence[str]]) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


def data_dictionary(project: Project) -> bytes:
    """``data_dictionary.csv``: one row per field, record_id first."""
    blank = [""] * len(DICTIONARY_HEADER)

    def row(name: str, form: str, kind: str, label: str, **cells: str) -> list[str]:
        out = blank[:]
        out[0:5] = [name, form, cells.get("section", ""), kind, label]
        out[5] = cells.get("choices", "")
        out[6] = cells.get("note", "")
        out[7] = cells.get("validation", "")
        out[8] = cells.get("minimum", "")
        out[9] = cells.get("maximum", "")
        out[12] = cells.get("required", "")
        out[17] = cells.get("annotation", "")
        return out

    rows: list[list[str]] = [list(DICTIONARY_HEADER)]
    if project.forms:
        rows.append(row(RECORD_ID, project.forms[0].name, "text", "Client code"))
    choices = " | ".join(
        f"{code}, {status.replace('-', ' ').capitalize()}" for status, code in STATUS_CODES.items()
    )
    for form in project.forms:
        f = form.name
        rows.append(
            row(
                form.own(ID),
                f,
                "text",
                "Rating id (set by ratetool)",
                section=form.title,
                note="Leave empty for a rating entered here; ratetool gives it an id on import.",
                annotation="@READONLY",
            )
        )
        rows.append(
            row(
                form.own(RATED_AT),
                f,
                "text",
                "Date and time rated",
                validation=DATETIME_VALIDATION,
                required="y",
            )
        )
        rows.append(row(form.own(VERSION), f, "text", "Instrument version", validation="integer"))
        rows.append(row(form.own(PRACTITIONER), f, "text", "Practitioner"))
        rows.append(row(form.own(STATUS), f, "dropdown", "Status", choices=choices))
        for item_id, name in form.items.items():
            label, low, high, required, note = form.details[item_id]
            rows.append(
                row(
                    name,
                    f,
                    "text",
                    label,
                    note=note,
                    validation="integer",
                    minimum="" if low is None else str(low),
                    maximum="" if high is None else str(high),
                    required="y" if required else "",
                )
            )
        rows.append(row(form.own(COMMENT), f, "notes", "Comment"))
    return _csv(rows)


def records(project: Project, sessions: Iterable[SessionScore]) -> bytes:
    """``records.csv``: one row per rating, in REDCap's layout for repeating instruments."""
    columns = project.record_columns
    position = {name: i for i, name in enumerate(columns)}
    by_instrument = {form.instrument: form for form in project.forms}
    rows: list[list[str]] = [list(columns)]
    for s in sessions:
        r = s.rating
        form = by_instrument[r.instrument]
        row = [""] * len(columns)
        cells = {
            RECORD_ID: r.client,
            REPEAT_INSTRUMENT: form.name,
            REPEAT_INSTANCE: str(r.session),
            form.own(ID): r.id,
            form.own(RATED_AT): r.rated_at.strftime(DATETIME_FORMAT),
            form.own(VERSION): str(r.instrument_version),
            form.own(PRACTITIONER): r.practitioner or "",
            form.own(STATUS): STATUS_CODES.get(r.status, r.status),
            form.own(COMMENT): r.comment or "",
            form.name + COMPLETE_SUFFIX: COMPLETE,
        }
        for item_id, answer in r.answers.items():
            cells[form.items[item_id]] = str(answer)
        for name, value in cells.items():
            row[position[name]] = value
        rows.append(row)
    return _csv(rows)


def to_redcap(data: ExportData) -> tuple[dict[str, bytes], list[str]]:
    """The two files by name, and notes for the user (renamed or long field names)."""
    project = plan(data.sessions)
    files = {
        DICTIONARY_FILE: data_dictionary(project),
        RECORDS_FILE: records(project, data.sessions),
    }
    return files, project.notes


def check_folder(folder: Path, *, force: bool, data_dir: Path | None = None) -> None:
    """Refuse, before any work, a folder that is a file, lies inside the data folder, whose
    parent does not exist, or that holds the files already (without ``force``)."""
    if folder.exists() and not folder.is_dir():
        raise ExportError(
            f"{folder} is a file; --format redcap writes two files into a folder. Give a folder "
            "name, e.g. --output redcap-export. Nothing was written."
        )
    if not folder.exists() and not folder.parent.is_dir():
        raise ExportError(
            f"The folder {folder.parent} does not exist; create it or choose another place. "
            "Nothing was written."
        )
    if data_dir is not None and folder.resolve().is_relative_to(data_dir.resolve()):
        raise ExportError(
            f"{folder} is inside the data folder ({data_dir}), where ratetool keeps the ratings; "
            "write exports somewhere else. Nothing was written."
        )
    there = [name for name in (DICTIONARY_FILE, RECORDS_FILE) if (folder / name).exists()]
    if there and not force:
        raise ExportError(
            f"{folder} already holds {' and '.join(there)}; add --force to replace "
            f"{'them' if len(there) > 1 else 'it'}, or choose another folder. Nothing was written."
        )


def write_folder(folder: Path, files: dict[str, bytes]) -> None:
    """Create ``folder`` (0700) if needed and write each file atomically."""
    from ratetool.exporters import write_file

    folder.mkdir(mode=0o700, exist_ok=True)
    for name, payload in files.items():
        write_file(folder / name, payload)
