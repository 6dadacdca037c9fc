"""A derived cache of parsed ratings, so reading 100,000 sessions takes a fraction of a second.

For each client it keeps the ratings parsed from the client's data together with that data's
fingerprint (``Store.client_fingerprints``: for a TOML file its size, modification time, change
time and inode, one of which changes with any write or replacement). A client's cached ratings are
used only while the fingerprint is exactly the same; otherwise the file is parsed again. Clients
whose files have any problem are never cached, so their warnings always show.

The file (``<data dir>/.ratetool-cache/records-v1.bin``) starts with a line naming the cache
format, the Python version and a SHA-256 of the rest; anything that does not match (another
version, a partial write, any damage) makes it ignored and rebuilt. It is derived only: never the
only copy, written atomically, and ``ratetool check`` reads the files themselves and compares.
``RATETOOL_NO_CACHE=1`` bypasses it.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from ratetool import paths
from ratetool.model import Rating

CACHE_DIR = paths.CACHE_DIR
NAME = "records-v1.bin"
_MAGIC = f"ratetool-records 1 py{sys.version_info[0]}.{sys.version_info[1]}".encode()

Entry = tuple[str, list[tuple]]  # (fingerprint, rating tuples)


def disabled() -> bool:
    return bool(os.environ.get("RATETOOL_NO_CACHE"))


def path_for(data_dir: Path) -> Path:
    return data_dir / CACHE_DIR / NAME


def to_tuples(ratings: Iterable[Rating]) -> list[tuple]:
    return [
        (
            r.id,
            r.session,
            r.rated_at.isoformat(),
            r.instrument,
            r.instrument_version,
            tuple(r.answers.items()),
            r.practitioner,
            r.comment,
            r.skipped,
        )
        for r in ratings
    ]


def from_tuples(client: str, rows: list[tuple]) -> list[Rating]:
    parse = datetime.fromisoformat
    return [
        Rating(
            rid,
            client,
            session,
            parse(when),
            inst,
            version,
            dict(answers),
            who,
            comment,
            tuple(skipped),
        )
        for rid, session, when, inst, version, answers, who, comment, skipped in rows
    ]


def load(data_dir: Path, name: str = NAME) -> dict:
    """A checksummed marshal file from the cache folder; ``{}`` if missing, damaged or foreign."""
    try:
        raw = (data_dir / CACHE_DIR / name).read_bytes()
    except OSError:
        return {}
    head, sep, payload = raw.partition(b"\n")
    parts = head.split(b" ")
    if not sep or len(parts) != 4 or b" ".join(parts[:3]) != _MAGIC:
        return {}
    if hashlib.sha256(payload).hexdigest().encode() != parts[3]:
        return {}
    try:
        data = marshal.loads(payload)
    except (ValueError, EOFError, TypeError):
        return {}
    if not isinstance(data, dict):
        return {}
    return data


def save(data_dir: Path, entries: dict, name: str = NAME) -> None:
    from ratetool.fsutil import atomic_write, ensure_private_dir

    payload = marshal.dumps(entries)
    digest = hashlib.sha256(payload).hexdigest().encode()
    try:
        ensure_private_dir(data_dir / CACHE_DIR)
        atomic_write(data_dir / CACHE_DIR / name, _MAGIC + b" " + digest + b"\n" + payload)
    except OSError:
        pass  # a read-only data folder: the cache is only a speed-up
