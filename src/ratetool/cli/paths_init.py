"""``ratetool paths`` and ``ratetool init``: where files live, and the practitioner's settings."""

from typing import Annotated

import typer

from ratetool.cli.state import AppState, get_state


def paths(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the data and config folders and where each setting came from."""
    from ratetool import paths as p

    state = get_state(ctx)
    info = {
        "data_dir": str(state.data_dir),
        "data_dir_from": p.source_of(state.data_dir_option, p.DATA_ENV),
        "config_dir": str(state.config_dir),
        "config_dir_from": p.source_of(state.config_dir_option, p.CONFIG_ENV),
        "config_file": str(state.config_dir / "config.toml"),
        "instruments_dir": str(state.config_dir / "instruments"),
    }
    if as_json:
        import json

        typer.echo(json.dumps(info, indent=2))
        return
    typer.echo(f"data:        {info['data_dir']}  ({info['data_dir_from']})")
    typer.echo(f"config:      {info['config_dir']}  ({info['config_dir_from']})")
    typer.echo(f"config file: {info['config_file']}")
    typer.echo(f"instruments: {info['instruments_dir']}")


def init(
    ctx: typer.Context,
    practitioner: Annotated[
        str | None, typer.Option(help="Your initials or code, stored with each rating.")
    ] = None,
    instrument: Annotated[
        str | None, typer.Option(help="Default instrument for `ratetool rate`.")
    ] = None,
    store: Annotated[
        str | None, typer.Option(help="Where ratings are kept: toml (one file per client) or csv.")
    ] = None,
) -> None:
    """Write config.toml with your settings (other settings are kept)."""
    from ratetool.config import save_config

    state = get_state(ctx)
    if instrument:
        state.registry.get(instrument)  # refuse an unknown instrument before writing
    if store is not None:
        _refuse_store_switch_over_data(state, store)
    config = save_config(
        state.config_dir,
        {"practitioner": practitioner, "instrument": instrument, "store": store},
    )
    typer.echo(f"Saved settings in {config.path}")
    typer.echo(
        f"practitioner = {config.practitioner or '(none)'}, instrument = {config.instrument}, "
        f"store = {config.store}"
    )


def _refuse_store_switch_over_data(state: AppState, store: str) -> None:
    """Changing ``store`` while the data folder holds ratings in the other layout would hide them
    (nothing reads that layout any more): refuse, and point to ``ratetool migrate``."""
    from ratetool.config import STORES
    from ratetool.errors import ConfigError
    from ratetool.store.migrate import layout_has_data, layout_paths

    if store not in STORES:
        return  # save_config refuses it, naming the allowed values
    others = [kind for kind in STORES if kind != store and layout_has_data(state.data_dir, kind)]
    if not others:
        return
    other = others[0]
    where = layout_paths(state.data_dir, other)[0]
    raise ConfigError(
        f"The data folder {state.data_dir} holds ratings in the {other} store ({where}); with "
        f'store = "{store}" ratetool would no longer see them. Run `ratetool migrate --to '
        f"{store}` to convert them (it verifies every rating and keeps the old files). "
        "Nothing was changed."
    )


def register(app: typer.Typer) -> None:
    app.command("paths")(paths)
    app.command("init")(init)
