"""Round trips: what ratetool exports, ratetool imports back exactly.

Property tests store generated ratings in one data folder, export them, and import the export into
a fresh, empty data folder (a new one per example): every rating must come back identical (id,
client, session, answers, skips, the moment rated *and* its UTC offset, practitioner, comment).
Comments are any Unicode text, including quotes, line breaks, tabs and text that starts like a
formula, so the CSV escaping is exercised in both directions.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from ratetool.cli import app
from ratetool.exporters import collect, render
from ratetool.importer import read_import_file, run_import
from ratetool.instruments import Instrument, Registry, load_builtin
from ratetool.model import Rating
from ratetool.store import open_store

REGISTRY = Registry(None)
CHECKIN = load_builtin("checkin")
CORE = load_builtin("core")
INSTRUMENTS = {"checkin": CHECKIN, "core": CORE}


def resolve(instrument_id: str, version: int) -> Instrument | None:
    inst = INSTRUMENTS.get(instrument_id)
    return inst if inst is not None and inst.version == version else None


# -- strategies -----------------------------------------------------------------------------------

# Upper case only: client files are named after the code, and some file systems ignore case.
WINDOWS_DEVICES = {
    "con",
    "prn",
    "aux",
    "nul",
    *(f"{d}{i}" for d in ("com", "lpt") for i in range(1, 10)),
}
client_codes = st.from_regex(r"[A-Z0-9_-]{1,12}", fullmatch=True).filter(
    lambda c: c.lower() not in WINDOWS_DEVICES
)
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda m: timezone(timedelta(minutes=m))
)
moments = st.builds(
    lambda naive, tz, micro: naive.replace(tzinfo=tz, microsecond=micro),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2026, 10, 31)),
    offsets,
    st.sampled_from([0, 0, 0, 123456]),
)
# Any text a comment may hold: control characters but tab and line feed are refused at every way
# in (ratetool.limits), so a stored comment never holds them.
any_text = st.text(
    st.characters(exclude_categories=("Cs", "Cc"), include_characters="\t\n"),
    min_size=0,
    max_size=40,
)
comments = st.one_of(
    st.none(),
    st.builds(
        lambda start, rest: start + rest,
        st.sampled_from(
            [
                "",
                "=",
                "+",
                "-",
                "@",
                "'",
                "''",
                "\t",
                "\n",
                '"',
                " ",
                "-3",
                "a\nb",
                "\u2028",
                ";,",
            ]
        ),
        any_text,
    ).filter(bool),
)
# Initials or a short code, on one line; may start like a formula (escaped like any text).
practitioners = st.one_of(
    st.none(),
    st.from_regex(r"[A-Za-zÀ-ÿ+=@'-][A-Za-zÀ-ÿ. '-]{0,8}[A-Za-zÀ-ÿ.]", fullmatch=True),
)


@st.composite
def ratings(draw, client: str | None = None) -> Rating:
    inst = draw(st.sampled_from([CHECKIN, CORE]))
    answers: dict[str, int] = {}
    skipped: list[str] = []
    for item_id in inst.item_ids:
        if inst.allow_skip and draw(st.integers(0, 4)) == 0:
            skipped.append(item_id)
        else:
            answers[item_id] = draw(st.integers(inst.scale.min, inst.scale.max))
    return Rating(
        id=str(uuid.uuid4()),
        client=client or draw(client_codes),
        session=0,
        rated_at=draw(moments),
        instrument=inst.id,
        instrument_version=inst.version,
        answers=answers,
        practitioner=draw(practitioners),
        comment=draw(comments),
        skipped=tuple(skipped),
    )


rating_lists = st.lists(ratings(), min_size=1, max_size=6)


# -- helpers --------------------------------------------------------------------------------------


def fresh_dir(tmp_path: Path) -> Path:
    return tmp_path / uuid.uuid4().hex


def store_ratings(data_dir: Path, items: list[Rating]) -> list[Rating]:
    store = open_store(data_dir)
    store.add(items)
    result = store.read_all()
    assert result.problems == []
    return result.ratings


def export_bytes(data_dir: Path, fmt: str, **options) -> bytes:
    data = collect(open_store(data_dir).read_all().ratings, resolve)
    return render(data, fmt, **options)


def import_file(data_dir: Path, path: Path):
    return run_import(open_store(data_dir), read_import_file(path, REGISTRY))


def assert_same(got: list[Rating], want: list[Rating]) -> None:
    by_id = {r.id: r for r in got}
    assert sorted(by_id) == sorted(r.id for r in want)
    for rating in want:
        other = by_id[rating.id]
        assert other == rating
        assert other.rated_at.isoformat() == rating.rated_at.isoformat()  # same offset too
        assert list(other.answers) == list(rating.answers)


FORMATS = [
    ("csv", {}),
    ("csv", {"excel": True}),
    ("csv", {"delimiter": ";"}),
    ("csv", {"excel": True, "delimiter": "\t"}),
    ("json", {}),
]


# -- properties -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt,options", FORMATS, ids=lambda x: str(x))
@given(items=rating_lists)
def test_export_then_import_into_an_empty_folder_is_identical(tmp_path, fmt, options, items):
    source, target = fresh_dir(tmp_path), fresh_dir(tmp_path)
    original = store_ratings(source, items)
    path = tmp_path / f"{uuid.uuid4().hex}.{'csv' if fmt == 'csv' else 'jsonl'}"
    path.write_bytes(export_bytes(source, fmt, **options))
    result = import_file(target, path)
    assert result.rejected == [] and result.duplicates == []
    assert len(result.imported) == len(original)
    assert_same(open_store(target).read_all().ratings, original)


@pytest.mark.parametrize("fmt", ["csv", "json"])
@given(items=rating_lists)
def test_importing_the_same_export_twice_adds_nothing(tmp_path, fmt, items):
    source, target = fresh_dir(tmp_path), fresh_dir(tmp_path)
    store_ratings(source, items)
    path = tmp_path / f"{uuid.uuid4().hex}.{'csv' if fmt == 'csv' else 'jsonl'}"
    path.write_bytes(export_bytes(source, fmt))
    import_file(target, path)
    files = {p: p.read_bytes() for p in target.rglob("*.toml")}
    again = import_file(target, path)
    assert again.imported == []
    assert len(again.duplicates) == len(items)
    assert {p: p.read_bytes() for p in target.rglob("*.toml")} == files


@given(first=rating_lists, second=rating_lists)
def test_merging_two_folders_exports_gives_the_union(tmp_path, first, second):
    a, b, merged = fresh_dir(tmp_path), fresh_dir(tmp_path), fresh_dir(tmp_path)
    from_a = store_ratings(a, first)
    from_b = store_ratings(b, second)
    path_a, path_b = tmp_path / f"{uuid.uuid4().hex}.csv", tmp_path / f"{uuid.uuid4().hex}.csv"
    path_a.write_bytes(export_bytes(a, "csv"))
    path_b.write_bytes(export_bytes(b, "csv"))
    for path in (path_a, path_b, path_a):  # a colleague's export, and one's own again
        import_file(merged, path)
    got = open_store(merged).read_all().ratings
    # Every rating once, identical but for the session number of a rating whose number the
    # same client code already had from the other folder: it is numbered after the others.
    assert_same(
        [replace(r, session=0) for r in got], [replace(r, session=0) for r in [*from_a, *from_b]]
    )
    numbers = [(r.client, r.session) for r in got]
    assert len(numbers) == len(set(numbers)), "a client has two ratings with one session number"
    by_id = {r.id: r.session for r in got}
    assert all(by_id[r.id] == r.session for r in from_a)  # the first folder imported keeps its


# -- through the command line ---------------------------------------------------------------------


def cli(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.mark.parametrize("name,extra", [("all.csv", ["--excel"]), ("all.jsonl", [])])
def test_round_trip_through_the_command_line(tmp_path, name, extra):
    source, target = fresh_dir(tmp_path), fresh_dir(tmp_path)
    cet = timezone(timedelta(hours=1))
    original = store_ratings(
        source,
        [
            Rating(
                str(uuid.uuid4()),
                "0412",
                0,
                datetime(2026, 11, 3, 10, 50, tzinfo=cet),
                "checkin",
                1,
                {"empathy": 8, "warmth": 9, "genuineness": 7, "trust": 10},
                "AB",
                '=HYPERLINK("x")\n"quoted", Grüße',
            ),
            Rating(
                str(uuid.uuid4()),
                "-X",
                0,
                datetime(2026, 11, 4, 9, 0, tzinfo=UTC),
                "core",
                1,
                {i: 3 for i in CORE.item_ids if i != "trust_1"},
                None,
                "'tis",
                ("trust_1",),
            ),
        ],
    )
    out = tmp_path / name
    result = cli("--data-dir", str(source), "export", "--output", str(out), *extra)
    assert result.exit_code == 0, result.output
    result = cli("--data-dir", str(target), "import", str(out))
    assert result.exit_code == 0, result.output
    assert "Imported 2, skipped 0 as duplicates, rejected 0." in result.stdout
    assert_same(open_store(target).read_all().ratings, original)
    result = cli("--data-dir", str(target), "import", str(out))
    assert "Imported 0, skipped 2 as duplicates, rejected 0." in result.stdout
