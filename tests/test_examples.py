"""The files in examples/ that the README points to are valid as they are."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from ratetool.cli import app
from ratetool.config import load_config
from ratetool.instruments import load_instrument_file

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_example_config_loads_with_its_documented_values() -> None:
    config = load_config(EXAMPLES / "config")
    assert config.exists
    assert (config.practitioner, config.instrument, config.store) == ("AB", "checkin", "toml")
    assert config.alerts == {"low": 90.0, "drop": 2.5, "item": 70.0}


def test_example_instruments_validate() -> None:
    files = sorted((EXAMPLES / "instruments").glob("*.toml"))
    assert files
    for path in files:
        load_instrument_file(path)
        result = CliRunner().invoke(app, ["instruments", "validate", str(path)])
        assert result.exit_code == 0 and result.stdout.startswith("OK: "), result.output


def test_readme_config_example_runs_on_the_demo_data() -> None:
    result = CliRunner().invoke(
        app,
        [
            "--config-dir",
            str(EXAMPLES / "config"),
            "--data-dir",
            str(EXAMPLES / "data"),
            "summary",
            "--json",
        ],
        env={"RATETOOL_NO_CACHE": "1"},
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.lstrip().startswith("[")
