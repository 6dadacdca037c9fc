"""Reading an import file: bytes to text (encodings), CSV dialects or JSON Lines, rows to validate.

``read_import_file`` reads and validates every row and writes nothing. The file rules (encodings,
delimiters, ``sep=`` lines, row numbers) are those of docs/import.md.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ratetool.csvformat import (
    COMMENT_COLUMN,
    DATE_COLUMN,
    FIXED_COLUMNS,
    STATUS_COLUMN,
    unescape_text,
)
from ratetool.errors import ImportRowsError, RatetoolError
from ratetool.importer.columns import Columns, check_columns, read_header
from ratetool.importer.rows import MISSING, ImportFile, ImportRow, Missing, RawRow
from ratetool.importer.validating import (
    CellError,
    RowInstruments,
    Settings,
    check_date_format,
    collect_rows,
    validate_row,
    whole_number,
)
from ratetool.instruments import Instrument, Registry
from ratetool.limits import MAX_CELL, MAX_COMMENT, nesting_problem, visible

DELIMITER_NAMES = {",": ",", ";": ";", "tab": "\t", "\\t": "\t", "\t": "\t", "|": "|"}
JSON_SUFFIXES = (".jsonl", ".json", ".ndjson")
_JSON_KEYS = frozenset(
    {*FIXED_COLUMNS, STATUS_COLUMN, DATE_COLUMN, COMMENT_COLUMN, "answers", "skipped"}
)
_JSON_COMPUTED = frozenset({"dimensions", "overall", "pomp", "total", "alerts"})
_SEP_LINE = re.compile(r"sep=(.)\s*", re.IGNORECASE)


def _decode(path: Path, data: bytes) -> str:
    if data.startswith(b"PK\x03\x04"):
        raise ImportRowsError(
            f"{path} is a spreadsheet workbook (XLSX), not CSV. In your spreadsheet use Save As "
            "(or Download) and choose 'CSV UTF-8', then import that file. Nothing was written."
        )
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportRowsError(
            f"{path}, line {line}: the file is not UTF-8 text. In Excel use Save As and choose "
            "'CSV UTF-8 (Comma delimited)'; in LibreOffice tick 'Edit filter settings' and choose "
            "'Unicode (UTF-8)'. Nothing was written."
        ) from None


def _detect_delimiter(header_line: str) -> str:
    """The most frequent of ``,``, ``;`` and tab outside quotes in the header line."""
    counts = {",": 0, ";": 0, "\t": 0}
    quoted = False
    for ch in header_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def delimiter_from_option(text: str) -> str:
    """``--delimiter``: ``,``, ``;``, ``tab`` (or ``\\t``) or ``|``."""
    found = DELIMITER_NAMES.get(text.strip().lower() if text.strip() else text)
    if found is None:
        raise RatetoolError(f"--delimiter {text!r} is not supported; use ',', ';', 'tab' or '|'.")
    return found


def read_import_file(
    path: Path,
    registry: Registry,
    *,
    default_instrument: str = "checkin",
    practitioner: str | None = None,
    date_format: str | None = None,
    delimiter: str | None = None,
) -> ImportFile:
    """Read and validate ``path`` (CSV or JSON Lines); writes nothing.

    ``default_instrument`` is used for rows that name none; ``practitioner`` for files without a
    practitioner column (or key). Raises ``ImportRowsError`` for a problem with the whole file.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImportRowsError(f"{path}: no such file. Nothing was written.") from None
    except IsADirectoryError:
        raise ImportRowsError(f"{path} is a folder; give the path of a CSV file.") from None
    except OSError as exc:
        raise ImportRowsError(
            f"{path}: cannot read ({exc.strerror}). Nothing was written."
        ) from None
    if date_format is not None:
        check_date_format(date_format)
    text = _decode(path, data)
    settings = Settings(RowInstruments(registry, default_instrument), practitioner, date_format)
    stripped = text.lstrip()
    if stripped.startswith("{"):  # one FHIR Bundle (docs/fhir.md) rather than JSON Lines?
        from ratetool.importer.fhir import fhir_document, read_bundle

        document = fhir_document(path, text)
        if document is not None:
            return read_bundle(path, document, settings)
    if path.suffix.lower() in JSON_SUFFIXES or stripped.startswith(("{", "[")):
        if stripped.startswith("["):
            raise ImportRowsError(
                f"{path} holds a JSON array; ratetool imports JSON Lines (one record per line), "
                "as `ratetool export --format json` writes. Nothing was written."
            )
        settings.json = True
        result = _read_jsonl(path, text, settings)
    else:
        result = _read_csv(path, text, settings, delimiter)
    result.date_hint = settings.date_unreadable and not date_format
    return result


# -- CSV --------------------------------------------------------------------------------------


def _read_csv(path: Path, text: str, settings: Settings, delimiter: str | None) -> ImportFile:
    import csv
    import io

    first_line, _, rest = text.partition("\n")
    sep = _SEP_LINE.fullmatch(first_line.rstrip("\r"))
    if sep:
        text = rest
        delimiter = delimiter or sep.group(1)
        first_line = text.partition("\n")[0]
    delimiter = delimiter or _detect_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    result = ImportFile(path, "csv", "row", delimiter=delimiter)
    row_number = 1
    # A cell may be read whatever its size, so that a huge one is reported by its row, column
    # and size (below, in _csv_raw), not as csv's "field larger than field limit".
    limit = csv.field_size_limit(max(len(text), MAX_CELL))
    try:
        header = next(reader, None)
        if header is None or not any(h.strip() for h in header):
            raise ImportRowsError(
                f"{path}: the file is empty; the first row must name the columns (client, date, "
                "one column per item, comment). Nothing was written."
            )
        records: list[tuple[int, list[str]]] = []
        for row_number, cells in enumerate(reader, start=2):
            if any(c.strip() for c in cells):
                records.append((row_number, cells))
    except csv.Error as exc:
        if "NUL" in str(exc):
            raise ImportRowsError(
                f"{path}, row {row_number + 1}: the row holds a NUL character (byte 0), which "
                "no text file does; is this the right file? Nothing was written."
            ) from None
        raise ImportRowsError(
            f"{path}, row {row_number + 1}: the file's quoting is broken ({exc}): a cell that "
            "starts with a double quote must end with one. Rows from there on cannot be read. "
            "Nothing was written."
        ) from None
    finally:
        csv.field_size_limit(limit)
    # REDCap records (ratetool export --format redcap, or REDCap's own export of that project)
    if {h.strip().casefold() for h in header} >= {"record_id", "redcap_repeat_instrument"}:
        from ratetool.importer.redcap import read_redcap

        return read_redcap(path, result, header, records, settings)
    columns = read_header(path, header)
    raws = [_csv_raw(number, cells, header, columns) for number, cells in records]
    instruments = _row_instruments(raws, settings)
    check_columns(path, columns, raws, instruments, settings.instruments.all_item_ids())
    validated: list[ImportRow | tuple[int, list[str]]] = []
    for raw, found in zip(raws, instruments):
        if isinstance(found, str):
            raw.problems.append(found)
        instrument = found if isinstance(found, Instrument) else None
        outcome = validate_row(raw, instrument, settings)
        validated.append((raw.row, outcome) if isinstance(outcome, list) else outcome)
    return collect_rows(result, validated)


def _csv_raw(number: int, cells: list[str], header: list[str], columns: Columns) -> RawRow:
    raw = RawRow(number)
    if any(len(c) > MAX_CELL for c in cells):
        for index, c in enumerate(cells):
            if len(c) > MAX_CELL:
                name = header[index].strip() if index < len(header) else ""
                column = f"column {index + 1}" + (f" ({visible(name)!r})" if name else "")
                raw.problems.append(
                    f"{column} holds {len(c):,} characters; a cell holds at most {MAX_CELL:,} "
                    f"(a comment at most {MAX_COMMENT:,})"
                )
        cells = ["" if len(c) > MAX_CELL else c for c in cells]
    width = len(header)
    extra = [c for c in cells[width:] if c.strip()]
    if extra:
        raw.problems.append(
            f"has {len(cells) - width} more cells than the header has columns; check for a "
            "stray delimiter"
        )
    cells = cells + [""] * (width - len(cells))

    def cell(name: str) -> str | Missing:
        index = columns.known.get(name)
        return MISSING if index is None else cells[index]

    def text(name: str) -> str | None:
        value = cell(name)
        if isinstance(value, Missing):
            return None
        return unescape_text(value.strip()).strip() or None

    raw.id = text("id")
    raw.client = text("client")
    raw.session = text("session")
    raw.rated_at = text("rated_at") or text(DATE_COLUMN)
    raw.instrument = text("instrument")
    raw.version = text("instrument_version")
    raw.status = text(STATUS_COLUMN)
    practitioner = cell("practitioner")
    if not isinstance(practitioner, Missing):
        raw.practitioner = unescape_text(practitioner.strip()) or None
    comment = cell(COMMENT_COLUMN)
    if not isinstance(comment, Missing):
        raw.comment = unescape_text(comment) or None
    for name, index in columns.items.items():
        raw.answers[name] = cells[index]
    fmt = text("format")
    if fmt is not None and fmt not in ("1", "2"):
        raw.problems.append(
            f"was written by a newer ratetool (data format {fmt}); this ratetool reads formats "
            "1 and 2. Update ratetool to import it"
        )
    listed = text("skipped")
    if listed is not None:
        for item_id in (i.strip() for i in listed.split(";")):
            if item_id and str(raw.answers.get(item_id, "")).strip():
                raw.problems.append(
                    f"'skipped' names {item_id}, but its cell holds an answer; clear one of them"
                )
    for index, name in enumerate(columns.names):
        if not name and index < len(cells) and cells[index].strip():
            raw.problems.append(
                f"there is a value in column {index + 1}, which has no name in the header"
            )
    action = text("correction")
    if action is not None:
        raw.problems.append(
            f"is a correction ({action}) of a CSV store's ratings.csv, not a rating; to carry "
            "ratings with their corrections over, import an export of that data folder "
            "(`ratetool export --include-voided`), whose status column keeps them"
        )
    return raw


def _row_instruments(raws: list[RawRow], settings: Settings) -> list[Instrument | str]:
    """Each row's instrument, or the problem finding it."""
    found: list[Instrument | str] = []
    for raw in raws:
        try:
            version = whole_number(raw.version, "instrument_version")
            found.append(settings.instruments.get(raw.instrument, version))
        except CellError as exc:
            found.append(str(exc))
    return found


# -- JSON Lines -----------------------------------------------------------------------------


def _read_jsonl(path: Path, text: str, settings: Settings) -> ImportFile:
    import json

    result = ImportFile(path, "jsonl", "line")
    validated: list[ImportRow | tuple[int, list[str]]] = []
    # Split on "\n" only: str.splitlines() would also split inside text at U+2028 and friends,
    # which JSON leaves unescaped.
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            validated.append((number, [f"not valid JSON ({exc.msg}, column {exc.colno})"]))
            continue
        except ValueError as exc:
            # A number of more than 4,300 digits, which Python refuses to read.
            digits = "a number of more than 4,300 digits" if "digits" in str(exc) else str(exc)
            validated.append((number, [f"not valid JSON ({digits})"]))
            continue
        except RecursionError:
            validated.append((number, [nesting_problem()]))
            continue
        if not isinstance(record, dict):
            validated.append((number, ["not a JSON object ({...})"]))
            continue
        raw = _json_raw(number, record)
        instrument: Instrument | None = None
        try:
            version = whole_number(raw.version, "instrument_version")
            instrument = settings.instruments.get(raw.instrument, version)
        except CellError as exc:
            raw.problems.append(str(exc))
        outcome = validate_row(raw, instrument, settings)
        validated.append((number, outcome) if isinstance(outcome, list) else outcome)
    return collect_rows(result, validated)


def _json_text(record: Mapping[str, Any], key: str, raw: RawRow) -> str | None:
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raw.problems.append(f"{key} must be text, not {value!r}")
        return None
    return value


def _json_raw(number: int, record: dict[str, Any]) -> RawRow:
    raw = RawRow(number)
    unknown = sorted(k for k in record if k not in _JSON_KEYS and k not in _JSON_COMPUTED)
    if unknown:
        raw.problems.append(f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}")
    rid = _json_text(record, "id", raw)
    raw.id = (rid.strip() or None) if rid is not None else None
    client = _json_text(record, "client", raw)
    raw.client = client.strip() if client else None
    raw.session = record.get("session")
    raw.rated_at = _json_text(record, "rated_at", raw) or _json_text(record, DATE_COLUMN, raw)
    raw.instrument = _json_text(record, "instrument", raw)
    raw.version = record.get("instrument_version")
    if "practitioner" in record:
        raw.practitioner = _json_text(record, "practitioner", raw)
    raw.comment = _json_text(record, COMMENT_COLUMN, raw)
    status = _json_text(record, STATUS_COLUMN, raw)
    raw.status = (status.strip() or None) if status is not None else None
    answers = record.get("answers", {})
    if not isinstance(answers, dict):
        raw.problems.append("answers must be an object of item: whole number")
        answers = {}
    raw.answers = {str(k): v for k, v in answers.items()}
    skipped = record.get("skipped", [])
    if not isinstance(skipped, list) or not all(isinstance(s, str) for s in skipped):
        raw.problems.append("skipped must be a list of item ids")
        skipped = []
    raw.skipped = skipped
    return raw
