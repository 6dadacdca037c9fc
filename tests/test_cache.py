"""ratetool's one derived cache (``ratetool.cache``) never changes what is shown: whatever happens to
the files, the settings or the cache itself, ``ratetool summary`` (the caseload) shows exactly what
a run that bypasses the cache (``RATETOOL_NO_CACHE=1``) shows, in both stores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from helpers.store_kit import STORE_KINDS, chop, make_rating
from ratetool import cache, caseload
from ratetool.cli import app
from ratetool.store import open_store

runner = CliRunner()
posix_only = pytest.mark.posix_only  # file modes: deselected where there are none (conftest)
NO_CACHE = {"RATETOOL_NO_CACHE": "1"}
#: The ways the caseload can be asked for.
VIEWS = [
    ("--json",),
    ("--all",),
    ("--json", "--since", "2026-10-05"),
    ("--json", "--practitioner", "xy"),
]


# ------------------------------------------------------------------------------------------------
# Helpers


def invoke(*args: str, env: dict[str, str] | None = None) -> Any:
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == 0, (args, result.exit_code, result.output)
    return result


def rate(client: str, answers: str, day: str, *extra: str) -> None:
    invoke("rate", client, "--answers", answers, "--date", day, "--yes", *extra)


def shown(*, no_cache: bool = False) -> tuple[str, ...]:
    """Every view of the caseload the cache could get wrong."""
    return tuple(
        invoke("summary", *args, env=NO_CACHE if no_cache else None).stdout for args in VIEWS
    )


def assert_shows_the_files() -> list[dict[str, Any]]:
    views = shown()
    assert views == shown(no_cache=True)
    rows: list[dict[str, Any]] = json.loads(views[0])
    return rows


def row_of(rows: list[dict[str, Any]], client: str) -> dict[str, Any]:
    return next(r for r in rows if r["client"] == client)


def write_config(config_dir: Path, kind: str, extra: str = "") -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(f'store = "{kind}"\n{extra}', encoding="utf-8")


def write_custom_instrument(config_dir: Path, name: str = "normed", file_name: str = "") -> Path:
    folder = config_dir / "instruments"
    folder.mkdir(parents=True, exist_ok=True)
    items = "\n".join(
        f'[[items]]\nid = "{d}"\ndimension = "{d}"\ntext = "{d.title()} today?"\n'
        for d in ("empathy", "warmth", "genuineness", "trust")
    )
    path = folder / (file_name or f"{name}.toml")
    path.write_text(
        f'id = "{name}"\nversion = 1\ntitle = "Normed check-in"\nintro = "Four questions."\n'
        '[scale]\nmin = 0\nmax = 10\nmin_label = "not at all"\nmax_label = "completely"\n'
        '[dimensions]\nempathy = "Empathy"\nwarmth = "Warmth"\ngenuineness = "Genuineness"\n'
        'trust = "Trust"\n'
        + items
        + '[norms]\nsd = 7.6\nreliability = 0.95\nsource = "Jacobson & Truax example"\n',
        encoding="utf-8",
    )
    return path


def read_cache(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_bytes())
    return data


def rewrite_with_valid_checksum(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as ratetool writes its cache, checksum and all (a cache that lies)."""
    clients = data.pop("clients")
    body = json.dumps(clients, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    data["crc32"] = cache._checksum(body)
    head = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    path.write_bytes(head[:-1] + b',"clients":' + body + b"}")


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The clients whose caseload part is worked out from their ratings (not read from the cache)."""
    seen: list[str] = []
    real = caseload.caseload_part

    def counting(ratings: list[Any], settings: cache.Settings) -> Any:
        seen.extend(dict.fromkeys(r.client for r in ratings))
        return real(ratings, settings)

    monkeypatch.setattr(caseload, "caseload_part", counting)
    return seen


@pytest.fixture(params=STORE_KINDS)
def store_kind(request: pytest.FixtureRequest, config_dir: Path) -> str:
    kind: str = request.param
    write_config(config_dir, kind)
    return kind


@pytest.fixture
def cached(store_kind: str, data_dir: Path, computed: list[str]) -> Path:
    """Three clients (two instruments, a comment, two practitioners) and the cache, built by one
    caseload summary and proven to answer the next."""
    rate("C-1", "9,9,9,9", "2026-10-01", "--practitioner", "XY", "--comment", "good start")
    rate("C-1", "9,10,9,9", "2026-10-08")
    rate("C-2", "8,8,8,8", "2026-10-02")
    rate("C-2", "4,4,4,4,5,5,5,5,2,2,2,1", "2026-10-09", "--instrument", "core")
    rate("C-3", "10,10,10,10", "2026-10-03", "--practitioner", "xy")
    first = assert_shows_the_files()
    assert [r["client"] for r in first] == ["C-2", "C-1", "C-3"]
    path = data_dir / ".ratetool-cache" / "cache-v4.json"
    assert path.is_file()
    computed.clear()
    before = path.stat()
    assert shown() == shown(no_cache=True)
    assert computed == ["C-1", "C-2", "C-3"] * len(VIEWS)  # only the runs that bypass it
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)  # not rewritten
    computed.clear()
    return path


# ------------------------------------------------------------------------------------------------
# 1. What is kept, and where


def test_one_file_with_format_version_and_one_entry_per_client(cached: Path) -> None:
    data = read_cache(cached)
    assert (data["format"], data["version"]) == ("ratetool-cache", 4)
    assert list(data) == ["format", "version", "settings", "crc32", "clients"]
    assert sorted(data["clients"]) == ["C-1", "C-2", "C-3"]
    assert set(data["clients"]["C-1"]) == {"fp", "caseload"}
    names = sorted(p.name for p in cached.parent.iterdir())
    # (the CSV store keeps its own index of ratings.csv beside it)
    assert [n for n in names if n != "ratings.csv.index"] == ["cache-v4.json"]


@posix_only
def test_cache_file_is_private(cached: Path) -> None:
    assert oct(cached.stat().st_mode & 0o777) == "0o600"
    assert cached.parent.stat().st_mode & 0o077 == 0


# ------------------------------------------------------------------------------------------------
# 2. A rating appended by another process


def test_rating_appended_by_another_process(cached: Path, computed: list[str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "ratetool", "rate", "C-3", "--answers", "3,4,3,4"]
        + ["--date", "2026-10-16", "--yes"],
        env=dict(os.environ),
        check=True,
        capture_output=True,
    )
    rows = assert_shows_the_files()
    c3 = row_of(rows, "C-3")
    assert c3["sessions"] == 2 and "drop" in c3["alerts"]
    assert rows[0]["client"] == "C-3"  # needs attention first now
    assert set(computed) == {"C-1", "C-2", "C-3"}  # the runs without the cache score everyone ...
    computed.clear()
    invoke("summary")
    assert computed == []  # ... and the cache was brought up to date


def test_one_new_rating_rescores_only_that_client(cached: Path, computed: list[str]) -> None:
    """In both stores: the CSV store's fingerprint is per client, not the one file's."""
    rate("C-1", "7,7,7,7", "2026-10-20")
    invoke("summary")
    assert computed == ["C-1"]
    assert row_of(assert_shows_the_files(), "C-1")["sessions"] == 3


def test_rating_appended_while_the_summary_reads_is_never_hidden(
    cached: Path, store_kind: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fingerprint is taken before the file is read: a rating that lands just after the
    read makes the kept entry stale (worked out again next time), never a cache that hides it."""
    rate("C-1", "7,7,7,7", "2026-10-20")  # C-1 is read again by the next summary ...
    store_class = type(open_store(data_dir, store_kind))
    real = store_class.read_client
    done: list[bool] = []

    def another_append_after_the_read(self: Any, client: str) -> Any:
        result = real(self, client)
        if client == "C-1" and not done:
            done.append(True)  # ... and another process appends right after it read the file
            open_store(data_dir, store_kind).add([make_rating("C-1", 3)])
        return result

    with monkeypatch.context() as m:
        m.setattr(store_class, "read_client", another_append_after_the_read)
        rows = json.loads(invoke("summary", "--json").stdout)
    assert done and row_of(rows, "C-1")["sessions"] == 3  # what it read
    rows = assert_shows_the_files()
    assert row_of(rows, "C-1")["sessions"] == 4


# ------------------------------------------------------------------------------------------------
# 3. A hand edit that keeps the size and puts the modification time back


def test_hand_edit_with_size_and_mtime_restored(
    cached: Path, store_kind: str, data_dir: Path
) -> None:
    """``touch -r``, a backup tool or an editor that keeps times: the change time still moves."""
    if store_kind == "csv":
        path = data_dir / "ratings.csv"
        raw = path.read_bytes()
        line = next(x for x in raw.splitlines(keepends=True) if b",C-3," in x)
        body = line.rstrip(b"\r\n")
        assert body.endswith(b",,,,,2") and body.count(b",10,10,10,10,") == 1
        # warmth 10 -> 9 (a byte shorter) and a comment "x" (a byte longer)
        edited = raw.replace(
            line,
            body.replace(b",10,10,10,10,", b",10,9,10,10,")[:-6] + b",x,,,,2" + line[len(body) :],
        )
    else:
        path = data_dir / "clients" / "C-3.toml"
        raw = path.read_bytes()
        assert raw.count(b"empathy = 10, warmth = 10,") == 1
        edited = raw.replace(b"empathy = 10, warmth = 10,", b"empathy = 10, warmth = 9 ,")
    assert len(edited) == len(raw) and edited != raw
    before = path.stat()
    path.write_bytes(edited)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    rows = assert_shows_the_files()
    assert row_of(rows, "C-3")["latest_pomp"] == 97.5  # (10 + 9 + 10 + 10) / 40, not 100.0


# ------------------------------------------------------------------------------------------------
# 4. A missing or damaged cache


def test_deleted_cache_is_rebuilt(cached: Path) -> None:
    cached.unlink()
    assert_shows_the_files()
    assert cached.is_file()


@pytest.mark.parametrize(
    "damage",
    ["empty", "binary", "truncated", "flipped", "wrong-shape", "newer-version", "other-format"],
)
def test_damaged_cache_is_ignored_and_rebuilt(
    cached: Path, damage: str, computed: list[str]
) -> None:
    raw = cached.read_bytes()
    data = read_cache(cached)
    if damage == "empty":
        cached.write_bytes(b"")
    elif damage == "binary":
        cached.write_bytes(b"\x00\xff not json")
    elif damage == "truncated":
        cached.write_bytes(raw[: len(raw) // 2])
    elif damage == "flipped":
        # One digit of a score: still valid JSON of the right shape; only the checksum tells.
        at = raw.index(b'\\"latest_pomp\\":') + len(b'\\"latest_pomp\\":')
        flipped = raw[:at] + bytes([raw[at] ^ 0x01]) + raw[at + 1 :]
        assert json.loads(flipped) != data
        cached.write_bytes(flipped)
    elif damage == "wrong-shape":
        cached.write_bytes(b"[1, 2, 3]")
    elif damage == "newer-version":
        text = raw.replace(b'"version":4', b'"version":5', 1)
        cached.write_bytes(text.replace(b'"row":"{', b'"row":{"new":1,"old":"{'))
    else:
        cached.write_bytes(raw.replace(b'"ratetool-cache"', b'"something-else"', 1))
    assert_shows_the_files()
    assert set(computed) == {"C-1", "C-2", "C-3"}
    computed.clear()
    assert read_cache(cached)["version"] == 4  # rebuilt ...
    invoke("summary")
    assert computed == []  # ... and used again


def test_read_only_cache_folder_does_not_break_summary(cached: Path) -> None:
    cached.unlink()
    folder = cached.parent
    for p in folder.iterdir():
        p.unlink()
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):  # root ignores permissions: a file where the folder goes
            folder.chmod(0o700)
            folder.rmdir()
            folder.write_bytes(b"")
        assert_shows_the_files()
        assert not cached.exists()
    finally:
        if folder.is_dir():
            folder.chmod(0o700)


# ------------------------------------------------------------------------------------------------
# 5. A cache that lies is found by `check`


def test_check_finds_and_drops_a_cache_that_lies(cached: Path) -> None:
    data = read_cache(cached)
    part = data["clients"]["C-1"]["caseload"]
    row = json.loads(part["row"])  # each row is kept as its JSON text
    assert row["latest_pomp"] == 92.5
    row["latest_pomp"] = 12.5  # same fingerprint, valid checksum, wrong content
    part["row"] = json.dumps(row)
    rewrite_with_valid_checksum(cached, data)
    lied = json.loads(invoke("summary", "--json").stdout)
    assert row_of(lied, "C-1")["latest_pomp"] == 12.5  # believed, which is why `check` looks

    result = runner.invoke(app, ["check"])
    assert result.exit_code == 1, result.output
    assert "the cached caseload of C-1 does not match its file; it was dropped" in result.output
    assert "1 problem found" in result.output
    assert "Nothing to fix by hand" in result.output
    assert "C-1" not in read_cache(cached)["clients"]
    assert row_of(assert_shows_the_files(), "C-1")["latest_pomp"] == 92.5
    ok = runner.invoke(app, ["check"])
    assert ok.exit_code == 0, ok.output
    assert "C-1" in read_cache(cached)["clients"]  # a true cache is left alone


def test_check_notes_an_unreadable_cache(cached: Path) -> None:
    cached.write_bytes(b"{not json")
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 1, result.output
    assert "the cache cannot be read; it was dropped and will be rebuilt" in result.output
    assert not cached.exists()
    assert runner.invoke(app, ["check"]).exit_code == 0


# ------------------------------------------------------------------------------------------------
# 6. What must warn every time is never kept


def test_client_with_a_damaged_file_is_never_cached(
    cached: Path, store_kind: str, data_dir: Path
) -> None:
    if store_kind == "csv":
        chop(data_dir / "ratings.csv", 5)  # a row cut short: a torn tail
    else:
        with (data_dir / "clients" / "C-1.toml").open("ab") as fh:
            fh.write(b'\n[[sessions]]\nid = "half')
    want = runner.invoke(app, ["summary", "--json"], env=NO_CACHE)
    assert want.exit_code == 1  # everything shown, the problem named, exit 1
    for _ in range(2):
        result = runner.invoke(app, ["summary", "--json"])
        assert result.exit_code == 1
        assert "incomplete" in result.stderr
        assert result.stdout == want.stdout
    if store_kind == "toml":
        assert "C-1" not in read_cache(cached)["clients"]


def test_client_whose_instrument_definition_is_gone_is_never_cached(
    store_kind: str, data_dir: Path, config_dir: Path
) -> None:
    definition = write_custom_instrument(config_dir)
    rate("C-9", "7,6,6,6", "2026-10-01", "--instrument", "normed")
    rate("C-8", "9,9,9,9", "2026-10-01")
    invoke("summary")
    path = data_dir / ".ratetool-cache" / "cache-v4.json"
    assert "C-9" in read_cache(path)["clients"]
    definition.unlink()
    for _ in range(2):
        result = invoke("summary", "--json")
        assert "no definition of instrument normed" in result.stderr
        assert result.stdout == invoke("summary", "--json", env=NO_CACHE).stdout
        assert row_of(json.loads(result.stdout), "C-9")["latest_pomp"] is None
        assert "C-9" not in read_cache(path)["clients"]
        assert "C-8" in read_cache(path)["clients"]


# ------------------------------------------------------------------------------------------------
# 7. A change of settings, a client removed


def test_changed_alert_thresholds(cached: Path, store_kind: str, config_dir: Path) -> None:
    assert "low" not in row_of(assert_shows_the_files(), "C-1")["alerts"]
    write_config(config_dir, store_kind, "[alerts]\nlow = 99\n")
    rows = assert_shows_the_files()
    assert "low" in row_of(rows, "C-1")["alerts"]  # 92.5% < 99
    assert "low=99.0" in read_cache(cached)["settings"]


@pytest.mark.parametrize("file_name", ["extra.toml", "Extra.TOML"])
def test_a_custom_instrument_file_is_a_setting(
    cached: Path, config_dir: Path, computed: list[str], file_name: str
) -> None:
    """The registry reads any ``*.toml`` file whatever the case of its suffix."""
    write_custom_instrument(config_dir, "extra", file_name)
    invoke("summary")
    assert computed == ["C-1", "C-2", "C-3"]
    assert file_name in read_cache(cached)["settings"]
    assert_shows_the_files()


def test_removed_client_file_leaves_the_caseload(
    cached: Path, store_kind: str, data_dir: Path
) -> None:
    if store_kind == "toml":
        (data_dir / "clients" / "C-2.toml").unlink()
    else:
        path = data_dir / "ratings.csv"
        lines = path.read_bytes().splitlines(keepends=True)
        path.write_bytes(b"".join(line for line in lines if b",C-2," not in line))
    rows = assert_shows_the_files()
    assert [r["client"] for r in rows] == ["C-1", "C-3"]
    assert "C-2" not in read_cache(cached)["clients"]


# ------------------------------------------------------------------------------------------------
# 8. RATETOOL_NO_CACHE


def test_no_cache_neither_reads_nor_writes(store_kind: str, data_dir: Path) -> None:
    open_store(data_dir, store_kind).add([make_rating("C-5", n) for n in range(3)])
    for args in VIEWS:
        invoke("summary", *args, env=NO_CACHE)
    path = data_dir / ".ratetool-cache" / "cache-v4.json"
    assert not path.exists()
    invoke("summary")
    data = read_cache(path)
    part = data["clients"]["C-5"]["caseload"]
    part["row"] = json.dumps({**json.loads(part["row"]), "sessions": 99})
    rewrite_with_valid_checksum(path, data)
    assert row_of(json.loads(invoke("summary", "--json").stdout), "C-5")["sessions"] == 99
    bypassed = json.loads(invoke("summary", "--json", env=NO_CACHE).stdout)
    assert row_of(bypassed, "C-5")["sessions"] == 3


# ------------------------------------------------------------------------------------------------
# 9. A summary answered from the cache loads neither scoring, the instruments, the parser of
#    the clients' files nor the drawing of one client

PROBE = textwrap.dedent(
    """
    import json, sys
    import ratetool.cli
    sys.argv = ["ratetool", "summary"]
    try:
        ratetool.cli.main()
        code = None
    except SystemExit as exc:
        code = exc.code
    heavy = ["ratetool.scoring", "ratetool.report", "ratetool.instruments",
             "ratetool.store.toml_parse", "ratetool.store.records", "ratetool.model",
             "ratetool.render.client"]
    sys.stdout.flush()
    print("\\nPROBE " + json.dumps({"code": code, "loaded": [m for m in heavy if m in sys.modules]}))
    """
)


def probe(*, no_cache: bool = False) -> tuple[str, dict[str, Any]]:
    env = {**os.environ, **(NO_CACHE if no_cache else {})}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out, _, report = proc.stdout.rpartition("\nPROBE ")
    return out, json.loads(report)


def test_warm_summary_stays_light(data_dir: Path) -> None:
    """(TOML store: the CSV store's own modules load scoring for the column layout.)"""
    rate("C-1", "9,9,9,9", "2026-10-01")
    rate("C-2", "3,4,3,4", "2026-10-02")
    invoke("summary")
    assert (data_dir / ".ratetool-cache" / "cache-v4.json").is_file()
    warm, report = probe()
    assert report["code"] in (0, None) and report["loaded"] == [], report
    bypassed, report = probe(no_cache=True)  # control: the probe sees them when scoring runs
    assert sorted(report["loaded"]) == [
        "ratetool.instruments",
        "ratetool.model",
        "ratetool.report",
        "ratetool.scoring",
        "ratetool.store.records",
        "ratetool.store.toml_parse",
    ]
    assert bypassed == warm


def test_caseload_rows_are_numbered_and_decoded_when_looked_at() -> None:
    from ratetool.caseload import CaseloadRows

    rows = CaseloadRows(['{"client":"C-2"}', '{"client":"C-1"}', '{"client":"C-3"}'])
    assert len(rows) == 3
    assert rows[0] == {"attention": 1, "client": "C-2"}
    assert rows[-1] == {"attention": 3, "client": "C-3"}
    assert rows[:2] == [{"attention": 1, "client": "C-2"}, {"attention": 2, "client": "C-1"}]
    assert [r["client"] for r in rows] == ["C-2", "C-1", "C-3"]
    with pytest.raises(IndexError):
        rows[3]
