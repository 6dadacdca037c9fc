"""A derived cache for the caseload summary, so ``ratetool summary`` stays fast at any size.

Scoring 100,000 sessions takes seconds; the caseload only needs one row per client, and a
client's row changes only when that client's data changes. So each client's row (exactly what
``report.caseload_json`` shows, without its rank) is kept in ``<data dir>/.ratetool-cache/`` with:

- the *fingerprint* of the client's data as the store reports it (for the TOML store: the file's
  size, modification time, change time and inode; any write changes at least one), and
- the *settings* it was computed with: ratetool's version, the alert thresholds and the custom
  instrument files (name, size, times, inode).

A row is used only when both match exactly; otherwise the client is read from its file and scored
again. The cache is derived only: it is never the only copy of anything, it is rebuilt when it is
missing, stale, unreadable or of another version, clients whose files have problems are never
cached (so their warnings always show), and ``ratetool check`` recomputes every cached row from the
files and reports (and replaces) any that differ. ``RATETOOL_NO_CACHE=1`` bypasses it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ratetool import __version__, paths
from ratetool.store import Problem, Store

CACHE_DIR = paths.CACHE_DIR
CACHE_NAME = "caseload-v1.json"
CACHE_FORMAT = 1


@dataclass
class Entry:
    """One client's cached caseload row and what filtering and ordering need."""

    row: dict[str, Any]
    key: list[Any]  # scoring's attention key, with inf as None
    practitioner_dates: dict[str, str]  # casefolded practitioner ("" for none) -> last ISO date

    def to_json(self, fingerprint: str) -> dict[str, Any]:
        return {"fp": fingerprint, "row": self.row, "key": self.key, "pd": self.practitioner_dates}


def disabled() -> bool:
    return bool(os.environ.get("RATETOOL_NO_CACHE"))


def settings_fingerprint(thresholds: Any, custom_dir: Path | None, recent: int) -> str:
    from ratetool.client_cache import custom_instrument_stamps

    parts: list[str] = [__version__, str(CACHE_FORMAT), repr(thresholds), str(recent)]
    parts += [":".join(map(str, stamp)) for stamp in custom_instrument_stamps(custom_dir)]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def build_entry(ratings: list, resolve: Any, thresholds: Any) -> Entry | None:
    """Score one client's ratings into its caseload entry (None if there are no ratings)."""
    from ratetool.report import _caseload_row
    from ratetool.scoring import attention_key, score_client

    if not ratings:
        return None
    scores = score_client(ratings, resolve, thresholds)
    row = _caseload_row(0, scores)
    row.pop("attention", None)
    key = [None if isinstance(v, float) and math.isinf(v) else v for v in attention_key(scores)]
    dates: dict[str, str] = {}
    for r in ratings:
        who = (r.practitioner or "").casefold()
        day = r.rated_at.date().isoformat()
        if dates.get(who, "") < day:
            dates[who] = day
    return Entry(row, key, dates)


def _load(path: Path, settings: str) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT:
        return {}
    if data.get("settings") != settings or not isinstance(data.get("clients"), dict):
        return {}
    clients = data["clients"]
    good = {}
    for code, item in clients.items():
        if (
            isinstance(item, dict)
            and isinstance(item.get("fp"), str)
            and isinstance(item.get("row"), dict)
            and isinstance(item.get("key"), list)
            and isinstance(item.get("pd"), dict)
        ):
            good[code] = item
    return good


def _save(path: Path, settings: str, clients: dict[str, dict[str, Any]]) -> None:
    from ratetool.fsutil import atomic_write, ensure_private_dir

    try:
        ensure_private_dir(path.parent)
        payload = {"format": CACHE_FORMAT, "settings": settings, "clients": clients}
        atomic_write(path, json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode())
    except OSError:
        pass  # a read-only data folder: the cache is only a speed-up


def cache_path(store: Store) -> Path:
    return store.data_dir / CACHE_DIR / CACHE_NAME


def caseload_entries(
    store: Store, resolve: Any, thresholds: Any, settings: str
) -> tuple[list[Entry], list[Problem]] | None:
    """Every client's entry, from the cache where it is fresh; ``None`` if the store cannot
    fingerprint its clients (the caller then scores everything)."""
    if disabled():
        return None
    found = store.client_fingerprints()
    if found is None:
        return None
    fingerprints, problems = found
    path = cache_path(store)
    cached = _load(path, settings)
    entries: list[Entry] = []
    fresh: dict[str, dict[str, Any]] = {}
    changed = False
    for code, fp in fingerprints.items():
        item = cached.get(code)
        if item is not None and item["fp"] == fp:
            entries.append(Entry(item["row"], item["key"], item["pd"]))
            fresh[code] = item
            continue
        changed = True
        result = store.read_client(code)
        problems.extend(result.problems)
        entry = build_entry(result.ratings, resolve, thresholds)
        if entry is None:
            continue
        entries.append(entry)
        if not result.problems:
            fresh[code] = entry.to_json(fp)
    if changed or len(fresh) != len(cached):
        _save(path, settings, fresh)
    return entries, problems


def ordered_rows(
    entries: list[Entry], *, since: date | None = None, practitioner: str | None = None
) -> list[dict[str, Any]]:
    """The caseload rows, who needs attention first, filtered and numbered from 1."""

    def sort_key(entry: Entry) -> tuple:
        k = entry.key
        return (k[0], k[1], math.inf if k[2] is None else k[2], k[3])

    who = practitioner.casefold() if practitioner is not None else None
    since_iso = since.isoformat() if since is not None else None
    rows = []
    for entry in sorted(entries, key=sort_key):
        if who is not None or since_iso is not None:
            days = (
                [entry.practitioner_dates[who]]
                if who is not None and who in entry.practitioner_dates
                else []
                if who is not None
                else list(entry.practitioner_dates.values())
            )
            if not days or (since_iso is not None and max(days) < since_iso):
                continue
        rows.append({"attention": len(rows) + 1, **entry.row})
    return rows


def verify(store: Store, resolve: Any, thresholds: Any, settings: str) -> list[Problem]:
    """For ``ratetool check``: recompute every fresh cached row from the files; report and drop
    any that differ (the next summary rebuilds them)."""
    found = store.client_fingerprints()
    path = cache_path(store)
    if found is None or not path.exists():
        return []
    fingerprints, _ = found
    cached = _load(path, settings)
    problems = []
    keep = {}
    for code, item in cached.items():
        if fingerprints.get(code) != item["fp"]:
            continue  # stale: it would be rebuilt anyway
        result = store.read_client(code)
        entry = build_entry(result.ratings, resolve, thresholds)
        if entry is None or entry.to_json(item["fp"]) != item:
            problems.append(
                Problem(
                    path,
                    f"the cached summary of {code} does not match its file; it was dropped and "
                    "will be rebuilt from the file (the cache is derived, nothing is lost)",
                    kind="cache",
                )
            )
            continue
        keep[code] = item
    if problems:
        _save(path, settings, keep)
    return problems
