"""Import ratings from a CSV or JSON Lines file: ratetool's own export (also after a trip through a
spreadsheet) or paper forms typed into a sheet.

Two steps, both usable without the command line:

1. ``read_import_file(path, registry, ...)`` reads and validates every row and writes nothing. It
   returns an ``ImportFile``: the valid rows as ``Rating`` objects and each bad row's problems.
   A problem with the file as a whole (not UTF-8, no ``client`` column, an unknown column with
   values in it, broken quoting) raises ``ImportRowsError`` at once.
2. ``run_import(store, import_file, dry_run=..., skip_invalid=...)`` decides, under the data-folder
   lock, what is new and appends it in one ``Store`` write; with ``dry_run`` it only reports.

The rules (encodings, columns, cells, duplicates, session numbers) are written for practitioners
in docs/import.md. The rooms, in the order a file flows through them, each re-exported here:

- ``reading``: bytes to text, CSV dialect or JSON Lines, one raw row per line or record.
- ``columns``: the CSV header: which column is what, and a column for every item used.
- ``validating``: each row's cells to a ``Rating`` or its problems; repeats within the file.
- ``rows``: what an import file becomes (``ImportFile``, ``ImportRow``, ``RowProblem``).
- ``planning``: what is new, duplicates and session numbers, and the one store write.
"""

from ratetool.importer.planning import MAX_LISTED, ImportResult, problem_report, run_import
from ratetool.importer.reading import DELIMITER_NAMES, delimiter_from_option, read_import_file
from ratetool.importer.rows import ImportFile, ImportRow, RowProblem, content_key
from ratetool.importer.validating import CellError, check_date_format, parse_import_date

__all__ = [
    "DELIMITER_NAMES",
    "MAX_LISTED",
    "CellError",
    "ImportFile",
    "ImportResult",
    "ImportRow",
    "RowProblem",
    "check_date_format",
    "content_key",
    "delimiter_from_option",
    "parse_import_date",
    "problem_report",
    "read_import_file",
    "run_import",
]
