"""A derived cache of CSV export rows, so exporting 100,000 sessions takes about a second.

A plain CSV export (no ``--excel``, ``,`` between cells, no ``--since``/``--until``) is the same
bytes every time the data and the settings are the same. So each client's rows (the cells
``csv_export.csv_rows`` makes, under the client's own columns) are kept with the client's data
fingerprint and the settings fingerprint of ``summary_cache.settings_fingerprint`` (ratetool's
version, thresholds, custom instrument files) in ``<data dir>/.ratetool-cache/``, checksummed like
the records cache. A client whose fingerprint or the settings differ is read and scored again;
clients whose files have problems are never cached. The export then joins the clients' rows under
the union of their columns, in the order the full export uses. ``check`` recomputes every cached
client and drops any that differ; ``RATETOOL_NO_CACHE=1`` bypasses it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ratetool.csvformat import Layout
from ratetool.store import Problem, Store
from ratetool.store import records_cache as rc

NAME = "csv-rows-v1.bin"

# One client: (data fingerprint, instrument parts for the layout, its columns, its rows).
Entry = tuple[str, list[tuple[str, int, tuple[str, ...], tuple[str, ...]]], tuple[str, ...], list]


@dataclass
class CachedExport:
    payload: bytes
    sessions: int
    clients: int
    missing: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _compute(
    store: Store, code: str, resolve: Any, thresholds: Any
) -> tuple[Entry | None, list[Problem]]:
    from ratetool.exporters import collect
    from ratetool.exporters.csv_export import csv_rows

    result = store.read_client(code)
    data = collect(result.ratings, resolve, thresholds, clients=[code])
    if not data.sessions:
        return None, result.problems
    parts: dict[tuple[str, int], tuple[str, int, tuple[str, ...], tuple[str, ...]]] = {}
    for s in data.sessions:
        key = (s.rating.instrument, s.rating.instrument_version)
        if key not in parts:
            items = (
                s.instrument.item_ids if s.instrument else (*s.rating.answers, *s.rating.skipped)
            )
            dims = s.instrument.dimension_ids if s.instrument else ()
            parts[key] = (key[0], key[1], tuple(items), tuple(dims))
    layout = data.layout
    rows = list(csv_rows(data, layout))
    return ("", list(parts.values()), tuple(layout.columns), rows), result.problems


def export(
    store: Store, resolve: Any, thresholds: Any, settings: str, clients: list[str] | None
) -> CachedExport | None:
    """The plain CSV export, from cached rows where a client is unchanged; ``None`` when the
    store cannot fingerprint its clients (the caller takes the full path)."""
    from ratetool.exporters.csv_export import write_csv

    if rc.disabled():
        return None
    found = store.client_fingerprints()
    if found is None:
        return None
    fingerprints, problems = found
    wanted = list(dict.fromkeys(clients)) if clients else sorted(fingerprints)
    missing = [c for c in wanted if c not in fingerprints]
    cached = rc.load(store.data_dir, NAME)
    if cached.get("settings") != settings:
        cached = {}
    entries: dict = (
        dict(cached.get("clients", {})) if isinstance(cached.get("clients"), dict) else {}
    )
    changed = False
    used: list[Entry] = []
    for code in sorted(c for c in wanted if c in fingerprints):
        fp = fingerprints[code]
        entry = entries.get(code)
        if not (isinstance(entry, tuple) and len(entry) == 4 and entry[0] == fp):
            fresh, found_problems = _compute(store, code, resolve, thresholds)
            problems.extend(found_problems)
            changed = True
            entries.pop(code, None)
            if fresh is None:
                continue
            entry = (fp, *fresh[1:])
            if not found_problems:
                entries[code] = entry
        used.append(entry)
    for code in list(entries):
        if code not in fingerprints:
            entries.pop(code)
            changed = True
    if changed:
        rc.save(store.data_dir, {"settings": settings, "clients": entries}, NAME)
    if not used:
        return CachedExport(b"", 0, 0, missing, problems)
    seen: dict[tuple[str, int], tuple[str, tuple[str, ...], tuple[str, ...]]] = {}
    for entry in used:
        for instrument, version, items, dims in entry[1]:
            seen.setdefault((instrument, version), (instrument, items, dims))
    columns = Layout.build(seen.values()).columns
    rows: list = []
    for entry in used:
        own = entry[2]
        if tuple(own) == tuple(columns):
            rows.extend(entry[3])
        else:
            where = [own.index(c) if c in own else -1 for c in columns]
            rows.extend([row[i] if i >= 0 else "" for i in where] for row in entry[3])
    return CachedExport(write_csv(columns, rows), len(rows), len(used), missing, problems)


def verify(store: Store, resolve: Any, thresholds: Any, settings: str) -> list[Problem]:
    """For ``check``: recompute every fresh cached client; drop and report any that differ."""
    found = store.client_fingerprints()
    cached = rc.load(store.data_dir, NAME)
    if found is None or not cached or cached.get("settings") != settings:
        return []
    fingerprints, _ = found
    entries = cached.get("clients", {})
    problems: list[Problem] = []
    keep = {}
    for code, entry in entries.items():
        if not (isinstance(entry, tuple) and len(entry) == 4) or fingerprints.get(code) != entry[0]:
            continue
        fresh, found_problems = _compute(store, code, resolve, thresholds)
        if found_problems or fresh is None or tuple(fresh[1:]) != tuple(entry[1:]):
            problems.append(
                Problem(
                    store.data_dir / rc.CACHE_DIR / NAME,
                    f"the cached export rows of {code} do not match its file; they were dropped "
                    "and will be rebuilt from the file (the cache is derived, nothing is lost)",
                    kind="cache",
                )
            )
            continue
        keep[code] = entry
    if problems:
        rc.save(store.data_dir, {"settings": settings, "clients": keep}, NAME)
    return problems
