"""XLSX floor: the read floor, plus XlsxWriter's ``write_row`` per session and ``add_table``.

    python benchmarks/floors/xlsx_write.py DATA_DIR OUT.xlsx

One worksheet, one row per session with the CSV floor's cells and the moment of rating as an
Excel date (as ratetool's Ratings sheet has), an Excel table over all of it. XlsxWriter's public
API with its default options (``constant_memory`` mode cannot hold a table).
"""

from __future__ import annotations

import sys
from pathlib import Path

import xlsxwriter
from csv_write import row
from read import sessions


def main(argv: list[str]) -> int:
    data_dir, out = Path(argv[0]), Path(argv[1])
    workbook = xlsxwriter.Workbook(str(out))
    sheet = workbook.add_worksheet("Ratings")
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    n = width = 0
    for n, (client, session) in enumerate(sessions(data_dir), start=1):
        cells = row(client, session)
        sheet.write_row(n, 0, cells)
        sheet.write_datetime(n, len(cells), session["rated_at"].replace(tzinfo=None), date_format)
        width = max(width, len(cells) + 1)
    columns = [{"header": f"column {i + 1}"} for i in range(max(width, 1))]
    sheet.add_table(0, 0, max(n, 1), len(columns) - 1, {"columns": columns})
    workbook.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
