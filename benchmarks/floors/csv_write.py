"""CSV floor: the read floor, plus ``csv.writer`` writing one row per session to a file.

    python benchmarks/floors/csv_write.py DATA_DIR OUT.csv

A row holds the session's stored fields (id, client, session, rated_at, instrument, its version,
practitioner, the answers, skipped items, comment); the scores and alerts ratetool adds are
ratetool's own work, which the ratio to this floor measures.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any

from read import sessions


def row(client: str, session: dict[str, Any]) -> list[Any]:
    """The session's stored fields, the moment of rating as ISO text (as the file has it)."""
    return [
        session.get("id"),
        client,
        session.get("session"),
        session["rated_at"].isoformat(),
        session.get("instrument"),
        session.get("instrument_version"),
        session.get("practitioner"),
        *session.get("answers", {}).values(),
        " ".join(session.get("skipped", [])),
        session.get("comment"),
    ]


def main(argv: list[str]) -> int:
    data_dir, out = Path(argv[0]), Path(argv[1])
    with out.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        for client, session in sessions(data_dir):
            writer.writerow(row(client, session))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
