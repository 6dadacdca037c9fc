"""``ratetool void``, ``ratetool amend`` and (for ``ratetool clients rename``) ``rename``:
putting a mistake right by an appended correction (``ratetool.corrections``); the original
rating stays in the file.

These are the practitioner's screens: the rating concerned is shown (session, date, instrument,
answers) and confirmed before anything is written, unless ``--yes``. Without a terminal to ask
at, ``--yes`` is required. Every refusal writes nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer

from ratetool.cli.state import get_state

if TYPE_CHECKING:
    from ratetool.cli.state import AppState
    from ratetool.corrections import CorrectedView, Correction
    from ratetool.instruments import Instrument
    from ratetool.model import Rating

# One line per paragraph (the help formatter keeps line breaks).
VOID_HELP = (
    "Mark a rating as entered in error (a test, the wrong client, a duplicate).\n\n"
    "The rating then counts nowhere: not in summaries, the caseload, charts or exports. "
    "Nothing is deleted: a correction is appended to the file, with the reason, and the "
    "original rating stays there.\n\n"
    "Example: ratetool void C-014 3 --reason 'rated for the wrong client'"
)
AMEND_HELP = (
    "Replace a rating's answers (and, with --comment, its comment).\n\n"
    "The session keeps its number and date; a correction with the new answers is appended to "
    "the file and the original rating stays there. Without --answers each question is asked "
    "again, the stored answer shown as the default (Enter keeps it).\n\n"
    "Example: ratetool amend C-014 3 --answers 8,9,7,10 --reason 'typed from the paper form'"
)
NEED_YES = "There is no terminal to ask for confirmation: add --yes to {what}. Nothing was written."

Client = Annotated[str, typer.Argument(metavar="CLIENT", help="The client code, e.g. C-014.")]
Session = Annotated[
    int, typer.Argument(metavar="SESSION", help="The session number, as summary lists it.")
]
Practitioner = Annotated[
    str | None,
    typer.Option(
        help="Your initials or code (default from config.toml).",
        metavar="NAME",
        show_default=False,
    ),
]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do it without asking to confirm.")]


def void(
    ctx: typer.Context,
    client: Client,
    session: Session,
    reason: Annotated[
        str | None,
        typer.Option(
            help="Why the rating is void (required), e.g. 'rated for the wrong client'.",
            metavar="TEXT",
            show_default=False,
        ),
    ] = None,
    practitioner: Practitioner = None,
    yes: Yes = False,
) -> None:
    from ratetool.corrections import VOID, check_new

    state = get_state(ctx)
    rating, view = _find(state, client, session)
    correction = _correction(state, VOID, rating, session, client, reason, practitioner)
    check_new(correction, view)  # a reason, a session that is there and not voided yet
    assert rating is not None  # check_new found it
    _show(rating, "Void")
    _confirm(yes, f"Void session {session} of {client}?", "void it")
    (path,) = state.store.add_corrections([correction])
    typer.echo(
        f"Voided session {session} of {client} (entered in error): it no longer counts in "
        "summaries, charts or exports."
    )
    typer.echo(f"The original rating stays in {path}, with the reason.")


def amend(
    ctx: typer.Context,
    client: Client,
    session: Session,
    answers: Annotated[
        str | None,
        typer.Option(
            metavar="LIST",
            help="The new answers: 8,9,7,10 or empathy=8,warmth=9,... (s skips, if allowed). "
            "Without it each question is asked again.",
            show_default=False,
        ),
    ] = None,
    comment: Annotated[
        str | None,
        typer.Option(
            help="A new comment (an empty one removes it); without it the comment stays.",
            metavar="TEXT",
            show_default=False,
        ),
    ] = None,
    reason: Annotated[
        str | None,
        typer.Option(help="Why the answers change (optional).", metavar="TEXT", show_default=False),
    ] = None,
    practitioner: Practitioner = None,
    yes: Yes = False,
) -> None:
    from ratetool.answers import clean_comment, parse_answers_option
    from ratetool.corrections import AMEND, CorrectionError, check_new

    state = get_state(ctx)
    rating, view = _find(state, client, session)
    probe = _correction(state, AMEND, rating, session, client, reason, practitioner)
    check_new(probe, view)  # the session is there and not voided
    assert rating is not None
    instrument = state.registry.get_version(rating.instrument, rating.instrument_version)
    if instrument is None:
        raise CorrectionError(
            f"Session {session} was rated with {rating.instrument} version "
            f"{rating.instrument_version}, whose definition is not found, so new answers cannot "
            "be checked. Nothing was written."
        )
    new_comment = None if comment is None else (clean_comment(comment) or "")
    if answers is None and not yes and not at_terminal():
        raise CorrectionError(NEED_YES.format(what="amend it"))
    _show(rating, "Amend")
    if answers is not None:
        given, skipped = parse_answers_option(instrument, answers)
    else:
        given, skipped = _ask_again(instrument, rating)
    unchanged = given == rating.answers and set(skipped) == set(rating.skipped)
    if unchanged and (new_comment is None or (new_comment or None) == rating.comment):
        typer.echo("Nothing changed; nothing was written.")
        return
    correction = _correction(
        state,
        AMEND,
        rating,
        session,
        client,
        reason,
        practitioner,
        answers=given,
        skipped=skipped,
        comment=new_comment,
    )
    check_new(correction, view, state.store.rules())
    typer.echo(f"New answers: {_answers_line(instrument.item_ids, given, skipped)}")
    if new_comment is not None:
        typer.echo(f"New comment: {_visible(new_comment) or '(none)'}")
    _confirm(yes, f"Save these answers for session {session} of {client}?", "amend it")
    (path,) = state.store.add_corrections([correction])
    typer.echo(
        f"Amended session {session} of {client}: it counts with the new answers from now on."
    )
    typer.echo(f"The original answers stay in {path}.")


def rename(ctx: typer.Context, old: str, new: str, reason: str | None, yes: bool) -> None:
    """``ratetool clients rename OLD NEW`` (the command is in ``ratetool.cli.clients``)."""
    from ratetool.answers import clean_practitioner
    from ratetool.codes import validate_client_code
    from ratetool.corrections import RENAME, Correction, CorrectionError, new_correction_id
    from ratetool.model import now

    state = get_state(ctx)
    validate_client_code(old)
    validate_client_code(new)
    result = state.store.read_client(old)
    stored = [*result.ratings, *result.voided]
    if not stored:
        raise CorrectionError(f"Client {old} has no ratings to rename; nothing was written.")
    correction = Correction(
        new_correction_id(),
        old,
        RENAME,
        now(),
        reason=(reason or "").strip() or None,
        practitioner=clean_practitioner(state.config.practitioner),
        new_client=new,
    )
    first = min(r.rated_at for r in stored).date().isoformat()
    last = max(r.rated_at for r in stored).date().isoformat()
    n = len(result.ratings)
    typer.echo(
        f"Rename client {old} to {new}: {n} session{'s' if n != 1 else ''} ({first} to {last}) "
        f"will be shown and exported under {new}."
    )
    _confirm(yes, f"Rename {old} to {new}?", "rename it")
    state.store.rename_client(correction)
    typer.echo(f"Renamed {old} to {new}. `ratetool rate {new}` continues its session numbers.")
    typer.echo(f"Nothing was deleted: what was stored under {old} is kept (`ratetool check`).")


# -- pieces ------------------------------------------------------------------------------------


def _find(state: AppState, client: str, session: int) -> tuple[Rating | None, CorrectedView]:
    """The rating of ``client`` numbered ``session`` (voided ones too), and the client's view."""
    from ratetool.codes import validate_client_code
    from ratetool.corrections import CorrectedView, CorrectionError
    from ratetool.store import refuse_if_problems

    validate_client_code(client)
    result = state.store.read_client(client)
    refuse_if_problems(result.problems)
    if not result.ratings and not result.voided:
        raise CorrectionError(f"There are no ratings for client {client}; nothing was written.")
    found = next((r for r in (*result.ratings, *result.voided) if r.session == session), None)
    return found, CorrectedView(ratings=result.ratings, voided=result.voided)


def _correction(
    state: AppState,
    action: str,
    rating: Rating | None,
    session: int,
    client: str,
    reason: str | None,
    practitioner: str | None,
    **more: object,
) -> Correction:
    from ratetool.answers import clean_practitioner
    from ratetool.corrections import Correction, new_correction_id
    from ratetool.model import now

    who = practitioner if practitioner is not None else state.config.practitioner
    return Correction(
        new_correction_id(),
        client,
        action,
        now(),
        rating=rating.id if rating is not None else None,
        session=session,
        reason=(reason or "").strip() or None,
        practitioner=clean_practitioner(who),
        **more,  # type: ignore[arg-type]
    )


def _visible(text: str) -> str:
    from ratetool.limits import visible

    return visible(text)


def _answers_line(items: Sequence[str], answers: dict[str, int], skipped: Sequence[str]) -> str:
    return ", ".join(
        f"{i}={answers[i]}" if i in answers else f"{i}=skipped"
        for i in items
        if i in answers or i in skipped
    )


def _show(rating: Rating, what: str) -> None:
    """The rating concerned, on the practitioner's screen."""
    when = rating.rated_at.strftime("%Y-%m-%d %H:%M")
    typer.echo(
        f"{what} session {rating.session} of {rating.client}: rated {when}, "
        f"{rating.instrument} version {rating.instrument_version}"
        + (f", by {_visible(rating.practitioner)}" if rating.practitioner else "")
    )
    items = [*rating.answers, *rating.skipped]
    typer.echo(f"  answers: {_answers_line(items, rating.answers, rating.skipped)}")
    if rating.comment:
        typer.echo(f"  comment: {_visible(rating.comment)}")


def at_terminal() -> bool:
    """Whether there is a person at a terminal to ask (standard input is one)."""
    return sys.stdin.isatty()


def _confirm(yes: bool, question: str, what: str) -> None:
    from ratetool.corrections import CorrectionError

    if yes:
        return
    if not at_terminal():
        raise CorrectionError(NEED_YES.format(what=what))
    if not typer.confirm(question, default=False):
        typer.echo("Nothing was written.", err=True)
        raise typer.Exit(1)


def _ask_again(instrument: Instrument, rating: Rating) -> tuple[dict[str, int], tuple[str, ...]]:
    """Each question again, the stored answer the default (Enter keeps it, b goes back): the
    questionnaire's own prompts, without its introduction, comment or review."""
    import shutil

    from ratetool.questionnaire import SKIPPED, Interview

    interview = Interview(
        instrument,
        ask=input,
        say=typer.echo,
        ask_comment=False,
        review=False,
        width=min(100, shutil.get_terminal_size((80, 24)).columns) - 1,
    )
    items = instrument.items
    for item in items:
        if item.id in rating.answers:
            interview.values[item.id] = rating.answers[item.id]
        elif item.id in rating.skipped:
            interview.values[item.id] = SKIPPED
    step = 0
    while step < len(items):
        got = interview.ask_item(step)
        if got == "back":
            step = max(0, step - 1)
            continue
        interview.values[items[step].id] = got
        step += 1
    answers = {i.id: v for i in items if isinstance(v := interview.values.get(i.id), int)}
    skipped = tuple(i.id for i in items if interview.values.get(i.id) is SKIPPED)
    return answers, skipped


def register(app: typer.Typer) -> None:
    app.command("void", help=VOID_HELP)(void)
    app.command("amend", help=AMEND_HELP)(amend)
