"""The cached plain CSV export is byte for byte the export computed from the files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ratetool.cli import app
from ratetool.exporters.csv_cache import NAME
from ratetool.store.records_cache import CACHE_DIR

runner = CliRunner()


def export(*extra: str, no_cache: bool = False) -> bytes:
    result = runner.invoke(
        app,
        ["export", "--format", "csv", "--output", "-", *extra],
        env={"RATETOOL_NO_CACHE": "1"} if no_cache else None,
    )
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def same(*extra: str) -> bytes:
    cached = export(*extra)
    assert cached == export(*extra, no_cache=True)
    return cached


@pytest.fixture
def data(data_dir: Path) -> Path:
    for args in [
        ["C-1", "--answers", "9,9,9,9", "--date", "2026-10-01", "--comment", "=1+1 ok"],
        ["C-1", "--answers", "5,6,7,8", "--date", "2026-10-08"],
        [
            "C-2",
            "--instrument",
            "core",
            "--answers",
            "5,4,s,5,4,4,5,3,2,1,2,3",
            "--date",
            "2026-10-02",
        ],
        ["C-3", "--answers", "10,10,10,10", "--date", "2026-10-03", "--practitioner", "-AB"],
    ]:
        result = runner.invoke(app, ["rate", *args, "--yes"])
        assert result.exit_code == 0, result.output
    first = same()
    assert (data_dir / CACHE_DIR / NAME).exists()
    assert same() == first  # now from the cache
    return data_dir


def test_several_instruments_and_a_client_filter(data: Path) -> None:
    assert b"empathy_1" in same()  # the core items join the check-in's columns
    assert same("--client", "C-2").count(b"\r\n") == 2
    assert same("--client", "C-3", "--client", "C-1").count(b"\r\n") == 4


def test_after_an_append_by_another_process(data: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "ratetool", "rate", "C-3", "--answers", "1,1,1,1", "--yes"],
        env=dict(os.environ),
        check=True,
        capture_output=True,
    )
    assert same().count(b"\r\n") == 6


def test_after_a_hand_edit_of_the_same_size(data: Path) -> None:
    path = data / "clients" / "C-1.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("empathy = 5", "empathy = 1"), encoding="utf-8")
    assert b",1,6,7,8," in same()


def test_damaged_or_deleted_cache(data: Path) -> None:
    cache = data / CACHE_DIR / NAME
    cache.write_bytes(cache.read_bytes()[:-7])
    same()
    cache.unlink()
    same()


def test_changed_thresholds(data: Path, config_dir: Path) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text("[alerts]\nlow = 99\n", encoding="utf-8")
    assert b"low" in same()


def test_check_finds_and_drops_rows_that_lie(data: Path) -> None:
    import hashlib
    import marshal

    cache = data / CACHE_DIR / NAME
    head, _, payload = cache.read_bytes().partition(b"\n")
    blob = marshal.loads(payload)
    fp, parts, columns, rows = blob["clients"]["C-3"]
    rows = [list(rows[0])]
    rows[0][-1] = "not what the file says"
    blob["clients"]["C-3"] = (fp, parts, columns, rows)
    payload = marshal.dumps(blob)
    magic = b" ".join(head.split(b" ")[:3])
    cache.write_bytes(magic + b" " + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload)
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 1
    assert "cached export rows of C-3 do not match its file" in result.output
    same()
