"""The records cache is derived only: whatever happens to the files or to the cache, every
command shows exactly what the files hold (compared with a run that bypasses the cache)."""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ratetool.cli import app
from ratetool.store import records_cache

runner = CliRunner()


def out(*args: str, no_cache: bool = False) -> str:
    result = runner.invoke(app, list(args), env={"RATETOOL_NO_CACHE": "1"} if no_cache else None)
    assert result.exit_code == 0, result.output
    return result.stdout


def views(no_cache: bool = False) -> tuple:
    return (
        json.loads(out("clients", "--json", no_cache=no_cache)),
        out("export", "--format", "json", "--output", "-", no_cache=no_cache),
        json.loads(out("summary", "--by", "month", "--json", no_cache=no_cache)),
    )


def assert_shows_the_files() -> None:
    assert views() == views(no_cache=True)


@pytest.fixture
def cache(data_dir: Path) -> Path:
    for client, answers, day in [
        ("C-1", "9,9,9,9", "2026-10-01"),
        ("C-1", "8,9,9,9", "2026-10-08"),
        ("C-2", "7,7,7,7", "2026-10-02"),
        ("C-3", "10,10,10,10", "2026-10-03"),
    ]:
        result = runner.invoke(
            app,
            [
                "rate",
                client,
                "--answers",
                answers,
                "--date",
                day,
                "--yes",
                "--comment",
                "ok \U0001f642",
            ],
        )
        assert result.exit_code == 0, result.output
    assert_shows_the_files()
    path = records_cache.path_for(data_dir)
    assert path.exists() and oct(path.stat().st_mode & 0o777) == "0o600"
    return path


def test_cached_reads_equal_the_files(cache: Path) -> None:
    before = cache.read_bytes()
    assert_shows_the_files()
    assert cache.read_bytes() == before


def test_rating_appended_by_another_process(cache: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "ratetool", "rate", "C-2", "--answers", "1,2,3,4", "--yes"],
        env=dict(os.environ),
        check=True,
        capture_output=True,
    )
    assert_shows_the_files()
    assert {r["client"]: r["sessions"] for r in views()[0]}["C-2"] == 2


def test_file_edited_by_hand_with_the_same_size(cache: Path, data_dir: Path) -> None:
    path = data_dir / "clients" / "C-2.toml"
    text = path.read_text(encoding="utf-8")
    edited = text.replace("empathy = 7", "empathy = 3")
    assert len(edited) == len(text) and edited != text
    path.write_text(edited, encoding="utf-8")
    assert_shows_the_files()
    assert '"empathy":3' in views()[1].replace(" ", "")


def test_deleted_cache_is_rebuilt(cache: Path) -> None:
    cache.unlink()
    assert_shows_the_files()
    assert cache.exists()


@pytest.mark.parametrize(
    "damage", ["garbage", "flipped-byte", "truncated", "other-python", "empty"]
)
def test_corrupted_cache_is_ignored_and_rebuilt(cache: Path, damage: str) -> None:
    raw = cache.read_bytes()
    if damage == "garbage":
        raw = b"\x00\x01not a cache at all"
    elif damage == "flipped-byte":
        raw = raw[:-10] + bytes([raw[-10] ^ 0xFF]) + raw[-9:]
    elif damage == "truncated":
        raw = raw[: len(raw) // 2]
    elif damage == "other-python":
        raw = raw.replace(b" py3.", b" py2.", 1)
    else:
        raw = b""
    cache.write_bytes(raw)
    assert_shows_the_files()
    assert records_cache.load(cache.parent.parent)  # rebuilt and readable again


def test_check_finds_a_cache_that_lies(cache: Path) -> None:
    """A cache whose checksum is right but whose content is not what the file holds (a bug, or a
    hand-made cache): `check` compares with the files, reports it, drops it."""
    head, _, payload = cache.read_bytes().partition(b"\n")
    entries = marshal.loads(payload)
    fp, rows = entries["C-3"]
    row = list(rows[0])
    row[5] = (("empathy", 1), *row[5][1:])
    entries["C-3"] = (fp, [tuple(row)])
    payload = marshal.dumps(entries)
    magic = b" ".join(head.split(b" ")[:3])
    cache.write_bytes(magic + b" " + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload)
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 1
    assert "cached ratings of C-3 do not match its file" in result.output
    assert_shows_the_files()
    assert runner.invoke(app, ["check"]).exit_code == 0


def test_torn_file_is_never_cached(cache: Path, data_dir: Path) -> None:
    with (data_dir / "clients" / "C-1.toml").open("ab") as fh:
        fh.write(b'\n[[sessions]]\nid = "cut')
    for _ in range(2):
        result = runner.invoke(app, ["clients", "--json"])
        assert result.exit_code == 0 and "incomplete" in result.stderr
    assert "C-1" not in records_cache.load(data_dir)
    assert_shows_the_files()
