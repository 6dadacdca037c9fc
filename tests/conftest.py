"""Shared fixtures. Every test runs with its data and config folders inside ``tmp_path``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# pexpect needs a POSIX pseudo-terminal: on Windows the real-terminal tests are not collected.
collect_ignore = ["test_rate_terminal.py"] if sys.platform == "win32" else []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave POSIX-only tests (file modes, SIGKILL) out of the run on Windows, where they have
    nothing to check; on POSIX every test runs, none is skipped."""
    if os.name == "posix":
        return
    dropped = [item for item in items if item.get_closest_marker("posix_only")]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if not item.get_closest_marker("posix_only")]


settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "dev",
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Point ratetool's data and config folders at ``tmp_path`` so no test touches real files.

    Also fixes the terminal width and turns colour off, so rendering is deterministic.
    """
    data = tmp_path / "data"
    config = tmp_path / "config"
    monkeypatch.setenv("RATETOOL_DATA_DIR", str(data))
    monkeypatch.setenv("RATETOOL_CONFIG_DIR", str(config))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("RATETOOL_DEBUG", raising=False)
    return {"data": data, "config": config}


@pytest.fixture
def data_dir(isolated_dirs: dict[str, Path]) -> Path:
    return isolated_dirs["data"]


@pytest.fixture
def config_dir(isolated_dirs: dict[str, Path]) -> Path:
    return isolated_dirs["config"]
