"""The command line: thin Typer commands over the core, and the one exit point.

Every command runs inside ``RatetoolGroup.invoke``, which maps what can go wrong to an exit status
and a calm message on stderr: ``RatetoolError`` → its message, exit 1; a file-system error → the
path and reason, exit 1; Ctrl-C → exit 130; end of input → exit 1; usage errors → exit 2 (Typer);
anything else is a bug: one line, exit 70, the traceback only with ``--debug`` (never with local
variables, which could hold clients' answers).
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from ratetool import __version__
from ratetool.cli.state import AppState, get_state

BUG_EXIT = 70


def _say_error(text: str) -> None:
    typer.echo(text, err=True)


class RatetoolGroup(TyperGroup):
    """The root command group; its ``invoke`` is ratetool's single exit point."""

    def invoke(self, ctx: Any) -> Any:
        from ratetool.errors import RatetoolError

        try:
            return super().invoke(ctx)
        except RatetoolError as exc:
            _say_error(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except typer.Abort as exc:
            # A Click prompt (typer.confirm/typer.prompt) turns Ctrl-C and end of input into
            # Abort, which Click would report as "Aborted." with exit 1: answer them as the
            # questionnaire does (130 / 1, saying nothing was saved).
            from ratetool import messages

            if isinstance(exc.__context__, KeyboardInterrupt):
                _say_error("\n" + messages.CANCELLED)
                raise typer.Exit(130) from None
            if isinstance(exc.__context__, EOFError):
                _say_error("\n" + messages.PROMPT_INPUT_ENDED)
                raise typer.Exit(1) from None
            raise
        except (typer.Exit, typer.BadParameter):
            raise
        except KeyboardInterrupt:
            from ratetool import messages

            _say_error("\n" + messages.CANCELLED)
            raise typer.Exit(130) from None
        except EOFError:
            from ratetool import messages

            _say_error("\n" + messages.INPUT_ENDED)
            raise typer.Exit(1) from None
        except OSError as exc:
            if exc.__class__.__module__.startswith(("typer", "click")):
                raise
            if isinstance(exc, BrokenPipeError):
                # The reader went away (`ratetool clients | head`): Typer's main exits 1 quietly.
                # Not "Could not use a file ... Nothing was changed", which may be untrue.
                raise
            where = exc.filename or "a file"
            _say_error(f"Could not use {where}: {exc.strerror or exc}. Nothing was changed.")
            raise typer.Exit(1) from None
        except Exception as exc:
            if _is_click_exception(exc):
                raise
            debug = isinstance(ctx.obj, AppState) and ctx.obj.debug
            if debug or os.environ.get("RATETOOL_DEBUG"):
                import traceback

                traceback.print_exc(file=sys.stderr)
            _say_error(
                f"ratetool hit an internal error ({exc.__class__.__name__}). This is a bug; your "
                "data was not changed. Run the same command with --debug and report the "
                "traceback (it holds no answers)."
            )
            raise typer.Exit(BUG_EXIT) from None


def _is_click_exception(exc: BaseException) -> bool:
    return exc.__class__.__module__.startswith(("typer", "click"))


app = typer.Typer(
    cls=RatetoolGroup,
    name="ratetool",
    help=(
        "Session alliance ratings: the client rates today's session in a minute; you see how the "
        "relationship is going over time. Everything stays in plain files on this computer."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ratetool {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    data_dir: Annotated[
        str | None,
        typer.Option(
            "--data-dir",
            help="Folder with the ratings (overrides RATETOOL_DATA_DIR).",
            metavar="PATH",
            show_default=False,
        ),
    ] = None,
    config_dir: Annotated[
        str | None,
        typer.Option(
            "--config-dir",
            help="Folder with config.toml and custom instruments (overrides RATETOOL_CONFIG_DIR).",
            metavar="PATH",
            show_default=False,
        ),
    ] = None,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show a traceback if ratetool hits a bug.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Session alliance ratings kept in plain files you own."""
    state = get_state(ctx)
    state.data_dir_option = data_dir
    state.config_dir_option = config_dir
    state.debug = debug


def _register() -> None:
    from ratetool.cli import (
        chart,
        check,
        clients,
        export,
        import_,
        instruments,
        migrate,
        rate,
        setup,
        summary,
    )

    rate.register(app)
    summary.register(app)
    chart.register(app)
    clients.register(app)
    export.register(app)
    import_.register(app)
    check.register(app)
    migrate.register(app)
    setup.register(app)
    app.add_typer(instruments.app, name="instruments")


_register()


def main() -> None:
    """Console entry point (``ratetool`` and ``python -m ratetool``)."""
    app(prog_name="ratetool")
