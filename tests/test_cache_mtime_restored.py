"""A hand edit that keeps the file's size and puts its modification time back (``touch -r``, a
backup tool, an editor that preserves times) is still seen by every cache: the change time moves."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers.store_kit import STORE_KINDS, write_config
from ratetool.cli import app

runner = CliRunner()


def run(*args: str, no_cache: bool = False) -> str:
    result = runner.invoke(app, list(args), env={"RATETOOL_NO_CACHE": "1"} if no_cache else None)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("store_kind", STORE_KINDS)
def test_edit_with_size_and_mtime_restored(
    store_kind: str, data_dir: Path, config_dir: Path
) -> None:
    write_config(config_dir, store_kind)
    for day, answers in (("2026-10-01", "9,9,9,9"), ("2026-10-08", "8,8,8,8")):
        run("rate", "C-1", "--answers", answers, "--date", day, "--yes")
    views = lambda **kw: (  # noqa: E731
        run("summary", "--json", **kw),
        run("summary", "C-1", "--json", **kw),
        run("export", "--format", "csv", "--output", "-", **kw),
        run("clients", "--json", **kw),
    )
    assert views() == views(no_cache=True)  # caches built
    path = data_dir / ("ratings.csv" if store_kind == "csv" else "clients/C-1.toml")
    before = path.stat()
    raw = path.read_bytes()
    edited = (
        raw.replace(b"8", b"3") if store_kind == "toml" else raw.replace(b",8,8,8,8,", b",3,8,8,8,")
    )
    assert len(edited) == len(raw) and edited != raw
    path.write_bytes(edited)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_mtime_ns == before.st_mtime_ns and path.stat().st_size == before.st_size
    assert views() == views(no_cache=True)
    assert json.loads(views()[0])[0]["latest_pomp"] != 80.0
