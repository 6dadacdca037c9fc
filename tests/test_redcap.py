"""``ratetool export --format redcap``: REDCap's data dictionary and repeating-instrument records,
REDCap's naming rules, where the folder goes, and the way back through ``ratetool import``."""

from __future__ import annotations

import csv
import io
import os
import re
import stat
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ratetool.cli import app
from ratetool.exporters.redcap import redcap_name
from ratetool.instruments import load_builtin
from ratetool.model import Rating
from ratetool.store import open_store

CET = timezone(timedelta(hours=1))
CHECKIN_ITEMS = ("empathy", "warmth", "genuineness", "trust")
CORE_ITEMS = load_builtin("core").item_ids
#: REDCap's data-dictionary header, as REDCap's "Download the current Data Dictionary" writes it.
REDCAP_HEADER = [
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
]
#: REDCap's rule for variable and form names.
REDCAP_NAME = re.compile(r"[a-z][a-z0-9_]{0,99}")


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def checkin(client: str = "C-014", n: int = 0, **changes) -> Rating:
    base = dict(
        id=str(uuid.uuid4()),
        client=client,
        session=0,
        rated_at=datetime(2026, 10, 6, 10, 50, tzinfo=CET) + timedelta(days=7 * n),
        instrument="checkin",
        instrument_version=1,
        answers=dict(zip(CHECKIN_ITEMS, ((8 + n) % 11, 9, 7, 10))),
        practitioner="AB",
    )
    base.update(changes)
    return Rating(**base)


def core(client: str = "C-021", n: int = 0) -> Rating:
    answers = {item: 1 + (i + n) % 5 for i, item in enumerate(CORE_ITEMS) if item != "warmth_2"}
    return Rating(
        id=str(uuid.uuid4()),
        client=client,
        session=0,
        rated_at=datetime(2026, 10, 7, 16, 5, tzinfo=CET) + timedelta(days=7 * n),
        instrument="core",
        instrument_version=1,
        answers=answers,
        skipped=("warmth_2",),
        comment=f'line one\nline "two", n={n}' if n == 1 else None,
    )


def seed(data_dir: Path, ratings: list[Rating]) -> None:
    open_store(data_dir).add(ratings)


def table(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def records(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def export(tmp_path: Path, *args: str, name: str = "redcap"):
    out = tmp_path / name
    return out, run("export", "--format", "redcap", "--output", str(out), *args)


@pytest.fixture
def seeded(data_dir: Path) -> list[Rating]:
    ratings = [checkin(n=n) for n in range(3)] + [core(n=n) for n in range(2)]
    ratings.append(checkin(client="C-021", n=5, comment="=SUM(A1) 'quoted'"))
    seed(data_dir, ratings)
    return ratings


# -- the data dictionary --------------------------------------------------------------------------


def test_the_dictionary_header_is_redcaps_exactly(tmp_path, seeded):
    out, result = export(tmp_path)
    assert result.exit_code == 0, result.output
    rows = table(out / "data_dictionary.csv")
    assert rows[0] == REDCAP_HEADER
    assert all(len(row) == len(REDCAP_HEADER) for row in rows)


def test_the_dictionary_has_one_form_per_instrument_and_an_integer_field_per_item(tmp_path, seeded):
    out, result = export(tmp_path)
    assert result.exit_code == 0, result.output
    rows = [dict(zip(REDCAP_HEADER, row)) for row in table(out / "data_dictionary.csv")[1:]]
    assert rows[0]["Variable / Field Name"] == "record_id"
    assert rows[0]["Form Name"] == "checkin"  # the first field, on the first form
    assert list(dict.fromkeys(r["Form Name"] for r in rows)) == ["checkin", "core"]
    by_name = {r["Variable / Field Name"]: r for r in rows}
    checkin_def = load_builtin("checkin")
    for item in checkin_def.items:
        field = by_name[f"checkin_{item.id}"]
        assert field["Field Type"] == "text"
        assert field["Field Label"] == item.text
        assert field["Text Validation Type OR Show Slider Number"] == "integer"
        assert (field["Text Validation Min"], field["Text Validation Max"]) == ("0", "10")
        assert field["Required Field?"] == "y"  # the check-in allows no skips
    core_def = load_builtin("core")
    for item_id in core_def.item_ids:
        field = by_name[f"core_{item_id}"]
        assert field["Text Validation Min"] == str(core_def.scale.min)
        assert field["Text Validation Max"] == str(core_def.scale.max)
        assert field["Required Field?"] == ("" if core_def.allow_skip else "y")
    date = by_name["checkin_rated_at"]
    assert date["Text Validation Type OR Show Slider Number"] == "datetime_seconds_ymd"
    assert by_name["core_comment"]["Field Type"] == "notes"
    status = by_name["checkin_status"]
    assert status["Field Type"] == "dropdown"
    codes = [
        c.split(",")[0].strip()
        for c in status["Choices, Calculations, OR Slider Labels"].split("|")
    ]
    assert codes == ["completed", "amended", "entered_in_error"]
    # REDCap makes <form>_complete itself: it is no row of the dictionary
    assert "checkin_complete" not in by_name


def test_every_name_follows_redcaps_rules(tmp_path, seeded):
    out, result = export(tmp_path)
    assert result.exit_code == 0, result.output
    rows = table(out / "data_dictionary.csv")[1:]
    names = [row[0] for row in rows]
    assert len(names) == len(set(names))
    for name, form in ((row[0], row[1]) for row in rows):
        assert REDCAP_NAME.fullmatch(name), name
        assert REDCAP_NAME.fullmatch(form), form
    for name in records(out / "records.csv")[0]:
        assert REDCAP_NAME.fullmatch(name), name
    assert "Note:" not in result.stderr  # nothing was renamed, nothing is long


def test_redcap_name_is_deterministic_and_valid():
    assert redcap_name("checkin") == "checkin"
    assert redcap_name("Check-In") == "check_in"
    assert redcap_name("1st") == "r_1st"
    assert redcap_name("_x") == "r__x"
    for text in ("a", "Z-9", "-a", "9", "é", "a.b"):
        assert REDCAP_NAME.fullmatch(redcap_name(text)), text
        assert redcap_name(text) == redcap_name(text)


# -- the records ----------------------------------------------------------------------------------


def test_records_are_redcaps_repeating_instrument_layout(tmp_path, seeded):
    out, result = export(tmp_path)
    assert result.exit_code == 0, result.output
    rows = records(out / "records.csv")
    header = list(rows[0])
    assert header[:3] == ["record_id", "redcap_repeat_instrument", "redcap_repeat_instance"]
    dictionary = [row[0] for row in table(out / "data_dictionary.csv")[1:]]
    # the record's columns are the dictionary's fields, each form followed by <form>_complete
    assert [h for h in header[3:] if not h.endswith("_complete")] == dictionary[1:]
    assert header.index("checkin_complete") == header.index("checkin_comment") + 1
    assert len(rows) == len(seeded)
    stored = {r.id: r for r in open_store(tmp_path / "data").read_all().ratings}
    for row in rows:
        form = row["redcap_repeat_instrument"]
        rating = stored[row[f"{form}_id"]]
        assert row["record_id"] == rating.client
        assert form == rating.instrument
        assert row["redcap_repeat_instance"] == str(rating.session)
        assert row[f"{form}_complete"] == "2"
        assert row[f"{form}_rated_at"] == rating.rated_at.strftime("%Y-%m-%d %H:%M:%S")
        assert row[f"{form}_status"] == "completed"
        assert row[f"{form}_comment"] == (rating.comment or "")  # as written, no ' escape
        for item_id in CHECKIN_ITEMS if form == "checkin" else CORE_ITEMS:
            expected = rating.answers.get(item_id)
            assert row[f"{form}_{item_id}"] == ("" if expected is None else str(expected))
        other = "core" if form == "checkin" else "checkin"
        assert all(not v for k, v in row.items() if k.startswith(other + "_"))


def test_statuses_are_redcap_codes_and_come_back(tmp_path, data_dir):
    seed(data_dir, [checkin(n=n) for n in range(3)])
    assert run("amend", "C-014", "2", "--answers", "1,2,3,4", "--yes").exit_code == 0
    assert run("void", "C-014", "3", "--reason", "test", "--yes").exit_code == 0
    out, result = export(tmp_path, "--include-voided")
    assert result.exit_code == 0, result.output
    rows = records(out / "records.csv")
    assert [r["checkin_status"] for r in rows] == ["completed", "amended", "entered_in_error"]
    assert [r["checkin_empathy"] for r in rows][1] == "1"
    again = tmp_path / "again"
    result = run("--data-dir", str(again), "import", str(out / "records.csv"))
    assert result.exit_code == 0, result.output
    back = tmp_path / "back"
    result = run(
        "--data-dir", str(again), "export", "--format", "redcap", "--include-voided",
        "--output", str(back),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (back / "records.csv").read_bytes() == (out / "records.csv").read_bytes()


# -- the way back ---------------------------------------------------------------------------------


def test_round_trip_export_import_export_is_identical(tmp_path, seeded):
    out, result = export(tmp_path)
    assert result.exit_code == 0, result.output
    empty = tmp_path / "empty"
    result = run("--data-dir", str(empty), "import", str(out / "records.csv"))
    assert result.exit_code == 0, result.output
    assert f"Imported {len(seeded)}" in result.output
    imported = {r.id: r for r in open_store(empty).read_all().ratings}
    for original in open_store(tmp_path / "data").read_all().ratings:
        back = imported[original.id]
        assert (back.client, back.session, back.answers, back.skipped, back.comment) == (
            original.client,
            original.session,
            original.answers,
            original.skipped,
            original.comment,
        )
        assert back.rated_at.replace(tzinfo=None) == original.rated_at.replace(tzinfo=None)
    again = tmp_path / "again"
    result = run("--data-dir", str(empty), "export", "--format", "redcap", "--output", str(again))
    assert result.exit_code == 0, result.output
    for name in ("data_dictionary.csv", "records.csv"):
        assert (again / name).read_bytes() == (out / name).read_bytes(), name
    # importing the same records again adds nothing: the ids are kept
    result = run("--data-dir", str(empty), "import", str(out / "records.csv"))
    assert result.exit_code == 0, result.output
    assert "Imported 0" in result.output


def test_a_redcap_export_of_the_project_is_read_back(tmp_path, data_dir):
    """What REDCap itself exports: every cell quoted, the record's own (empty) row, a new
    instance typed in REDCap without a rating id, a one-digit hour, and REDCap's own columns
    (data access group, survey time stamp), which hold no part of a rating."""
    seed(data_dir, [checkin(n=0)])
    out, result = export(tmp_path)
    assert result.exit_code == 0, result.output
    rows = records(out / "records.csv")
    header = [*rows[0], "redcap_data_access_group", "checkin_timestamp"]
    base = dict.fromkeys(header, "")
    base["record_id"] = "C-014"
    new = dict(base, redcap_repeat_instrument="checkin", redcap_repeat_instance="2")
    new.update(checkin_rated_at="2026-10-13 9:05:00", checkin_complete="2")
    new.update(redcap_data_access_group="site_a", checkin_timestamp="2026-10-13 09:06:12")
    new.update(checkin_empathy="7", checkin_warmth="8", checkin_genuineness="9", checkin_trust="6")
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, header, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writeheader()
    writer.writerows([base, dict(rows[0], redcap_data_access_group="site_a"), new])
    redcap_file = tmp_path / "project_export.csv"
    redcap_file.write_text(buffer.getvalue(), encoding="utf-8")
    empty = tmp_path / "empty"
    result = run("--data-dir", str(empty), "import", str(redcap_file))
    assert result.exit_code == 0, result.output
    ratings = sorted(open_store(empty).read_all().ratings, key=lambda r: r.session)
    assert [r.session for r in ratings] == [1, 2]
    assert ratings[1].answers == {"empathy": 7, "warmth": 8, "genuineness": 9, "trust": 6}
    assert ratings[1].rated_at.replace(tzinfo=None) == datetime(2026, 10, 13, 9, 5)
    assert ratings[1].practitioner is None


def test_import_refuses_a_column_ratetool_does_not_write(tmp_path, data_dir):
    seed(data_dir, [checkin(n=0)])
    out, result = export(tmp_path)
    assert result.exit_code == 0, result.output
    text = (out / "records.csv").read_bytes().decode("utf-8").split("\r\n")
    text[0] += ",checkin_mood"
    text[1] += ",sad"
    (out / "records.csv").write_text("\r\n".join(text), encoding="utf-8")
    result = run("--data-dir", str(tmp_path / "empty"), "import", str(out / "records.csv"))
    assert result.exit_code == 1
    assert "'checkin_mood'" in result.stderr and "row 2" in result.stderr
    assert (
        not (tmp_path / "empty").exists() or not open_store(tmp_path / "empty").read_all().ratings
    )


def test_import_names_a_row_with_an_unknown_form_or_a_bad_answer(tmp_path, data_dir):
    seed(data_dir, [checkin(n=0), checkin(n=1)])
    out, result = export(tmp_path)
    rows = records(out / "records.csv")
    rows[0]["redcap_repeat_instrument"] = "mood"
    rows[1]["checkin_trust"] = "11"
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    path = tmp_path / "records.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    result = run("--data-dir", str(tmp_path / "empty"), "import", str(path))
    assert result.exit_code == 1
    assert "row 2" in result.stderr and "'mood'" in result.stderr
    assert "row 3" in result.stderr and "trust: 11 is outside 0–10" in result.stderr


# -- names REDCap would not take ------------------------------------------------------------------

ODD = """
id = "{id}"
version = 1
title = "Odd"
intro = "Names REDCap would not take as they are."
[scale]
min = 1
max = 5
min_label = "no"
max_label = "yes"
[dimensions]
all = "All"
{items}
"""


def odd_instrument(config_dir: Path, instrument_id: str, item_ids: list[str]) -> None:
    items = "\n".join(
        f'[[items]]\nid = "{i}"\ndimension = "all"\ntext = "Item {i}?"' for i in item_ids
    )
    folder = config_dir / "instruments"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{instrument_id}.toml").write_text(
        ODD.format(id=instrument_id, items=items), encoding="utf-8"
    )


def test_names_are_made_valid_and_the_mapping_is_said(tmp_path, data_dir, config_dir):
    odd_instrument(config_dir, "Odd-Form", ["-a", "B", "a_rather_long_item_identifier"])
    result = run("rate", "C-1", "--instrument", "Odd-Form", "--answers", "1,2,3", "--yes")
    assert result.exit_code == 0, result.output
    out, result = export(tmp_path)
    assert result.exit_code == 0, result.output
    assert "instrument 'Odd-Form' is the REDCap form 'odd_form'" in result.stderr
    assert "item '-a' of 'Odd-Form' is the field 'odd_form__a'" in result.stderr
    assert "item 'B' of 'Odd-Form' is the field 'odd_form_b'" in result.stderr
    assert "odd_form_a_rather_long_item_identifier" in result.stderr  # past 26 characters
    assert "longer than 26" in result.stderr
    names = [row[0] for row in table(out / "data_dictionary.csv")[1:]]
    assert all(REDCAP_NAME.fullmatch(n) for n in names)
    assert {"odd_form__a", "odd_form_b"} <= set(names)
    empty = tmp_path / "empty"
    result = run("--data-dir", str(empty), "import", str(out / "records.csv"))
    assert result.exit_code == 0, result.output
    (rating,) = open_store(empty).read_all().ratings
    assert rating.instrument == "Odd-Form"
    assert rating.answers == {"-a": 1, "B": 2, "a_rather_long_item_identifier": 3}


def test_names_that_would_clash_are_refused(tmp_path, data_dir, config_dir):
    odd_instrument(config_dir, "clash", ["a-b", "a_b"])
    assert run("rate", "C-1", "--instrument", "clash", "--answers", "1,2", "--yes").exit_code == 0
    out, result = export(tmp_path)
    assert result.exit_code == 1
    assert "'clash_a_b'" in result.stderr and "Nothing was written" in result.stderr
    assert not out.exists()


def test_a_name_longer_than_100_characters_is_refused(tmp_path, data_dir, config_dir):
    odd_instrument(config_dir, "x" * 40, ["y" * 64])
    result = run("rate", "C-1", "--instrument", "x" * 40, "--answers", "1", "--yes")
    assert result.exit_code == 0, result.output
    out, result = export(tmp_path)
    assert result.exit_code == 1
    assert "105 characters" in result.stderr and "at most 100" in result.stderr
    assert not out.exists()


# -- where the files go ---------------------------------------------------------------------------


def test_the_folder_is_made_and_never_overwritten_without_force(tmp_path, seeded):
    out, result = export(tmp_path)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["data_dictionary.csv", "records.csv"]
    if os.name == "posix":
        assert stat.S_IMODE(out.stat().st_mode) & 0o077 == 0
    before = (out / "records.csv").read_bytes()
    _, result = export(tmp_path)
    assert result.exit_code == 1 and "--force" in result.stderr
    assert (out / "records.csv").read_bytes() == before
    _, result = export(tmp_path, "--force")
    assert result.exit_code == 0, result.output


def test_a_folder_that_cannot_be_used_is_refused(tmp_path, seeded, data_dir):
    (tmp_path / "file").write_text("x")
    for target, words in (
        (tmp_path / "file", "is a file"),
        (tmp_path / "no" / "such", "does not exist"),
        (data_dir / "out", "inside the data folder"),
    ):
        result = run("export", "--format", "redcap", "--output", str(target))
        assert result.exit_code == 1, target
        assert words in result.stderr
    result = run("export", "--format", "redcap", "--output", "-")
    assert result.exit_code == 1 and "folder" in result.stderr
    result = run("export", "--format", "redcap", "--excel", "--output", str(tmp_path / "x"))
    assert result.exit_code == 1 and "--excel" in result.stderr


# -- a spreadsheet user's dates, and how to get XLSX (issue 13, item 4) ---------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2025-01-09 9:00:00", datetime(2025, 1, 9, 9, 0)),  # Google Sheets' default
        ("2025-01-09 9:05", datetime(2025, 1, 9, 9, 5)),
        ("2025-01-09T7:30:15", datetime(2025, 1, 9, 7, 30, 15)),
        ("2025-01-09 09:00:00", datetime(2025, 1, 9, 9, 0)),
    ],
)
def test_a_one_digit_hour_is_read_without_date_format(tmp_path, data_dir, written, expected):
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(
        f"client,date,empathy,warmth,genuineness,trust\nC-9,{written},8,9,7,10\n",
        encoding="utf-8",
    )
    result = run("import", str(sheet))
    assert result.exit_code == 0, result.output
    (rating,) = open_store(data_dir).read_all().ratings
    assert rating.rated_at.replace(tzinfo=None) == expected


def test_a_time_that_is_no_time_is_still_refused(tmp_path, data_dir):
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(
        "client,date,empathy,warmth,genuineness,trust\nC-9,2025-01-09 9:75:00,8,9,7,10\n",
        encoding="utf-8",
    )
    result = run("import", str(sheet))
    assert result.exit_code == 1
    assert "row 2" in result.stderr and "2025-01-09 9:75:00" in result.stderr


def test_the_missing_xlsxwriter_hint_names_pip_and_pipx(tmp_path, seeded, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "xlsxwriter", None)  # import fails
    result = run("export", "--output", str(tmp_path / "out.xlsx"))
    assert result.exit_code == 1
    assert 'pip install "ratetool[xlsx]"' in result.stderr
    assert "pipx inject ratetool XlsxWriter" in result.stderr
