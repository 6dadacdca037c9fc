"""``ratetool summary [CLIENT]``: scores, trends and alerts for one client or the whole caseload.

A file with a problem never hides the others: everything that reads is shown, the problems are
named under it (on stderr with ``--json``, so standard output stays the documented JSON) and the
exit status is 1.
"""

from datetime import date
from enum import Enum
from typing import Annotated

import typer

from ratetool.cli.check import show_problems
from ratetool.cli.state import get_state

#: Rows the caseload table shows unless --all or --top says otherwise.
DEFAULT_TOP = 30
#: Sessions the table of ``summary CLIENT`` shows unless --all (trends always use every session).
DEFAULT_SESSIONS = 20

HELP = (
    "Scores, trends and alerts: for one client, or for the whole caseload.\n\n"
    "With CLIENT: one row per session (date, session number, the dimension scores, overall, % of "
    "the maximum, total and a status: alert, watch or ok), each alert's kind and reason in words "
    "under the table, and per "
    "instrument a sparkline for each score with the change since the first and the previous "
    "session, and reliable change where the instrument has norms. An amended session is marked "
    "* and counts with its corrected answers; voided ratings count nowhere. --history lists the "
    "corrections (when, what, why, by whom).\n\n"
    "Without CLIENT: one row per client, those who need attention first: sessions, last date, "
    "the latest overall and % max, the last 10 sessions as a sparkline and the status (by "
    "which, then by lowest % max, the caseload is ordered), and the latest session's alerts "
    "under the table. --by month: sessions, mean % max and sessions with alerts per month."
)


class By(str, Enum):
    month = "month"


def parse_since(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date; give one like 2026-11-03.", param_hint="'--since'"
        ) from None


def _json(value: object) -> None:
    import json

    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))


def summary(
    ctx: typer.Context,
    client: Annotated[
        str | None,
        typer.Argument(
            metavar="CLIENT", help="Client code, e.g. C-014. Leave out for the whole caseload."
        ),
    ] = None,
    items: Annotated[
        bool, typer.Option("--items", help="Also show every item's answer (with CLIENT).")
    ] = False,
    comments: Annotated[
        bool, typer.Option("--comments", help="Also show the client's comments (with CLIENT).")
    ] = False,
    history: Annotated[
        bool,
        typer.Option(
            "--history",
            help="Also list the client's corrections: voided, amended, renamed (with CLIENT).",
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON instead of tables (same numbers).")
    ] = False,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            metavar="DATE",
            help="Caseload: only clients (or, with --by month, sessions) rated on or after DATE.",
            show_default=False,
        ),
    ] = None,
    practitioner: Annotated[
        str | None,
        typer.Option(
            "--practitioner",
            metavar="NAME",
            help="Caseload: only clients (or, with --by month, sessions) rated by NAME.",
            show_default=False,
        ),
    ] = None,
    by: Annotated[
        By | None,
        typer.Option(
            "--by",
            help="Caseload per calendar month: sessions, clients, mean % max, sessions with alerts.",
            show_default=False,
        ),
    ] = None,
    show_all: Annotated[
        bool,
        typer.Option(
            "--all",
            help=f"List every client, not the first {DEFAULT_TOP}; with CLIENT, every session, "
            f"not the last {DEFAULT_SESSIONS}.",
        ),
    ] = False,
    top: Annotated[
        int,
        typer.Option(
            "--top",
            min=1,
            metavar="N",
            help="Caseload: list the N clients who need attention first.",
        ),
    ] = DEFAULT_TOP,
) -> None:
    state = get_state(ctx)
    since_day = parse_since(since)
    if client is not None:
        for flag, given in (
            ("--since", since is not None),
            ("--practitioner", practitioner is not None),
            ("--by", by is not None),
        ):
            if given:
                raise typer.BadParameter(
                    f"{flag} is for the caseload; leave out the client code to use it.",
                    param_hint=f"'{flag}'",
                )
        _client_summary(
            state,
            client,
            items=items,
            comments=comments,
            history=history,
            as_json=as_json,
            limit=None if show_all else DEFAULT_SESSIONS,
        )
        return
    for flag, given in (("--items", items), ("--comments", comments), ("--history", history)):
        if given:
            raise typer.BadParameter(
                f"{flag} is for one client: ratetool summary CLIENT {flag}.", param_hint=f"'{flag}'"
            )
    _caseload_summary(
        state,
        since=since_day,
        practitioner=practitioner,
        by_month=by is not None,
        limit=None if show_all else top,
        as_json=as_json,
    )


def _client_summary(
    state,
    client: str,
    *,
    items: bool,
    comments: bool,
    history: bool,
    as_json: bool,
    limit: int | None,
) -> None:
    from ratetool.codes import validate_client_code
    from ratetool.errors import RatetoolError

    validate_client_code(client)
    result = state.store.read_client(client)
    if not result.ratings and result.problems:
        show_problems(result.problems, err=True)
        raise RatetoolError(f"No session of client {client} could be read. Nothing is shown.")
    if not result.ratings and not result.voided:
        renamed = state.store.renamed_to(client)
        if renamed is not None:
            raise RatetoolError(
                f"Client {client} was renamed to {renamed} (`ratetool clients rename`); its "
                f"sessions are shown under {renamed}: `ratetool summary {renamed}`."
            )
        raise RatetoolError(
            f"No ratings for client {client} in {state.data_dir}. `ratetool clients` lists the "
            "clients with ratings; client codes are case-sensitive."
        )
    if not result.ratings and not history:
        raise RatetoolError(
            f"Every rating of client {client} is voided (entered in error), so none counts. "
            f"`ratetool summary {client} --history` lists the corrections."
        )
    from ratetool.report import client_json, client_report, rc_note

    report = client_report(result.ratings, state.resolve, state.config.thresholds(), client=client)
    data = client_json(
        report,
        items=items,
        comments=comments,
        problems=result.problems,
        corrections=result.corrections,
        voided=len(result.voided),
        history=history,
    )
    if as_json:
        _json(data)
    else:
        from ratetool.render.client import print_client_summary, print_history

        if result.ratings:
            notes = {iid: rc_note(report, iid) for iid in report.instruments}
            print_client_summary(
                data, report.definitions, notes, items=items, comments=comments, limit=limit
            )
        else:
            typer.echo(
                f"{client}: every rating is voided (entered in error), so none counts "
                f"({len(result.voided)} voided)."
            )
        if history:
            print_history(data)
    _done(result.problems, as_json=as_json)


def _done(problems, *, as_json: bool) -> None:
    """After everything that could be shown: name the problems met, and exit 1 if there were."""
    show_problems(problems, err=as_json)
    if problems:
        raise typer.Exit(1)


def _filters_text(since: date | None, practitioner: str | None) -> str:
    parts = []
    if since is not None:
        parts.append(f"rated since {since.isoformat()}")
    if practitioner is not None:
        parts.append(f"by {practitioner}")
    return f" ({', '.join(parts)})" if parts else ""


def _caseload_summary(
    state,
    *,
    since: date | None,
    practitioner: str | None,
    by_month: bool,
    limit: int | None,
    as_json: bool,
) -> None:
    filters = _filters_text(since, practitioner)
    if by_month:
        from ratetool.report import caseload, months_json

        result = state.store.read_all()
        clients = caseload(result.ratings, state.resolve, state.config.thresholds())
        months = months_json(clients, since=since, practitioner=practitioner)
        if as_json:
            _json(months)
        elif not months:
            typer.echo(_nothing(state, filters))
        else:
            from ratetool.render.caseload import print_months

            print_months(months, filters)
        _done(result.problems, as_json=as_json)
        return
    from ratetool.cache import Settings
    from ratetool.caseload import caseload_rows

    settings = Settings.of(state.config, state.resolve, state.config_dir)
    rows, problems = caseload_rows(state.store, settings, since=since, practitioner=practitioner)
    if as_json:
        _json(list(rows))
    elif not rows:
        typer.echo(_nothing(state, filters))
    else:
        from ratetool.render.caseload import print_caseload

        print_caseload(rows, dict(settings.alerts), limit=limit, filters=filters)
    _done(problems, as_json=as_json)


def _nothing(state, filters: str) -> str:
    if filters:
        return f"No ratings{filters} in {state.data_dir}."
    return (
        f"No ratings yet in {state.data_dir}. After a session, run `ratetool rate CLIENT` and "
        "the client's scores will show here."
    )


def register(app: typer.Typer) -> None:
    app.command("summary", help=HELP)(summary)
