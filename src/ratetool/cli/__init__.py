"""The command line: thin Typer commands over the core, and the one exit point.

Every command runs inside ``RatetoolGroup.invoke``, which maps what can go wrong to an exit status
and a calm message on stderr: ``RatetoolError`` → its message, exit 1; a file-system error → the
path and reason, exit 1; Ctrl-C → exit 130; end of input → exit 1; usage errors → exit 2 (Typer);
anything else is a bug: one line, exit 70, the traceback only with ``--debug`` (never with local
variables, which could hold clients' answers).
"""

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

    _built: dict[str, Any]

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in COMMANDS:
            return None
        built = self.__dict__.setdefault("_built", {})
        if cmd_name not in built:
            built[cmd_name] = _build_command(cmd_name)
        return built[cmd_name]

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
    # Plain help and error text: rich help formatting costs ~150 ms per start (rich + markdown).
    rich_markup_mode=None,
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


#: Commands, in the order ``--help`` lists them, and the module that defines each. A command's
#: module is imported, and its Click command built, only when that command runs (or when the full
#: command list is shown), so ``ratetool --version`` and shell completion stay fast.
COMMANDS: dict[str, str] = {
    "rate": "rate",
    "summary": "summary",
    "chart": "chart",
    "clients": "clients",
    "void": "corrections",
    "amend": "corrections",
    "export": "export",
    "import": "import_",
    "check": "check",
    "migrate": "migrate",
    "stats": "stats",
    "instruments": "instruments",
    "paths": "paths_init",
    "init": "paths_init",
    "demo": "demo",
}


def _build_command(name: str) -> Any:
    import importlib

    from typer.main import get_command_from_info, get_group_from_info
    from typer.models import TyperInfo

    module = importlib.import_module(f"ratetool.cli.{COMMANDS[name]}")
    short = app.pretty_exceptions_short
    markup = app.rich_markup_mode
    if isinstance(getattr(module, "app", None), typer.Typer):
        group = get_group_from_info(
            TyperInfo(module.app),
            pretty_exceptions_short=short,
            suggest_commands=True,
            rich_markup_mode=markup,
        )
        group.name = name
        return group
    holder = typer.Typer()
    module.register(holder)
    for info in holder.registered_commands:
        command = get_command_from_info(
            info, pretty_exceptions_short=short, rich_markup_mode=markup
        )
        if command.name == name:
            return command
    raise LookupError(f"ratetool.cli.{COMMANDS[name]} does not define the {name!r} command")


def main() -> None:
    """Console entry point (``ratetool`` and ``python -m ratetool``)."""
    import gc

    # A run lasts a second at most: the cyclic collector's passes over the hundreds of thousands
    # of objects a large caseload makes cost more time than the little memory they could free.
    gc.disable()
    app(prog_name="ratetool")
