"""Read floor: parse every client file of a TOML data folder with tomllib, and nothing else.

    python benchmarks/floors/read.py DATA_DIR

DATA_DIR is a ratetool data folder (``DATA_DIR/clients/*.toml``). Prints the number of files and
sessions read. ``sessions()`` is what the CSV and XLSX floors build on.
"""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def client_files(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "clients").glob("*.toml"))


def sessions(data_dir: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(client, session) for every session of every client file, one file parsed at a time."""
    for path in client_files(data_dir):
        with path.open("rb") as f:
            doc = tomllib.load(f)
        client = doc.get("client", path.stem)
        for session in doc.get("sessions", []):
            yield client, session


def main(argv: list[str]) -> int:
    files = client_files(Path(argv[0]))
    count = 0
    for path in files:
        with path.open("rb") as f:
            count += len(tomllib.load(f).get("sessions", []))
    print(f"read {len(files)} files, {count} sessions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
