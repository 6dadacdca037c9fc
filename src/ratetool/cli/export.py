"""``ratetool export``: ratings with their scores as CSV, XLSX or JSON Lines."""

from typing import Annotated

import typer

from ratetool.cli.state import get_state

HELP = (
    "Export ratings with their scores for a spreadsheet (CSV, XLSX) or a script (JSON Lines).\n\n"
    "One row per session: id, client, session, rated_at, instrument, instrument_version, "
    "practitioner, status, one column per item, the dimension scores (empathy_score, ...), "
    "overall, pomp, total, alerts and comment. Scores are the numbers every ratetool table shows. "
    "status is completed, or amended for a rating whose answers were corrected (`ratetool "
    "amend`); voided ratings (`ratetool void`) are left out unless --include-voided. An existing "
    "file is never replaced without --force.\n\n"
    "Examples:\n\n"
    "ratetool export --output ratings.xlsx\n\n"
    "ratetool export --format csv --excel --output ratings.csv\n\n"
    "ratetool export --format json --client C-014 --since 2026-09-01 --output -\n\n"
    "ratetool export --format csv --codebook --output ratings.csv\n\n"
    "ratetool export --format redcap --output redcap-export\n\n"
    "ratetool export --format fhir --output bundle.json  (a FHIR R4 transaction Bundle for a "
    "health record, voided ratings included as entered-in-error; see docs/fhir.md)"
)


def export(
    ctx: typer.Context,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="csv, xlsx, json (JSON Lines), fhir (a FHIR R4 Bundle for a health record) or "
            "redcap (a folder: data dictionary and records). "
            "Default: from the --output file name, else csv.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="File to write, or - for standard output (not for xlsx).",
            metavar="PATH|-",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the output file if it exists.")
    ] = False,
    client: Annotated[
        list[str] | None,
        typer.Option(
            "--client",
            "-c",
            metavar="CLIENT",
            help="Only this client (repeat for several).",
            show_default=False,
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            metavar="DATE",
            help="Only sessions on or after this date (2026-09-01) or time (2026-09-01T09:00).",
            show_default=False,
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            metavar="DATE", help="Only sessions on or before this date or time.", show_default=False
        ),
    ] = None,
    excel: Annotated[
        bool,
        typer.Option(
            "--excel",
            help="CSV for opening in Excel by double-click: a UTF-8 byte-order mark, and codes "
            "that look like numbers or dates kept as text.",
        ),
    ] = False,
    delimiter: Annotated[
        str | None,
        typer.Option(
            metavar="D",
            help="CSV delimiter: ',' (default), ';' (with decimal commas, for Excel in most of "
            "Europe) or 'tab'.",
            show_default=False,
        ),
    ] = None,
    codebook: Annotated[
        bool,
        typer.Option(
            "--codebook",
            help="CSV only: also write datapackage.json beside the file, a Frictionless Data "
            "Package with each column's type, label and range, for R, Python, SPSS/PSPP.",
        ),
    ] = False,
    one_line_comments: Annotated[
        bool,
        typer.Option(
            "--one-line-comments",
            help="CSV only: write line breaks in comments as the two characters \\n, so each "
            "rating is one line (for line-based readers such as PSPP).",
        ),
    ] = False,
    include_voided: Annotated[
        bool | None,
        typer.Option(
            "--include-voided/--leave-out-voided",
            help="Also export voided ratings, with status entered-in-error: scored as they were, "
            "with no alerts; they change no other session's trend or alerts. Default: left out, "
            "but included in --format fhir and redcap, so a health record or a REDCap project "
            "sent the export again learns of each void.",
            show_default=False,
        ),
    ] = None,
) -> None:
    from pathlib import Path

    from ratetool.cli.check import show_problems
    from ratetool.codes import validate_client_code
    from ratetool.errors import ExportError
    from ratetool.exporters import (
        FORMATS,
        check_output,
        collect,
        format_for,
        make_period,
        render,
    )

    state = get_state(ctx)
    if output is None:
        raise ExportError(
            "Say where to write the export: --output ratings.csv (or ratings.xlsx, ratings.jsonl), "
            "or --output - for the terminal."
        )
    to_stdout = output == "-"
    chosen = fmt.strip().lower() if fmt else None
    if chosen == "jsonl":
        chosen = "json"
    if chosen is not None and chosen not in FORMATS:
        raise ExportError(
            f"--format {fmt!r} is not known; use csv, xlsx or json, fhir for a health record or "
            "redcap for a REDCap project."
        )
    implied = None if to_stdout else format_for(output)
    if chosen == "fhir" and implied == "json":
        implied = "fhir"  # a bundle is one JSON document: bundle.json
    if chosen is not None and implied is not None and chosen != implied:
        raise ExportError(
            f"--format {chosen} does not match the file name {output!r}, which says {implied}; "
            "change one of them. Nothing was written."
        )
    chosen = chosen or implied or "csv"
    if include_voided is None:
        # sending a bundle or REDCap records again must carry voids over
        include_voided = chosen in ("fhir", "redcap")
    if chosen == "xlsx" and to_stdout:
        raise ExportError(
            "XLSX is a binary file and cannot be written to the terminal; give a file name, "
            "e.g. --output ratings.xlsx."
        )
    if chosen == "redcap" and to_stdout:
        raise ExportError(
            "--format redcap writes two files into a folder; give the folder, e.g. "
            "--output redcap-export."
        )
    if (codebook or one_line_comments) and chosen != "csv":
        option = "--codebook" if codebook else "--one-line-comments"
        raise ExportError(f"{option} only applies to --format csv.")
    if codebook and to_stdout:
        raise ExportError(
            "--codebook writes datapackage.json beside the CSV file; give a file name, e.g. "
            "--output ratings.csv."
        )
    if codebook and excel:
        raise ExportError(
            "--codebook describes a plain CSV; --excel adds a byte-order mark and ' in front of "
            "codes and dates, which the codebook's types would not match. Leave out one of them."
        )
    if excel and chosen != "csv":
        raise ExportError("--excel only applies to --format csv (XLSX opens in Excel as it is).")
    sep = ","
    if delimiter is not None:
        if chosen != "csv":
            raise ExportError("--delimiter only applies to --format csv.")
        from ratetool.importer import delimiter_from_option

        sep = delimiter_from_option(delimiter)
        if sep not in (",", ";", "\t"):
            raise ExportError("--delimiter for export must be ',', ';' or 'tab'.")
    for code in client or []:
        validate_client_code(code)
    period = make_period(since, until)

    path = None if to_stdout else Path(output).expanduser()
    if path is not None and chosen == "redcap":
        from ratetool.exporters.redcap import check_folder

        check_folder(path, force=force, data_dir=state.data_dir)
    elif path is not None:
        check_output(path, force=force, data_dir=state.data_dir)
        if codebook:
            from ratetool.exporters.codebook import DATAPACKAGE_FILE

            check_output(path.parent / DATAPACKAGE_FILE, force=force, data_dir=state.data_dir)

    # A file with a problem never blocks the others: every other client is exported, then the
    # problems are named on stderr and the exit status is 1.
    result = state.store.read_all()
    problems = result.problems  # kept apart: nothing else may hold the ratings once collected
    left_out = 0 if include_voided else _voided_left_out(result.voided, client, period)
    data = collect(
        result.ratings,
        state.resolve,
        state.config.thresholds(),
        clients=client or None,
        period=period,
        voided=result.voided if include_voided else (),
    )
    del result  # the XLSX writer frees each rating once written: nothing else may hold them
    if data.missing_clients:
        typer.echo(
            f"Warning: no ratings for {', '.join(data.missing_clients)}.",
            err=True,
        )
    if not data.sessions:
        asked = []
        if client:
            asked.append(f"for {', '.join(client)}")
        if since or until:
            asked.append(f"from {since or 'the start'} to {until or 'today'}")
        what = f" {' '.join(asked)}" if asked else ""
        show_problems(problems, err=True)
        raise ExportError(f"No ratings to export{what} in {state.data_dir}. Nothing was written.")
    if excel:
        from ratetool.csvformat import looks_like_number_or_date

        codes = {s.rating.client for s in data.sessions}
        odd = sorted(c for c in codes if looks_like_number_or_date(c))
        if odd:
            several = len(odd) > 1
            typer.echo(
                f"Note: Excel would read the client code{'s' if several else ''} "
                f"{', '.join(odd)} as a number or date, so {'they are' if several else 'it is'} "
                "written with a leading ' (ratetool import removes it).",
                err=True,
            )
    if chosen == "xlsx":  # the slow one: a progress bar at a terminal
        from ratetool.cli.progress import progress_bar
        from ratetool.exporters.xlsx import to_xlsx

        with progress_bar(data.session_count) as progress:
            payload = to_xlsx(data, progress)  # consumes data
    elif chosen == "fhir":
        from ratetool.exporters.fhir import FhirSettings, to_fhir

        payload = to_fhir(data, FhirSettings(**state.config.fhir))
    elif chosen == "redcap" and path is not None:
        _redcap(data, path)
        payload = b""
    else:
        payload = render(
            data, chosen, excel=excel, delimiter=sep, one_line_comments=one_line_comments
        )
    if codebook and path is not None:
        from ratetool.exporters import write_file
        from ratetool.exporters.codebook import DATAPACKAGE_FILE, datapackage

        package = datapackage(data, path.name, delimiter=sep, one_line_comments=one_line_comments)
        _finish(payload, data.session_count, data.client_count, path, chosen, data.voided_count)
        write_file(path.parent / DATAPACKAGE_FILE, package)
        typer.echo(f"Codebook (Frictionless Data Package) to {path.parent / DATAPACKAGE_FILE}.")
    elif chosen != "redcap":
        _finish(payload, data.session_count, data.client_count, path, chosen, data.voided_count)
    if left_out:
        typer.echo(
            f"Note: {left_out} voided rating{'s' if left_out != 1 else ''} left out "
            f"(--include-voided adds {'it' if left_out == 1 else 'them'}, with status "
            "entered-in-error).",
            err=True,
        )
    show_problems(problems, err=True)
    if problems:
        raise typer.Exit(1)


def _redcap(data, folder) -> None:
    from ratetool.exporters.redcap import DICTIONARY_FILE, RECORDS_FILE, to_redcap, write_folder

    files, notes = to_redcap(data)
    for note in notes:
        typer.echo(f"Note: {note}.", err=True)
    write_folder(folder, files)
    n, clients = data.session_count, data.client_count
    typer.echo(
        f"Exported {n} rating{'s' if n != 1 else ''}"
        + (f" ({data.voided_count} voided)" if data.voided_count else "")
        + f" of {clients} client{'s' if clients != 1 else ''} to {folder / RECORDS_FILE}, with "
        f"the REDCap data dictionary {folder / DICTIONARY_FILE}."
    )


def _voided_left_out(voided, clients: list[str] | None, period) -> int:
    """How many voided ratings the export would have had with --include-voided."""
    wanted = set(clients) if clients else None
    return sum(
        1
        for r in voided
        if (wanted is None or r.client in wanted)
        and (period.everything or period.contains(r.rated_at))
    )


def _finish(payload: bytes, n: int, clients: int, path, chosen: str, voided: int = 0) -> None:
    from ratetool.exporters import write_file

    done = (
        f"Exported {n} rating{'s' if n != 1 else ''}"
        + (f" ({voided} voided)" if voided else "")
        + f" of {clients} client{'s' if clients != 1 else ''}"
    )
    if path is None:
        typer.echo(payload, nl=False)
        typer.echo(f"{done}.", err=True)
        return
    write_file(path, payload)
    typer.echo(f"{done} to {path} ({chosen}).")


def register(app: typer.Typer) -> None:
    app.command("export", help=HELP)(export)
