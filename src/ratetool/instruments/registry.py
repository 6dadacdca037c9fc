"""The registry: finds instruments by id or path, built-in or custom, in every version.

The built-ins are package data beside this module (``checkin.toml``, ``core.toml``); custom
instruments are ``*.toml`` files in ``<config dir>/instruments/``. Nothing is read until a function
is called. How practitioners add their own: docs/instruments.md.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import NamedTuple

from ratetool import paths
from ratetool.errors import InstrumentError
from ratetool.instruments.loading import load_instrument_file, parse_toml_text, read_toml
from ratetool.instruments.model import Instrument
from ratetool.instruments.validation import did_you_mean, is_int, parse_instrument

#: The instrument ``ratetool rate`` uses when nothing else is configured.
DEFAULT_INSTRUMENT = "checkin"

#: The instruments shipped with ratetool (``<id>.toml`` beside this module), default first.
_BUILTIN_IDS: tuple[str, ...] = ("checkin", "core")

# --------------------------------------------------------------------------------------------------
# Built-ins


def _is_builtin_id(instrument_id: str) -> str | None:
    """The built-in id ``instrument_id`` stands for (ignoring case), or ``None``."""
    folded = instrument_id.casefold()
    for builtin in _BUILTIN_IDS:
        if builtin == folded:
            return builtin
    return None


def builtin_ids() -> tuple[str, ...]:
    """The ids of the instruments shipped with ratetool, default first."""
    return _BUILTIN_IDS


@cache
def load_builtin(instrument_id: str) -> Instrument:
    """A built-in instrument (package data), read once per process.

    Its ``source`` is ``"built-in"``; messages about it say ``built-in:<id>``.
    """
    if instrument_id not in _BUILTIN_IDS:
        raise InstrumentError(
            f"There is no built-in instrument called {instrument_id!r}; the built-ins are "
            f"{', '.join(_BUILTIN_IDS)}."
        )
    from dataclasses import replace

    shown = f"built-in:{instrument_id}"
    text = _builtin_text(f"{instrument_id}.toml")
    instrument = parse_instrument(parse_toml_text(text, shown), shown)
    return replace(instrument, source="built-in")


def _builtin_text(name: str) -> str:
    """The text of a package-data file beside this module. Read directly when it is a plain file
    (importing ``importlib.resources`` costs as much as the rest of ``summary CLIENT``); through
    ``importlib.resources`` otherwise, e.g. when ratetool runs from a zip file."""
    try:
        return (Path(__file__).parent / name).read_text(encoding="utf-8")
    except OSError:
        from importlib.resources import files

        return files("ratetool.instruments").joinpath(name).read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------------------
# Registry


class Listing(NamedTuple):
    """One row of ``Registry.list()``.

    ``error`` is ``None`` for a usable instrument. When it is set the definition cannot be used,
    ``instrument`` is ``None`` and ``error`` is the full message (it names the file).
    ``source`` is ``"built-in"`` or the path of the custom file.
    """

    instrument: Instrument | None
    source: str
    error: str | None


class _Entry(NamedTuple):
    """One custom file as found in the folder, usable or not."""

    path: Path
    declared_id: str | None  # the ``id`` written in the file, if it could be read at all
    declared_version: int | None
    instrument: Instrument | None
    error: str | None


#: ``list`` under another name: inside ``Registry`` the name ``list`` is the ``list()`` method.
_List = list


class Registry:
    """Finds instruments by id or path: custom files first, then the built-ins.

    Custom instruments are ``*.toml`` files in ``<config_dir>/instruments/`` (any file name; the
    ``id`` inside counts). Several files may share an id with different versions: the highest
    version is used for new ratings and the others still score old ratings. A custom file may not
    use a built-in id. The constructor does no I/O; the folder is read once, on first use, so make
    a new ``Registry`` to see files added later.
    """

    def __init__(self, config_dir: Path | None) -> None:
        self.config_dir = Path(config_dir) if config_dir is not None else None
        self._entries: _List[_Entry] | None = None

    @property
    def custom_dir(self) -> Path | None:
        """Where custom instrument files go: ``<config_dir>/instruments``."""
        return self.config_dir / paths.INSTRUMENTS_DIR if self.config_dir is not None else None

    # -- public ------------------------------------------------------------------------------------

    def get(self, ref: str) -> Instrument:
        """The instrument ``ref`` names: an id, or the path of a ``.toml`` file.

        ``ref`` is read as a path when it ends with ``.toml`` or contains a path separator. An id
        is looked up in the custom folder, then among the built-ins; a bare word that is no known
        id but names an existing file is read as that file. Raises ``InstrumentError`` when the
        id is unknown (listing the known ids), when a custom file meant by it is broken, or when
        a custom file uses a built-in id.
        """
        ref = ref.strip()
        if not ref:
            raise InstrumentError(
                f"No instrument given; use an id such as {DEFAULT_INSTRUMENT!r} or the path of a "
                ".toml file."
            )
        if _looks_like_path(ref):
            return self._get_path(ref)
        entries = self._scan()
        builtin = _is_builtin_id(ref)
        meant = [entry for entry in entries if _means(entry, ref)]
        broken = [entry for entry in meant if entry.error is not None]
        if broken:
            raise InstrumentError("\n".join(entry.error for entry in broken if entry.error))
        if builtin is not None and ref == builtin:
            return load_builtin(builtin)
        usable = [
            entry.instrument
            for entry in meant
            if entry.instrument is not None and entry.instrument.id == ref
        ]
        if usable:
            return max(usable, key=lambda instrument: instrument.version)
        if os.path.isfile(ref):
            return self._get_path(ref)
        raise InstrumentError(self._unknown_message(ref, entries))

    def get_version(self, instrument_id: str, version: int) -> Instrument | None:
        """The definition with this id AND version, to score an old rating; ``None`` if absent.

        Built-in ids always mean the built-in (custom files may never use them). Raises
        ``InstrumentError`` only when a custom file declaring this id and version is broken.
        """
        builtin = _is_builtin_id(instrument_id)
        if builtin is not None and instrument_id == builtin:
            instrument = load_builtin(builtin)
            return instrument if instrument.version == version else None
        found = [
            entry
            for entry in self._scan()
            if entry.declared_id == instrument_id and entry.declared_version == version
        ]
        broken = [entry.error for entry in found if entry.error is not None]
        if broken:
            raise InstrumentError("\n".join(broken))
        return found[0].instrument if found else None

    def keep_copy(self, instrument: Instrument) -> Path | None:
        """Copy a definition given by path into the custom folder, so its ratings can be scored
        later even if the original file moves. Returns the new file, or ``None`` when nothing was
        needed (a built-in, or the same id and version is already there)."""
        if instrument.source == "built-in" or self.custom_dir is None:
            return None
        try:
            known = self.get_version(instrument.id, instrument.version)
        except InstrumentError:
            known = None
        if known is not None:
            return None
        from ratetool.fsutil import atomic_write

        source = Path(instrument.source)
        target = self.custom_dir / f"{instrument.id}-v{instrument.version}.toml"
        n = 2
        while target.exists():
            target = self.custom_dir / f"{instrument.id}-v{instrument.version}-{n}.toml"
            n += 1
        atomic_write(target, source.read_bytes())
        self._entries = None
        return target

    def list(self) -> _List[Listing]:
        """Every built-in, then every custom file (sorted by file name), broken ones included."""
        rows: _List[Listing] = []
        for instrument_id in _BUILTIN_IDS:
            try:
                rows.append(Listing(load_builtin(instrument_id), "built-in", None))
            except InstrumentError as exc:  # pragma: no cover - a packaging bug
                rows.append(Listing(None, f"built-in:{instrument_id}", str(exc)))
        for entry in self._scan():
            usable = entry.instrument if entry.error is None else None
            rows.append(Listing(usable, str(entry.path), entry.error))
        return rows

    # -- internals ---------------------------------------------------------------------------------

    def _get_path(self, ref: str) -> Instrument:
        instrument = load_instrument_file(ref)
        builtin = _is_builtin_id(instrument.id)
        if builtin is not None:
            raise InstrumentError(_builtin_reuse(ref, instrument.id, builtin))
        for entry in self._scan():
            other = entry.instrument
            if (
                other is not None
                and other.id == instrument.id
                and other.version == instrument.version
                and other != instrument
            ):
                raise InstrumentError(
                    f"{ref}: '{instrument.id}' version {instrument.version} differs from the one "
                    f"in {entry.path}; ratings would be stored under the same id and version but "
                    "mean different things. Give the changed instrument a higher version number "
                    "(or a different id)."
                )
        return instrument

    def _scan(self) -> _List[_Entry]:
        if self._entries is None:
            self._entries = self._read_folder()
        return self._entries

    def _read_folder(self) -> _List[_Entry]:
        folder = self.custom_dir
        if folder is None:
            return []
        try:
            if not folder.is_dir():
                return []
            paths = sorted(
                (
                    path
                    for path in folder.iterdir()
                    if path.suffix.lower() == ".toml"
                    and not path.name.startswith(".")  # editor backups, macOS "._" files
                    and path.is_file()
                ),
                key=lambda path: path.name,
            )
        except OSError as exc:
            raise InstrumentError(
                f"The custom instruments folder {folder} cannot be read ({exc.strerror or exc})."
            ) from None
        entries = [_read_entry(path) for path in paths]
        return _mark_clashes(entries)

    def _unknown_message(self, ref: str, entries: _List[_Entry]) -> str:
        known = list(_BUILTIN_IDS)
        for entry in entries:
            if (
                entry.instrument is not None
                and entry.error is None
                and entry.instrument.id not in known
            ):
                known.append(entry.instrument.id)
        message = f"There is no instrument called {ref!r}.{did_you_mean(ref, known)}"
        message += f" Known instruments: {', '.join(known)}."
        where = (
            str(self.custom_dir)
            if self.custom_dir is not None
            else "the 'instruments' folder inside ratetool's config folder"
        )
        message += (
            f" Custom instruments are .toml files in {where}; you can also give the path of a "
            ".toml file instead of an id."
        )
        broken = sum(1 for entry in entries if entry.error is not None)
        if broken:
            message += (
                f" {broken} custom file{'s' if broken != 1 else ''} there could not be used; "
                "'ratetool instruments list' shows why."
            )
        return message


def _looks_like_path(ref: str) -> bool:
    separators = [sep for sep in (os.sep, os.altsep, "/") if sep]
    return ref.lower().endswith(".toml") or any(sep in ref for sep in separators)


def _means(entry: _Entry, ref: str) -> bool:
    """Whether a custom file is (or, if unreadable, is probably) the definition of id ``ref``."""
    if entry.declared_id is not None:
        return entry.declared_id.casefold() == ref.casefold()
    return entry.path.stem.casefold() == ref.casefold()


def _builtin_reuse(shown: str, instrument_id: str, builtin: str) -> str:
    return (
        f"{shown}: id '{instrument_id}' belongs to ratetool's built-in instrument '{builtin}'; "
        f"give your own instrument a different id, for example 'my-{builtin}'."
    )


def _read_entry(path: Path) -> _Entry:
    try:
        data = read_toml(path)
    except InstrumentError as exc:
        return _Entry(path, None, None, None, str(exc))
    declared_id = data.get("id") if isinstance(data.get("id"), str) else None
    raw_version = data.get("version")
    declared_version = raw_version if is_int(raw_version) else None
    problems: list[str] = []
    instrument = None
    try:
        instrument = parse_instrument(data, str(path))
    except InstrumentError as exc:
        problems.append(str(exc))
    builtin = _is_builtin_id(declared_id) if declared_id is not None else None
    if builtin is not None:
        problems.append(_builtin_reuse(str(path), declared_id or builtin, builtin))
    return _Entry(path, declared_id, declared_version, instrument, "\n".join(problems) or None)


def _mark_clashes(entries: list[_Entry]) -> list[_Entry]:
    """Mark files that define the same id and version as another file: neither can be trusted."""
    by_key: dict[tuple[str, int], list[_Entry]] = {}
    for entry in entries:
        if entry.declared_id is not None and entry.declared_version is not None:
            key = (entry.declared_id.casefold(), entry.declared_version)
            by_key.setdefault(key, []).append(entry)
    marked: list[_Entry] = []
    for entry in entries:
        if entry.declared_id is None or entry.declared_version is None:
            marked.append(entry)
            continue
        same = by_key[(entry.declared_id.casefold(), entry.declared_version)]
        if len(same) == 1:
            marked.append(entry)
            continue
        others = ", ".join(str(other.path) for other in same if other is not entry)
        clash = (
            f"{entry.path}: '{entry.declared_id}' version {entry.declared_version} is also "
            f"defined in {others}; give one of them a higher version number (or remove it)."
        )
        error = f"{entry.error}\n{clash}" if entry.error else clash
        marked.append(_Entry(entry.path, entry.declared_id, entry.declared_version, None, error))
    return marked
