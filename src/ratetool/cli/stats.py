"""``ratetool stats``: know your own measure (docs/stats.md). Thin: the numbers are
``ratetool.scoring.stats``; the tables ``ratetool.render.stats``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ratetool.cli.check import show_problems
from ratetool.cli.state import get_state

if TYPE_CHECKING:
    from ratetool.instruments import Instrument
    from ratetool.scoring.stats import VersionStats

HELP = (
    "Know your own measure: per instrument version, from your own ratings (voided ones left "
    "out): counts, each item's and the total's mean, SD, range and % at the scale's top "
    "(ceiling) and bottom (floor); Cronbach's alpha with its 95% interval (Feldt) and alpha "
    "with each item dropped, from each client's first complete rating (and, labelled, over all "
    "ratings); the standard error of measurement and the smallest reliable change. "
    "--write-norms writes the SD and alpha as [norms] into a copy of a custom instrument "
    "(--output FILE), for the summary's reliable change. Formulas: docs/stats.md."
)


def stats(
    ctx: typer.Context,
    instrument: Annotated[
        str | None,
        typer.Option(
            "--instrument", metavar="ID", help="Only this instrument.", show_default=False
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", metavar="DATE", help="Only ratings on or after DATE.", show_default=False
        ),
    ] = None,
    practitioner: Annotated[
        str | None,
        typer.Option(
            "--practitioner", metavar="NAME", help="Only ratings by NAME.", show_default=False
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON instead of tables (same numbers).")
    ] = False,
    write_norms: Annotated[
        str | None,
        typer.Option(
            "--write-norms",
            metavar="ID_OR_PATH",
            help="Write the computed sd and reliability as [norms] into a copy of this custom "
            "instrument (needs --output).",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            metavar="FILE",
            help="Where --write-norms writes the copy.",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="--write-norms: replace an existing [norms] or an existing FILE."
        ),
    ] = False,
) -> None:
    from ratetool.cli.summary import parse_since
    from ratetool.errors import RatetoolError
    from ratetool.scoring.stats import all_stats, stats_json

    state = get_state(ctx)
    since_day = parse_since(since)
    target = None
    if write_norms is not None:
        target = state.registry.get(write_norms)
        if target.source == "built-in":
            raise RatetoolError(
                f"{target.id} is a built-in instrument: norms are never written into it. "
                "Nothing was written."
            )
        if output is None:
            raise typer.BadParameter("--write-norms needs --output FILE.", param_hint="'--output'")
        instrument = target.id
    result = state.store.read_all()
    found, missing = all_stats(
        result.ratings,
        state.resolve,
        instrument=instrument,
        since=since_day,
        practitioner=practitioner,
    )
    blocks = [stats_json(s) for s in found]
    if as_json:
        import json

        typer.echo(json.dumps(blocks, indent=2, ensure_ascii=False))
    elif not blocks:
        typer.echo(f"No ratings to describe in {state.data_dir}.")
    else:
        from ratetool.render.stats import print_stats

        print_stats(blocks)
    for iid, version in missing:
        typer.echo(f"{iid} version {version}: no definition found, not described.", err=True)
    if target is not None and output is not None:
        _write_norms(target, found, output, force=force, err=as_json)
    show_problems(result.problems, err=as_json)
    if result.problems:
        raise typer.Exit(1)


def _write_norms(
    target: Instrument, found: list[VersionStats], output: Path, *, force: bool, err: bool
) -> None:
    from ratetool.errors import RatetoolError
    from ratetool.fsutil import atomic_write
    from ratetool.scoring.stats import norms_from, with_norms

    mine = [s for s in found if s.instrument.version == target.version]
    if not mine:
        raise RatetoolError(
            f"No ratings of {target.id} version {target.version}: no norms to write. "
            "Nothing was written."
        )
    try:
        norms = norms_from(mine[0])
    except ValueError as exc:
        raise RatetoolError(f"{target.id}: {exc}. Nothing was written.") from None
    if output.exists() and not force:
        raise RatetoolError(f"{output} exists; add --force to replace it. Nothing was written.")
    text = Path(target.source).read_text(encoding="utf-8")
    try:
        new = with_norms(text, norms, force=force)
    except ValueError as exc:
        raise RatetoolError(
            f"{target.source}: {exc}; add --force to replace it. Nothing was written."
        ) from None
    import tomllib

    from ratetool.instruments import parse_instrument

    parse_instrument(tomllib.loads(new), str(output))  # never write a copy that would not load
    atomic_write(output, new.encode("utf-8"))
    typer.echo(
        f"Wrote {output}: [norms] sd = {norms.sd}, reliability = {norms.reliability} "
        f"({norms.source}).",
        err=err,
    )


def register(app: typer.Typer) -> None:
    app.command("stats", help=HELP)(stats)
