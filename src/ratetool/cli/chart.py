"""``ratetool chart CLIENT``: overall % max across sessions with the cutoff, as a line chart;
``--dimensions`` adds a panel per dimension."""

from typing import TYPE_CHECKING, Annotated

import typer

from ratetool.cli.check import show_problems
from ratetool.cli.state import get_state

if TYPE_CHECKING:
    from ratetool.instruments import Instrument

HELP = (
    "A line chart of one client's overall % max (percent of the scale's maximum), session by "
    "session, with the cutoff (the `low` alert threshold) drawn as a dashed line; sessions below "
    "the cutoff are marked x.\n\n"
    "--dimensions draws each dimension (as % of its scale) in a small panel of its own, so no "
    "line can hide another, and overall last. Every label on the side is exactly the value of its "
    "row; a chart is taller than --height rather than coarser than 10 percentage points a row. "
    "Trends are per instrument: --instrument picks one (default: the latest session's)."
)

MIN_WIDTH = 40
MAX_DEFAULT_WIDTH = 100
MIN_HEIGHT = 8
HEIGHT = 20
PANEL_HEIGHT = 12


def chart(
    ctx: typer.Context,
    client: Annotated[str, typer.Argument(metavar="CLIENT", help="Client code, e.g. C-014.")],
    instrument: Annotated[
        str | None,
        typer.Option(
            "--instrument",
            "-i",
            metavar="ID",
            help="Which instrument's scores (default: the latest session's).",
            show_default=False,
        ),
    ] = None,
    width: Annotated[
        int | None,
        typer.Option(
            "--width",
            min=MIN_WIDTH,
            metavar="N",
            help=f"Characters wide (default: the terminal, at most {MAX_DEFAULT_WIDTH}).",
            show_default=False,
        ),
    ] = None,
    dimensions: Annotated[
        bool,
        typer.Option(
            "--dimensions", help="One small chart per dimension, then overall.", show_default=False
        ),
    ] = False,
    height: Annotated[
        int | None,
        typer.Option(
            "--height",
            min=MIN_HEIGHT,
            metavar="N",
            help=(
                f"Lines high, title and legend not counted; with --dimensions, of each panel "
                f"(default {HEIGHT}; {PANEL_HEIGHT} with --dimensions)."
            ),
            show_default=False,
        ),
    ] = None,
) -> None:
    from ratetool.codes import validate_client_code
    from ratetool.errors import RatetoolError
    from ratetool.report import client_json, client_report

    state = get_state(ctx)
    validate_client_code(client)
    result = state.store.read_client(client)
    if not result.ratings and result.problems:
        show_problems(result.problems, err=True)
        raise RatetoolError(f"No session of client {client} could be read. Nothing is shown.")
    if not result.ratings:
        renamed = state.store.renamed_to(client)
        if renamed is not None:
            raise RatetoolError(
                f"Client {client} was renamed to {renamed} (`ratetool clients rename`); its "
                f"sessions are shown under {renamed}: `ratetool chart {renamed}`."
            )
        raise RatetoolError(
            f"No ratings for client {client} in {state.data_dir}. `ratetool clients` lists the "
            "clients with ratings; client codes are case-sensitive."
        )
    thresholds = state.config.thresholds()
    report = client_report(result.ratings, state.resolve, thresholds, client=client)
    iid = instrument or report.instrument
    if iid not in report.instruments:
        raise RatetoolError(
            f"Client {client} has no ratings with instrument {iid!r}; they were rated with: "
            f"{', '.join(report.instruments)}."
        )
    definition = report.definitions.get(iid)
    if definition is None:
        raise RatetoolError(
            f"The definition of instrument {iid!r} was not found, so {client}'s sessions with it "
            "have no scores to chart. `ratetool instruments list` shows the instruments found."
        )
    data = client_json(report)
    trend = data["trends"][iid]
    sessions = trend["sessions"]
    overall = ("Overall % max", trend["series"]["pomp"])
    if dimensions:
        series = [
            (
                d.label,
                [
                    _percent(definition, v)
                    for _, v in report.scores.series(iid, d.id, include_missing=True)
                ],
            )
            for d in definition.dimensions
        ]
        series.append(overall)
    else:
        series = [overall]

    from ratetool.render.chart import chart_text
    from ratetool.render.tables import console

    con = console()
    if width is None:
        width = max(MIN_WIDTH, min(con.width, MAX_DEFAULT_WIDTH))
    # rich decides: no colour when piped, under NO_COLOR or TERM=dumb; colour under FORCE_COLOR
    colour = con.color_system is not None and not con.no_color
    what = "each dimension as % of the scale, then overall % max" if dimensions else "overall % max"
    scale = definition.scale
    title = (
        f"{client}: {iid} ({definition.title}, {scale.min}-{scale.max}), {what}, "
        f"{len(sessions)} session{'s' if len(sessions) != 1 else ''}"
    )
    text = chart_text(
        title=title,
        sessions=sessions,
        series=series,
        threshold=(thresholds.low, f"cutoff {thresholds.low:g}% (the low alert, on overall % max)"),
        y_range=(50.0, 100.0),
        width=width,
        height=height or (PANEL_HEIGHT if dimensions else HEIGHT),
        colour=colour,
        panels=dimensions,
    )
    others = [i for i in report.instruments if i != iid]
    if others:
        import textwrap

        said = f"Also rated with {', '.join(others)} (each instrument has its own chart):"
        text += "\n".join(textwrap.wrap(said, width)) + "\n"
        text += f"  ratetool chart {client} --instrument {others[0]}\n"
    _write(text, colour)
    show_problems(result.problems, err=False)
    if result.problems:
        raise typer.Exit(1)


def _percent(definition: "Instrument", value: float | None) -> float | None:
    """A dimension score as percent of the scale, rounded as % max is shown (1 decimal)."""
    from ratetool.report import shown
    from ratetool.scoring import item_percent

    return None if value is None else shown(item_percent(definition.scale, value), "pomp")


def _write(text: str, colour: bool) -> None:
    """Write ``text`` even where the output cannot encode every box character. Colour codes are
    kept exactly when rich would colour (``colour``)."""
    import sys

    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        text = text.encode(encoding, "replace").decode(encoding, "replace")
    typer.echo(text, nl=False, color=colour)


def register(app: typer.Typer) -> None:
    app.command("chart", help=HELP)(chart)
