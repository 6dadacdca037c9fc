"""``ratetool export --format csv --codebook``: a Frictionless Data Package beside the CSV, valid
for the ``frictionless`` package, and enough to read the export with its types; and
``--one-line-comments``."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import frictionless
import pytest
from typer.testing import CliRunner

from ratetool.cli import app
from ratetool.instruments import load_builtin
from ratetool.model import Rating
from ratetool.store import open_store

CET = timezone(timedelta(hours=1))
CHECKIN_ITEMS = ("empathy", "warmth", "genuineness", "trust")
CORE = load_builtin("core")


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def checkin(client: str = "C-014", n: int = 0, comment: str | None = None) -> Rating:
    return Rating(
        id=str(uuid.uuid4()),
        client=client,
        session=0,
        rated_at=datetime(2026, 10, 6, 10, 50, tzinfo=CET) + timedelta(days=7 * n),
        instrument="checkin",
        instrument_version=1,
        answers=dict(zip(CHECKIN_ITEMS, ((8 + n) % 11, 9, 7, 10))),
        practitioner="AB",
        comment=comment,
    )


def core(client: str = "C-021", n: int = 0) -> Rating:
    answers = {item: 1 + (i + n) % 5 for i, item in enumerate(CORE.item_ids) if item != "trust_3"}
    return Rating(
        id=str(uuid.uuid4()),
        client=client,
        session=0,
        rated_at=datetime(2026, 10, 7, 16, 5, tzinfo=CET) + timedelta(days=7 * n),
        instrument="core",
        instrument_version=1,
        answers=answers,
        skipped=("trust_3",),
    )


COMMENT = 'first line\nsecond, "quoted"\r\nthird'


@pytest.fixture
def seeded(data_dir: Path) -> list[Rating]:
    ratings = [
        checkin(n=0),
        checkin(n=1, comment=COMMENT),
        checkin(client="C-3", comment="=1+1"),
        core(n=0),
        core(n=1),
    ]
    open_store(data_dir).add(ratings)
    return ratings


def export(tmp_path: Path, *args: str) -> tuple[Path, Any]:
    out = tmp_path / "out" / "ratings.csv"
    out.parent.mkdir(exist_ok=True)
    return out, run("export", "--format", "csv", "--codebook", "--output", str(out), *args)


def typed(value: str, kind: str, field: dict[str, Any]) -> object:
    """A cell as the schema's type says (the reader an analyst writes from the codebook)."""
    if value in field.get("missingValues", [""]):
        return None
    if kind == "integer":
        return int(value)
    if kind == "number":
        return float(value.replace(field.get("decimalChar", "."), "."))
    if kind == "datetime":
        return datetime.fromisoformat(value)
    return value


def read_with_codebook(package_path: Path) -> list[dict[str, object]]:
    package = json.loads(package_path.read_text(encoding="utf-8"))
    (resource,) = package["resources"]
    dialect, schema = resource["dialect"], resource["schema"]
    data = (package_path.parent / resource["path"]).read_bytes().decode(resource["encoding"])
    reader = csv.reader(
        io.StringIO(data, newline=""),
        delimiter=dialect["delimiter"],
        quotechar=dialect["quoteChar"],
        doublequote=dialect["doubleQuote"],
        lineterminator=dialect["lineTerminator"],
    )
    header = next(reader)
    fields = schema["fields"]
    assert header == [f["name"] for f in fields]
    rows = []
    for cells in reader:
        rows.append(
            {
                f["name"]: typed(cell, f["type"], {**f, "missingValues": schema["missingValues"]})
                for f, cell in zip(fields, cells)
            }
        )
    return rows


def test_the_codebook_is_a_valid_data_package_for_the_csv(tmp_path, seeded):
    out, result = export(tmp_path)
    assert result.exit_code == 0, result.output
    package_path = out.parent / "datapackage.json"
    report = frictionless.validate(str(package_path))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    assert report.stats["tasks"] == 1
    assert report.tasks[0].stats["rows"] == len(seeded)


def test_frictionless_notices_a_value_the_codebook_does_not_allow(tmp_path, seeded):
    """The validation above can fail: an answer past the scale's maximum is caught."""
    out, result = export(tmp_path)
    assert result.exit_code == 0, result.output
    text = out.read_bytes().decode("utf-8").split("\r\n")
    cells = text[1].split(",")
    header = text[0].split(",")
    cells[header.index("empathy")] = "11"
    text[1] = ",".join(cells)
    out.write_bytes("\r\n".join(text).encode("utf-8"))
    report = frictionless.validate(str(out.parent / "datapackage.json"))
    assert not report.valid
    assert "constraint-error" in {e[2] for e in report.flatten(["rowNumber", "fieldName", "type"])}


def test_the_schema_types_titles_and_ranges(tmp_path, seeded):
    out, result = export(tmp_path)
    assert result.exit_code == 0, result.output
    package = json.loads((out.parent / "datapackage.json").read_text(encoding="utf-8"))
    (resource,) = package["resources"]
    assert resource["path"] == "ratings.csv"
    assert resource["dialect"]["delimiter"] == ","
    assert resource["dialect"]["doubleQuote"] is True
    assert resource["dialect"]["lineTerminator"] == "\r\n"
    schema = resource["schema"]
    assert schema["missingValues"] == [""]
    fields = {f["name"]: f for f in schema["fields"]}
    header = out.read_bytes().decode("utf-8").split("\r\n")[0].split(",")
    assert list(fields) == header
    assert fields["session"]["type"] == "integer"
    assert fields["rated_at"]["type"] == "datetime"
    assert fields["client"]["type"] == "string"
    assert fields["overall"]["type"] == "number" and fields["total"]["type"] == "integer"
    checkin_def = load_builtin("checkin")
    for item in checkin_def.items:
        assert fields[item.id]["type"] == "integer"
        assert fields[item.id]["title"] == item.text
        assert fields[item.id]["constraints"] == {"minimum": 0, "maximum": 10}
    for item in CORE.items:
        assert fields[item.id]["title"] == item.text
        assert fields[item.id]["constraints"] == {
            "minimum": CORE.scale.min,
            "maximum": CORE.scale.max,
        }
    assert fields["empathy_score"]["title"] == "Empathy"
    assert fields["status"]["constraints"] == {"enum": ["completed", "amended", "entered-in-error"]}


def test_the_export_read_with_the_codebook_gives_the_ratings_back(tmp_path, seeded):
    out, result = export(tmp_path)
    assert result.exit_code == 0, result.output
    rows = read_with_codebook(out.parent / "datapackage.json")
    stored = {r.id: r for r in open_store(tmp_path / "data").read_all().ratings}
    assert len(rows) == len(stored)
    for row in rows:
        rating = stored[str(row["id"])]
        assert row["rated_at"] == rating.rated_at
        assert row["session"] == rating.session
        for item in rating.answers:
            assert row[item] == rating.answers[item]
        for item in rating.skipped:
            assert row[item] is None
        assert isinstance(row["overall"], float)
        # no total when an item was skipped: the empty cell is a missing value
        assert isinstance(row["total"], int) if not rating.skipped else row["total"] is None
        if rating.comment == "=1+1":
            assert row["comment"] == "'=1+1"  # the package's description says so


def test_a_semicolon_csv_has_its_own_dialect_and_decimal_comma(tmp_path, seeded):
    out, result = export(tmp_path, "--delimiter", ";")
    assert result.exit_code == 0, result.output
    package = json.loads((out.parent / "datapackage.json").read_text(encoding="utf-8"))
    (resource,) = package["resources"]
    assert resource["dialect"]["delimiter"] == ";"
    fields = {f["name"]: f for f in resource["schema"]["fields"]}
    assert fields["overall"]["decimalChar"] == ","
    report = frictionless.validate(str(out.parent / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    rows = read_with_codebook(out.parent / "datapackage.json")
    assert all(isinstance(r["overall"], float) for r in rows)


def test_one_line_comments(tmp_path, seeded):
    out, result = export(tmp_path, "--one-line-comments")
    assert result.exit_code == 0, result.output
    lines = out.read_bytes().decode("utf-8").split("\r\n")
    assert lines[-1] == "" and len(lines) == len(seeded) + 2  # header, one line per rating
    assert all("\n" not in line and "\r" not in line for line in lines)
    rows = read_with_codebook(out.parent / "datapackage.json")
    assert {r["comment"] for r in rows} >= {'first line\\nsecond, "quoted"\\nthird'}
    package = json.loads((out.parent / "datapackage.json").read_text(encoding="utf-8"))
    comment = next(f for f in package["resources"][0]["schema"]["fields"] if f["name"] == "comment")
    assert "\\n" in comment["description"] and "one line" in comment["description"]
    assert frictionless.validate(str(out.parent / "datapackage.json")).valid
    # without the option the comment keeps its line breaks
    out2 = tmp_path / "plain.csv"
    assert run("export", "--output", str(out2)).exit_code == 0
    assert "first line\nsecond" in out2.read_bytes().decode("utf-8")


def test_the_codebook_is_refused_where_it_cannot_be_right(tmp_path, seeded):
    out, result = export(tmp_path)
    assert result.exit_code == 0, result.output
    before = (out.parent / "datapackage.json").read_bytes()
    other = out.parent / "other.csv"
    result = run("export", "--codebook", "--output", str(other))
    assert result.exit_code == 1 and "datapackage.json already exists" in result.stderr
    assert not other.exists() and (out.parent / "datapackage.json").read_bytes() == before
    assert run("export", "--codebook", "--force", "--output", str(other)).exit_code == 0
    for args, words in (
        (("--codebook", "--output", "-"), "file name"),
        (("--codebook", "--format", "json", "--output", str(tmp_path / "x.jsonl")), "csv"),
        (("--one-line-comments", "--output", str(tmp_path / "x.jsonl")), "csv"),
        (("--codebook", "--excel", "--output", str(tmp_path / "x.csv")), "--excel"),
    ):
        result = run("export", *args)
        assert result.exit_code == 1, args
        assert words in result.stderr, (args, result.stderr)
