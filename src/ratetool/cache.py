"""ratetool's one derived cache: what was worked out per client, kept until that client's data
or the settings change.

It lives in ``<data dir>/.ratetool-cache/cache-v4.json``, one JSON object::

    {"format": "ratetool-cache", "version": 2, "settings": "...", "crc32": "...",
     "clients": {"C-014": {"fp": "<fingerprint>", "caseload": {...}}, ...}}

- ``fp`` is the client's data *fingerprint* as the store gives it (``Store.client_fingerprints``):
  for the TOML store the size, modification time, change time and inode of the client's file (any
  write changes at least one: a hand edit that keeps the size and puts the modification time back
  still moves the change time); for the CSV store a checksum of the client's rows in
  ``ratings.csv`` (so one new rating for one client leaves the others' entries fresh).
- ``settings`` names ratetool's version, this format, the alert thresholds and each custom
  instrument file (name, size, times, inode): when any of them changes, every entry is stale.
- ``crc32`` is the checksum of the bytes of ``clients`` (written last): a file that was damaged,
  cut short or is of another format or version is ignored (and replaced), never misread.

A client's part is used only while its fingerprint and the settings are exactly what is on disk
now; the fingerprint is taken *before* the file is read, so a rating added meanwhile makes the
entry stale rather than hidden. Nothing is kept for a client whose file has problems or whose
instrument definition is missing, so their warnings show every time. The cache is derived: it is
never the only copy of anything, deleting it loses nothing, writing it is atomic and a cache that
cannot be written (a read-only folder) changes nothing but speed. ``verify`` (run by ``ratetool
check``) works every fresh entry out again from the files and drops any that differ.
``RATETOOL_NO_CACHE=1`` bypasses it: nothing is read or written. Nor is anything read or written
when the cache folder or file is a symbolic link (``check`` names the link): the cache never
sends a byte outside the data folder.

Parts are worked out by the modules that own them (``ratetool.caseload`` for the caseload rows);
this module only keeps them. It imports nothing heavy, so a run answered from the cache does not
load scoring.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ratetool import __version__, paths

if TYPE_CHECKING:
    from ratetool.config import Config
    from ratetool.instruments import Instrument
    from ratetool.model import Rating
    from ratetool.scoring import Thresholds
    from ratetool.store import Problem, Store

FORMAT = "ratetool-cache"
VERSION = 4
FILE_NAME = f"cache-v{VERSION}.json"
#: What ``check`` says after a cache problem (nothing to do by hand).
REBUILT = (
    "it was dropped and will be rebuilt from the files (the cache is derived, nothing is lost)"
)

Resolver = Callable[[str, int], "Instrument | None"]
#: Works one part of a client's entry out from its ratings: JSON-ready data, and whether it may
#: be kept (``False`` when something must be said every time, such as a missing definition).
Compute = Callable[[list["Rating"], "Settings"], tuple[Any, bool]]


def disabled() -> bool:
    """``RATETOOL_NO_CACHE`` is set: nothing is read from or written to the cache."""
    return bool(os.environ.get("RATETOOL_NO_CACHE"))


def path_for(data_dir: Path) -> Path:
    return data_dir / paths.CACHE_DIR / FILE_NAME


class Settings(NamedTuple):
    """What the numbers depend on besides the ratings."""

    #: The alert thresholds (``Config.alerts``).
    alerts: Mapping[str, float]
    #: Finds an instrument's definition by id and version, for scoring.
    resolve: Resolver
    #: The folder of custom instrument files (their stamps are part of the key), if any.
    custom_dir: Path | None

    @classmethod
    def of(cls, config: Config, resolve: Resolver, config_dir: Path | None) -> Settings:
        """The settings of a run: ``config.toml``'s thresholds, the custom instrument folder."""
        custom_dir = config_dir / paths.INSTRUMENTS_DIR if config_dir is not None else None
        return cls(dict(config.alerts), resolve, custom_dir)

    def thresholds(self) -> Thresholds:
        from ratetool.scoring import Thresholds

        return Thresholds(**self.alerts)

    def key(self) -> str:
        """Everything here that changes numbers, in one line: read from the disk now, no file
        parsed."""
        alerts = ",".join(f"{k}={v!r}" for k, v in sorted(self.alerts.items()))
        parts = [f"ratetool {__version__}", f"cache {VERSION}", alerts]
        parts += custom_instrument_stamps(self.custom_dir)
        return "; ".join(parts)


def custom_instrument_stamps(custom_dir: Path | None) -> list[str]:
    """Name, size, times and inode of each custom instrument file the registry reads (``*.toml``
    in any case, not hidden): any edit, addition or removal changes them."""
    if custom_dir is None:
        return []
    stamps = []
    try:
        with os.scandir(custom_dir) as entries:
            for entry in entries:
                name = entry.name
                if name.lower().endswith(".toml") and not name.startswith(".") and entry.is_file():
                    st = entry.stat()
                    stamps.append(
                        f"{name}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"
                    )
    except OSError:
        pass
    return sorted(stamps)


_CLIENTS = b',"clients":'


def _dump(clients: Mapping[str, Any]) -> bytes:
    return json.dumps(clients, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _checksum(body: bytes) -> str:
    return f"{zlib.crc32(body):08x}"


def _linked(path: Path, data_dir: Path) -> Path | None:
    """The symbolic link on the way from the data folder to the cache file, if any."""
    from ratetool.fsutil import first_link

    return first_link(path, data_dir)


def _read(path: Path, data_dir: Path) -> tuple[str, dict[str, dict[str, Any]]] | None:
    """(settings key, clients) from the cache file; ``None`` if it is missing, reached through a
    link, or not one this ratetool wrote, intact."""
    if _linked(path, data_dir) is not None:
        return None
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    # "clients" is the last key, so its bytes run from the first ',"clients":' (inside a string
    # the quotes would be escaped) to the closing brace.
    at = raw.find(_CLIENTS)
    if at < 0 or not raw.endswith(b"}"):
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if (
        not isinstance(data, dict)
        or data.get("format") != FORMAT
        or data.get("version") != VERSION
        or not isinstance(data.get("settings"), str)
        or not isinstance(data.get("clients"), dict)
    ):
        return None
    if _checksum(raw[at + len(_CLIENTS) : -1]) != data.get("crc32"):
        return None
    clients = data["clients"]
    good = {
        code: item
        for code, item in clients.items()
        if isinstance(item, dict) and isinstance(item.get("fp"), str)
    }
    return data["settings"], good


def _write(path: Path, data_dir: Path, settings: str, clients: Mapping[str, Any]) -> None:
    """Replace the cache file atomically; a cache that cannot be written (or only through a
    link) is no failure."""
    from ratetool.errors import StoreError
    from ratetool.fsutil import atomic_write

    body = _dump(clients)
    head = {"format": FORMAT, "version": VERSION, "settings": settings, "crc32": _checksum(body)}
    text = json.dumps(head, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    try:
        atomic_write(path, text[:-1] + _CLIENTS + body + b"}", inside=data_dir)
    except (OSError, StoreError):
        pass  # a read-only data folder, a full disk: the cache is only a speed-up


class ClientCache:
    """The cache for one run: each client's fresh parts, and what this run worked out anew.

    ``get`` answers only for a client whose fingerprint is the one on disk now; ``put`` keeps a
    part under the fingerprint taken before the file was read; ``save`` writes the file once, if
    anything changed.
    """

    def __init__(self, store: Store, settings: Settings, fingerprints: Mapping[str, str]) -> None:
        self.data_dir = store.data_dir
        self.path = path_for(store.data_dir)
        self.settings_key = settings.key()
        self.fingerprints = dict(fingerprints)
        found = _read(self.path, self.data_dir)
        kept = found[1] if found is not None and found[0] == self.settings_key else {}
        self.clients = {
            code: item for code, item in kept.items() if self.fingerprints.get(code) == item["fp"]
        }
        self.changed = len(self.clients) != (len(found[1]) if found is not None else 0)

    def get(self, client: str, part: str) -> Any:
        """The kept ``part`` of ``client``, or ``None``."""
        item = self.clients.get(client)
        return item.get(part) if item is not None else None

    def put(self, client: str, part: str, value: Any) -> None:
        item = self.clients.get(client)
        if item is None:
            item = self.clients[client] = {"fp": self.fingerprints[client]}
        item[part] = value
        self.changed = True

    def forget(self, client: str) -> None:
        if self.clients.pop(client, None) is not None:
            self.changed = True

    def save(self) -> None:
        if self.changed:
            _write(self.path, self.data_dir, self.settings_key, self.clients)
            self.changed = False


def open_cache(store: Store, settings: Settings) -> tuple[ClientCache, list[Problem]] | None:
    """The cache for ``store``, and the problems met fingerprinting its clients; ``None`` when it
    is bypassed (``RATETOOL_NO_CACHE``) or the store cannot fingerprint its clients (then the
    caller reads everything, warnings and all)."""
    if disabled():
        return None
    found = store.client_fingerprints()
    if found is None:
        return None
    fingerprints, problems = found
    return ClientCache(store, settings, fingerprints), list(problems)


def _parts() -> dict[str, Compute]:
    from ratetool.caseload import caseload_part

    return {"caseload": caseload_part}


def verify(store: Store, settings: Settings) -> list[Problem]:
    """For ``ratetool check``: every fresh part is worked out again from the files; one that
    differs (or a cache file that cannot be read) is reported and dropped, and the next command
    rebuilds it. Stale entries are dropped quietly: they would never be used."""
    from ratetool.fsutil import link_message
    from ratetool.store import Problem

    path = path_for(store.data_dir)
    link = _linked(path, store.data_dir)
    if link is not None:
        return [Problem(link, link_message(link, "The cache is not used"), kind="link")]
    if not path.exists():
        return []
    found = _read(path, store.data_dir)
    if found is None:
        problems = [Problem(path, f"the cache cannot be read; {REBUILT}", kind="cache")]
        try:
            path.unlink()
        except OSError:
            pass
        return problems
    fingerprinted = store.client_fingerprints()
    if fingerprinted is None:
        return []
    cache = ClientCache(store, settings, fingerprinted[0])
    problems = []
    parts = _parts()
    for code, item in list(cache.clients.items()):
        ratings = None
        for part, value in item.items():
            if part == "fp":
                continue
            compute = parts.get(part)
            if ratings is None:
                result = store.read_client(code)
                ratings = result.ratings if not result.problems else []
            fresh, keep = compute(ratings, settings) if compute and ratings else (None, False)
            if not keep or _dump({"v": fresh}) != _dump({"v": value}):
                problems.append(
                    Problem(
                        path,
                        f"the cached {part} of {code} does not match its file; {REBUILT}",
                        kind="cache",
                    )
                )
                cache.forget(code)
                break
    cache.save()
    return problems
