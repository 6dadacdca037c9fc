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

# Inside the data folder: one file per client (TOML store) or one file of ratings (CSV store), and
# the derived caches. The stores and the caches take these names from here.
CLIENTS_DIR = "clients"
CLIENT_SUFFIX = ".toml"
RATINGS_CSV = "ratings.csv"
CACHE_DIR = ".ratetool-cache"
#: Inside the config folder: the settings, and custom instrument files.
CONFIG_NAME = "config.toml"
INSTRUMENTS_DIR = "instruments"


def _expand(value: str | os.PathLike[str]) -> Path:
    return Path(os.path.expandvars(os.path.expanduser(os.fspath(value)))).absolute()


def _folder(override: str | os.PathLike[str] | None, env: str, kind: str) -> Path:
    if override:
        return _expand(override)
    value = os.environ.get(env)
    if value:
        return _expand(value)
    import platformdirs

    default = getattr(platformdirs, f"user_{kind}_dir")
    return Path(default(APP_NAME, appauthor=False, roaming=True))


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    return _folder(override, DATA_ENV, "data")


def config_dir(override: str | os.PathLike[str] | None = None) -> Path:
    return _folder(override, CONFIG_ENV, "config")


def source_of(override: object, env: str) -> str:
    """Say where a folder setting came from, for ``ratetool paths``."""
    if override:
        return "--data-dir" if env == DATA_ENV else "--config-dir"
    if os.environ.get(env):
        return env
    return "default"
