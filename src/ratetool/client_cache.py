"""A derived cache of one client's summary, so ``ratetool summary CLIENT`` shows at once.

Reading a client's sessions, scoring them and working out the trends is quick; loading the code
that does it (the store, the instruments, scoring) is most of what ``summary CLIENT`` costs, and
the answer only changes when the client's data, the settings or ratetool change. So the finished
summary (the dict ``summary CLIENT --json --items --comments`` prints, why an instrument has no
reliable change, and the labels and scale the tables need) is kept per client in
``<data dir>/.ratetool-cache/clients-v1/<CLIENT>.bin`` with its *key*:

- ratetool's version, this format and the client code;
- the data it was computed from: size, modification time, change time and inode (any write
  changes at least one) of the client's file of the TOML store and of the CSV store's
  ``ratings.csv`` (whichever exist);
- the settings, the same way: ``config.toml`` (which store, the alert thresholds) and each custom
  instrument file (with its name).

Taking the key parses nothing, so a summary shown from the cache does not even read the
settings.

It is used only when the whole key matches what is on disk now; otherwise the summary is worked
out from the files again. The key is taken before the files are read, so a rating added meanwhile
changes the key and is never hidden. The cache is derived only: never the only copy of anything,
rebuilt when missing, stale, unreadable, of another version or failing its checksum, never written
for a client whose file has problems or whose instrument definition is missing (so those warnings
always show), and ``ratetool check`` recomputes every current entry from the files and reports
(and replaces) any that differ. ``RATETOOL_NO_CACHE=1`` bypasses it.

Nothing here imports the store, the instruments or scoring: that is the point.
"""

from __future__ import annotations

import marshal
import os
import zlib
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from ratetool import __version__, paths

FORMAT = 1
SUBDIR = "clients-v1"
_MAGIC = b"ratetool client summary\n"
#: Keys ``client_json`` adds to a session for ``--items`` and for ``--comments``.
ITEM_KEYS = ("answers", "item_scores", "skipped")
COMMENT_KEYS = ("comment",)


def disabled() -> bool:
    return bool(os.environ.get("RATETOOL_NO_CACHE"))


def _stamp(path: Path) -> tuple[int, int, int, int]:
    st = os.stat(path)
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def custom_instrument_stamps(custom_dir: Path | None) -> tuple:
    """Name, size, times and inode of each custom instrument file the registry reads (``*.toml``
    in any case, not hidden): any edit, addition or removal changes it."""
    if custom_dir is None:
        return ()
    stamps = []
    try:
        with os.scandir(custom_dir) as entries:
            for entry in entries:
                name = entry.name
                if name.lower().endswith(".toml") and not name.startswith(".") and entry.is_file():
                    stamps.append((name, *_stamp(Path(entry.path))))
    except OSError:
        pass
    return tuple(sorted(stamps))


def _stamp_or_none(path: Path) -> tuple[int, int, int, int] | None:
    try:
        return _stamp(path)
    except OSError:
        return None


def key(data_dir: Path, config_dir: Path, client: str) -> tuple | None:
    """What a cached summary of ``client`` depends on, read from the disk now (no file is
    parsed): ``None`` when the client has no data file (nothing to cache)."""
    data = (
        _stamp_or_none(data_dir / paths.CLIENTS_DIR / f"{client}{paths.CLIENT_SUFFIX}"),
        _stamp_or_none(data_dir / paths.RATINGS_CSV),
    )
    if data == (None, None):
        return None
    return (
        __version__,
        FORMAT,
        client,
        data,
        _stamp_or_none(config_dir / paths.CONFIG_NAME),
        custom_instrument_stamps(config_dir / paths.INSTRUMENTS_DIR),
    )


def cache_dir(data_dir: Path) -> Path:
    return data_dir / paths.CACHE_DIR / SUBDIR


def _path(data_dir: Path, client: str) -> Path:
    return cache_dir(data_dir) / f"{client}.bin"


def _decode(blob: bytes) -> dict | None:
    head = len(_MAGIC) + 8
    if not blob.startswith(_MAGIC) or len(blob) < head:
        return None
    body = blob[head:]
    try:
        if int(blob[len(_MAGIC) : head], 16) != zlib.crc32(body):
            return None
        payload = marshal.loads(body)
    except (ValueError, EOFError, TypeError):
        return None
    return payload if isinstance(payload, dict) else None


def load(data_dir: Path, client: str, current: tuple) -> dict | None:
    """The cached summary of ``client`` if its key is ``current``, else ``None``."""
    try:
        blob = _path(data_dir, client).read_bytes()
    except OSError:
        return None
    payload = _decode(blob)
    if payload is None or payload.get("key") != current:
        return None
    return payload


def save(data_dir: Path, client: str, current: tuple, payload: dict) -> None:
    """Keep ``payload`` (from ``make_payload``) under ``current``. A cache that cannot be written
    is no failure: the next summary works it out again."""
    from ratetool.fsutil import atomic_write

    body = marshal.dumps({**payload, "key": current})
    try:
        atomic_write(_path(data_dir, client), _MAGIC + b"%08x" % zlib.crc32(body) + body)
    except OSError:
        pass


def summarise(
    ratings: list, resolve: Any, thresholds: Any, client: str
) -> tuple[dict, dict[str, str], dict[str, Any]]:
    """A client's summary worked out from its ratings: ``client_json`` with items and comments,
    why each instrument has no reliable change (if it has none), and each instrument's
    definition (``None`` where it was not found)."""
    from ratetool.report import client_json, client_report, rc_note

    report = client_report(ratings, resolve, thresholds, client=client)
    data = client_json(report, items=True, comments=True)
    notes = {iid: rc_note(report, iid) for iid in report.instruments}
    return data, notes, {iid: report.definitions.get(iid) for iid in report.instruments}


def cacheable(problems: list, definitions: Mapping[str, Any]) -> bool:
    """Whether a summary may be kept: its file had no problems and every instrument's
    definition was found (their warnings must show every time)."""
    return not problems and all(d is not None for d in definitions.values())


def make_payload(data: dict, notes: dict[str, str], definitions: Mapping[str, Any]) -> dict:
    """What is kept: ``data`` (``client_json`` with items and comments), ``notes`` (why an
    instrument has no reliable change) and, per instrument, what the tables show of it."""
    shapes = {}
    for iid in data["instruments"]:
        d = definitions[iid]
        shapes[iid] = {
            "title": d.title,
            "scale": (d.scale.min, d.scale.max),
            "dimensions": tuple((dim.id, dim.label) for dim in d.dimensions),
            "items": tuple((item.id, item.reverse) for item in d.items),
        }
    return {"data": data, "notes": dict(notes), "shapes": shapes}


def definitions(payload: dict) -> dict[str, SimpleNamespace]:
    """The instruments' titles, scales, dimensions and items, as the tables read them."""
    out = {}
    for iid, shape in payload["shapes"].items():
        low, high = shape["scale"]
        out[iid] = SimpleNamespace(
            title=shape["title"],
            scale=SimpleNamespace(min=low, max=high),
            dimensions=tuple(
                SimpleNamespace(id=i, label=label) for i, label in shape["dimensions"]
            ),
            items=tuple(SimpleNamespace(id=i, reverse=rev) for i, rev in shape["items"]),
        )
    return out


def narrow(data: dict, *, items: bool, comments: bool) -> dict:
    """``client_json`` with items and comments, as ``client_json`` gives it with only those
    asked for."""
    drop = (() if items else ITEM_KEYS) + (() if comments else COMMENT_KEYS)
    if not drop:
        return data
    sessions = [{k: v for k, v in s.items() if k not in drop} for s in data["sessions"]]
    return {**data, "sessions": sessions}


def entries(data_dir: Path) -> list[tuple[str, dict | None]]:
    """Every cached summary as (client, payload or ``None`` when unreadable), for ``check``."""
    folder = cache_dir(data_dir)
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".bin"))
    except OSError:
        return []
    out = []
    for name in names:
        try:
            blob = (folder / name).read_bytes()
        except OSError:
            continue
        out.append((name[: -len(".bin")], _decode(blob)))
    return out


def drop(data_dir: Path, client: str) -> None:
    try:
        _path(data_dir, client).unlink()
    except OSError:
        pass


def verify(store: Any, resolve: Any, thresholds: Any, config_dir: Path) -> list:
    """For ``ratetool check``: every cached summary whose key is current is worked out again
    from the files; one that differs, or that cannot be read, is reported and dropped (the next
    summary rebuilds it). Stale ones are dropped quietly: they would never be used."""
    from ratetool.store import Problem

    problems = []
    for client, payload in entries(store.data_dir):
        where = _path(store.data_dir, client)
        if payload is None:
            problems.append(
                Problem(
                    where,
                    "the cached summary cannot be read; it was dropped and will be rebuilt from "
                    "the file (the cache is derived, nothing is lost)",
                    kind="cache",
                )
            )
            drop(store.data_dir, client)
            continue
        current = key(store.data_dir, config_dir, client)
        if payload.get("key") != current:
            drop(store.data_dir, client)
            continue
        result = store.read_client(client)
        same = False
        if result.ratings:
            data, notes, definitions = summarise(result.ratings, resolve, thresholds, client)
            if cacheable(result.problems, definitions):
                fresh = marshal.loads(marshal.dumps(make_payload(data, notes, definitions)))
                same = fresh == {k: v for k, v in payload.items() if k != "key"}
        if not same:
            problems.append(
                Problem(
                    where,
                    f"the cached summary of {client} does not match its file; it was dropped "
                    "and will be rebuilt from the file (the cache is derived, nothing is lost)",
                    kind="cache",
                )
            )
            drop(store.data_dir, client)
    return problems
