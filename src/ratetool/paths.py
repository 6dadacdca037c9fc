"""Where ratetool keeps its files.

Data folder: ``--data-dir`` > ``RATETOOL_DATA_DIR`` > the platform's user data folder.
Config folder: ``--config-dir`` > ``RATETOOL_CONFIG_DIR`` > the platform's user config folder.
Nothing is created here: folders are made (0700 on POSIX) only when something is written.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "ratetool"
DATA_ENV = "RATETOOL_DATA_DIR"
CONFIG_ENV = "RATETOOL_CONFIG_DIR"


def _expand(value: str | os.PathLike[str]) -> Path:
    return Path(os.path.expandvars(os.path.expanduser(os.fspath(value)))).absolute()


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    if override:
        return _expand(override)
    env = os.environ.get(DATA_ENV)
    if env:
        return _expand(env)
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False, roaming=True))


def config_dir(override: str | os.PathLike[str] | None = None) -> Path:
    if override:
        return _expand(override)
    env = os.environ.get(CONFIG_ENV)
    if env:
        return _expand(env)
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False, roaming=True))


def source_of(override: object, env: str) -> str:
    """Say where a folder setting came from, for ``ratetool paths``."""
    if override:
        return "--data-dir" if env == DATA_ENV else "--config-dir"
    if os.environ.get(env):
        return env
    return "default"
