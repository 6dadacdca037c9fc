"""Client codes that differ only in case are refused: Windows and macOS would mix their files."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers.store_kit import STORE_KINDS, snapshot, write_config
from ratetool.cli import app
from ratetool.errors import ClientCodeError
from ratetool.model import validate_client_code


@pytest.mark.parametrize("store_kind", STORE_KINDS)
def test_case_twin_is_refused_and_nothing_written(
    store_kind: str, data_dir: Path, config_dir: Path
) -> None:
    write_config(config_dir, store_kind)
    runner = CliRunner()
    assert runner.invoke(app, ["rate", "C-014", "--answers", "8,9,7,10", "--yes"]).exit_code == 0
    before = snapshot(data_dir)
    result = runner.invoke(app, ["rate", "c-014", "--answers", "8,9,7,10", "--yes"])
    assert result.exit_code == 1
    assert "differs from the existing 'C-014' only in upper and lower case" in result.output
    assert snapshot(data_dir) == before
    assert runner.invoke(app, ["rate", "C-014", "--answers", "1,2,3,4", "--yes"]).exit_code == 0


def test_accented_letters_are_refused_with_a_clear_reason() -> None:
    with pytest.raises(ClientCodeError, match="A-Z and a-z"):
        validate_client_code("Ü-1")


def test_case_twin_is_refused_before_the_first_question(data_dir: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["rate", "C-014", "--answers", "8,9,7,10", "--yes"]).exit_code == 0
    result = runner.invoke(app, ["rate", "c-014"], input="8\n")
    assert result.exit_code == 1
    assert "Question 1 of 4" not in result.output
