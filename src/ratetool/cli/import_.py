"""``ratetool import PATH``: ratings from a CSV or JSON Lines file, validated before anything is
written."""

from typing import Annotated

import typer

from ratetool.cli.state import get_state

HELP = (
    "Import ratings from a CSV or JSON Lines file: a ratetool export (also after a spreadsheet "
    "saved it again) or paper forms typed into a sheet.\n\n"
    "A sheet of paper forms needs the columns client, date and one per item (for the check-in: "
    "empathy, warmth, genuineness, trust); comment, practitioner and instrument are optional.\n\n"
    "Every row is checked first: if any row is wrong, each is listed with its row number (the "
    "header is row 1) and nothing is written. Rows whose id is already stored are skipped, so "
    "importing a file twice adds nothing twice. Rows without an id get new ids and the next "
    "session numbers, in date order.\n\n"
    "Examples:\n\n"
    "ratetool import paper-forms.csv --dry-run\n\n"
    'ratetool import ratings.csv --date-format "%d.%m.%Y %H:%M"'
)


def import_(
    ctx: typer.Context,
    path: Annotated[
        str,
        typer.Argument(
            metavar="PATH", help="The CSV (.csv) or JSON Lines (.jsonl, .json) file to import."
        ),
    ],
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Check every row and say what would happen; write nothing."),
    ] = False,
    date_format: Annotated[
        str | None,
        typer.Option(
            metavar="FMT",
            help='How the file writes dates, e.g. "%d.%m.%Y %H:%M" or "%d/%m/%Y" '
            "(default: ISO 8601, 2026-11-03 or 2026-11-03T10:50).",
            show_default=False,
        ),
    ] = None,
    delimiter: Annotated[
        str | None,
        typer.Option(
            metavar="D",
            help="CSV delimiter: ',', ';', 'tab' or '|' (default: found from the header row).",
            show_default=False,
        ),
    ] = None,
    skip_invalid: Annotated[
        bool,
        typer.Option(
            "--skip-invalid", help="Import the good rows and list the bad ones instead of stopping."
        ),
    ] = False,
    instrument: Annotated[
        str | None,
        typer.Option(
            "--instrument",
            "-i",
            metavar="ID|PATH",
            help="Instrument for rows without an instrument column (default: from config.toml).",
            show_default=False,
        ),
    ] = None,
) -> None:
    from pathlib import Path

    from ratetool.importer import (
        delimiter_from_option,
        problem_report,
        read_import_file,
        run_import,
    )

    state = get_state(ctx)
    sep = delimiter_from_option(delimiter) if delimiter is not None else None
    source = Path(path).expanduser()
    import_file = read_import_file(
        source,
        state.registry,
        default_instrument=instrument or state.config.instrument,
        practitioner=state.config.practitioner,
        date_format=date_format,
        delimiter=sep,
    )
    store = state.store
    result = run_import(store, import_file, dry_run=dry_run, skip_invalid=skip_invalid)
    if result.rejected:
        unit = import_file.unit
        bad = len(import_file.bad_rows)
        typer.echo(
            f"{bad} {unit}{'s' if bad != 1 else ''} rejected"
            f"{' (would be left out)' if dry_run else ' (left out)'}:",
            err=True,
        )
        for line in problem_report(import_file):
            typer.echo(f"  {line}", err=True)
    for note in result.notes:
        typer.echo(f"Note: {note}", err=True)
    typer.echo(result.summary())
    if result.imported:
        by_client: dict[str, list[int]] = {}
        for rating in result.imported:
            by_client.setdefault(rating.client, []).append(rating.session)
        for code in sorted(by_client):
            numbers = sorted(by_client[code])
            shown = ", ".join(str(n) for n in numbers[:12])
            if len(numbers) > 12:
                shown += f", ... ({len(numbers)} in all)"
            word = "session" if len(numbers) == 1 else "sessions"
            typer.echo(f"  {code}: {word} {shown}")
    if not dry_run and result.imported:
        typer.echo(f"Data folder: {state.data_dir}")


def register(app: typer.Typer) -> None:
    app.command("import", help=HELP)(import_)
