"""``ratetool migrate --to csv|toml``: convert the data folder to the other store, losing nothing."""

from typing import Annotated

import typer

from ratetool.cli.state import get_state

HELP = (
    "Convert the data folder to the other store (toml: one file per client; csv: one "
    "ratings.csv), then switch `store` in config.toml.\n\n"
    "Every rating is read from the store in use (after `ratetool check` finds no problem), "
    "written in the other layout, read back and compared id by id and field by field; only then "
    "is config.toml switched. The old files are kept, renamed to clients.migrated-<time> or "
    "ratings.csv.migrated-<time>. If anything fails, the store in use stays as it was.\n\n"
    "With the csv store already in use, --to csv writes ratings.csv again with a column for "
    "every instrument known now (needed after adding an instrument with new items); the old "
    "file is kept.\n\n"
    "Examples:\n\n"
    "ratetool migrate --to csv --dry-run\n\n"
    "ratetool migrate --to csv"
)


def migrate(
    ctx: typer.Context,
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="The store to convert to: csv or toml.",
            metavar="csv|toml",
            show_default=False,
        ),
    ],
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Check that the conversion would work; write nothing."),
    ] = False,
) -> None:
    from ratetool.store.migrate import KINDS
    from ratetool.store.migrate import migrate as run

    target = to.strip().lower()
    if target not in KINDS:
        raise typer.BadParameter(f"{to!r} is not a store; use csv or toml.", param_hint="--to")
    state = get_state(ctx)
    items: list[str] = []
    for row in state.registry.list():
        if row.instrument is not None:
            items.extend(row.instrument.item_ids)
    result = run(
        state.data_dir,
        state.config_dir,
        target,
        current=state.config.store,
        resolve=state.resolve,
        item_columns=items,
        dry_run=dry_run,
    )
    count = f"{result.ratings} rating{'s' if result.ratings != 1 else ''}"
    clients = f"{result.clients} client{'s' if result.clients != 1 else ''}"
    where = ", ".join(str(p) for p in result.written)
    if result.source == result.target:
        for note in result.notes:
            typer.echo(note)
        if "nothing to do" in " ".join(result.notes):
            return
        if dry_run:
            typer.echo(
                f"Dry run: would write {where} again with the new columns ({count} for "
                f"{clients}) and keep the old file. Nothing was written."
            )
            return
        typer.echo(f"Wrote {where} again: {count} for {clients}, read back and identical.")
        for kept in result.kept:
            typer.echo(f"Kept the old file as {kept}")
        return
    if dry_run:
        typer.echo(
            f"Dry run: {count} for {clients} would be converted from the {result.source} store to "
            f'the {result.target} store ({where}), then store = "{result.target}" set in '
            f"{result.config_file}. Nothing was written."
        )
        return
    typer.echo(f"Read {count} for {clients} from the {result.source} store.")
    typer.echo(f"Wrote {where} and read it back: every id and field the same.")
    for note in result.notes:
        typer.echo(note)
    typer.echo(f'Switched to store = "{result.target}" in {result.config_file}')
    for kept in result.kept:
        typer.echo(f"Kept the old files as {kept}")


def register(app: typer.Typer) -> None:
    app.command("migrate", help=HELP)(migrate)
