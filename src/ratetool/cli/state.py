"""What every command needs, created lazily: folders, config, instruments, the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from ratetool.config import Config
    from ratetool.instruments import Instrument, Registry
    from ratetool.store import Store


@dataclass
class AppState:
    data_dir_option: str | None = None
    config_dir_option: str | None = None
    debug: bool = False
    _store: Store | None = field(default=None, repr=False)

    @cached_property
    def data_dir(self) -> Path:
        from ratetool import paths

        return paths.data_dir(self.data_dir_option)

    @cached_property
    def config_dir(self) -> Path:
        from ratetool import paths

        return paths.config_dir(self.config_dir_option)

    @cached_property
    def config(self) -> Config:
        from ratetool.config import load_config

        return load_config(self.config_dir)

    @cached_property
    def registry(self) -> Registry:
        from ratetool.instruments import Registry

        return Registry(self.config_dir)

    def resolve(self, instrument_id: str, version: int) -> Instrument | None:
        """The definition of ``instrument_id`` at ``version``, for scoring stored ratings."""
        from ratetool.errors import InstrumentError

        try:
            return self.registry.get_version(instrument_id, version)
        except InstrumentError:
            return None

    @property
    def store(self) -> Store:
        if self._store is None:
            from ratetool.store import open_store

            self._store = open_store(self.data_dir, self.config.store, self.resolve)
        return self._store


def get_state(ctx: typer.Context) -> AppState:
    root = ctx.find_root()
    if not isinstance(root.obj, AppState):
        root.obj = AppState()
    return root.obj
