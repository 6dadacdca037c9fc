"""A check-in whose save fails is not lost, and a custom instrument given by path is kept."""

from __future__ import annotations

import errno
import json
import tomllib
from pathlib import Path

from typer.testing import CliRunner

from ratetool.cli import app
from ratetool.store import Store, open_store

ANSWERS = "8\n9\n7\n10\n\n\n"  # four answers, no comment, save at the review


def test_failed_save_can_be_retried_after_the_interview(data_dir: Path, monkeypatch) -> None:
    real_add = Store.add
    calls = {"n": 0}

    def flaky_add(self, ratings, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError(errno.ENOSPC, "No space left on device", str(data_dir))
        return real_add(self, ratings, **kwargs)

    monkeypatch.setattr(Store, "add", flaky_add)
    result = CliRunner().invoke(app, ["rate", "C-014"], input=ANSWERS + "\n")
    assert result.exit_code == 0, result.output
    assert "Could not save the answers yet" in result.output
    assert "No space left on device" in result.output
    assert calls["n"] == 2
    stored = open_store(data_dir).read_client("C-014").ratings
    assert [r.answers for r in stored] == [
        {"empathy": 8, "warmth": 9, "genuineness": 7, "trust": 10}
    ]


def test_failed_save_quit_writes_nothing(data_dir: Path, monkeypatch) -> None:
    def failing_add(self, ratings, **kwargs):
        raise OSError(errno.EACCES, "Permission denied", str(data_dir))

    monkeypatch.setattr(Store, "add", failing_add)
    result = CliRunner().invoke(app, ["rate", "C-014"], input=ANSWERS + "q\n")
    assert result.exit_code == 1
    assert "Nothing was saved" in result.output
    assert not data_dir.exists()


def test_instrument_given_by_path_is_kept_for_later_scoring(
    tmp_path: Path, config_dir: Path, data_dir: Path
) -> None:
    source = tmp_path / "elsewhere" / "mine.toml"
    source.parent.mkdir()
    source.write_text(
        Path("src/ratetool/instruments/checkin.toml")
        .read_text(encoding="utf-8")
        .replace('id = "checkin"', 'id = "mine"'),
        encoding="utf-8",
    )
    runner = CliRunner()
    result = runner.invoke(
        app, ["rate", "C-1", "--instrument", str(source), "--answers", "1,2,3,4", "--yes"]
    )
    assert result.exit_code == 0, result.output
    copy = config_dir / "instruments" / "mine-v1.toml"
    assert copy.read_bytes() == source.read_bytes()
    source.unlink()
    # The rating still scores: the definition is found by id and version.
    summary = runner.invoke(
        app, ["rate", "C-1", "--instrument", "mine", "--answers", "5,5,5,5", "--yes"]
    )
    assert summary.exit_code == 0, summary.output
    assert tomllib.loads(copy.read_text(encoding="utf-8"))["id"] == "mine"
    # A second rating by path does not make a second copy.
    assert sorted(p.name for p in (config_dir / "instruments").iterdir()) == ["mine-v1.toml"]


def test_missing_instrument_definition_is_said_once(
    tmp_path: Path, config_dir: Path, data_dir: Path
) -> None:
    source = tmp_path / "mine.toml"
    source.write_text(
        Path("src/ratetool/instruments/checkin.toml")
        .read_text(encoding="utf-8")
        .replace('id = "checkin"', 'id = "mine"'),
        encoding="utf-8",
    )
    runner = CliRunner()
    for answers in ("1,2,3,4", "5,6,7,8"):
        result = runner.invoke(
            app, ["rate", "C-1", "--instrument", str(source), "--answers", answers, "--yes"]
        )
        assert result.exit_code == 0, result.output
    (config_dir / "instruments" / "mine-v1.toml").unlink()
    result = runner.invoke(app, ["summary", "C-1", "--json"])
    assert result.exit_code == 0, result.output
    assert result.stderr.count("no definition of instrument mine version 1") == 1
    assert all(s["overall"] is None for s in json.loads(result.stdout)["sessions"])
