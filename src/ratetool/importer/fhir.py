"""Reading a FHIR Bundle back: ``ratetool export --format fhir``'s transaction bundle, or the
``searchset`` bundle a FHIR server returns for ``GET QuestionnaireResponse?…`` (docs/fhir.md).

Each ``QuestionnaireResponse`` becomes one row, validated like a CSV row or a JSON Lines record
(``validating.validate_row``), and numbered by its entry (the first entry is entry 1). Its
status (``completed``, ``amended``, ``entered-in-error``) is imported like an export's status
column: as a correction after the rating. The instrument is the last segment of the
``questionnaire`` canonical's URL (``urn:ratetool:instrument:checkin|1`` or
``https://clinic.example/fhir/Questionnaire/checkin|1``: ``checkin`` version 1), so the base
configured for exports does not matter here; the instrument must be defined on this computer.
Questionnaires in the bundle are definitions, not ratings, and are passed over; so are the
entries a server adds to a search (``search.mode`` ``include`` or ``outcome``).

Session numbers are not in a bundle: new ratings are numbered in date order after the client's
stored ones. The rating id comes from the identifier (``urn:ietf:rfc:3986`` ``urn:uuid:<id>``,
or ``urn:ratetool:rating`` ``<id>``); a response without either gets a new id.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ratetool.errors import ImportRowsError
from ratetool.exporters.fhir import COMMENT_LINK, RATING_SYSTEM, URI_SYSTEM
from ratetool.importer.rows import ImportFile, ImportRow, RawRow
from ratetool.importer.validating import (
    CellError,
    Settings,
    collect_rows,
    validate_row,
    whole_number,
)
from ratetool.instruments import Instrument
from ratetool.limits import visible

BUNDLE_TYPES = ("transaction", "batch", "searchset", "collection")
_PASSED_OVER = ("Questionnaire",)


def fhir_document(path: Path, text: str) -> dict[str, Any] | None:
    """The parsed document if ``text`` is one JSON object with a ``resourceType`` (a FHIR
    resource), else ``None`` (JSON Lines, read as before).

    A document that names a ``resourceType`` near its start but is not valid JSON is an
    ``ImportRowsError`` with the line and column, rather than one problem per line.
    """
    import json

    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        if '"resourceType"' in text[:2000] and not text.lstrip().partition("\n")[0].rstrip(
            "\r"
        ).endswith("}"):
            raise ImportRowsError(
                f"{path}, line {exc.lineno}: the FHIR document is not valid JSON ({exc.msg}, "
                f"column {exc.colno}). Nothing was written."
            ) from None
        return None
    except ValueError:  # a number of more than 4,300 digits
        return None
    except RecursionError:
        from ratetool.limits import nesting_problem

        raise ImportRowsError(f"{path}: {nesting_problem()}. Nothing was written.") from None
    if isinstance(document, dict) and "resourceType" in document:
        return document
    return None


def read_bundle(path: Path, document: dict[str, Any], settings: Settings) -> ImportFile:
    """Validate every QuestionnaireResponse of ``document``; writes nothing.

    Raises ``ImportRowsError`` when the document is not a Bundle of a kind that holds ratings.
    """
    kind = document.get("resourceType")
    if kind != "Bundle":
        raise ImportRowsError(
            f"{path} is a FHIR {visible(str(kind)[:40])}, not a Bundle; ratetool imports the "
            "Bundle that `ratetool export --format fhir` writes, or a searchset Bundle a FHIR "
            "server returns. Nothing was written."
        )
    btype = document.get("type")
    if btype not in BUNDLE_TYPES:
        raise ImportRowsError(
            f"{path}: a Bundle of type {visible(str(btype)[:40])!r} holds no ratings to import; "
            f"ratetool reads {', '.join(BUNDLE_TYPES)} bundles. Nothing was written."
        )
    entries = document.get("entry", [])
    if not isinstance(entries, list):
        raise ImportRowsError(f"{path}: the Bundle's entry must be a list. Nothing was written.")
    result = ImportFile(path, "fhir", "entry")
    validated: list[ImportRow | tuple[int, list[str]]] = []
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
            validated.append((number, ["has no resource"]))
            continue
        search = entry.get("search")
        if isinstance(search, dict) and search.get("mode") in ("include", "outcome"):
            continue
        resource = entry["resource"]
        rtype = resource.get("resourceType")
        if rtype in _PASSED_OVER:
            continue
        if rtype != "QuestionnaireResponse":
            validated.append(
                (
                    number,
                    [
                        f"is a {visible(str(rtype)[:40])}, not a QuestionnaireResponse "
                        "(a rating) or a Questionnaire"
                    ],
                )
            )
            continue
        raw, instrument = _response_raw(number, resource, settings)
        outcome = validate_row(raw, instrument, settings)
        validated.append((number, outcome) if isinstance(outcome, list) else outcome)
    return collect_rows(result, validated)


def _text(value: Any, what: str, raw: RawRow) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raw.problems.append(f"{what} must be text, not {visible(repr(value)[:40])}")
        return None
    return value


def _identifier_value(holder: Any, what: str, raw: RawRow) -> str | None:
    """``holder.identifier.value`` (``subject``, ``author``)."""
    if holder is None:
        return None
    ident = holder.get("identifier") if isinstance(holder, dict) else None
    if not isinstance(ident, dict):
        raw.problems.append(f"{what} has no identifier (ratetool keeps codes, not references)")
        return None
    return _text(ident.get("value"), f"{what}.identifier.value", raw)


def _rating_id(value: Any, raw: RawRow) -> str | None:
    idents = value if isinstance(value, list) else [value] if value is not None else []
    for ident in idents:
        if not isinstance(ident, dict):
            raw.problems.append("identifier must be an object with system and value")
            return None
        system, text = ident.get("system"), ident.get("value")
        if not isinstance(text, str):
            continue
        if system == URI_SYSTEM and text.startswith("urn:uuid:"):
            return text.removeprefix("urn:uuid:").strip() or None
        if system == RATING_SYSTEM:
            return text.strip() or None
    return None


def _instrument_of(canonical: str | None, raw: RawRow) -> None:
    """``url|version``: the instrument id is the url's last segment."""
    if canonical is None:
        raw.problems.append("no questionnaire (which instrument was answered)")
        return
    url, _, version = canonical.partition("|")
    name = url.rstrip("/").replace(":", "/").rsplit("/", 1)[-1]
    raw.instrument = name or None
    raw.version = version or None
    if not name:
        raw.problems.append(f"questionnaire {visible(canonical[:80])!r} names no instrument")


def _response_raw(
    number: int, resource: dict[str, Any], settings: Settings
) -> tuple[RawRow, Instrument | None]:
    raw = RawRow(number)
    raw.id = _rating_id(resource.get("identifier"), raw)
    subject = resource.get("subject")
    client = _identifier_value(subject, "subject", raw)
    raw.client = client.strip() if client else None
    if subject is None:
        raw.problems.append("no subject (the client code)")
    raw.rated_at = _text(resource.get("authored"), "authored", raw)
    raw.practitioner = _identifier_value(resource.get("author"), "author", raw)
    raw.status = _text(resource.get("status"), "status", raw)
    _instrument_of(_text(resource.get("questionnaire"), "questionnaire", raw), raw)
    instrument: Instrument | None = None
    if raw.instrument is not None:
        try:
            version = whole_number(raw.version, "questionnaire version")
            instrument = settings.instruments.get(raw.instrument, version)
        except CellError as exc:
            raw.problems.append(str(exc))
    items = resource.get("item", [])
    if not isinstance(items, list):
        raw.problems.append("item must be a list")
        items = []
    known = set(instrument.item_ids) if instrument is not None else None
    for item in items:
        _read_item(item, raw, known)
    return raw, instrument


def _read_item(item: Any, raw: RawRow, known: set[str] | None) -> None:
    if not isinstance(item, dict) or not isinstance(item.get("linkId"), str):
        raw.problems.append("an item has no linkId")
        return
    link = item["linkId"]
    shown = visible(link[:40])
    if "item" in item:
        raw.problems.append(f"item {shown!r} has nested items, which no ratetool instrument has")
        return
    if known is not None and link not in known and link != COMMENT_LINK:
        raw.problems.append(f"item {shown!r} is not an item of {raw.instrument}")
        return
    answers = item.get("answer", [])
    if not isinstance(answers, list) or len(answers) > 1:
        raw.problems.append(f"item {shown!r} must have one answer")
        return
    if not answers:
        return  # no answer: a skip
    answer = answers[0]
    if not isinstance(answer, dict):
        raw.problems.append(f"item {shown!r}: the answer must be an object")
        return
    if link == COMMENT_LINK:
        if "valueString" not in answer:
            raw.problems.append("the comment must be a valueString")
            return
        raw.comment = _text(answer["valueString"], "the comment", raw)
        return
    if link in raw.answers:
        raw.problems.append(f"item {shown!r} is answered twice")
        return
    if "valueInteger" not in answer:
        given = next((k for k in answer if k.startswith("value")), "no value")
        raw.problems.append(f"item {shown!r}: the answer must be a valueInteger, not {given}")
        return
    value = answer["valueInteger"]
    if isinstance(value, bool) or not isinstance(value, int):
        raw.problems.append(
            f"item {shown!r}: valueInteger {visible(repr(value)[:20])} is not a whole number"
        )
        return
    raw.answers[link] = value
