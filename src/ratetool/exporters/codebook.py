"""A codebook for a CSV export: a Frictionless Data Package (``datapackage.json``).

``ratetool export --format csv --codebook --output DIR/ratings.csv`` writes
``DIR/datapackage.json`` beside the CSV: one tabular resource (the CSV, by its file name) with

- a CSV dialect matching the file written (delimiter, ``doubleQuote``, ``\\r\\n`` lines, header);
- a Table Schema: each column's ``type`` (``integer``, ``number``, ``string``, ``datetime``), a
  ``title`` (an item's text, a dimension's label), ``constraints`` (the scale's ``minimum`` and
  ``maximum`` for items, the statuses for ``status``), ``missingValues: [""]`` and ``id`` as the
  primary key; number columns carry ``decimalChar: ","`` when the CSV uses ``;``.

R (``frictionless``), Python (``frictionless``, pandas with the types) and SPSS/PSPP users read
the column types and labels from it. The JSON holds no time stamp, so the same export gives the same bytes.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ratetool.corrections import STATUSES
from ratetool.csvformat import (
    ALERT_SEPARATOR,
    ALERTS_COLUMN,
    COMMENT_COLUMN,
    STATUS_COLUMN,
    dimension_column,
    escape_text,
)
from ratetool.exporters import ExportData
from ratetool.instruments import Instrument
from ratetool.scoring import places_for

DATAPACKAGE_FILE = "datapackage.json"

_FIXED: dict[str, tuple[str, str, str]] = {
    "id": ("string", "Rating id", "The rating's unique id (a UUID)."),
    "client": ("string", "Client code", "The client's pseudonymous code."),
    "session": ("integer", "Session", "The client's session number, from 1."),
    "rated_at": (
        "datetime",
        "Rated at",
        "Date and time of the rating, ISO 8601 with its UTC offset.",
    ),
    "instrument": ("string", "Instrument", "The questionnaire's id."),
    "instrument_version": ("integer", "Instrument version", "The questionnaire's version."),
    "practitioner": ("string", "Practitioner", "Who gave the questionnaire, if known."),
    STATUS_COLUMN: (
        "string",
        "Status",
        "completed; amended (answers corrected); entered-in-error (voided, exported only on "
        "request).",
    ),
    "overall": ("number", "Overall score", "Mean of the dimension scores, on the item scale."),
    "pomp": (
        "number",
        "Percent of maximum",
        "The overall score as percent of the scale's range (0-100); compares instruments.",
    ),
    "total": ("number", "Total score", "Sum of the answers (reverse-scored items reversed)."),
    ALERTS_COLUMN: (
        "string",
        "Alerts",
        f"Alert kinds of the session, joined by {ALERT_SEPARATOR!r}; empty when none.",
    ),
    COMMENT_COLUMN: ("string", "Comment", "The client's comment, as written."),
}
_NAME_RE = re.compile(r"[^a-z0-9._-]+")


def _instruments(data: ExportData) -> list[Instrument]:
    """The instruments of the exported sessions, newest version first within each."""
    found: dict[tuple[str, int], Instrument] = {}
    for s in data.sessions:
        if s.instrument is not None:
            found.setdefault((s.instrument.id, s.instrument.version), s.instrument)
    return [found[k] for k in sorted(found, key=lambda k: (k[0], -k[1]))]


def _number(places: int) -> str:
    return "integer" if places == 0 else "number"


def schema_fields(
    data: ExportData, *, delimiter: str = ",", one_line_comments: bool = False
) -> list[dict[str, Any]]:
    """One Table Schema field per CSV column, in column order."""
    layout = data.layout
    instruments = _instruments(data)
    items: dict[str, tuple[str, int, int, str]] = {}
    dimensions: dict[str, str] = {}
    for inst in instruments:
        for item in inst.items:
            text, low, high, used = items.get(
                item.id, (item.text, inst.scale.min, inst.scale.max, "")
            )
            where = f"{inst.id} v{inst.version}"
            items[item.id] = (
                text,
                min(low, inst.scale.min),
                max(high, inst.scale.max),
                f"{used}; {where}" if used else where,
            )
        for dim in inst.dimensions:
            dimensions.setdefault(dim.id, dim.label)
    decimal_comma = delimiter == ";"
    fields: list[dict[str, Any]] = []
    for column in layout.columns:
        entry: dict[str, Any] = {"name": escape_text(column)}
        if column in _FIXED:
            kind, title, description = _FIXED[column]
            if column in ("overall", "pomp", "total"):
                kind = _number(places_for(column))
            entry.update(type=kind, title=title, description=description)
            if column == STATUS_COLUMN:
                entry["constraints"] = {"enum": list(STATUSES)}
            if column == COMMENT_COLUMN and one_line_comments:
                entry["description"] = (
                    f"{description} Line breaks are written as the two characters \\n "
                    "(backslash, n), so each rating is one line."
                )
        elif column in layout.items:
            text, low, high, used = items.get(column, (column, 0, 0, ""))
            entry.update(type="integer", title=text)
            if column in items:
                entry["description"] = (
                    f"Answer, a whole number from {low} to {high} ({used}); empty when skipped "
                    "or not an item of the row's instrument."
                )
                entry["constraints"] = {"minimum": low, "maximum": high}
        else:
            dim_id = next((d for d in layout.dimensions if dimension_column(d) == column), column)
            entry.update(
                type=_number(places_for("dimension")),
                title=dimensions.get(dim_id, dim_id),
                description=f"Score of the dimension {dim_id}: the mean of its items.",
            )
        if entry["type"] == "number" and decimal_comma:
            entry["decimalChar"] = ","
        fields.append(entry)
    return fields


def datapackage(
    data: ExportData,
    csv_name: str,
    *,
    delimiter: str = ",",
    one_line_comments: bool = False,
) -> bytes:
    """``datapackage.json`` for the CSV ``csv_name`` (a file name beside it) of ``data``."""
    stem = csv_name.rsplit(".", 1)[0].lower()
    name = _NAME_RE.sub("-", stem).strip("-") or "ratings"
    package: dict[str, Any] = {
        "profile": "tabular-data-package",
        "name": name,
        "title": "Ratings exported by ratetool",
        "description": (
            "One row per rating. Scores are worked out from the answers. A text cell that "
            "would start with =, +, -, @, a tab or a line break, or starts with ', is written "
            "with one more ' in front (against formula injection): remove exactly one to get "
            "the text."
        ),
        "resources": [
            {
                "profile": "tabular-data-resource",
                "name": name,
                "path": csv_name,
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "dialect": {
                    "delimiter": delimiter,
                    "doubleQuote": True,
                    "quoteChar": '"',
                    "lineTerminator": "\r\n",
                    "header": True,
                    "skipInitialSpace": False,
                },
                "schema": {
                    "fields": schema_fields(
                        data, delimiter=delimiter, one_line_comments=one_line_comments
                    ),
                    "missingValues": [""],
                    "primaryKey": ["id"],
                },
            }
        ],
    }
    return (json.dumps(package, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
