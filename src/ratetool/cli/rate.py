"""``ratetool rate CLIENT``: the end-of-session check-in.

The client's screen holds only the client's questions: at a terminal it is cleared (scrollback
too, where the terminal allows) before the introduction; whatever the store would refuse is
refused before the first question; a save that still fails shows the client a calm thank-you and
the practitioner the reason and a command that saves the same answers later. The exit status is
0 whenever the rating was saved, even if the line saying so cannot be printed.
"""

import os
import shutil
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from ratetool.cli.state import AppState, get_state

if TYPE_CHECKING:
    from ratetool.instruments import Instrument
    from ratetool.model import Rating
    from ratetool.questionnaire import InterviewResult
    from ratetool.store import Store

#: Clear the screen and put the cursor top left (what Click's ``clear()`` writes), then clear
#: the scrollback (xterm's ``ESC [ 3 J``, understood by most terminals, ignored by the others).
CLEAR_SCREEN = "\033[2J\033[1;1H\033[3J"

# One line per paragraph: the help formatter keeps line breaks, so a paragraph wrapped here
# would show ragged in `ratetool rate --help`.
HELP = (
    "Ask the client the questionnaire and save their answers.\n\n"
    "Turn the screen to the client: one question at a time, b goes back, a review at the end. "
    "No scores and no other client's data are shown.\n\n"
    "With --answers the rating is saved without questions (paper forms, scripts): "
    "--answers 8,9,7,10 in the instrument's item order, or "
    "--answers empathy=8,warmth=9,genuineness=7,trust=10."
)


def rate(
    ctx: typer.Context,
    client: Annotated[
        str,
        typer.Argument(
            metavar="CLIENT", help="Pseudonymous client code, e.g. C-014 (never a name)."
        ),
    ],
    instrument: Annotated[
        str | None,
        typer.Option(
            "--instrument",
            "-i",
            metavar="ID|PATH",
            help="Instrument id or path to a .toml file.",
            show_default=False,
        ),
    ] = None,
    practitioner: Annotated[
        str | None,
        typer.Option(
            help="Your initials or code (default from config.toml).",
            metavar="NAME",
            show_default=False,
        ),
    ] = None,
    date: Annotated[
        str | None,
        typer.Option(
            "--date",
            metavar="DATE",
            help="When the session was, for paper forms: 2026-11-03 or 2026-11-03T10:50.",
            show_default=False,
        ),
    ] = None,
    answers: Annotated[
        str | None,
        typer.Option(
            metavar="LIST",
            help="All answers at once: 8,9,7,10 or empathy=8,warmth=9,... (s skips, if allowed).",
            show_default=False,
        ),
    ] = None,
    comment: Annotated[
        str | None, typer.Option(help="The client's comment.", metavar="TEXT", show_default=False)
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Save without the final review or confirmation.")
    ] = False,
) -> None:
    from ratetool import messages as m
    from ratetool.answers import (
        build_rating,
        clean_comment,
        clean_practitioner,
        parse_answers_option,
    )
    from ratetool.model import parse_when, validate_client_code

    state = get_state(ctx)
    validate_client_code(client)
    # `is not None`: an empty --instrument or --date (say, an unset shell variable) is refused,
    # never silently replaced by the default instrument or by "now".
    spec = instrument if instrument is not None else state.config.instrument
    inst = state.registry.get(spec)
    rated_at = parse_when(date) if date is not None else None
    who = practitioner if practitioner is not None else state.config.practitioner
    # Checked now, not in build_rating after the client has spent a minute on the answers.
    clean_practitioner(who)
    clean_comment(comment)
    store = state.store
    # Refuse before the client spends a minute on answers that could not be saved.
    store.check_can_add(client, inst)

    if answers is not None:
        given, skipped = parse_answers_option(inst, answers)
        rating = build_rating(
            inst, client, given, skipped, rated_at=rated_at, practitioner=who, comment=comment
        )
        if not yes and sys.stdin.isatty():
            shown = ", ".join(f"{i}={rating.answers.get(i, 'skipped')}" for i in inst.item_ids)
            typer.echo(f"{inst.id}: {shown}")
            if rating.comment:
                typer.echo(f"comment: {rating.comment}")
            if not typer.confirm(m.CONFIRM_SAVE.format(client=client), default=True):
                typer.echo(m.NOT_SAVED, err=True)
                raise typer.Exit(1)
        kept = state.registry.keep_copy(inst)
        added = store.add([rating]).added[0]
    else:
        from ratetool.errors import RatetoolError
        from ratetool.model import now
        from ratetool.questionnaire import Interview

        if sys.stdin is None:  # started with standard input closed (`<&-`): nobody can answer
            raise EOFError
        _clear_screen()
        interview = Interview(
            inst,
            ask=input,
            say=typer.echo,
            comment=comment,
            review=not yes,
            width=min(100, shutil.get_terminal_size((80, 24)).columns) - 1,
        )
        result = interview.run()
        when = rated_at or now()
        typer.echo("")
        typer.echo(m.THANK_YOU)
        typer.echo("")
        # From here on the practitioner has the screen; whatever stops the save, the answers
        # are not lost: the command that saves them later is printed.
        later = _save_later(state, client, spec, inst, result, when, who)
        try:
            rating = build_rating(
                inst,
                client,
                result.answers,
                result.skipped,
                rated_at=when,
                practitioner=who,
                comment=result.comment,
            )
            kept = state.registry.keep_copy(inst)
            added = _save(store, rating)
        except (RatetoolError, OSError) as exc:
            typer.echo(_reason(exc), err=True)
            typer.echo(m.SAVE_LATER.format(command=later), err=True)
            raise typer.Exit(1) from None
        except (KeyboardInterrupt, EOFError, typer.Exit):
            typer.echo(m.SAVE_LATER.format(command=later), err=True)
            raise
    # Saved: nothing below may turn that into a failure.
    said = [m.SAVED.format(session=added.session, client=client, path=store.file_for(client))]
    if kept is not None:
        said.insert(
            0, f"Kept a copy of instrument {inst.id} in {kept} so its ratings can be scored later."
        )
    _tell_saved(said)


def _clear_screen() -> None:
    """At a terminal (input and output both), clear the screen and its scrollback, so nothing
    from before (another client's code in `ratetool clients`) is visible to the client. Piped
    output, or a terminal that says it cannot (TERM=dumb), is left as it is."""
    if not all(stream is not None and stream.isatty() for stream in (sys.stdin, sys.stdout)):
        return
    if os.name != "nt" and os.environ.get("TERM", "dumb") in ("", "dumb"):
        return
    typer.echo(CLEAR_SCREEN, nl=False)


def _reason(exc: BaseException) -> str:
    """A failed save in words, for the practitioner."""
    if isinstance(exc, OSError):
        return f"Could not use {exc.filename or 'a file'}: {exc.strerror or exc}."
    return str(exc)


def _save(store: "Store", rating: "Rating") -> "Rating":
    """Append the rating after an interview. A failed save can be tried again, so the client's
    answers are not lost to a full disk, a busy lock or a folder that was unplugged; a damaged
    file (fixed by hand or by `check --repair`, not by waiting) is raised at once."""
    from ratetool import messages as m
    from ratetool.errors import DamagedFileError, RatetoolError

    while True:
        try:
            return store.add([rating]).added[0]
        except (RatetoolError, OSError) as exc:
            if isinstance(exc, DamagedFileError):
                raise
            typer.echo(m.SAVE_FAILED.format(reason=_reason(exc)), err=True)
            choice = input(m.SAVE_RETRY).strip().lower()
            if choice in ("q", "quit"):
                raise typer.Exit(1) from None


def _save_later(
    state: AppState,
    client: str,
    spec: str,
    inst: "Instrument",
    result: "InterviewResult",
    when: datetime,
    who: str | None,
) -> str:
    """The command that saves these answers later, quoted for this system's shell."""
    args = ["ratetool"]
    if state.data_dir_option is not None:
        args.append(f"--data-dir={os.path.abspath(state.data_dir_option)}")
    if state.config_dir_option is not None:
        args.append(f"--config-dir={os.path.abspath(state.config_dir_option)}")
    given = ",".join(
        f"{item}={result.answers[item] if item in result.answers else 's'}"
        for item in inst.item_ids
    )
    if spec.endswith(".toml") or "/" in spec or os.sep in spec:  # a file: found from anywhere
        spec = os.path.abspath(os.path.expanduser(spec))
    args += ["rate", client, f"--instrument={spec}", f"--date={when.isoformat()}"]
    args.append(f"--answers={given}")
    if result.comment:
        args.append(f"--comment={result.comment}")
    if who is not None:
        args.append(f"--practitioner={who}")
    args.append("--yes")
    if os.name == "nt":
        import subprocess

        return subprocess.list2cmdline(args)
    import shlex

    return shlex.join(args)


def _tell_saved(lines: list[str]) -> None:
    """Print the practitioner's lines after the rating was saved. A reader that went away
    (`| head`, `| true`) or a closed output must not make a saved rating exit 1: a script would
    try again and store it twice. Then the "Saved" line goes to standard error, if it can."""
    try:
        if sys.stdout is None:  # started with standard output closed (`>&-`)
            raise ValueError("no standard output")
        for line in lines:
            typer.echo(line)
    except (OSError, ValueError):
        _quiet_stdout()
        try:
            typer.echo(lines[-1], err=True)
        except (OSError, ValueError):
            pass


def _quiet_stdout() -> None:
    """Point standard output at the null device, so the flush when Python exits does not fail
    on the same broken pipe (as the Python documentation's note on SIGPIPE advises)."""
    try:
        fd = sys.stdout.fileno()
        null = os.open(os.devnull, os.O_WRONLY)
    except (OSError, ValueError, AttributeError):
        return  # no real file behind it (a test runner): nothing will be flushed to a pipe
    try:
        os.dup2(null, fd)
    except OSError:
        pass
    finally:
        os.close(null)


def register(app: typer.Typer) -> None:
    app.command("rate", help=HELP)(rate)
