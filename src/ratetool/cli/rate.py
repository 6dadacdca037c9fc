"""``ratetool rate CLIENT``: the end-of-session check-in."""

import shutil
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from ratetool.cli.state import get_state

if TYPE_CHECKING:
    from ratetool.model import Rating
    from ratetool.store import Store

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
    from ratetool.store import refuse_if_problems

    state = get_state(ctx)
    validate_client_code(client)
    # `is not None`: an empty --instrument or --date (say, an unset shell variable) is refused,
    # never silently replaced by the default instrument or by "now".
    inst = state.registry.get(instrument if instrument is not None else state.config.instrument)
    rated_at = parse_when(date) if date is not None else None
    who = practitioner if practitioner is not None else state.config.practitioner
    # Checked now, not in build_rating after the client has spent a minute on the answers.
    clean_practitioner(who)
    clean_comment(comment)
    store = state.store
    # Refuse before the client spends a minute on answers that could not be saved.
    refuse_if_problems(store.read_client(client).problems)
    store.refuse_case_twin(client)

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
    else:
        from ratetool.questionnaire import Interview

        interview = Interview(
            inst,
            ask=input,
            say=typer.echo,
            comment=comment,
            review=not yes,
            width=min(100, shutil.get_terminal_size((80, 24)).columns) - 1,
        )
        result = interview.run()
        rating = build_rating(
            inst,
            client,
            result.answers,
            result.skipped,
            rated_at=rated_at,
            practitioner=who,
            comment=result.comment,
        )
    kept = state.registry.keep_copy(inst)
    if kept is not None:
        typer.echo(
            f"Kept a copy of instrument {inst.id} in {kept} so its ratings can be scored later."
        )
    added = _save(store, rating, interactive=answers is None)
    if answers is None:
        typer.echo("")
        typer.echo(m.THANK_YOU)
        typer.echo("")
    typer.echo(m.SAVED.format(session=added.session, client=client, path=store.file_for(client)))


def _save(store: "Store", rating: "Rating", *, interactive: bool) -> "Rating":
    """Append the rating; after an interview, a failed save can be tried again, so the client's
    answers are not lost to a full disk, a busy lock or a folder that was unplugged."""
    from ratetool import messages as m
    from ratetool.errors import DamagedFileError, RatetoolError

    while True:
        try:
            return store.add([rating]).added[0]
        except (RatetoolError, OSError) as exc:
            if not interactive or isinstance(exc, DamagedFileError):
                raise
            reason = (
                str(exc) if isinstance(exc, RatetoolError) else f"{exc.filename}: {exc.strerror}"
            )
            typer.echo(m.SAVE_FAILED.format(reason=reason), err=True)
            choice = input(m.SAVE_RETRY).strip().lower()
            if choice in ("q", "quit"):
                typer.echo(m.CANCELLED, err=True)
                raise typer.Exit(1) from None


def register(app: typer.Typer) -> None:
    app.command("rate", help=HELP)(rate)
