"""``ratetool chart CLIENT``: the four dimensions and overall across sessions, as a line chart."""

from typing import Annotated

import typer

from ratetool.cli.check import show_problems
from ratetool.cli.state import get_state

HELP = (
    "A line chart of one client's dimension scores and overall, session by session, with the "
    "`low` alert threshold drawn as a dashed line.\n\n"
    "Each line has its own letter at every session (E for Empathy, O for Overall, ...), named "
    "in the legend under the chart, so it reads without colour. Scores are on the instrument's "
    "scale, from the middle of the scale (or lower, if a score is lower) to the top. Trends are "
    "per instrument: --instrument picks one (default: the latest session's)."
)

MIN_WIDTH = 40
MAX_DEFAULT_WIDTH = 100


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
    height: Annotated[
        int, typer.Option("--height", min=8, metavar="N", help="Lines high, legend not counted.")
    ] = 20,
) -> None:
    from ratetool.codes import validate_client_code
    from ratetool.errors import RatetoolError
    from ratetool.report import client_json, client_report, percent_on_scale

    state = get_state(ctx)
    validate_client_code(client)
    result = state.store.read_client(client)
    if not result.ratings and result.problems:
        show_problems(result.problems, err=True)
        raise RatetoolError(f"No session of client {client} could be read. Nothing is shown.")
    if not result.ratings:
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
    labels = {d.id: d.label for d in definition.dimensions}
    series = [(labels[d], trend["series"][d]) for d in definition.dimension_ids]
    series.append(("Overall", trend["series"]["overall"]))

    from ratetool.render import console, spark_range

    con = console()
    if width is None:
        width = max(MIN_WIDTH, min(con.width, MAX_DEFAULT_WIDTH))
    # rich decides: no colour when piped, under NO_COLOR or TERM=dumb; colour under FORCE_COLOR
    colour = con.color_system is not None and not con.no_color
    low_line = percent_on_scale(definition, thresholds.low)
    shown_values = [v for _, values in series for v in values if v is not None]
    bottom, top = spark_range("overall", definition)
    bottom = min([bottom, low_line, *shown_values])
    scale = definition.scale
    title = (
        f"{client}: {iid} ({definition.title}, {scale.min}-{scale.max}), "
        f"{len(sessions)} session{'s' if len(sessions) != 1 else ''}"
    )
    from ratetool.render import chart_text

    text = chart_text(
        title=title,
        sessions=sessions,
        series=series,
        threshold=(low_line, f"low: {thresholds.low:g}% of the scale = {low_line:g}"),
        y_range=(float(int(bottom)) if bottom >= 0 else float(bottom), float(top)),
        width=width,
        height=height,
        colour=colour,
    )
    others = [i for i in report.instruments if i != iid]
    if others:
        text += (
            f"Also rated with {', '.join(others)} (each instrument has its own chart):\n"
            f"  ratetool chart {client} --instrument {others[0]}\n"
        )
    _write(text, colour)
    show_problems(result.problems, err=False)
    if result.problems:
        raise typer.Exit(1)


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
