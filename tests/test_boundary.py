"""The data folder is a boundary: nothing ratetool writes, repairs, moves or caches goes through a
symbolic link to outside it. Links inside the data folder (client files, ``ratings.csv``, the
``clients`` and cache folders, the lock file) are refused with a message naming the link; the data
folder itself may be a link, resolved once. And a failed first write leaves no empty file behind.

Every test compares the files outside the data folder byte for byte (and their modification
times) before and after.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers.store_kit import CACHE_DIR, CLIENT, STORE_KINDS, make_rating, snapshot, write_config
from ratetool import fsutil
from ratetool.cli import app
from ratetool.errors import StoreError
from ratetool.store import LOCK_NAME, open_store

pytestmark = pytest.mark.posix_only  # making symbolic links needs privileges on Windows

#: Not a valid client file: repair used to take it all for a torn first write and empty it.
PRIVATE = b"Private notes, not ratetool's.\nDo not touch.\n"


def cli(*args: str):
    return CliRunner().invoke(app, list(args))


def rate(client: str = CLIENT):
    return cli("rate", client, "--answers", "8,9,7,10", "--yes")


@pytest.fixture(params=STORE_KINDS)
def kind(request: pytest.FixtureRequest, config_dir: Path) -> str:
    write_config(config_dir, request.param)
    return str(request.param)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder outside the data folder, holding a private text file."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "private.txt").write_bytes(PRIVATE)
    return folder


def stamps(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder``: its bytes and modification time."""
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def data_file(data_dir: Path, kind: str, client: str = CLIENT) -> Path:
    return data_dir / "clients" / f"{client}.toml" if kind == "toml" else data_dir / "ratings.csv"


def link(at: Path, to: Path) -> Path:
    at.parent.mkdir(parents=True, exist_ok=True)
    at.symlink_to(to)
    return at


# ------------------------------------------------------------------------------------------------
# A data file that is a link to a file outside
# ------------------------------------------------------------------------------------------------


def test_repair_never_empties_a_file_a_data_file_links_to(kind: str, data_dir: Path, outside: Path):
    before = stamps(outside)
    evil = link(data_file(data_dir, kind, "EVIL"), outside / "private.txt")

    repaired = cli("check", "--repair")
    assert repaired.exit_code == 1
    assert "Repaired" not in repaired.stdout
    assert str(evil) in repaired.stderr and str(outside / "private.txt") in repaired.stderr
    assert "Replace the link with the file itself" in repaired.stderr
    assert stamps(outside) == before
    assert evil.is_symlink()


def test_rate_refuses_a_data_file_that_is_a_link(kind: str, data_dir: Path, outside: Path):
    before = stamps(outside)
    evil = link(data_file(data_dir, kind), outside / "private.txt")

    refused = rate()
    assert refused.exit_code == 1
    assert str(evil) in refused.stderr and "link" in refused.stderr
    assert "Nothing was written" in refused.stderr
    assert "internal error" not in refused.output
    assert stamps(outside) == before


def test_a_linked_client_file_is_a_problem_of_that_file_only(data_dir: Path, outside: Path):
    store = open_store(data_dir, "toml")
    store.add([make_rating("C-001")])
    (outside / "C-002.toml").write_bytes(store.file_for("C-001").read_bytes())
    evil = link(store.file_for("C-002"), outside / "C-002.toml")
    before = stamps(outside)

    result = store.read_all()
    assert [r.client for r in result.ratings] == ["C-001"]  # the link is not followed
    [problem] = result.problems
    assert problem.path == evil and problem.kind == "link"
    assert str(outside / "C-002.toml") in problem.message
    assert [p.kind for p in store.check()] == ["link"]
    assert store.read_client("C-002").problems == [problem]
    assert store.repair() == []

    listed = cli("clients", "--json")
    assert [row["client"] for row in json.loads(listed.stdout)] == ["C-001"]
    assert str(evil) in listed.stderr
    assert stamps(outside) == before


def test_rate_never_writes_through_a_dangling_link(kind: str, data_dir: Path, outside: Path):
    target = outside / "new.toml"
    evil = link(data_file(data_dir, kind), target)
    before = stamps(outside)

    refused = rate()
    assert refused.exit_code == 1
    assert str(evil) in refused.stderr and str(target) in refused.stderr
    assert not target.exists()
    assert stamps(outside) == before

    checked = cli("check")
    assert checked.exit_code == 1
    assert str(evil) in checked.stderr


def test_a_clients_folder_that_is_a_link_is_refused(data_dir: Path, outside: Path):
    evil = link(data_dir / "clients", outside)
    before = stamps(outside)

    refused = rate()
    assert refused.exit_code == 1
    assert str(evil) in refused.stderr
    assert stamps(outside) == before
    assert not (outside / f"{CLIENT}.toml").exists()


def test_a_corrupt_file_name_that_is_a_link_is_never_written_through(
    kind: str, data_dir: Path, outside: Path
):
    """repair's ``.corrupt-<time>`` copy is opened without following links, too."""
    path = data_file(data_dir, kind)
    with pytest.raises(StoreError, match="link"):
        fsutil.append_durably(link(path.with_name("x.corrupt-1"), outside / "private.txt"), b"x")
    assert (outside / "private.txt").read_bytes() == PRIVATE


@pytest.mark.parametrize("nofollow", [fsutil.NOFOLLOW, 0], ids=["O_NOFOLLOW", "no-O_NOFOLLOW"])
def test_open_private_never_follows_a_link(
    nofollow: int, tmp_path: Path, outside: Path, monkeypatch: pytest.MonkeyPatch
):
    """With O_NOFOLLOW (POSIX) and without it (Windows: the link is checked before opening)."""
    monkeypatch.setattr(fsutil, "NOFOLLOW", nofollow)
    before = stamps(outside)
    for target in (outside / "private.txt", outside / "missing.txt"):
        at = link(tmp_path / "data" / target.name, target)
        with pytest.raises(StoreError, match=f"{at}.*symbolic link.*{target}"):
            fsutil.append_durably(at, b"x")
        with pytest.raises(StoreError, match="symbolic link"):
            fsutil.atomic_write(at, b"x", inside=tmp_path / "data")
    assert stamps(outside) == before and not (outside / "missing.txt").exists()


# ------------------------------------------------------------------------------------------------
# The cache folder and the lock file
# ------------------------------------------------------------------------------------------------


def test_a_cache_folder_that_is_a_link_is_never_written_to(
    kind: str, data_dir: Path, outside: Path
):
    assert rate().exit_code == 0
    assert cli("summary").exit_code == 0
    shutil.rmtree(data_dir / CACHE_DIR)
    evil = link(data_dir / CACHE_DIR, outside)
    before = stamps(outside)

    assert rate().exit_code == 0  # a rating is still saved: the cache is only a speed-up
    for command in (["summary"], ["clients"], ["export", "--output", "-"]):
        result = cli(*command)
        assert result.exit_code == 0, result.output
    assert stamps(outside) == before

    checked = cli("check")
    assert checked.exit_code == 1
    assert str(evil) in checked.stderr and str(outside) in checked.stderr
    assert stamps(outside) == before
    assert list(outside.iterdir()) == [outside / "private.txt"]


def test_a_cache_file_that_is_a_link_is_never_replaced(kind: str, data_dir: Path, outside: Path):
    from ratetool import cache

    assert rate().exit_code == 0
    cache_file = cache.path_for(data_dir)
    cache_file.unlink(missing_ok=True)
    evil = link(cache_file, outside / "private.txt")
    before = stamps(outside)

    assert cli("summary").exit_code == 0
    assert evil.is_symlink() and stamps(outside) == before
    checked = cli("check")
    assert checked.exit_code == 1 and str(evil) in checked.stderr
    assert stamps(outside) == before


def test_a_lock_file_that_is_a_link_is_refused(kind: str, data_dir: Path, outside: Path):
    evil = link(data_dir / LOCK_NAME, outside / "private.txt")
    before = stamps(outside)

    refused = rate()
    assert refused.exit_code == 1
    assert str(evil) in refused.stderr and str(outside / "private.txt") in refused.stderr
    assert "Nothing was written" in refused.stderr
    assert stamps(outside) == before
    assert not (data_dir / "clients").exists() and not (data_dir / "ratings.csv").exists()


# ------------------------------------------------------------------------------------------------
# The data folder itself may be a link
# ------------------------------------------------------------------------------------------------


def test_the_data_folder_itself_may_be_a_link(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, outside: Path
):
    synced = tmp_path / "synced"
    synced.mkdir()
    linked = link(tmp_path / "linked-data", synced)
    monkeypatch.setenv("RATETOOL_DATA_DIR", str(linked))
    before = stamps(outside)

    for _ in range(2):
        assert rate().exit_code == 0
    assert cli("summary").exit_code == 0
    checked = cli("check")
    assert checked.exit_code == 0, checked.output
    assert data_file(synced, kind).is_file() and not data_file(synced, kind).is_symlink()
    assert (synced / LOCK_NAME).exists()
    assert open_store(linked, kind).data_dir == synced.resolve()
    assert len(open_store(linked, kind).read_all().ratings) == 2

    # Inside the resolved folder, links to outside are refused all the same.
    (synced / LOCK_NAME).unlink()
    evil = link(synced / LOCK_NAME, outside / "private.txt")
    refused = rate()
    assert refused.exit_code == 1 and str(evil) in refused.stderr
    assert stamps(outside) == before


# ------------------------------------------------------------------------------------------------
# A failed first write leaves no empty file behind
# ------------------------------------------------------------------------------------------------


def _disk_full(monkeypatch: pytest.MonkeyPatch) -> None:
    def write(fd: int, data: object) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", write)


def test_a_failed_first_write_removes_the_file_it_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    path = tmp_path / "new.toml"
    _disk_full(monkeypatch)
    with pytest.raises(OSError):
        fsutil.append_durably(path, b"data")
    assert not path.exists()


def test_a_failed_write_never_removes_a_file_that_existed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    empty, full = tmp_path / "empty.toml", tmp_path / "full.toml"
    empty.write_bytes(b"")
    full.write_bytes(b"kept\n")
    _disk_full(monkeypatch)
    for path in (empty, full):
        with pytest.raises(OSError):
            fsutil.append_durably(path, b"data")
    assert empty.read_bytes() == b"" and full.read_bytes() == b"kept\n"


def test_disk_full_on_a_new_client_leaves_no_file(
    kind: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch
):
    assert rate("C-001").exit_code == 0
    before = snapshot(data_dir)
    _disk_full(monkeypatch)
    refused = rate("NEW")
    monkeypatch.undo()
    assert refused.exit_code == 1
    assert "internal error" not in refused.output
    assert not (data_dir / "clients" / "NEW.toml").exists()
    after = {k: v for k, v in snapshot(data_dir).items() if not k.startswith(CACHE_DIR)}
    assert after == {k: v for k, v in before.items() if not k.startswith(CACHE_DIR)}


def test_check_reports_an_empty_client_file(data_dir: Path):
    store = open_store(data_dir, "toml")
    store.add([make_rating("C-001")])
    empty = store.file_for("NEW")
    empty.write_bytes(b"")

    [problem] = store.check()
    assert (problem.path, problem.kind) == (empty, "empty")
    assert "holds no ratings" in problem.message and "may be deleted" in problem.message
    checked = cli("check")
    assert checked.exit_code == 1
    assert str(empty) in checked.stderr and "holds no ratings" in checked.stderr
    # An empty file blocks nothing: the next rating for that client writes a whole file.
    assert rate("NEW").exit_code == 0
    assert cli("check").exit_code == 0


def test_a_blank_client_file_gets_its_header_on_the_next_rating(data_dir: Path):
    store = open_store(data_dir, "toml")
    path = store.file_for(CLIENT)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\n  \n")
    assert [p.kind for p in store.check()] == ["empty"]
    store.add([make_rating()])
    assert store.check() == []
    assert len(store.read_client(CLIENT).ratings) == 1


def test_repair_of_a_torn_first_write_removes_the_emptied_file(data_dir: Path):
    store = open_store(data_dir, "toml")
    path = store.file_for(CLIENT)
    path.parent.mkdir(parents=True)
    path.write_bytes(b'format = 1\nclient = "C-0')
    [done] = store.repair()
    assert "removed the empty file" in done
    assert not path.exists()
    [moved] = path.parent.glob("*.corrupt-*")
    assert moved.read_bytes() == b'format = 1\nclient = "C-0'
    assert store.check() == []
