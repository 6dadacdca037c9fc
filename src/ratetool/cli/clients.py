"""``ratetool clients``: who has ratings, how many, first and last date; ``ratetool clients
rename OLD NEW`` corrects a code typed wrong (``ratetool.cli.corrections``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, TypedDict

import typer

from ratetool.cli.state import get_state

if TYPE_CHECKING:
    from ratetool.model import Rating


class ClientRow(TypedDict):
    """One line of ``ratetool clients`` (and one object of its ``--json`` list)."""

    client: str
    sessions: int
    first_rated_at: str
    last_rated_at: str


def client_rows(ratings: Iterable[Rating]) -> list[ClientRow]:
    by_client: dict[str, list[Rating]] = {}
    for r in ratings:
        by_client.setdefault(r.client, []).append(r)
    rows: list[ClientRow] = []
    for code in sorted(by_client):
        items = by_client[code]
        first = min(r.rated_at for r in items)
        last = max(r.rated_at for r in items)
        rows.append(
            {
                "client": code,
                "sessions": len(items),
                "first_rated_at": first.isoformat(),
                "last_rated_at": last.isoformat(),
            }
        )
    return rows


app = typer.Typer()


@app.callback(invoke_without_command=True)
def clients(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List client codes with their number of sessions and first and last date.

    `ratetool clients rename OLD NEW` corrects a client code typed wrong."""
    from ratetool.cli.check import show_problems

    if ctx.invoked_subcommand is not None:
        return
    state = get_state(ctx)
    result = state.store.read_all()
    rows = client_rows(result.ratings)
    if as_json:
        import json

        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    elif not rows:
        typer.echo(f"No ratings yet in {state.data_dir}.")
    else:
        _print_rows(rows)
    # after all that could be shown: the problems, as summary names them, and exit 1
    show_problems(result.problems, err=as_json or not rows)
    if result.problems:
        raise typer.Exit(1)


def _print_rows(rows: list[ClientRow]) -> None:
    from ratetool.render.tables import print_table

    print_table(
        ["Client", ("Sessions", {"justify": "right"}), "First", "Last"],
        [
            (r["client"], r["sessions"], r["first_rated_at"][:10], r["last_rated_at"][:10])
            for r in rows
        ],
    )


#: One line per paragraph (the help formatter keeps line breaks).
RENAME_HELP = (
    "Correct a client code typed wrong: every rating of OLD is shown and exported under NEW.\n\n"
    "NEW must not have ratings yet (ratetool cannot merge two clients). Nothing is lost: what "
    "was stored under OLD is kept whole, and `ratetool check` names it.\n\n"
    "Example: ratetool clients rename C-7 C-007 --reason 'typed without zeros'"
)


@app.command("rename", help=RENAME_HELP)
def rename(
    ctx: typer.Context,
    old: Annotated[str, typer.Argument(metavar="OLD", help="The code as it was typed.")],
    new: Annotated[str, typer.Argument(metavar="NEW", help="The right code (not in use yet).")],
    reason: Annotated[
        str | None,
        typer.Option(help="Why the code changes (optional).", metavar="TEXT", show_default=False),
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Rename without asking to confirm.")
    ] = False,
) -> None:
    from ratetool.cli.corrections import rename as rename_client

    rename_client(ctx, old, new, reason, yes)
