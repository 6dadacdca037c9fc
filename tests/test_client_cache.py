"""The per-client summary cache (``ratetool.client_cache``) is derived only: whatever happens to
the files, the settings or the cache, ``ratetool summary CLIENT`` shows exactly what a run that
bypasses the cache (``RATETOOL_NO_CACHE=1``) shows, in both stores."""

from __future__ import annotations

import json
import marshal
import os
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers.store_kit import STORE_KINDS, chop, make_rating
from ratetool import client_cache
from ratetool.cli import app
from ratetool.store import open_store

runner = CliRunner()
posix_only = pytest.mark.posix_only  # file modes: deselected where there are none (conftest)

C1 = "C-1"  # two instruments, comments, a skipped item, alerts
LONG = "C-2"  # more sessions than the table shows without --all
CORE_A = "4,4,4,4,5,5,5,5,2,2,2,1"
CORE_SKIP = "5,s,4,4,5,4,5,5,2,1,2,2"
#: The ways ``summary CLIENT`` can be asked for; each with and without --json.
FLAGS = [(), ("--items",), ("--comments",), ("--all",), ("--items", "--comments", "--all")]
NO_CACHE = {"RATETOOL_NO_CACHE": "1"}


# ------------------------------------------------------------------------------------------------
# Helpers


def invoke(*args: str, env: dict[str, str] | None = None):
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == 0, (args, result.exit_code, result.output)
    return result


def summary(client: str, *flags: str, no_cache: bool = False):
    """``ratetool summary CLIENT FLAGS`` in-process; the result (stdout and stderr apart)."""
    return invoke("summary", client, *flags, env=NO_CACHE if no_cache else None)


def fresh(client: str, *flags: str) -> str:
    """What the files hold: the summary worked out with the cache bypassed."""
    return summary(client, *flags, no_cache=True).stdout


def cache_file(data_dir: Path, client: str) -> Path:
    return data_dir / ".ratetool-cache" / "clients-v1" / f"{client}.bin"


def views(client: str, *, no_cache: bool = False) -> tuple[str, ...]:
    """Everything the cache could get wrong: JSON and tables, with items and comments."""
    return (
        summary(client, "--json", "--items", "--comments", no_cache=no_cache).stdout,
        summary(client, "--items", "--comments", "--all", no_cache=no_cache).stdout,
        summary(client, no_cache=no_cache).stdout,
    )


def assert_shows_the_files(client: str = C1) -> tuple[str, ...]:
    shown = views(client)
    assert shown == views(client, no_cache=True)
    return shown


@pytest.fixture
def from_cache_only(monkeypatch: pytest.MonkeyPatch):
    """Run ``summary`` with the summary unable to be worked out from the files: it succeeds only
    if it is read from the cache."""

    def run(client: str, *flags: str):
        with monkeypatch.context() as m:

            def refuse(*_a, **_k):
                raise AssertionError("summary worked out from the files, not read from the cache")

            m.setattr(client_cache, "summarise", refuse)
            return summary(client, *flags)

    return run


def current_key(data_dir: Path, config_dir: Path, client: str) -> tuple | None:
    return client_cache.key(data_dir, config_dir, client)


def write_config(config_dir: Path, kind: str, extra: str = "") -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(f'store = "{kind}"\n{extra}', encoding="utf-8")


def write_custom_instrument(
    config_dir: Path, name: str = "normed", file_name: str | None = None
) -> Path:
    """A check-in-like custom instrument with norms (so reliable change has a note to cache)."""
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
        'trust = "Trust"\n' + items + "[norms]\nsd = 7.6\nreliability = 0.95\n",
        encoding="utf-8",
    )
    return path


def rate(client: str, answers: str, day: str, *extra: str) -> None:
    invoke("rate", client, "--answers", answers, "--date", day, "--yes", *extra)


@pytest.fixture(params=STORE_KINDS)
def store_kind(request: pytest.FixtureRequest, config_dir: Path) -> str:
    write_config(config_dir, request.param)
    return request.param


@pytest.fixture
def clients(store_kind: str, data_dir: Path) -> str:
    """C-1: check-in and core sessions with comments and a skip; C-2: 23 check-ins."""
    rate(C1, "9,9,9,9", "2026-10-01", "--comment", "good start \U0001f642")
    rate(C1, CORE_A, "2026-10-08", "--instrument", "core", "--comment", "rupture, then repair")
    rate(C1, "6,7,5,8", "2026-10-15")
    rate(C1, CORE_SKIP, "2026-10-22", "--instrument", "core", "--comment", "better")
    open_store(data_dir, store_kind).add([make_rating(LONG, n) for n in range(23)])
    # A data folder in use: the caseload summary has made the cache folder. (The very first
    # summary in a folder without one: test_first_summary_in_a_new_data_folder_is_kept.)
    invoke("summary")
    assert (data_dir / ".ratetool-cache").is_dir()
    return store_kind


@pytest.fixture
def cached(clients: str, data_dir: Path, from_cache_only) -> Path:
    """C-1's summary shown once (which keeps it) and its cache file, proven to be used."""
    first = views(C1)
    path = cache_file(data_dir, C1)
    assert path.is_file()
    assert from_cache_only(C1, "--json", "--items", "--comments").stdout == first[0]
    return path


# ------------------------------------------------------------------------------------------------
# 1. The cached summary is the summary


def test_cached_output_is_identical(clients: str, data_dir: Path, from_cache_only) -> None:
    for client in (C1, LONG):
        for flags in FLAGS:
            for as_json in ((), ("--json",)):
                args = (*flags, *as_json)
                first = summary(client, *args).stdout  # worked out (and kept) or read
                path = cache_file(data_dir, client)
                assert path.is_file(), (client, args)
                before = path.stat()
                again = from_cache_only(client, *args)
                assert again.stdout == first == fresh(client, *args), (client, args)
                assert again.stderr == ""
                after = path.stat()  # read, not rewritten
                assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    # the data are what the case is about: two instruments, comments, items, a skip, 23 sessions
    data = json.loads(from_cache_only(C1, "--json", "--items", "--comments").stdout)
    assert sorted(data["instruments"]) == ["checkin", "core"]
    assert [s["comment"] for s in data["sessions"]] == [
        "good start \U0001f642",
        "rupture, then repair",
        None,
        "better",
    ]
    assert data["sessions"][3]["skipped"] == ["warmth_1"]
    assert "comment" not in json.loads(from_cache_only(C1, "--json").stdout)["sessions"][0]
    assert "answers" not in json.loads(from_cache_only(C1, "--json").stdout)["sessions"][0]
    table = from_cache_only(C1, "--items", "--comments").stdout
    assert "Answers, core" in table and "rupture, then repair" in table
    assert "Trend, core" in table and "Trend, checkin" in table
    long_all = from_cache_only(LONG, "--all").stdout
    assert long_all != from_cache_only(LONG).stdout  # --all shows the sessions left out


def test_first_summary_in_a_new_data_folder_is_kept(
    store_kind: str, data_dir: Path, from_cache_only
) -> None:
    """The summary kept by the first `summary CLIENT` in a data folder is used by the second
    (with the TOML store `rate` makes no cache folder: making it must not stale the entry)."""
    rate(C1, "9,9,9,9", "2026-10-01")
    first = summary(C1).stdout
    assert cache_file(data_dir, C1).is_file()
    assert from_cache_only(C1).stdout == first == fresh(C1)


# ------------------------------------------------------------------------------------------------
# 2. A rating appended by another process


def test_rating_appended_by_another_process(cached: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "ratetool",
            "rate",
            C1,
            "--answers",
            "3,4,3,4",
            "--date",
            "2026-10-29",
            "--yes",
        ],
        env=dict(os.environ),
        check=True,
        capture_output=True,
    )
    shown = assert_shows_the_files()
    data = json.loads(shown[0])
    assert len(data["sessions"]) == 5
    new = data["sessions"][-1]
    assert new["session"] == 5 and new["instrument"] == "checkin"
    assert new["dimensions"] == {"empathy": 3.0, "warmth": 4.0, "genuineness": 3.0, "trust": 4.0}
    assert (new["overall"], new["pomp"], new["total"]) == (3.5, 35.0, 14)
    assert "5 sessions" in shown[2]


# ------------------------------------------------------------------------------------------------
# 3. A hand edit that keeps the size and puts the modification time back


def test_hand_edit_with_size_and_mtime_restored(
    cached: Path, store_kind: str, data_dir: Path
) -> None:
    if store_kind == "csv":
        path, old, new = data_dir / "ratings.csv", b",,9,9,9,9,", b",,2,9,9,9,"
    else:
        path, old, new = (
            data_dir / "clients" / f"{C1}.toml",
            b"empathy = 9, warmth = 9",
            b"empathy = 2, warmth = 9",
        )
    before = path.stat()
    raw = path.read_bytes()
    assert raw.count(old) == 1
    edited = raw.replace(old, new)
    assert len(edited) == len(raw)
    path.write_bytes(edited)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    shown = assert_shows_the_files()
    first = json.loads(shown[0])["sessions"][0]
    assert first["dimensions"]["empathy"] == 2.0 and first["answers"]["empathy"] == 2
    assert first["pomp"] == 72.5  # (2 + 9 + 9 + 9) / 40, no longer 90.0


# ------------------------------------------------------------------------------------------------
# 4. A damaged or missing cache file


@pytest.mark.parametrize("damage", ["deleted", "truncated", "flipped"])
def test_damaged_cache_gives_the_fresh_summary_and_is_rebuilt(
    cached: Path, damage: str, data_dir: Path, config_dir: Path, from_cache_only
) -> None:
    raw = cached.read_bytes()
    if damage == "deleted":
        cached.unlink()
    elif damage == "truncated":
        cached.write_bytes(raw[: len(raw) // 2])
    else:
        # One letter of a comment: the data still unmarshal (a cache without its checksum would
        # show "good swart"), only the checksum tells.
        at = raw.index(b"good start")
        flipped = raw[: at + 6] + bytes([raw[at + 6] ^ 0x03]) + raw[at + 7 :]
        assert flipped != raw and marshal.loads(flipped[len(client_cache._MAGIC) + 8 :])
        cached.write_bytes(flipped)
    if damage != "deleted":
        assert client_cache._decode(cached.read_bytes()) is None
    shown = assert_shows_the_files()
    assert "good start" in shown[0]
    rebuilt = client_cache._decode(cached.read_bytes())
    assert rebuilt is not None and rebuilt["key"] == current_key(data_dir, config_dir, C1)
    assert (
        tuple(
            from_cache_only(C1, *args).stdout
            for args in (
                ("--json", "--items", "--comments"),
                ("--items", "--comments", "--all"),
                (),
            )
        )
        == shown
    )


# ------------------------------------------------------------------------------------------------
# 5. A cache that lies is found by `check`


def test_check_finds_and_drops_a_cache_that_lies(cached: Path) -> None:
    payload = client_cache._decode(cached.read_bytes())
    assert payload is not None
    lie = payload["data"]["sessions"][0]
    assert lie["pomp"] == 90.0
    lie["pomp"], lie["overall"], lie["total"] = 12.5, 1.25, 5
    body = marshal.dumps(payload)
    cached.write_bytes(client_cache._MAGIC + b"%08x" % zlib.crc32(body) + body)
    # valid checksum, current key: the summary believes it (which is why `check` looks)
    assert json.loads(summary(C1, "--json").stdout)["sessions"][0]["pomp"] == 12.5

    result = runner.invoke(app, ["check"])
    assert result.exit_code == 1, result.output
    assert f"the cached summary of {C1} does not match its file; it was dropped" in result.output
    assert "1 problem found" in result.output
    assert not cached.exists()

    shown = assert_shows_the_files()
    first = json.loads(shown[0])["sessions"][0]
    assert (first["pomp"], first["overall"], first["total"]) == (90.0, 9.0, 36)
    assert cached.is_file()
    ok = runner.invoke(app, ["check"])
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.startswith("OK: ")
    assert cached.is_file()  # a true cache is left alone


# ------------------------------------------------------------------------------------------------
# 6. What must warn every time is never cached


def test_client_with_a_damaged_file_is_never_cached(
    cached: Path, store_kind: str, data_dir: Path
) -> None:
    if store_kind == "csv":
        chop(data_dir / "ratings.csv", 5)  # a row cut short: a torn tail
    else:
        with (data_dir / "clients" / f"{C1}.toml").open("ab") as fh:
            fh.write(b'\n[[sessions]]\nid = "half')
    kept = cached.read_bytes()
    want = fresh(C1, "--json", "--items", "--comments")
    for attempt in range(3):
        if attempt == 1:
            cached.unlink()  # the entry kept before the damage is stale anyway
        result = summary(C1, "--json", "--items", "--comments")
        assert "Warning: 1 problem in the data folder" in result.stderr, attempt
        assert "incomplete" in result.stderr, attempt
        assert result.stdout == want
        if attempt == 0:
            assert cached.read_bytes() == kept  # the stale entry is not replaced ...
        else:
            assert not cached.exists(), attempt  # ... and nothing is kept for a damaged file


def test_client_whose_instrument_definition_is_gone_is_never_cached(
    store_kind: str, data_dir: Path, config_dir: Path, from_cache_only
) -> None:
    definition = write_custom_instrument(config_dir)
    rate("C-9", "7,6,6,6", "2026-10-01", "--instrument", "normed")
    rate("C-9", "9,9,8,9", "2026-10-08", "--instrument", "normed")
    invoke("summary")  # the cache folder exists (see test_first_summary_in_a_new_data_folder_...)
    path = cache_file(data_dir, "C-9")
    kept = summary("C-9").stdout
    assert "Reliable change (normed):" in kept
    assert path.is_file() and from_cache_only("C-9").stdout == kept  # with its definition: kept
    definition.unlink()
    for attempt in range(3):
        if attempt == 1:
            path.unlink()
        result = summary("C-9")
        assert "normed (definition not found)" in " ".join(result.stdout.split()), attempt
        assert "normed" in result.stderr, attempt  # said on stderr too
        assert result.stdout == fresh("C-9")
        assert attempt == 0 or not path.exists(), attempt


# ------------------------------------------------------------------------------------------------
# 7. A change of settings


def test_changed_alert_thresholds_change_the_alerts(
    cached: Path, store_kind: str, config_dir: Path
) -> None:
    before = json.loads(summary(C1, "--json").stdout)
    assert before["sessions"][0]["alerts"] == []  # 90.0% is not below 90
    write_config(config_dir, store_kind, "[alerts]\nlow = 99\n")
    shown = assert_shows_the_files()
    after = json.loads(shown[0])
    assert after["thresholds"]["low"] == 99.0
    assert after["sessions"][0]["alerts"] == ["low"]
    assert "overall 90.0%, below 99%" in shown[1]


def test_a_new_custom_instrument_file_changes_the_key(
    cached: Path, data_dir: Path, config_dir: Path
) -> None:
    old = current_key(data_dir, config_dir, C1)
    assert client_cache._decode(cached.read_bytes())["key"] == old
    write_custom_instrument(config_dir, "extra")
    new = current_key(data_dir, config_dir, C1)
    assert new is not None and new != old
    assert_shows_the_files()
    assert client_cache._decode(cached.read_bytes())["key"] == new  # kept again, under the new key


def test_custom_instrument_file_with_an_upper_case_suffix_is_in_the_key(
    data_dir: Path, config_dir: Path
) -> None:
    """The instruments read any ``*.toml`` file whatever the case of its suffix (Registry compares
    ``path.suffix.lower()``), so such a file is a setting the summary depends on."""
    definition = write_custom_instrument(config_dir, file_name="Normed.TOML")
    rate("C-9", "7,6,6,6", "2026-10-01", "--instrument", "normed")
    invoke("summary")  # the cache folder exists (see test_first_summary_in_a_new_data_folder_...)
    assert "Normed check-in" in summary("C-9").stdout
    assert cache_file(data_dir, "C-9").is_file()
    old = current_key(data_dir, config_dir, "C-9")
    definition.unlink()
    assert current_key(data_dir, config_dir, "C-9") != old
    result = summary("C-9")
    assert "normed (definition not found)" in " ".join(result.stdout.split())
    assert result.stdout == fresh("C-9")


# ------------------------------------------------------------------------------------------------
# 8. RATETOOL_NO_CACHE


def test_no_cache_writes_no_cache_file(clients: str, data_dir: Path) -> None:
    for flags in FLAGS:
        summary(C1, *flags, no_cache=True)
        summary(C1, *flags, "--json", no_cache=True)
    folder = data_dir / ".ratetool-cache" / "clients-v1"
    assert not cache_file(data_dir, C1).exists()
    assert not folder.exists() or list(folder.iterdir()) == []


# ------------------------------------------------------------------------------------------------
# 9. The fast path loads none of the heavy modules

PROBE = textwrap.dedent(
    """
    import json, sys
    import ratetool.cli
    sys.argv = ["ratetool", "summary", sys.argv[1]]
    try:
        ratetool.cli.main()
        code = None
    except SystemExit as exc:
        code = exc.code
    heavy = ["ratetool.scoring", "ratetool.report", "ratetool.instruments", "ratetool.store",
             "ratetool.config", "ratetool.model", "tomllib"]
    sys.stdout.flush()
    loaded = [m for m in heavy if m in sys.modules]
    print("\\nPROBE " + json.dumps({"code": code, "loaded": loaded}))
    """
)


def probe(client: str, *, no_cache: bool = False) -> tuple[str, dict]:
    env = {**os.environ, **(NO_CACHE if no_cache else {})}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, client],
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    shown, _, report = proc.stdout.rpartition("\nPROBE ")
    return shown, json.loads(report)


def test_fast_path_stays_light(clients: str, data_dir: Path) -> None:
    warm, report = probe(C1)  # worked out and kept
    assert report["code"] in (0, None)
    assert cache_file(data_dir, C1).is_file()
    shown, report = probe(C1)
    assert report["code"] in (0, None) and report["loaded"] == [], report
    assert shown == warm
    # control: the same probe sees them when the summary is worked out from the files
    bypassed, report = probe(C1, no_cache=True)
    assert sorted(report["loaded"]) == [
        "ratetool.config",
        "ratetool.instruments",
        "ratetool.model",
        "ratetool.report",
        "ratetool.scoring",
        "ratetool.store",
        "tomllib",
    ], report
    assert bypassed == shown


# ------------------------------------------------------------------------------------------------
# 10. Private files


@posix_only
def test_cache_files_are_private(clients: str, data_dir: Path) -> None:
    old = os.umask(0o022)
    try:
        summary(C1)
        summary(LONG)
    finally:
        os.umask(old)
    folder = data_dir / ".ratetool-cache" / "clients-v1"
    files = sorted(folder.iterdir())
    assert [p.name for p in files] == [f"{C1}.bin", f"{LONG}.bin"]
    for path in files:
        assert oct(path.stat().st_mode & 0o777) == "0o600", path
    assert folder.stat().st_mode & 0o077 == 0
