"""Corrections in the CSV store: void, amend and rename rows appended to ``ratings.csv`` (no byte
before them changes), a format-1 file raised to format 2 once (the old file kept whole), the
corrected view through every read, the index and the cache, hand-edited and torn correction rows,
and ``migrate`` carrying corrections in both directions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from helpers.store_kit import CLIENT, folder_snapshot, make_rating
from ratetool import store as store_module
from ratetool.corrections import (
    AMEND,
    AMENDED,
    ENTERED_IN_ERROR,
    RENAME,
    VOID,
    Correction,
    CorrectionError,
    new_correction_id,
)
from ratetool.errors import ClientCodeError, DamagedFileError, FormatTooNewError
from ratetool.model import Rating
from ratetool.store import open_store
from ratetool.store.csv_format import RATINGS_NAME
from ratetool.store.csv_index import CACHE_DIR, INDEX_NAME, Index
from ratetool.store.csv_store import CsvStore
from ratetool.store.migrate import migrate

MADE = datetime(2026, 12, 4, 11, 20, tzinfo=UTC)
NEW_ANSWERS = {"empathy": 1, "warmth": 2, "genuineness": 3, "trust": 4}
#: A format-1 ratings.csv as ratetool wrote it before corrections existed (two ratings).
FORMAT_1 = (
    b"id,client,session,rated_at,instrument,instrument_version,practitioner,"
    b"empathy,warmth,genuineness,trust,skipped,comment,format\r\n"
    b"r1,C-014,1,2026-11-03T10:50:00+01:00,checkin,1,AB,8,9,7,10,,first,1\r\n"
    b"r2,C-014,2,2026-11-10T10:50:00+01:00,checkin,1,,9,10,8,0,,,1\r\n"
)


@pytest.fixture
def store(data_dir: Path, config_dir: Path) -> CsvStore:
    from ratetool.instruments import Registry

    data_dir.mkdir(parents=True, exist_ok=True)
    return CsvStore(data_dir, Registry(config_dir).get_version)


def three(store: CsvStore, client: str = CLIENT) -> list[Rating]:
    return store.add([make_rating(client, n) for n in range(3)]).added


def void(rating: Rating, reason: str = "rated for the wrong client") -> Correction:
    return Correction(
        new_correction_id(), rating.client, VOID, MADE, rating=rating.id,
        session=rating.session, reason=reason, practitioner="AB",
    )  # fmt: skip


def amend(rating: Rating, answers: dict[str, int] = NEW_ANSWERS, **more: object) -> Correction:
    return Correction(
        new_correction_id(), rating.client, AMEND, MADE, rating=rating.id,
        session=rating.session, answers=dict(answers), **more,  # type: ignore[arg-type]
    )  # fmt: skip


def rename(old: str, new: str) -> Correction:
    return Correction(
        new_correction_id(), old, RENAME, MADE, new_client=new, reason="code typed wrong"
    )


def fresh(store: CsvStore) -> CsvStore:
    """Another process's view of the same folder (nothing remembered)."""
    return CsvStore(store.data_dir, store.resolve)


# ------------------------------------------------------------------------------------------------
# Appended, never rewritten


def test_each_correction_appends_one_row_and_keeps_every_byte_before_it(store: CsvStore) -> None:
    r1, r2, r3 = three(store)
    steps = [
        lambda: store.add_corrections([void(r1)]),
        lambda: store.add_corrections([amend(r2, comment="said better")]),
        lambda: store.rename_client(rename(CLIENT, "C-017")),
        lambda: store.add([make_rating("C-017", 9)]),
    ]
    for step in steps:
        before = store.path.read_bytes()
        written = step()
        after = store.path.read_bytes()
        assert after.startswith(before) and after.count(b"\r\n") == before.count(b"\r\n") + 1
        if isinstance(written, list):
            assert written == [store.path]
    rows = store.path.read_bytes().decode().splitlines()
    assert rows[4].endswith(f",void,{r1.id},rated for the wrong client,2")
    assert rows[6].endswith(",,,,,,,,,,,,,,,,,,,,,,rename,C-017,code typed wrong,2")


def test_a_format_1_file_is_raised_to_format_2_once_and_kept_whole(store: CsvStore) -> None:
    store.path.write_bytes(FORMAT_1)
    before = fresh(store).read_all().ratings
    written = store.add_corrections([void(before[0])])
    [kept] = sorted(store.data_dir.glob(f"{RATINGS_NAME}.format1-*"))
    assert written == [store.path, kept]
    assert kept.read_bytes() == FORMAT_1  # the old file, byte for byte
    text = store.path.read_bytes().decode()
    assert text.startswith(
        "id,client,session,rated_at,instrument,instrument_version,practitioner,"
        "empathy,warmth,genuineness,trust,skipped,comment,correction,target,reason,format\r\n"
        "r1,C-014,1,2026-11-03T10:50:00+01:00,checkin,1,AB,8,9,7,10,,first,,,,2\r\n"
    )
    result = fresh(store).read_all()
    assert [r.id for r in result.voided] == ["r1"] and result.ratings == before[1:]
    # the second correction only appends: no second raise, no second kept file
    raised = store.path.read_bytes()
    store.add_corrections([amend(before[1])])
    assert store.path.read_bytes().startswith(raised)
    assert len(list(store.data_dir.glob(f"{RATINGS_NAME}.format1-*"))) == 1
    assert fresh(store).check() == []
    [note] = fresh(store).notes()
    assert note.startswith(f"{kept}: ratings.csv as it was before its first correction")


def test_no_correction_changes_nothing(store: CsvStore) -> None:
    store.path.write_bytes(FORMAT_1)
    assert store.add_corrections([]) == []
    assert store.path.read_bytes() == FORMAT_1
    assert list(store.data_dir.glob(f"{RATINGS_NAME}.format1-*")) == []


def test_a_format_1_file_with_a_problem_is_not_raised(store: CsvStore) -> None:
    damaged = FORMAT_1.replace(b",9,10,8,0,", b",9,ten,8,0,")
    store.path.write_bytes(damaged)
    good = store.read_all().ratings[0]
    assert store.repair() == []  # (takes the lock once: the lock file is there before)
    before = folder_snapshot(store.data_dir)
    with pytest.raises(DamagedFileError, match="line 3"):
        store.add_corrections([void(good)])
    assert folder_snapshot(store.data_dir) == before


def test_format_1_rows_keep_reading_and_take_format_1_rows_until_raised(store: CsvStore) -> None:
    store.path.write_bytes(FORMAT_1)
    added = store.add([make_rating(CLIENT, 5)]).added
    assert added[0].session == 3
    assert store.path.read_bytes().startswith(FORMAT_1)
    assert store.path.read_bytes().endswith(b",,,1\r\n") and store.check() == []


def test_an_older_ratetool_refuses_a_file_with_a_correction(
    store: CsvStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Simulated by this ratetool reading with DATA_FORMAT 1 (what 1.x knows): the file is
    refused naming it, never misread (the correction columns would look like items)."""
    import ratetool.store.csv_format as csv_format
    import ratetool.store.csv_index as csv_index
    import ratetool.store.csv_parse as csv_parse

    store.path.write_bytes(FORMAT_1)
    store.add_corrections([void(store.read_all().ratings[0])])
    before = folder_snapshot(store.data_dir)
    # 1.x: format 1 is all it reads, and it takes correction, target, reason for item columns
    monkeypatch.setattr(store_module, "DATA_FORMAT", 1)
    monkeypatch.setattr(csv_parse, "DATA_FORMAT", 1)
    monkeypatch.setattr(csv_parse, "READ_FORMATS", frozenset({"1"}))
    monkeypatch.setattr(csv_format.Header, "format", property(lambda self: 1))
    monkeypatch.setattr(csv_index, "INDEX_VERSION", 1)  # 1.x does not read this index
    for operation in (
        fresh(store).read_all,
        fresh(store).check,
        lambda: fresh(store).add([make_rating(CLIENT, 4)]),
    ):
        with pytest.raises(FormatTooNewError, match="newer ratetool") as refused:
            operation()
        assert str(store.path) in str(refused.value) and "data format 2" in str(refused.value)
    assert folder_snapshot(store.data_dir) == before


# ------------------------------------------------------------------------------------------------
# The corrected view


def test_void_amend_and_rename_through_read_all_and_read_client(store: CsvStore) -> None:
    r1, r2, r3 = three(store)
    store.add([make_rating("C-020", 0)])
    store.add_corrections([void(r1), amend(r2, comment="")])
    for reader in (store, fresh(store)):
        result = reader.read_client(CLIENT)
        assert [(r.session, r.status) for r in result.ratings] == [(2, AMENDED), (3, "completed")]
        assert result.ratings[0].answers == NEW_ANSWERS and result.ratings[0].comment is None
        assert [(r.session, r.status) for r in result.voided] == [(1, ENTERED_IN_ERROR)]
        assert [c.action for c in result.corrections] == [VOID, AMEND]
        assert result.problems == []
    store.rename_client(rename(CLIENT, "C-017"))
    after = fresh(store)
    assert after.client_codes() == ["C-017", "C-020"]
    moved = after.read_client("C-017")
    assert [(r.client, r.session) for r in moved.ratings] == [("C-017", 2), ("C-017", 3)]
    assert [r.client for r in moved.voided] == ["C-017"]
    assert [c.action for c in moved.corrections] == [VOID, AMEND, RENAME]
    gone = after.read_client(CLIENT)
    assert gone.ratings == [] and gone.voided == [] and gone.problems == []
    everything = after.read_all()
    assert sorted((r.client, r.session) for r in everything.ratings) == [
        ("C-017", 2), ("C-017", 3), ("C-020", 1),
    ]  # fmt: skip
    # the same through the whole-file path many reads take (a cold caseload)
    many = fresh(store)
    for _ in range(10):
        many.read_client("C-020")
    assert many.read_client("C-017").ratings == moved.ratings
    assert many.read_client(CLIENT).ratings == []


def test_a_renamed_client_continues_the_session_numbers(store: CsvStore) -> None:
    three(store)
    store.rename_client(rename(CLIENT, "C-017"))
    added = store.add([make_rating("C-017", 5)]).added
    assert added[0].session == 4
    store.rename_client(rename("C-017", "C-018"))  # a chain: the last code wins
    assert fresh(store).add([make_rating("C-018", 6)]).added[0].session == 5
    shown = fresh(store).read_client("C-018").ratings
    assert [r.session for r in shown] == [1, 2, 3, 4, 5]
    assert fresh(store).client_codes() == ["C-018"] and fresh(store).check() == []


def test_a_renamed_away_code_takes_no_new_rating_and_says_the_new_one(store: CsvStore) -> None:
    three(store)
    store.rename_client(rename(CLIENT, "C-017"))
    before = folder_snapshot(store.data_dir)
    for skip in (False, True):
        with pytest.raises(ClientCodeError, match="renamed to C-017"):
            fresh(store).add([make_rating(CLIENT, 7)], skip_existing_ids=skip)
    with pytest.raises(ClientCodeError, match="renamed to C-017"):
        fresh(store).refuse_case_twin(CLIENT)  # what `rate` asks before the first question
    fresh(store).refuse_case_twin("C-017")
    assert folder_snapshot(store.data_dir) == before


def test_rate_under_a_renamed_away_code_is_refused_before_the_first_question(
    data_dir: Path, config_dir: Path
) -> None:
    from typer.testing import CliRunner

    from helpers.store_kit import write_config
    from ratetool.cli import app

    write_config(config_dir, "csv")
    store = open_store(data_dir, "csv")
    three(store)  # type: ignore[arg-type]
    store.rename_client(rename(CLIENT, "C-017"))
    before = folder_snapshot(data_dir)
    result = CliRunner().invoke(app, ["rate", CLIENT], input="8\n" * 10)
    assert result.exit_code == 1 and "renamed to C-017" in result.output
    assert "Question 1" not in result.output and folder_snapshot(data_dir) == before


def test_import_under_a_renamed_away_code_is_refused_naming_the_new_code(
    store: CsvStore, data_dir: Path, config_dir: Path, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from helpers.store_kit import write_config
    from ratetool.cli import app

    write_config(config_dir, "csv")
    three(store)
    store.rename_client(rename(CLIENT, "C-017"))
    colleague = CsvStore(tmp_path / "colleague")
    colleague.add([make_rating(CLIENT, 0)])
    before = folder_snapshot(data_dir)
    result = CliRunner().invoke(app, ["import", str(colleague.path)])
    assert result.exit_code == 1 and "renamed to C-017" in result.output
    assert folder_snapshot(data_dir) == before


@pytest.mark.parametrize("new", ["C-020", "c-020", "C-014", "C-099"])
def test_rename_refusals_write_nothing(store: CsvStore, new: str) -> None:
    three(store)
    store.add([make_rating("C-020", 0)])
    if new == "C-099":  # OLD has no ratings
        old, message = "C-050", "no ratings"
    elif new == CLIENT:
        old, message = "C-020", "already has ratings"
    else:
        old, message = CLIENT, "cannot merge" if new == "C-020" else "upper"
    before = folder_snapshot(store.data_dir, with_cache=True)
    with pytest.raises(CorrectionError, match=message) as refused:
        store.rename_client(rename(old, new))
    assert "Nothing was written" in str(refused.value)
    assert folder_snapshot(store.data_dir, with_cache=True) == before


def test_a_rename_is_undone_by_renaming_back(store: CsvStore) -> None:
    three(store)
    store.rename_client(rename(CLIENT, "C-017"))
    store.add([make_rating("C-017", 4)])
    store.rename_client(rename("C-017", CLIENT))
    for reader in (fresh(store), store):
        back = reader.read_client(CLIENT)
        assert [(r.client, r.session) for r in back.ratings] == [(CLIENT, n) for n in (1, 2, 3, 4)]
        assert [c.action for c in back.corrections] == [RENAME, RENAME]
        assert reader.read_client("C-017").ratings == []
    assert fresh(store).client_codes() == [CLIENT]
    assert {r.client for r in fresh(store).read_all().ratings} == {CLIENT}
    assert fresh(store).add([make_rating(CLIENT, 5)]).added[0].session == 5
    with pytest.raises(ClientCodeError, match=f"renamed to {CLIENT}"):
        fresh(store).add([make_rating("C-017", 5)])
    prints = fresh(store).client_fingerprints()
    assert prints is not None and set(prints[0]) == {CLIENT}
    assert fresh(store).check() == []


def test_a_code_used_before_cannot_be_renamed_to(store: CsvStore) -> None:
    three(store)
    store.rename_client(rename(CLIENT, "C-017"))
    store.add([make_rating("C-030", 0)])
    with pytest.raises(CorrectionError, match="already has ratings"):
        store.rename_client(rename("C-030", CLIENT))  # renamed away, still in the file
    with pytest.raises(CorrectionError, match="renamed to C-017 already"):
        store.rename_client(rename(CLIENT, "C-040"))
    store.rename_client(rename("C-030", "C-031"))
    with pytest.raises(CorrectionError, match="already has ratings"):
        store.rename_client(rename("C-017", "C-030"))  # C-030's rows are shown as C-031


def test_corrections_checked_under_the_lock_write_nothing_when_refused(store: CsvStore) -> None:
    r1, r2, _ = three(store)
    store.add_corrections([void(r1)])
    before = folder_snapshot(store.data_dir, with_cache=True)
    refused = [
        [void(r1)],  # already voided
        [amend(r1)],
        [void(r2, reason=" ")],  # no reason
        [amend(r2, {"empathy": 11, "warmth": 1, "genuineness": 1, "trust": 1})],  # off the scale
        [replace(void(r2), rating="no-such-id", session=9)],
        [amend(r2), void(r2), amend(r2)],  # the third corrects what the second voided
    ]
    for corrections in refused:
        with pytest.raises(CorrectionError):
            store.add_corrections(corrections)
        assert folder_snapshot(store.data_dir, with_cache=True) == before


def test_a_correction_may_name_the_code_shown(store: CsvStore) -> None:
    r1, _, _ = three(store)
    store.rename_client(rename(CLIENT, "C-017"))
    shown = fresh(store).read_client("C-017").ratings[0]
    assert shown.client == "C-017"
    store.add_corrections([void(shown)])
    row = store.path.read_bytes().decode().splitlines()[-1]
    assert f",{CLIENT},1," in row  # the row names the code the rating is stored under
    assert [r.id for r in fresh(store).read_client("C-017").voided] == [r1.id]


# ------------------------------------------------------------------------------------------------
# Hand edits, torn rows, the index and the cache


def test_a_hand_edited_correction_naming_an_unknown_id_is_a_problem_with_its_row(
    store: CsvStore,
) -> None:
    r1, _, _ = three(store)
    store.add_corrections([void(r1)])
    data = store.path.read_bytes()
    store.path.write_bytes(data.replace(f",void,{r1.id},".encode(), b",void,nobody,"))
    for reader in (fresh(store), store):
        [problem] = reader.read_client(CLIENT).problems
        assert (problem.kind, problem.line, problem.session) == ("invalid", 5, 1)
        assert "nobody" in problem.message and "line 5" in str(problem)
        assert len(reader.read_client(CLIENT).ratings) == 3  # the void does not apply
    assert [p.kind for p in fresh(store).check()] == ["invalid"]
    with pytest.raises(DamagedFileError, match="line 5"):
        fresh(store).add_corrections([void(r1)])


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        ((",void,", ",undo,"), "void, amend or rename"),
        ((",rated for the wrong client,", ",,"), "must say why"),
        ((",2026-12-04T11:20:00+00:00,", ",yesterday,"), "when the correction was made"),
    ],
)
def test_a_damaged_correction_row_is_named_by_its_line(
    store: CsvStore, edit: tuple[str, str], words: str
) -> None:
    r1, _, _ = three(store)
    store.add_corrections([void(r1)])
    store.path.write_bytes(store.path.read_bytes().replace(*(e.encode() for e in edit)))
    [problem] = fresh(store).read_all().problems
    assert (problem.kind, problem.line) == ("damaged", 5) and words in problem.message


def test_a_damaged_file_still_lists_renamed_clients_under_their_new_code(store: CsvStore) -> None:
    three(store)
    store.rename_client(rename(CLIENT, "C-017"))
    store.add([make_rating("C-020", 0)])
    data = store.path.read_bytes()
    store.path.write_bytes(data.replace(b",C-020,1,", b",C-020,one,"))
    damaged = fresh(store)
    assert [p.kind for p in damaged.read_all().problems] == ["damaged"]
    assert damaged.client_codes() == ["C-017"]
    assert len(damaged.read_client("C-017").ratings) == 3


def test_a_torn_correction_row_is_detected_and_repaired(store: CsvStore) -> None:
    r1, r2, _ = three(store)
    store.add_corrections([void(r1)])
    good = store.path.read_bytes()
    store.add_corrections([amend(r2)])
    full = store.path.read_bytes()
    for cut in (len(full) - 1, len(full) - 2, len(good) + 40, len(good) + 1):
        store.path.write_bytes(full[:cut])
        [problem] = fresh(store).check()
        assert (problem.kind, problem.line) == ("torn", 6), cut
        assert [r.id for r in fresh(store).read_client(CLIENT).voided] == [r1.id]
        with pytest.raises(DamagedFileError, match="check --repair"):
            fresh(store).add_corrections([amend(r2)])
        assert len(fresh(store).repair()) == 1
        assert store.path.read_bytes() == good
    for old in store.data_dir.glob(f"{RATINGS_NAME}.corrupt-*"):
        old.unlink()
    assert fresh(store).check() == []


def index_of(store: CsvStore) -> Index:
    index = Index.from_bytes((store.data_dir / CACHE_DIR / INDEX_NAME).read_bytes())
    assert index is not None
    return index


def test_the_index_and_fingerprints_change_for_every_client_a_correction_touches(
    store: CsvStore,
) -> None:
    r1, _, _ = three(store)
    store.add([make_rating("C-020", 0)])
    prints = store.client_fingerprints()
    assert prints is not None and set(prints[0]) == {CLIENT, "C-020"}
    store.add_corrections([void(r1)])
    voided = fresh(store).client_fingerprints()
    assert voided is not None
    assert voided[0][CLIENT] != prints[0][CLIENT] and voided[0]["C-020"] == prints[0]["C-020"]
    store.rename_client(rename(CLIENT, "C-017"))
    renamed = fresh(store).client_fingerprints()
    assert renamed is not None and set(renamed[0]) == {"C-017", "C-020"}  # the old code is gone
    assert renamed[0]["C-020"] == prints[0]["C-020"]
    index = index_of(store)
    assert index.renames == ((CLIENT, "C-017"),) and index.size == store.path.stat().st_size
    # the index describes the file: check agrees, and appending after corrections uses it
    assert fresh(store).check() == []
    import ratetool.store.csv_store as csv_store

    def no_full_read(*args: object, **kwargs: object) -> None:
        raise AssertionError("the whole file was read")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(csv_store, "parse_csv_bytes", no_full_read)
        added = fresh(store).add([make_rating("C-017", 1)]).added
        assert [r.session for r in fresh(store).read_client("C-017").ratings] == [2, 3, 4]
    assert added[0].session == 4 and index_of(store).size == store.path.stat().st_size
    assert fresh(store).check() == []
    assert [r.session for r in fresh(store).read_client("C-017").ratings] == [2, 3, 4]


def test_check_rebuilds_an_index_that_forgot_a_rename(store: CsvStore) -> None:
    three(store)
    store.rename_client(rename(CLIENT, "C-017"))
    index = index_of(store)
    path = store.data_dir / CACHE_DIR / INDEX_NAME
    path.write_bytes(index._replace(renames=()).to_bytes())
    assert fresh(store).client_codes() == [CLIENT]  # what the lying index says...
    [problem] = fresh(store).check()
    assert problem.kind == "cache"  # ...is caught by check and rebuilt
    assert fresh(store).client_codes() == ["C-017"]


def test_the_caseload_cache_follows_a_correction(store: CsvStore, config_dir: Path) -> None:
    from ratetool.cache import Settings
    from ratetool.caseload import caseload_rows
    from ratetool.config import DEFAULT_ALERTS
    from ratetool.instruments import Registry

    settings = Settings(dict(DEFAULT_ALERTS), Registry(config_dir).get_version, None)

    def rows() -> dict[str, tuple[int, float]]:
        shown, problems = caseload_rows(fresh(store), settings)
        assert problems == []
        return {r["client"]: (r["sessions"], r["latest_total"]) for r in shown[:]}

    r1, r2, r3 = three(store)
    store.add([make_rating("C-020", 0)])
    first = rows()
    assert first[CLIENT][0] == 3
    store.add_corrections([amend(r3)])
    assert rows()[CLIENT] == (3, sum(NEW_ANSWERS.values()))
    store.add_corrections([void(r3)])
    assert rows()[CLIENT] == (2, sum(r2.answers.values()))
    store.rename_client(rename(CLIENT, "C-017"))
    assert rows() == {"C-017": (2, sum(r2.answers.values())), "C-020": first["C-020"]}
    assert (store.data_dir / CACHE_DIR / "cache-v4.json").is_file()


# ------------------------------------------------------------------------------------------------
# migrate carries corrections


def corrected_store(store: CsvStore) -> None:
    """Two clients with a void, an amend and a rename, and a rating after the rename."""
    r1, r2, _ = three(store)
    other = store.add([make_rating("C-020", 0), make_rating("C-020", 1)]).added
    store.add_corrections([void(r1), amend(r2, comment="new words"), amend(other[1])])
    store.rename_client(rename(CLIENT, "C-017"))
    store.add([make_rating("C-017", 6)])
    store.add_corrections([amend(other[1], {**NEW_ANSWERS, "trust": 9})])
    store.add([make_rating("C-030", 0)])
    store.rename_client(rename("C-030", "C-031"))  # a rename undone
    store.add([make_rating("C-031", 1)])
    store.rename_client(rename("C-031", "C-030"))


def view_of(store_: object) -> tuple[object, ...]:
    from ratetool.store import Store

    assert isinstance(store_, Store)
    result = store_.read_all()
    assert result.problems == []

    def key(r: Rating) -> tuple[object, ...]:
        return (r.id, r.client, r.session, r.answers, r.comment, r.skipped, r.status)

    return (
        sorted(map(key, result.ratings)),
        sorted(map(key, result.voided)),
        sorted((c.id, c.action, c.reason, c.made_at) for c in result.corrections),
        sorted(store_.client_codes()),
    )


def test_migrate_to_csv_rewrites_the_file_with_its_corrections(
    store: CsvStore, data_dir: Path, config_dir: Path
) -> None:
    corrected_store(store)
    before = view_of(fresh(store))
    old = store.path.read_bytes()
    done = migrate(data_dir, config_dir, "csv", current="csv", item_columns=["extra_item"])
    [kept] = done.kept
    assert kept.read_bytes() == old
    assert view_of(fresh(store)) == before and fresh(store).check() == []


def test_migrate_csv_to_toml_keeps_the_corrected_view(
    store: CsvStore, data_dir: Path, config_dir: Path
) -> None:
    corrected_store(store)
    before = view_of(fresh(store))
    done = migrate(data_dir, config_dir, "toml", current="csv")
    assert view_of(open_store(data_dir, "toml")) == before
    assert "7 corrections (void, amend, rename) carried along" in done.notes[0]


def test_migrate_toml_to_csv_keeps_the_corrected_view(data_dir: Path, config_dir: Path) -> None:
    toml = open_store(data_dir, "toml")
    r1, r2, _ = toml.add([make_rating(CLIENT, n) for n in range(3)]).added
    toml.add_corrections([void(r1), amend(r2, comment="new words")])
    toml.rename_client(rename(CLIENT, "C-017"))
    toml.add([make_rating("C-017", 6)])
    toml.add([make_rating("C-030", 0)])
    toml.rename_client(rename("C-030", "C-031"))  # a rename undone
    toml.add([make_rating("C-031", 1)])
    toml.rename_client(rename("C-031", "C-030"))
    before = view_of(open_store(data_dir, "toml"))
    migrate(data_dir, config_dir, "csv", current="toml")
    assert view_of(open_store(data_dir, "csv")) == before
