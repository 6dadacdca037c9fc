"""The caseload summary cache is derived only: whatever happens to the files or to the cache, the
summary shows exactly what the files hold (compared with a run that bypasses the cache)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ratetool.cli import app
from ratetool.summary_cache import CACHE_DIR, CACHE_NAME

runner = CliRunner()


def summary_json(env_extra: dict[str, str] | None = None) -> list[dict]:
    result = runner.invoke(app, ["summary", "--json"], env=env_extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def truth() -> list[dict]:
    return summary_json({"RATETOOL_NO_CACHE": "1"})


def rate(client: str, answers: str, date: str) -> None:
    result = runner.invoke(app, ["rate", client, "--answers", answers, "--date", date, "--yes"])
    assert result.exit_code == 0, result.output


@pytest.fixture
def caseload(data_dir: Path) -> Path:
    rate("C-1", "9,9,9,9", "2026-10-01")
    rate("C-1", "9,10,9,9", "2026-10-08")
    rate("C-2", "8,8,8,8", "2026-10-02")
    rate("C-2", "9,9,9,9", "2026-10-09")
    rate("C-3", "10,10,10,10", "2026-10-03")
    first = summary_json()
    assert first == truth()
    cache = data_dir / CACHE_DIR / CACHE_NAME
    assert cache.exists()
    assert oct(cache.stat().st_mode & 0o777) == "0o600"
    return cache


def test_cache_is_used_and_equal(caseload: Path) -> None:
    before = caseload.read_bytes()
    assert summary_json() == truth()
    assert caseload.read_bytes() == before  # nothing changed, nothing rewritten


def test_rating_appended_by_another_process(caseload: Path) -> None:
    env = {**os.environ}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "ratetool",
            "rate",
            "C-2",
            "--answers",
            "3,4,3,4",
            "--date",
            "2026-10-16",
            "--yes",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    shown = summary_json()
    assert shown == truth()
    c2 = next(r for r in shown if r["client"] == "C-2")
    assert c2["sessions"] == 3 and "drop" in c2["alerts"]
    assert shown[0]["client"] == "C-2"  # needs attention first now


def test_file_edited_by_hand_with_the_same_size(caseload: Path, data_dir: Path) -> None:
    path = data_dir / "clients" / "C-3.toml"
    text = path.read_text(encoding="utf-8")
    edited = text.replace("empathy = 10, warmth = 10", "empathy = 10, warmth = 40")
    edited = edited.replace("warmth = 40", "warmth = 4")  # 10 -> 4: one byte shorter ...
    edited = edited.replace("trust = 10 }", "trust = 10  }")  # ... and one longer: same size
    assert len(edited) == len(text) and edited != text
    path.write_text(edited, encoding="utf-8")
    shown = summary_json()
    assert shown == truth()
    c3 = next(r for r in shown if r["client"] == "C-3")
    assert c3["latest_pomp"] == 85.0  # (10 + 4 + 10 + 10) / 40


def test_deleted_cache_is_rebuilt(caseload: Path) -> None:
    caseload.unlink()
    assert summary_json() == truth()
    assert caseload.exists()


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"\x00\xff not json",
        b'{"format": 1, "settings": "x", "clients": []}',
        b'{"format": 99}',
        b"[1, 2, 3]",
    ],
    ids=["empty", "binary", "wrong-settings", "newer-format", "wrong-shape"],
)
def test_corrupted_cache_is_rebuilt(caseload: Path, garbage: bytes) -> None:
    caseload.write_bytes(garbage)
    assert summary_json() == truth()
    assert json.loads(caseload.read_bytes())["format"] == 1


def test_tampered_cache_row_is_found_by_check(caseload: Path) -> None:
    data = json.loads(caseload.read_bytes())
    data["clients"]["C-1"]["row"]["latest_pomp"] = 12.5  # same fingerprint, wrong content
    caseload.write_text(json.dumps(data), encoding="utf-8")
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 1
    assert "cached summary of C-1 does not match its file" in result.output
    assert summary_json() == truth()  # dropped by check, rebuilt from the file
    assert runner.invoke(app, ["check"]).exit_code == 0


def test_changed_thresholds_recompute_rows(caseload: Path, config_dir: Path) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text("[alerts]\nlow = 99\n", encoding="utf-8")
    shown = summary_json()
    assert shown == truth()
    assert "low" in next(r for r in shown if r["client"] == "C-1")["alerts"]  # 92.5% < 99


def test_torn_client_is_never_cached_and_always_warned(caseload: Path, data_dir: Path) -> None:
    path = data_dir / "clients" / "C-1.toml"
    with path.open("ab") as fh:
        fh.write(b'\n[[sessions]]\nid = "half')
    for _ in range(2):
        result = runner.invoke(app, ["summary", "--json"])
        assert result.exit_code == 0
        assert "incomplete" in result.stderr
        assert json.loads(result.stdout) == truth()
    assert "C-1" not in json.loads(caseload.read_bytes())["clients"]


def test_read_only_cache_folder_does_not_break_summary(caseload: Path) -> None:
    caseload.unlink()
    caseload.parent.chmod(0o500)
    try:
        if os.access(caseload.parent, os.W_OK):  # root ignores permissions: remove the folder
            caseload.parent.chmod(0o700)
            caseload.parent.rmdir()
            caseload.parent.write_bytes(b"")  # a file where the folder should be
        assert summary_json() == truth()
    finally:
        if caseload.parent.is_dir():
            caseload.parent.chmod(0o700)
