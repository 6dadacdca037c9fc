"""What every command needs, created lazily: folders, config, instruments, the store."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from ratetool.config import Config
    from ratetool.instruments import Instrument, Registry
    from ratetool.store import Store


class AppState:
    """The options of one run, and what they lead to, each worked out when first needed.

    A plain class: a dataclass would add nothing used here and cost a millisecond at start-up.
    """

    def __init__(
        self,
        data_dir_option: str | None = None,
        config_dir_option: str | None = None,
        debug: bool = False,
    ) -> None:
        self.data_dir_option = data_dir_option
        self.config_dir_option = config_dir_option
        self.debug = debug
        self._store: Store | None = None
        self._resolved: dict[tuple[str, int], Instrument | None] = {}

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
        """The definition of ``instrument_id`` at ``version``, for scoring stored ratings.

        A definition that cannot be found or read is said once on stderr; its ratings are then
        listed without scores (never scored with another version's items)."""
        from ratetool.errors import InstrumentError

        key = (instrument_id, version)
        if key in self._resolved:
            return self._resolved[key]
        try:
            found = self.registry.get_version(instrument_id, version)
        except InstrumentError as exc:
            typer.echo(
                f"Warning: {exc}\nRatings made with {instrument_id} version {version} are shown "
                "without scores until that file is fixed.",
                err=True,
            )
            found = None
        else:
            if found is None:
                typer.echo(
                    f"Warning: no definition of instrument {instrument_id} version {version} was "
                    f"found; its ratings are shown without scores. Put its .toml file in "
                    f"{self.config_dir / 'instruments'} to score them.",
                    err=True,
                )
        self._resolved[key] = found
        return found

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
