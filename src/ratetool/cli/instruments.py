"""``ratetool instruments list|show|validate``: the questionnaires ratetool knows."""

from typing import Annotated

import typer

from ratetool.cli.state import get_state

app = typer.Typer(
    help="List, show and validate instruments (questionnaires).",
    no_args_is_help=True,
)


@app.command("list")
def list_(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List built-in and custom instruments (custom ones live in <config dir>/instruments/)."""
    state = get_state(ctx)
    listings = state.registry.list()
    if as_json:
        import json

        out = []
        for entry in listings:
            inst = entry.instrument
            out.append(
                {
                    "id": inst.id if inst else None,
                    "version": inst.version if inst else None,
                    "title": inst.title if inst else None,
                    "items": len(inst.items) if inst else None,
                    "source": entry.source,
                    "error": entry.error,
                }
            )
        typer.echo(json.dumps(out, indent=2, ensure_ascii=False))
        return
    from ratetool.render.tables import (
        console,
        fits,
        fixed,
        num,
        print_fitted,
        print_notes,
        say,
        table,
    )

    rows = []
    errors = []
    default = state.config.instrument
    for entry in listings:
        inst = entry.instrument
        if inst is None:
            errors.append(entry)
            continue
        scale = f"{inst.scale.min}–{inst.scale.max}"
        mark = " (default)" if inst.id == default else ""
        rows.append(
            (inst.id + mark, inst.version, inst.title, len(inst.items), scale, entry.source)
        )
    head = ["Id", num("Version"), "Title", num("Items"), fixed("Scale")]
    narrow = ["Id", num("Ver."), "Title", num("Items"), fixed("Scale")]
    con = console()
    full = table([*head, "Source"], rows)
    if fits(con, full):
        con.print(full)
    else:  # the sources under the table, where they have the whole width
        print_fitted(
            con, table(head, [row[:5] for row in rows]), table(narrow, [row[:5] for row in rows])
        )
        say(con)
        say(con, "Sources", "bold")
        print_notes(con, [(row[0].removesuffix(" (default)"), row[5]) for row in rows])
    for entry in errors:
        typer.echo(f"Not usable: {entry.error}", err=True)


@app.command("show")
def show(
    ctx: typer.Context,
    ref: Annotated[
        str, typer.Argument(metavar="ID", help="Instrument id or path to a .toml file.")
    ],
) -> None:
    """Show an instrument's scale and items in order, with their ids."""
    state = get_state(ctx)
    inst = state.registry.get(ref)
    s = inst.scale
    typer.echo(f"{inst.title}  ({inst.id}, version {inst.version}; {inst.source})")
    typer.echo(f"Intro: {inst.intro}")
    mid = f", middle: {s.mid_label}" if s.mid_label else ""
    typer.echo(f"Scale: {s.min} ({s.min_label}) to {s.max} ({s.max_label}){mid}")
    typer.echo(f"Skipping allowed: {'yes' if inst.allow_skip else 'no'}")
    if inst.norms:
        n = inst.norms
        typer.echo(f"Norms (total score): sd {n.sd}, reliability {n.reliability}; {n.source}")
    from ratetool.render.tables import print_table

    labels = {d.id: d.label for d in inst.dimensions}
    print_table(
        [("#", {"justify": "right"}), "Item id", "Dimension", "Text", "Reverse"],
        [
            (
                n,
                item.id,
                labels.get(item.dimension, item.dimension),
                item.text,
                "yes" if item.reverse else "",
            )
            for n, item in enumerate(inst.items, start=1)
        ],
    )


@app.command("validate")
def validate(
    path: Annotated[
        str, typer.Argument(metavar="PATH", help="The instrument .toml file to check.")
    ],
) -> None:
    """Check an instrument file and say exactly what is wrong, if anything."""
    from ratetool.instruments import load_instrument_file

    inst = load_instrument_file(path)
    typer.echo(
        f"OK: {path} defines {inst.id} version {inst.version}: {len(inst.items)} items in "
        f"{len(inst.dimensions)} dimensions, scale {inst.scale.min}–{inst.scale.max}."
    )
