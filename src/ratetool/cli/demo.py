"""``ratetool demo``: try the check-in and the caseload without touching any real folder.

The demo makes its own data and config folders in one temporary folder, writes the example
caseload into the data folder (``ratetool.demo_caseload``, the clients of examples/data), runs
the ``rate`` command's own function for a made-up client, then the ``summary`` command's for the
caseload, and removes the temporary folder: also on an error, on Ctrl-C, and when the terminal is
closed or the process is asked to stop (SIGHUP, SIGTERM). The practitioner's data and config
folders (and ``--data-dir``/``--config-dir``) are never read, created or written.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

DEFAULT_CLIENT = "DEMO-1"

# One line per paragraph: the help formatter keeps line breaks.
HELP = (
    "Try ratetool: a check-in for a made-up client, then the caseload, and nothing is kept.\n\n"
    "The demo works in a temporary folder that holds four example clients (C-101 to C-104). "
    "Answer the questions as a client would; the caseload summary then shows the new rating "
    "among the others, and the temporary folder is removed. Your own data and config folders "
    "(and --data-dir, --config-dir) are not read or written.\n\n"
    "Examples:\n\n"
    "ratetool demo\n\n"
    "ratetool demo --answers 8,9,7,10 --yes"
)

INTRO = (
    "ratetool demo: a check-in for a made-up client, {client}, in a temporary folder\n"
    "with four example clients. Your own data and settings are not touched."
)
CASELOAD = "What you would see next: the caseload, with {client} among the example clients."
GONE = (
    "The demo folder is gone; nothing was kept.\n"
    "To start for real, after a session turn the screen to your client and run\n\n"
    "    ratetool rate CLIENT\n\n"
    "with a code such as C-014 (never a name). `ratetool --help` lists every command."
)


def demo(
    ctx: typer.Context,
    client: Annotated[
        str,
        typer.Option(
            "--client",
            metavar="CODE",
            help="The made-up client's code.",
        ),
    ] = DEFAULT_CLIENT,
    answers: Annotated[
        str | None,
        typer.Option(
            metavar="LIST",
            help="All answers at once, as `rate --answers` takes them: 8,9,7,10.",
            show_default=False,
        ),
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Save without the final review or confirmation.")
    ] = False,
) -> None:
    import tempfile
    from pathlib import Path

    from ratetool import demo_caseload
    from ratetool.cli.rate import rate
    from ratetool.cli.state import AppState
    from ratetool.cli.summary import summary
    from ratetool.codes import validate_client_code

    validate_client_code(client)  # before the introduction that names it
    typer.echo(INTRO.format(client=client))
    typer.echo("")
    if answers is None and sys.stdin.isatty() and sys.stdout.isatty():
        # The check-in clears the screen before its first question (the client sees only their
        # questions): let the reader take this in first.
        typer.echo("Press Enter to begin the check-in (Ctrl-C stops the demo).")
        sys.stdin.readline()
    with _stopped_by_signals(), tempfile.TemporaryDirectory(prefix="ratetool-demo-") as tmp:
        data_dir = Path(tmp) / "data"
        config_dir = Path(tmp) / "config"
        demo_caseload.seed(data_dir)
        # A root context of its own: the commands find the demo's folders through get_state(),
        # never the folders of this run's options or environment.
        state = AppState(str(data_dir), str(config_dir))
        demo_ctx = typer.Context(ctx.command, info_name=ctx.info_name, obj=state)
        with demo_ctx:
            rate(demo_ctx, client, answers=answers, yes=yes)
            typer.echo("")
            typer.echo(CASELOAD.format(client=client))
            typer.echo("")
            summary(demo_ctx)
    typer.echo("")
    typer.echo(GONE)


@contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """Turn SIGHUP (the terminal was closed) and SIGTERM into an exit that unwinds the stack, so
    the temporary folder is removed; Python's default for both ends the process where it is."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    kinds = [getattr(signal, name) for name in ("SIGHUP", "SIGTERM") if hasattr(signal, name)]
    before = {kind: signal.signal(kind, stop) for kind in kinds}
    try:
        yield
    finally:
        for kind, handler in before.items():
            signal.signal(kind, handler)


def register(app: typer.Typer) -> None:
    app.command("demo", help=HELP)(demo)
