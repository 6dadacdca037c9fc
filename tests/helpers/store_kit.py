"""Shared pieces of the store tests: the store kinds under test, rating builders, file snapshots.

Every store-level test is parametrised over ``STORE_KINDS``; adding the CSV store is adding
``"csv"`` here. Tests that depend on the TOML file layout are named ``test_toml_*``.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ratetool.model import Rating

#: Store kinds every interface-level test runs against.
STORE_KINDS = ["toml", "csv"]

CLIENT = "C-014"
ANSWERS = {"empathy": 8, "warmth": 9, "genuineness": 7, "trust": 10}
CET = timezone(timedelta(hours=1))


def make_rating(client: str = CLIENT, n: int = 0, **changes) -> Rating:
    """A valid checkin rating; ``n`` varies the answers and time so ratings differ."""
    rating = Rating(
        id=str(uuid.uuid4()),
        client=client,
        session=0,
        rated_at=datetime(2026, 11, 3, 10, 50, tzinfo=CET) + timedelta(days=7 * n),
        instrument="checkin",
        instrument_version=1,
        answers={
            "empathy": (8 + n) % 11,
            "warmth": (9 + n) % 11,
            "genuineness": (7 + n) % 11,
            "trust": (10 + n) % 11,
        },
    )
    return replace(rating, **changes)


def write_config(config_dir: Path, kind: str) -> Path:
    """``config.toml`` choosing the store kind, as a practitioner would write it."""
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / "config.toml"
    path.write_text(f'store = "{kind}"\n', encoding="utf-8")
    return path


#: Folder of derived caches (the CSV store's index): rebuilt from the data files at any time, so
#: it is not part of what a snapshot compares.
CACHE_DIR = ".ratetool-cache"


def folder_snapshot(folder: Path, *, with_cache: bool = False) -> dict[str, bytes | None] | None:
    """Every file and folder under ``folder`` with its bytes (``None`` for a folder), ``None``
    when there is no folder: "nothing was written" compares two of these. The derived cache
    (``.ratetool-cache/``, rebuilt at will) is left out unless ``with_cache``."""
    if not folder.exists():
        return None
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(folder.rglob("*"))
        if with_cache or CACHE_DIR not in p.relative_to(folder).parts
    }


def snapshot(root: Path) -> dict[str, bytes]:
    """Every data file under ``root`` (relative path -> bytes); the lock file and derived caches
    (``.ratetool-cache/``) are left out."""
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".ratetool.lock" and CACHE_DIR not in p.relative_to(root).parts
    }


def corrupt_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.corrupt-*") if p.is_file())


def chop(path: Path, n: int) -> bytes:
    """Cut the last ``n`` bytes off ``path`` (a crash mid-append); returns what is left."""
    data = path.read_bytes()
    left = data[: len(data) - n]
    path.write_bytes(left)
    return left


def same_rating(got: Rating, want: Rating) -> bool:
    """Equal field by field, and ``rated_at`` with the same UTC offset (not just the instant)."""
    return got == want and got.rated_at.utcoffset() == want.rated_at.utcoffset()


def assert_newer_format_refused(operations: dict, path: Path, unchanged) -> None:
    """Each operation raises ``FormatTooNewError`` naming both formats and the file, and
    ``unchanged()`` (the data folder as it was) stays true after each."""
    import pytest

    from ratetool.errors import FormatTooNewError
    from ratetool.store import DATA_FORMAT

    for name, operation in operations.items():
        with pytest.raises(FormatTooNewError) as refused:
            operation()
        message = str(refused.value)
        assert f"format {DATA_FORMAT + 1}" in message and f"format {DATA_FORMAT}" in message, name
        assert str(path) in message, name
        assert unchanged(), name
