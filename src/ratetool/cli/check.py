"""``ratetool check [--repair]``: every problem in the data folder, and the safe repair.

``show_problems`` is how ``summary`` and ``export`` name the problems they met under what they
showed: the same lines ``check`` prints, so the two always agree word for word.
"""

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer

from ratetool.cli.state import get_state

if TYPE_CHECKING:
    from ratetool.store import Problem

#: Problems ``summary`` and ``export`` list; ``check`` lists them all.
MAX_SHOWN = 10


def what_to_do(problems: "Sequence[Problem]") -> str:
    """One sentence of advice for the kinds of problem met."""
    kinds = {p.kind for p in problems}
    todo = []
    if any(p.repairable for p in problems):
        todo.append("run `ratetool check --repair` for an incomplete last block")
    if "link" in kinds:
        todo.append("replace each link named with the file itself")
    if "empty" in kinds:
        todo.append("delete the empty files named")
    if kinds - {"link", "empty", "torn", "cache"}:
        todo.append("fix the lines named in a text editor")
    text = "; ".join(todo) or "fix what is named"
    return text[0].upper() + text[1:]


def show_problems(problems: "Sequence[Problem]", *, err: bool) -> None:
    """Name the problems met (up to ``MAX_SHOWN``) after what could be shown, and what to do;
    nothing when there is none."""
    if not problems:
        return
    n = len(problems)
    typer.echo("", err=err)
    typer.echo(
        f"{n} problem{'s' if n != 1 else ''} in the data folder; everything else is shown. "
        f"{what_to_do(problems)}, then run `ratetool check`:",
        err=err,
    )
    for problem in problems[:MAX_SHOWN]:
        typer.echo(f"  {problem}", err=err)
    if n > MAX_SHOWN:
        typer.echo(f"  ... and {n - MAX_SHOWN} more (`ratetool check` lists them all)", err=err)


def check(
    ctx: typer.Context,
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Move incomplete last blocks to a .corrupt-<time> file beside them (no bytes "
            "are deleted), so saving works again.",
        ),
    ] = False,
) -> None:
    """Check every data file; exit 1 if there is a problem."""
    state = get_state(ctx)
    store = state.store
    if repair:
        for line in store.repair():
            typer.echo(f"Repaired: {line}")
    problems = store.check()
    if not problems:
        # The cache is derived: an entry that no longer matches its file is reported here,
        # dropped and rebuilt by the next command.
        from ratetool.cache import Settings, verify

        problems = verify(store, Settings.of(state.config, state.resolve, state.config_dir))
    files = store.files()
    for note in store.notes():  # files kept whole beside the data (a rename, a format change)
        typer.echo(f"Note: {note}")
    if not problems:
        typer.echo(
            f"OK: {len(files)} file{'s' if len(files) != 1 else ''} in {state.data_dir}, no problems."
        )
        return
    for problem in problems:
        typer.echo(str(problem), err=True)
    if all(p.kind == "cache" for p in problems):
        hint = (
            " Nothing to fix by hand: the next command rebuilds the dropped cache from the files."
        )
    else:
        hint = f" {what_to_do(problems)}, then run `ratetool check` again."
    typer.echo(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} found.{hint}", err=True)
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("check")(check)
