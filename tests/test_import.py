"""``ratetool import``: the three spreadsheet fixtures, validation by row, idempotence, formats.

The fixtures in ``tests/fixtures/`` are copies of ``../shared/fixtures/`` (see its README).
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ratetool.cli import app
from ratetool.errors import ImportRowsError
from ratetool.importer import read_import_file, run_import
from ratetool.instruments import Registry
from ratetool.model import Rating
from ratetool.store import open_store

FIXTURES = Path(__file__).parent / "fixtures"
RESAVED = FIXTURES / "excel-resaved-semicolon.csv"
PAPER = FIXTURES / "paper-forms-typed.csv"
BAD = FIXTURES / "bad-rows.csv"
CET = timezone(timedelta(hours=1))
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
EU_FORMAT = "%d.%m.%Y %H:%M"


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file and folder under ``root`` with its bytes (folders as ``b"<dir>"``)."""
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): (p.read_bytes() if p.is_file() else b"<dir>")
        for p in sorted(root.rglob("*"))
        if ".ratetool-cache" not in p.relative_to(root).parts  # derived, rebuilt at will
    }


def stored(data_dir: Path) -> list[Rating]:
    result = open_store(data_dir).read_all()
    assert result.problems == []
    return sorted(result.ratings, key=lambda r: (r.client, r.session, r.rated_at))


def seed(data_dir: Path) -> Rating:
    rating = Rating(
        id=str(uuid.uuid4()),
        client="P-003",
        session=0,
        rated_at=datetime(2026, 9, 1, 10, 0, tzinfo=CET),
        instrument="checkin",
        instrument_version=1,
        answers={"empathy": 9, "warmth": 9, "genuineness": 9, "trust": 9},
    )
    open_store(data_dir).add([rating])
    return stored(data_dir)[0]


@pytest.fixture
def berlin(monkeypatch):
    """Local time is Europe/Berlin (CET/CEST) where the platform lets a test choose it (POSIX),
    so "local time" differs from UTC and has a summer and a winter offset."""
    tzset = getattr(time, "tzset", None)
    if tzset is not None:
        monkeypatch.setenv("TZ", "Europe/Berlin")
        tzset()
        assert datetime(2026, 11, 3, 10, 50).astimezone().utcoffset() == timedelta(hours=1)
    yield
    if tzset is not None:
        monkeypatch.undo()
        tzset()


def local(*args: int) -> str:
    """A wall-clock time read as local time, as ISO text with its offset."""
    return datetime(*args).astimezone().isoformat()


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# -- fixture 1: a ratetool export saved again by a European spreadsheet --------------------------


def test_resaved_export_imports_with_date_format(data_dir, berlin):
    result = run("import", str(RESAVED), "--date-format", EU_FORMAT)
    assert result.exit_code == 0, result.output
    assert "Imported 4, skipped 0 as duplicates, rejected 0." in result.stdout
    ratings = stored(data_dir)
    assert [(r.client, r.session) for r in ratings] == [
        ("C-014", 1),
        ("C-014", 2),
        ("C-021", 1),
        ("C-021", 2),
    ]
    first = ratings[0]
    assert first.id == "0b9f7a52-7f0e-4c1e-9a51-3c1d2b8e6f01"  # ids and sessions are kept
    assert first.rated_at.isoformat() == local(2026, 11, 3, 10, 50)  # local time: +01:00 in CET
    assert first.answers == {"empathy": 8, "warmth": 9, "genuineness": 7, "trust": 10}
    assert first.practitioner == "AB"
    assert first.comment == "Felt heard; a bit rushed at the end."
    assert ratings[1].comment == "Better – thank you."
    assert ratings[3].comment == '"Open" conversation, Grüße'


def test_resaved_export_scores_are_recomputed_not_read(tmp_path, data_dir, berlin):
    text = RESAVED.read_text(encoding="utf-8-sig")
    lied = text.replace(";8,5;", ";99,9;").replace(";6,25;", ";nonsense;")
    assert lied != text
    path = write(tmp_path, "lied.csv", "\ufeff" + lied)
    result = run("import", str(path), "--date-format", EU_FORMAT)
    assert result.exit_code == 0, result.output
    out = tmp_path / "out.csv"
    assert run("export", "--output", str(out)).exit_code == 0
    rows = {r["id"][:8]: r for r in csv.DictReader(io.StringIO(out.read_text(), newline=""))}
    assert rows["0b9f7a52"]["overall"] == "8.50"  # (8 + 9 + 7 + 10) / 4, not the 99,9 in the file
    assert rows["a7c3e9d1"]["overall"] == "6.25"
    assert rows["5d2e1c44"]["overall"] == "9.00"


def test_resaved_export_without_date_format_says_which_option(data_dir):
    result = run("import", str(RESAVED))
    assert result.exit_code == 1
    assert "row 2: date '03.11.2026 10:50'" in result.stderr
    assert '--date-format "%d.%m.%Y %H:%M"' in result.stderr
    assert "Nothing was written" in result.stderr
    assert not data_dir.exists()


def test_delimiter_semicolon_is_detected_and_can_be_given(data_dir, berlin):
    result = run("import", str(RESAVED), "--date-format", EU_FORMAT, "--delimiter", ";")
    assert result.exit_code == 0, result.output
    assert len(stored(data_dir)) == 4


# -- fixture 2: paper forms typed in by hand ------------------------------------------------------


def test_paper_forms_get_new_ids_and_sessions_in_date_order(data_dir, config_dir, berlin):
    config_dir.mkdir()
    (config_dir / "config.toml").write_text('practitioner = "ZZ"\n', encoding="utf-8")
    result = run("import", str(PAPER))
    assert result.exit_code == 0, result.output
    assert "Imported 5, skipped 0 as duplicates, rejected 0." in result.stdout
    assert "P-001: sessions 1, 2, 3" in result.stdout
    ratings = stored(data_dir)
    summary = [(r.client, r.session, r.rated_at.date().isoformat()) for r in ratings]
    assert summary == [
        ("P-001", 1, "2026-09-02"),
        ("P-001", 2, "2026-09-09"),
        ("P-001", 3, "2026-09-16"),
        ("P-002", 1, "2026-09-03"),
        ("P-002", 2, "2026-09-10"),
    ]
    assert all(UUID_RE.fullmatch(r.id) for r in ratings)
    assert len({r.id for r in ratings}) == 5
    assert all(r.rated_at.hour == 12 for r in ratings)  # a date alone is noon, local time
    assert ratings[0].rated_at.isoformat() == local(2026, 9, 2, 12)  # +02:00 in summer
    assert all(r.practitioner == "ZZ" for r in ratings)  # no practitioner column: config's
    assert ratings[0].comment == "first session, nervous"
    assert ratings[1].comment is None
    assert ratings[2].comment == 'She said "we went too fast"'
    assert ratings[3].comment == "Très bien, merci"
    assert ratings[4].comment == "—"


def test_paper_forms_in_any_row_order_are_numbered_by_date(tmp_path, data_dir):
    lines = PAPER.read_text(encoding="utf-8").split("\r\n")
    header, rows = lines[0], [line for line in lines[1:] if line]
    random.Random(4).shuffle(rows)
    rows.reverse()
    path = write(tmp_path, "shuffled.csv", "\r\n".join([header, *rows]) + "\r\n")
    assert run("import", str(path)).exit_code == 0
    for client in ("P-001", "P-002"):
        mine = [r for r in stored(data_dir) if r.client == client]
        by_session = sorted(mine, key=lambda r: r.session)
        assert [r.session for r in by_session] == list(range(1, len(mine) + 1))
        dates = [r.rated_at for r in by_session]
        assert dates == sorted(dates)


def test_paper_forms_twice_add_nothing_the_second_time(data_dir):
    assert run("import", str(PAPER)).exit_code == 0
    before = snapshot(data_dir)
    result = run("import", str(PAPER))
    assert result.exit_code == 0, result.output
    assert "Imported 0, skipped 5 as duplicates, rejected 0." in result.stdout
    assert snapshot(data_dir) == before


def test_new_paper_forms_follow_stored_sessions_and_an_early_date_gets_a_note(tmp_path, data_dir):
    seed(data_dir)  # P-003 session 1 on 2026-09-01
    path = write(
        tmp_path,
        "more.csv",
        "client,date,empathy,warmth,genuineness,trust\n"
        "P-003,2026-09-20,7,8,8,6\n"
        "P-003,2026-08-20,7,8,8,7\n",
    )
    result = run("import", str(path))
    assert result.exit_code == 0, result.output
    mine = {r.rated_at.date().isoformat(): r.session for r in stored(data_dir)}
    assert mine == {"2026-09-01": 1, "2026-08-20": 2, "2026-09-20": 3}
    assert "row 3: P-003 becomes session 2, but it is dated 2026-08-20" in result.stderr


# -- fixture 3: bad rows --------------------------------------------------------------------------

BAD_ROWS = {
    3: "empathy: 11 is outside 0–10",
    4: "empathy: 'abc' is not a number",
    5: "'../etc/passwd' contains '.', '/'",
    6: "no date",
    7: "date '2026-02-30' is not a real date",
    8: "trust: no answer, and checkin does not allow skipping",
    9: "no client code",
    10: "empathy: 7.5 is not a whole number",
    11: "empathy: -1 is outside 0–10",
}


def test_each_bad_row_is_reported_by_number_and_nothing_is_written(data_dir):
    seed(data_dir)
    before = snapshot(data_dir)
    result = run("import", str(BAD))
    assert result.exit_code == 1
    err = result.stderr
    assert "9 of 10 rows cannot be imported" in err
    for row, problem in BAD_ROWS.items():
        line = next(line for line in err.splitlines() if f"bad-rows.csv, row {row}:" in line)
        assert problem in line, (row, line)
    assert "row 2:" not in err  # the good row
    assert "Nothing was written" in err and "--skip-invalid" in err
    assert "Traceback" not in result.output
    assert snapshot(data_dir) == before  # byte for byte, nothing new either


def test_bad_rows_with_dry_run_write_nothing_either(data_dir):
    result = run("import", str(BAD), "--dry-run")
    assert result.exit_code == 1
    assert "row 3:" in result.stderr
    assert not data_dir.exists()


def test_skip_invalid_imports_the_good_row_and_lists_the_rest(data_dir):
    result = run("import", str(BAD), "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert "Imported 1, skipped 0 as duplicates, rejected 9." in result.stdout
    assert "9 rows rejected (left out)" in result.stderr
    for row in BAD_ROWS:
        assert f"bad-rows.csv, row {row}:" in result.stderr
    ratings = stored(data_dir)
    assert [(r.client, r.comment) for r in ratings] == [("P-003", "fine row")]


def test_dry_run_reports_and_writes_nothing(data_dir):
    result = run("import", str(PAPER), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Dry run: would import 5, skip 0 as duplicates, reject 0. Nothing was written." in (
        result.stdout
    )
    assert not data_dir.exists()


# -- the file as a whole --------------------------------------------------------------------------


def test_a_misspelt_column_with_values_is_refused(tmp_path, data_dir):
    path = write(
        tmp_path,
        "typo.csv",
        "client,date,empathy,warmth,genuineness,trust,comments\nP-1,2026-09-01,7,8,8,6,hello\n",
    )
    result = run("import", str(path))
    assert result.exit_code == 1
    assert "row 1 (the header): column 'comments'" in result.stderr
    assert "did you mean 'comment'" in result.stderr
    assert not data_dir.exists()


def test_an_empty_unknown_column_is_ignored(tmp_path, data_dir):
    path = write(
        tmp_path,
        "x.csv",
        "client;date;empathy;warmth;genuineness;trust;notes;;\nP-1;2026-09-01;7;8;8;6;;;\n",
    )
    result = run("import", str(path))
    assert result.exit_code == 0, result.output


def test_a_missing_item_column_is_refused(tmp_path, data_dir):
    path = write(
        tmp_path, "x.csv", "client,date,empathy,warmth,genuineness\nP-1,2026-09-01,7,8,8\n"
    )
    result = run("import", str(path))
    assert result.exit_code == 1
    assert "there is no column for item trust of checkin (used on row 2)" in result.stderr


def test_missing_client_or_date_column(tmp_path, data_dir):
    path = write(tmp_path, "x.csv", "who,when,empathy\nP-1,2026-09-01,7\n")
    result = run("import", str(path))
    assert result.exit_code == 1
    assert "there is no 'client' column" in result.stderr
    assert "there is no 'date' (or 'rated_at') column" in result.stderr


def test_broken_quoting_is_a_clear_message(tmp_path, data_dir):
    path = write(
        tmp_path,
        "x.csv",
        "client,date,empathy,warmth,genuineness,trust,comment\n"
        'P-1,2026-09-01,7,8,8,6,"never closed\nP-1,2026-09-08,7,8,8,6,ok\n',
    )
    result = run("import", str(path))
    assert result.exit_code == 1
    assert "quoting is broken" in result.stderr and "Traceback" not in result.output


def test_not_utf8_and_xlsx_files_are_explained(tmp_path, data_dir):
    path = write(
        tmp_path,
        "latin.csv",
        "client,date,empathy,warmth,genuineness,trust,comment\nP-1,2026-09-01,7,8,8,6,très\n",
        encoding="latin-1",
    )
    result = run("import", str(path))
    assert result.exit_code == 1
    assert "line 2: the file is not UTF-8" in result.stderr and "CSV UTF-8" in result.stderr
    fake = tmp_path / "book.xlsx"
    fake.write_bytes(b"PK\x03\x04rest")
    result = run("import", str(fake))
    assert result.exit_code == 1 and "XLSX" in result.stderr
    result = run("import", str(tmp_path / "missing.csv"))
    assert result.exit_code == 1 and "no such file" in result.stderr


def test_utf16_tabs_and_sep_line(tmp_path, data_dir):
    rows = "client\tdate\tempathy\twarmth\tgenuineness\ttrust\r\nP-1\t2026-09-01\t7\t8\t8\t6\r\n"
    path = write(tmp_path, "u16.csv", "\ufeff" + rows, encoding="utf-16-le")
    assert run("import", str(path)).exit_code == 0
    path = write(
        tmp_path,
        "sep.csv",
        "sep=;\nclient;date;empathy;warmth;genuineness;trust\n"
        "P-2;2026-09-01;7;8;8;6\nP-2;2026-09-0x;7;8;8;6\n",
    )
    result = run("import", str(path))
    assert result.exit_code == 1
    assert "row 3: date '2026-09-0x'" in result.stderr  # the sep= line is not a row
    assert len(stored(data_dir)) == 1


def test_more_problems_in_one_row_are_all_named(tmp_path, data_dir):
    path = write(
        tmp_path,
        "x.csv",
        "client,date,empathy,warmth,genuineness,trust,session\nbad code,2099-01-01,11,x,8,6,0\n",
    )
    result = run("import", str(path))
    assert result.exit_code == 1
    for text in (
        "contains a space",
        "session '0' is not a whole number from 1",
        "is in the future",
        "empathy: 11",
        "warmth: 'x'",
    ):
        assert text in result.stderr


def test_unknown_instrument_and_version(tmp_path, data_dir):
    path = write(
        tmp_path,
        "x.csv",
        "client,date,instrument,instrument_version,empathy,warmth,genuineness,trust\n"
        "P-1,2026-09-01,nope,,7,8,8,6\n"
        "P-1,2026-09-01,checkin,7,7,8,8,6\n"
        "P-1,2026-09-01,../x.toml,,7,8,8,6\n",
    )
    result = run("import", str(path))
    assert result.exit_code == 1
    assert "row 2: instrument 'nope' is not known here (known: checkin, core)" in result.stderr
    assert "row 3: instrument checkin version 7 is not defined here" in result.stderr
    assert "row 4: instrument '../x.toml' is not an instrument id" in result.stderr


def test_core_rows_may_skip_and_other_instruments_cells_must_be_empty(tmp_path, data_dir):
    items = [
        "empathy_1",
        "warmth_1",
        "genuineness_1",
        "trust_1",
        "empathy_2",
        "warmth_2",
        "genuineness_2",
        "trust_2",
        "empathy_3",
        "warmth_3",
        "genuineness_3",
        "trust_3",
    ]
    header = ",".join(
        ["client", "date", "instrument", "empathy", "warmth", "genuineness", "trust", *items]
    )
    path = write(
        tmp_path,
        "x.csv",
        header + "\n"
        "P-1,2026-09-01,core,,,,," + ",".join(["3"] * 11) + ",skip\n"
        "P-2,2026-09-01,core,5,,,," + ",".join(["3"] * 12) + "\n"
        "P-3,2026-09-01,checkin,7,8,8,6" + "," * 12 + "\n",
    )
    result = run("import", str(path))
    assert result.exit_code == 1
    assert "row 3: there is a value in column 'empathy', which is not an item of core" in (
        result.stderr
    )
    result = run("import", str(path), "--skip-invalid")
    assert result.exit_code == 0
    ratings = {r.client: r for r in stored(data_dir)}
    assert ratings["P-1"].skipped == ("trust_3",) and len(ratings["P-1"].answers) == 11
    assert ratings["P-3"].instrument == "checkin"


def test_instrument_option_sets_the_default(tmp_path, data_dir):
    items = [
        "empathy_1",
        "warmth_1",
        "genuineness_1",
        "trust_1",
        "empathy_2",
        "warmth_2",
        "genuineness_2",
        "trust_2",
        "empathy_3",
        "warmth_3",
        "genuineness_3",
        "trust_3",
    ]
    path = write(
        tmp_path,
        "x.csv",
        "client,date," + ",".join(items) + "\nP-1,2026-09-01," + ",".join(["4"] * 12) + "\n",
    )
    assert run("import", str(path)).exit_code == 1  # the default, checkin, has other items
    result = run("import", str(path), "--instrument", "core")
    assert result.exit_code == 0, result.output
    assert stored(data_dir)[0].instrument == "core"


# -- ids ------------------------------------------------------------------------------------------


def test_the_same_rating_twice_in_a_file_is_imported_once(tmp_path, data_dir):
    rid = str(uuid.uuid4())
    line = f"{rid},P-1,1,2026-09-01T10:00:00+02:00,7,8,8,6\n"
    path = write(
        tmp_path,
        "x.csv",
        "id,client,session,rated_at,empathy,warmth,genuineness,trust\n" + line + line,
    )
    result = run("import", str(path))
    assert result.exit_code == 0, result.output
    assert "Imported 1, skipped 1 as duplicates, rejected 0." in result.stdout
    header = "id,client,session,rated_at,empathy,warmth,genuineness,trust\n"
    changed = write(tmp_path, "y.csv", header + line + line.replace(",6\n", ",5\n"))
    result = run("import", str(changed))
    assert result.exit_code == 1
    assert f"row 3: id {rid} is also on row 2 with different values" in result.stderr


def test_an_id_stored_with_other_values_is_kept_and_noted(tmp_path, data_dir):
    original = seed(data_dir)
    path = write(
        tmp_path,
        "x.csv",
        "id,client,session,rated_at,empathy,warmth,genuineness,trust\n"
        f"{original.id},P-003,1,2026-09-01T10:00:00+01:00,1,1,1,1\n",
    )
    result = run("import", str(path))
    assert result.exit_code == 0, result.output
    assert "skipped 1 as duplicates" in result.stdout
    assert "already stored with different values" in result.stderr
    assert stored(data_dir) == [original]


def test_rows_with_and_without_ids_in_one_file(tmp_path, data_dir):
    kept = str(uuid.uuid4())
    path = write(
        tmp_path,
        "x.csv",
        "id,client,session,rated_at,empathy,warmth,genuineness,trust\n"
        ",P-1,,2026-09-20,7,8,8,6\n"
        f"{kept},P-1,4,2026-09-10T10:00:00+02:00,7,8,8,7\n"
        ",P-1,,2026-09-30,7,8,8,5\n",
    )
    result = run("import", str(path))
    assert result.exit_code == 0, result.output
    sessions = {r.rated_at.date().isoformat(): (r.session, r.id == kept) for r in stored(data_dir)}
    assert sessions == {
        "2026-09-10": (4, True),  # keeps its number
        "2026-09-20": (5, False),  # the others follow it, in date order
        "2026-09-30": (6, False),
    }


def test_a_damaged_data_file_stops_the_import_before_anything_is_written(tmp_path, data_dir):
    seed(data_dir)
    target = data_dir / "clients" / "P-003.toml"
    target.write_bytes(target.read_bytes() + b'\n[[sessions]]\nid = "x"\nsession = \n')
    before = snapshot(data_dir)
    path = write(
        tmp_path,
        "x.csv",
        "client,date,empathy,warmth,genuineness,trust\n"
        "P-003,2026-09-20,7,8,8,6\nP-004,2026-09-20,7,8,8,6\n",
    )
    result = run("import", str(path))
    assert result.exit_code == 1
    assert "check --repair" in result.stderr and "Nothing was written" in result.stderr
    assert snapshot(data_dir) == before


# -- JSON Lines -----------------------------------------------------------------------------------


def test_json_lines_are_detected_by_content_and_validated_by_line(tmp_path, data_dir):
    good = {
        "client": "J-1",
        "rated_at": "2026-09-01T10:00:00+02:00",
        "instrument": "core",
        "answers": {
            f"{d}_{n}": 3
            for d in ("empathy", "warmth", "genuineness", "trust")
            for n in (1, 2, 3)
            if (d, n) != ("trust", 3)
        },
        "skipped": ["trust_3"],
        "overall": "ignored",
        "alerts": [],
    }
    bad = dict(good, answers={**good["answers"], "trust_3": 2})
    odd = {"client": "J-2", "rated_at": "2026-09-01", "answers": {"empathy": 7}, "colour": "red"}
    path = write(
        tmp_path,
        "records.txt",
        "\n".join([json.dumps(good), "", json.dumps(bad), json.dumps(odd), "{not json", "[1]"])
        + "\n",
    )
    result = run("import", str(path))
    assert result.exit_code == 1
    err = result.stderr
    assert "line 3: trust_3 is both answered and listed under skipped" in err
    assert "line 4: unknown key colour" in err
    assert "line 4: warmth: no answer, and not listed under skipped" in err
    assert "line 5: not valid JSON" in err
    assert "line 6: not a JSON object" in err
    assert "line 1" not in err
    result = run("import", str(path), "--skip-invalid")
    assert result.exit_code == 0
    (rating,) = stored(data_dir)
    assert rating.skipped == ("trust_3",) and rating.client == "J-1"


# -- the library, without the command line --------------------------------------------------------


def test_importer_core_is_usable_without_the_cli(tmp_path):
    store = open_store(tmp_path / uuid.uuid4().hex)
    registry = Registry(None)
    import_file = read_import_file(PAPER, registry, practitioner="AB")
    assert import_file.problems == [] and len(import_file.rows) == 5
    dry = run_import(store, import_file, dry_run=True)
    assert len(dry.imported) == 5 and not store.data_dir.exists()
    done = run_import(store, import_file)
    assert [r.session for r in done.imported if r.client == "P-001"] == [1, 2, 3]
    again = run_import(store, read_import_file(PAPER, registry, practitioner="AB"))
    assert again.imported == [] and len(again.duplicates) == 5
    with pytest.raises(ImportRowsError, match=r"row 3: empathy: 11"):
        run_import(store, read_import_file(BAD, registry))


def test_a_comment_with_line_breaks_is_still_one_row(tmp_path, data_dir):
    path = write(
        tmp_path,
        "x.csv",
        "client,date,empathy,warmth,genuineness,trust,comment\r\n"
        'P-1,2026-09-01,7,8,8,6,"two\r\nlines\r\nhere"\r\n'
        "P-1,2026-09-08,7,8,8,66,next\r\n",
    )
    result = run("import", str(path))
    assert result.exit_code == 1
    assert "x.csv, row 3: trust: 66 is outside 0–10" in result.stderr  # not "row 5"
    result = run("import", str(path), "--skip-invalid")
    assert stored(data_dir)[0].comment == "two\nlines\nhere"  # \r\n is a line break: \n


def test_date_format_problems(tmp_path, data_dir):
    for bad in ("%Q", "dd.mm.yyyy"):
        result = run("import", str(RESAVED), "--date-format", bad)
        assert result.exit_code == 1
        assert f"--date-format {bad!r}" in result.stderr and "%d.%m.%Y %H:%M" in result.stderr
    path = write(
        tmp_path,
        "x.csv",
        "client;date;empathy;warmth;genuineness;trust\n"
        "P-1;30.02.2026;7;8;8;6\nP-1;03.11.2026 10:50;7;8;8;6\nP-1;2026-09-01;7;8;8;6\n",
    )
    result = run("import", str(path), "--date-format", "%d.%m.%Y")
    assert result.exit_code == 1
    assert "row 2: date '30.02.2026' is not a real date" in result.stderr
    assert "row 3: date '03.11.2026 10:50' does not match --date-format '%d.%m.%Y'" in (
        result.stderr
    )
    assert "row 4" not in result.stderr  # ISO is always understood
    assert not data_dir.exists()


def test_a_csv_live_store_file_imports(tmp_path: Path, data_dir: Path, config_dir: Path) -> None:
    """Another data folder's ratings.csv (the CSV store) imports: its `skipped` and `format`
    columns are understood, a newer format is refused by row."""
    from helpers.store_kit import write_config
    from ratetool.store import open_store

    other = tmp_path / "colleague"
    other_config = tmp_path / "colleague-config"
    write_config(other_config, "csv")
    for args in (
        ["C-7", "--answers", "9,8,7,6"],
        ["C-8", "--instrument", "core", "--answers", "5,4,s,5,4,4,5,3,2,1,2,3"],
    ):
        result = CliRunner().invoke(
            app,
            ["--data-dir", str(other), "--config-dir", str(other_config), "rate", *args, "--yes"],
        )
        assert result.exit_code == 0, result.output
    live = other / "ratings.csv"
    result = run("import", str(live))
    assert result.exit_code == 0, result.output
    assert "Imported 2, skipped 0 as duplicates, rejected 0." in result.stdout
    mine = {r.id: r for r in open_store(data_dir).read_all().ratings}
    theirs = {r.id: r for r in open_store(other, "csv").read_all().ratings}
    assert mine == theirs
    assert mine[next(i for i, r in theirs.items() if r.client == "C-8")].skipped == (
        "genuineness_1",
    )
    newer = tmp_path / "newer.csv"
    newer.write_bytes(live.read_bytes().replace(b",2\r\n", b",3\r\n"))
    before = snapshot(data_dir)
    result = run("import", str(newer))
    assert result.exit_code == 1
    assert "newer ratetool (data format 3)" in result.output
    assert snapshot(data_dir) == before


def test_merging_an_export_with_the_same_session_numbers_renumbers_and_says_so(
    tmp_path: Path, data_dir: Path, config_dir: Path
) -> None:
    other = tmp_path / "colleague"
    for day, answers in (("2026-09-20", "1,2,3,4"), ("2026-09-27", "2,3,4,5")):
        result = CliRunner().invoke(
            app,
            [
                "--data-dir",
                str(other),
                "rate",
                "P-001",
                "--answers",
                answers,
                "--date",
                day,
                "--yes",
            ],
        )
        assert result.exit_code == 0, result.output
    export = tmp_path / "theirs.csv"
    assert (
        CliRunner()
        .invoke(app, ["--data-dir", str(other), "export", "--output", str(export)])
        .exit_code
        == 0
    )
    assert run("import", str(PAPER)).exit_code == 0  # P-001 sessions 1-3 here
    result = run("import", str(export))
    assert result.exit_code == 0, result.output
    assert (
        "already has a session 1 (another rating); this one is saved as session 4" in result.output
    )
    sessions = sorted(
        r.session for r in open_store(data_dir).read_all().ratings if r.client == "P-001"
    )
    assert sessions == [1, 2, 3, 4, 5]
