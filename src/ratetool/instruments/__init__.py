"""Instruments: the questionnaire model.

An instrument is plain data in a TOML file (see ``checkin.toml`` beside this module and the README,
"Instruments"). This module holds the model (immutable: ``Instrument`` is a frozen dataclass, its
parts are named tuples, which are cheaper to create when ratetool starts), the loader and
validator that turn a TOML file into an ``Instrument`` or raise ``InstrumentError`` naming the file,
key or item and the problem, and the registry that finds instruments by id: custom files in
``<config dir>/instruments/`` and the built-ins shipped as package data.

Nothing here imports Typer or rich, and nothing is read until a function is called.

Public functions:

- ``parse_instrument(data, source)``: validate a parsed TOML table; every problem is collected and
  reported in one ``InstrumentError``, one line per problem, each line starting with ``source``.
- ``load_instrument_file(path)``: read, parse and validate one file.
- ``builtin_ids()`` / ``load_builtin(id)``: the instruments shipped with ratetool.
- ``Registry(config_dir)``: find instruments by id or path; list them all, broken files included.
- ``check_answer(instrument, item_id, raw)``: turn a typed answer into a whole number, or raise
  ``AnswerError``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from ratetool import paths
from ratetool.errors import AnswerError, InstrumentError


class Scale(NamedTuple):
    """Whole-number answers from ``min`` to ``max`` (inclusive), with words for the ends."""

    min: int
    max: int
    min_label: str
    max_label: str
    mid_label: str | None = None

    def contains(self, value: int) -> bool:
        return self.min <= value <= self.max


class Item(NamedTuple):
    id: str
    dimension: str
    text: str
    reverse: bool = False


class Norms(NamedTuple):
    """Standard deviation and reliability of the *total* score, for reliable change."""

    sd: float
    reliability: float


class Dimension(NamedTuple):
    id: str
    label: str


@dataclass(frozen=True, slots=True)
class Instrument:
    """A questionnaire: its scale, dimensions and items in order (built-in or a custom file)."""

    id: str
    version: int
    title: str
    intro: str
    scale: Scale
    dimensions: tuple[Dimension, ...]
    items: tuple[Item, ...]
    allow_skip: bool = False
    norms: Norms | None = None
    #: Where the definition came from: "built-in" or the path of the TOML file.
    source: str = field(default="built-in", compare=False)

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items)

    @property
    def dimension_ids(self) -> tuple[str, ...]:
        return tuple(d.id for d in self.dimensions)

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def items_of(self, dimension_id: str) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.dimension == dimension_id)

    def answer_problem(self, item_id: str, value: object) -> str | None:
        """Why ``value`` is not a valid stored answer to ``item_id``, or ``None`` if it is valid.

        A valid answer is a whole number (an ``int``, never a ``bool``) inside the scale. The
        message is one line that starts with the item id, e.g.
        ``"empathy: 11 is outside 0–10; give a whole number from 0 to 10."``
        """
        if item_id not in self.item_ids:
            listing = ", ".join(self.item_ids)
            return f"{item_id!r} is not an item of {self.id} (its items are: {listing})."
        give = f"give a whole number from {self.scale.min} to {self.scale.max}"
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{item_id}: {_shorten(str(value))!r} is not a whole number; {give}."
        if not self.scale.contains(value):
            return f"{item_id}: {value} is outside {self.scale.min}–{self.scale.max}; {give}."
        return None


# --------------------------------------------------------------------------------------------------
# Constants

#: The instrument file format this ratetool reads and writes (the optional ``format`` key).
FORMAT_VERSION = 1

#: The instrument ``ratetool rate`` uses when nothing else is configured.
DEFAULT_INSTRUMENT = "checkin"

#: Instrument, dimension and item ids: letters, digits, ``-`` and ``_``; 1 to 64 characters.
ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")

_BUILTIN_IDS: tuple[str, ...] = ("checkin", "core")

#: An instrument file is a few kilobytes; refuse to read anything absurdly large.
_MAX_FILE_BYTES = 1_000_000

_TOP_KEYS = (
    "format",
    "id",
    "version",
    "title",
    "intro",
    "allow_skip",
    "scale",
    "dimensions",
    "items",
    "norms",
)
_SCALE_KEYS = ("min", "max", "min_label", "max_label", "mid_label")
_ITEM_KEYS = ("id", "dimension", "text", "reverse")
_NORMS_KEYS = ("sd", "reliability")

_SYNTAX_HINT = (
    "Hint: look at that line and the one before it. Each setting is written key = value, text "
    'goes in straight double quotes ("like this"), true and false are lower case, and section '
    "headers such as [scale] or [[items]] stand alone on their own line."
)

#: Quotes that word processors and "smart" editors type instead of the straight ones TOML needs.
_CURLY_QUOTES = "\u201c\u201d\u201e\u2018\u2019"

#: Typed answers (patterns, compiled by ``re`` on first use: only typing and errors need them).
_INTEGER_ANSWER = r"[+-]?[0-9]+"
_DECIMAL_ANSWER = r"[+-]?(?:[0-9]+[.,][0-9]*|[.,][0-9]+)"


# --------------------------------------------------------------------------------------------------
# Small helpers for messages


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _quoted(text: str) -> str:
    """Text as the practitioner would write it in TOML: in double quotes, shortened."""
    shown = _shorten(text).replace("\n", "\\n").replace("\t", "\\t")
    return f'"{shown}"'


def _describe(value: object) -> str:
    """A value in the words of the file, for "must be X, not <this>"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"text {_quoted(value)}"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, Mapping):
        return "a section (table)"
    if isinstance(value, list):
        return "a list"
    return f"a date or time ({value})"


def _did_you_mean(word: str, options: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when a close option exists, else ``""``."""
    import difflib

    by_folded = {option.casefold(): option for option in options}
    close = difflib.get_close_matches(str(word).casefold(), list(by_folded), n=1, cutoff=0.6)
    return f" (did you mean '{by_folded[close[0]]}'?)" if close else ""


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_builtin_id(instrument_id: str) -> str | None:
    """The built-in id ``instrument_id`` stands for (ignoring case), or ``None``."""
    folded = instrument_id.casefold()
    for builtin in _BUILTIN_IDS:
        if builtin == folded:
            return builtin
    return None


# --------------------------------------------------------------------------------------------------
# Validation


class _Checker:
    """Collects every problem in one definition so the practitioner can fix them in one go.

    Each ``check_*`` method returns the checked value, or ``None`` after recording a problem.
    ``what`` names the place in the file, e.g. ``"version"``, ``"min in [scale]"`` or
    ``"text in items[2] (id 'warmth')"``.
    """

    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, problem: str) -> None:
        self.problems.append(problem)

    def unknown_keys(self, table: Mapping[str, Any], known: tuple[str, ...], where: str) -> None:
        for key in table:
            if key in known:
                continue
            problem = f"unknown key '{key}' {where}; known keys: {', '.join(known)}"
            if key in _TOP_KEYS and known is not _TOP_KEYS:
                problem += (
                    f" ('{key}' belongs at the top of the file, before the first [section] header)"
                )
            else:
                problem += _did_you_mean(key, known)
            self.add(problem)

    def text(self, value: object, what: str) -> str | None:
        if not isinstance(value, str):
            self.add(f"{what} must be text in double quotes, not {_describe(value)}")
            return None
        if not value.strip():
            self.add(f"{what} is empty; write the words to show")
            return None
        if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
            self.add(
                f"{what} must be on one line, without line breaks or tabs (a long line is fine; "
                "ratetool wraps it on screen)"
            )
            return None
        return value.strip()

    def whole(self, value: object, what: str, *, example: str = "1") -> int | None:
        if _is_int(value):
            return value  # type: ignore[return-value]
        problem = f"{what} must be a whole number such as {example}, not {_describe(value)}"
        if isinstance(value, str) and re.fullmatch(_INTEGER_ANSWER, value.strip()):
            problem += " (remove the quotes)"
        self.add(problem)
        return None

    def number(self, value: object, what: str, *, example: str) -> float | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            problem = f"{what} must be a number such as {example}, not {_describe(value)}"
            if isinstance(value, str):
                problem += " (numbers are written without quotes)"
            self.add(problem)
            return None
        if not math.isfinite(value):
            self.add(f"{what} must be an ordinary number, not {value}")
            return None
        return float(value)

    def flag(self, value: object, what: str) -> bool | None:
        if isinstance(value, bool):
            return value
        self.add(
            f"{what} must be true or false (lower case, without quotes), not {_describe(value)}"
        )
        return None

    def ident(self, value: object, what: str) -> str | None:
        if not isinstance(value, str):
            self.add(
                f'{what} must be a short name in double quotes, such as "my-checkin", not '
                f"{_describe(value)}"
            )
            return None
        problem = _id_problem(value)
        if problem:
            self.add(f"{what} {_quoted(value)} {problem}")
            return None
        return value


def _id_problem(value: str) -> str | None:
    if ID_RE.fullmatch(value):
        return None
    if not value:
        return "is empty; use letters, digits, '-' and '_'"
    if len(value) > 64:
        return f"is {len(value)} characters long; at most 64"
    bad = sorted({ch for ch in value if not ID_RE.fullmatch(ch)})
    shown = ", ".join("a space" if ch == " " else repr(ch) for ch in bad)
    return f"contains {shown}; only letters, digits, '-' and '_' are allowed"


def _check_scale(raw: object, check: _Checker) -> Scale | None:
    if raw is None:
        check.add(
            "missing [scale] section (min, max, min_label and max_label: the range of answers "
            "and the words for its ends)"
        )
        return None
    if not isinstance(raw, Mapping):
        check.add(
            f"scale must be a [scale] section with min, max, min_label and max_label, not "
            f"{_describe(raw)}"
        )
        return None
    check.unknown_keys(raw, _SCALE_KEYS, "in [scale]")
    for key in ("min", "max", "min_label", "max_label"):
        if key not in raw:
            check.add(f"[scale] is missing required key '{key}'")
    lowest = highest = None
    if "min" in raw:
        lowest = check.whole(raw["min"], "min in [scale]", example="0")
    if "max" in raw:
        highest = check.whole(raw["max"], "max in [scale]", example="10")
    if lowest is not None and highest is not None and highest <= lowest:
        check.add(
            f"max in [scale] ({highest}) must be greater than min ({lowest}); answers run from "
            "min up to max"
        )
        lowest = highest = None
    labels: dict[str, str | None] = {}
    for key in ("min_label", "max_label", "mid_label"):
        if key in raw:
            labels[key] = check.text(raw[key], f"{key} in [scale]")
        else:
            labels[key] = None
    if (
        lowest is None
        or highest is None
        or labels["min_label"] is None
        or labels["max_label"] is None
        or ("mid_label" in raw and labels["mid_label"] is None)
    ):
        return None
    return Scale(
        min=lowest,
        max=highest,
        min_label=labels["min_label"],
        max_label=labels["max_label"],
        mid_label=labels["mid_label"],
    )


def _check_dimensions(raw: object, check: _Checker) -> tuple[Dimension, ...] | None:
    if raw is None:
        check.add(
            'missing [dimensions] section (one line per dimension, e.g. empathy = "Felt '
            'understood")'
        )
        return None
    if not isinstance(raw, Mapping):
        check.add(
            f'dimensions must be a [dimensions] section of id = "label" lines, not {_describe(raw)}'
        )
        return None
    if not raw:
        check.add('[dimensions] is empty; declare at least one, e.g. empathy = "Felt understood"')
        return None
    dimensions: list[Dimension] = []
    ok = True
    seen: dict[str, str] = {}
    for key, label in raw.items():
        problem = _id_problem(key)
        if problem:
            check.add(f"dimension id {_quoted(key)} in [dimensions] {problem}")
            ok = False
            continue
        if key.casefold() in seen:
            check.add(
                f"dimension '{key}' in [dimensions] is the same as '{seen[key.casefold()]}' apart "
                "from upper/lower case; give dimensions different ids"
            )
            ok = False
            continue
        seen[key.casefold()] = key
        if isinstance(label, Mapping):
            check.add(
                f"'{key}' in [dimensions] must be a short label in double quotes, such as "
                f'{key} = "Felt understood", not a section; items belong in [[items]] blocks'
            )
            ok = False
            continue
        text = check.text(label, f"the label of '{key}' in [dimensions]")
        if text is None:
            ok = False
            continue
        dimensions.append(Dimension(id=key, label=text))
    return tuple(dimensions) if ok else None


def _item_place(position: int, raw: Mapping[str, Any]) -> str:
    place = f"items[{position}]"
    item_id = raw.get("id")
    if isinstance(item_id, str) and item_id.strip():
        place += f" (id '{_shorten(item_id)}')"
    return place


def _check_items(
    raw: object, declared: tuple[Dimension, ...] | None, check: _Checker
) -> tuple[Item, ...] | None:
    if raw is None or (isinstance(raw, list) and not raw):
        check.add("no items: add at least one [[items]] block with id, dimension and text")
        return None
    if not isinstance(raw, list):
        check.add(f"items must be written as [[items]] blocks, not {_describe(raw)}")
        return None
    declared_ids = [d.id for d in declared] if declared is not None else None
    items: list[Item] = []
    ok = True
    first_use: dict[str, tuple[int, str]] = {}
    for position, entry in enumerate(raw, start=1):
        if not isinstance(entry, Mapping):
            check.add(
                f"items[{position}] must be an [[items]] block with id, dimension and text, not "
                f"{_describe(entry)}"
            )
            ok = False
            continue
        place = _item_place(position, entry)
        check.unknown_keys(entry, _ITEM_KEYS, f"in {place}")
        for key in ("id", "dimension", "text"):
            if key not in entry:
                check.add(f"{place} is missing required key '{key}'")
                ok = False
        item_id = dimension = text = None
        if "id" in entry:
            item_id = check.ident(entry["id"], f"id of items[{position}]")
        if item_id is not None:
            folded = item_id.casefold()
            if folded in first_use:
                earlier, earlier_id = first_use[folded]
                if earlier_id == item_id:
                    check.add(
                        f"duplicate item id '{item_id}': items[{earlier}] and items[{position}] "
                        "both use it; give every item its own id"
                    )
                else:
                    check.add(
                        f"duplicate item id '{item_id}' in items[{position}]: items[{earlier}] "
                        f"uses '{earlier_id}', which differs only in upper/lower case; give every "
                        "item its own id"
                    )
                item_id = None
            else:
                first_use[folded] = (position, item_id)
        if "dimension" in entry:
            dimension = check.ident(entry["dimension"], f"dimension in {place}")
        if dimension is not None and declared_ids is not None and dimension not in declared_ids:
            check.add(
                f"dimension '{dimension}' in {place} is not declared in [dimensions] (declared: "
                f"{', '.join(declared_ids)}){_did_you_mean(dimension, declared_ids)}"
            )
            dimension = None
        if "text" in entry:
            text = check.text(entry["text"], f"text in {place}")
        reverse: bool | None = False
        if "reverse" in entry:
            reverse = check.flag(entry["reverse"], f"reverse in {place}")
        if item_id is None or dimension is None or text is None or reverse is None:
            ok = False
            continue
        items.append(Item(id=item_id, dimension=dimension, text=text, reverse=reverse))
    if declared is not None and isinstance(raw, list):
        used = {
            entry.get("dimension")
            for entry in raw
            if isinstance(entry, Mapping) and isinstance(entry.get("dimension"), str)
        }
        for dim in declared:
            if dim.id not in used:
                check.add(
                    f"dimension '{dim.id}' in [dimensions] has no items; add an [[items]] block "
                    f'with dimension = "{dim.id}" or remove the dimension'
                )
                ok = False
    return tuple(items) if ok else None


def _check_norms(raw: object, check: _Checker) -> Norms | None:
    if not isinstance(raw, Mapping):
        check.add(f"norms must be a [norms] section with sd and reliability, not {_describe(raw)}")
        return None
    check.unknown_keys(raw, _NORMS_KEYS, "in [norms]")
    sd = reliability = None
    for key in _NORMS_KEYS:
        if key not in raw:
            check.add(f"[norms] is missing required key '{key}'")
    if "sd" in raw:
        sd = check.number(raw["sd"], "sd in [norms]", example="7.5")
        if sd is not None and sd <= 0:
            check.add(f"sd in [norms] must be greater than 0, not {raw['sd']!r}")
            sd = None
    if "reliability" in raw:
        reliability = check.number(raw["reliability"], "reliability in [norms]", example="0.85")
        if reliability is not None and not 0 < reliability < 1:
            check.add(
                f"reliability in [norms] must be between 0 and 1 (not 0 or 1 themselves), such as "
                f"0.85, not {raw['reliability']!r}"
            )
            reliability = None
    if sd is None or reliability is None:
        return None
    return Norms(sd=sd, reliability=reliability)


def parse_instrument(data: Mapping[str, Any], source: str) -> Instrument:
    """Validate a parsed instrument definition (a TOML document as a dict) and build it.

    ``source`` names the definition in messages: a file path or ``"built-in:checkin"``; it is also
    stored in ``Instrument.source``. Every problem found is reported in one ``InstrumentError``,
    one problem per line, each line starting with ``source``. A ``format`` newer than
    ``FORMAT_VERSION`` is refused on its own, since the rest of such a file may mean something
    this ratetool does not know.
    """

    def fail(problems: list[str]) -> InstrumentError:
        return InstrumentError("\n".join(f"{source}: {problem}" for problem in problems))

    if not isinstance(data, Mapping):
        raise fail([f"does not hold an instrument definition (found {_describe(data)})"])
    check = _Checker()

    if "format" in data:
        file_format = check.whole(data["format"], "format", example=str(FORMAT_VERSION))
        if file_format is not None and file_format > FORMAT_VERSION:
            raise fail(
                [
                    f"written for instrument format {file_format}; this ratetool reads format "
                    f"{FORMAT_VERSION} — update ratetool"
                ]
            )
        if file_format is not None and file_format < 1:
            check.add(f"format must be {FORMAT_VERSION}, not {file_format}")

    check.unknown_keys(data, _TOP_KEYS, "at the top of the file")
    required_words = {
        "id": 'a short name such as "my-checkin"',
        "version": "a whole number such as 1",
        "title": "the questionnaire's name",
        "intro": "one line shown to the client before the first question",
    }
    for key, meaning in required_words.items():
        if key not in data:
            check.add(f"missing required key '{key}' ({meaning})")

    instrument_id = version = title = intro = None
    if "id" in data:
        instrument_id = check.ident(data["id"], "id")
    if "version" in data:
        version = check.whole(data["version"], "version")
        if version is not None and version < 1:
            check.add(f"version must be 1 or more, not {version}")
            version = None
    if "title" in data:
        title = check.text(data["title"], "title")
    if "intro" in data:
        intro = check.text(data["intro"], "intro")
    allow_skip: bool | None = False
    if "allow_skip" in data:
        allow_skip = check.flag(data["allow_skip"], "allow_skip")

    scale = _check_scale(data.get("scale"), check)
    dimensions = _check_dimensions(data.get("dimensions"), check)
    items = _check_items(data.get("items"), dimensions, check)
    norms = _check_norms(data["norms"], check) if "norms" in data else None

    if norms is not None and scale is not None and items is not None:
        # The SD of a score bounded by [low, high] is at most (high - low) / 2.
        low, high = len(items) * scale.min, len(items) * scale.max
        if norms.sd > (high - low) / 2:
            check.add(
                f"sd in [norms] ({norms.sd:g}) is impossible for a total score from {low} to "
                f"{high}: it can be at most {(high - low) / 2:g}. Norms describe the TOTAL score "
                "(the sum of all item scores)"
            )

    if check.problems:
        raise fail(check.problems)
    assert instrument_id is not None and version is not None and title is not None
    assert intro is not None and allow_skip is not None
    assert scale is not None and dimensions is not None and items is not None
    return Instrument(
        id=instrument_id,
        version=version,
        title=title,
        intro=intro,
        scale=scale,
        dimensions=dimensions,
        items=items,
        allow_skip=allow_skip,
        norms=norms,
        source=source,
    )


# --------------------------------------------------------------------------------------------------
# Reading files


def _parse_toml_text(text: str, shown: str) -> dict[str, Any]:
    """``tomllib.loads`` with syntax errors turned into ``InstrumentError`` naming the line."""
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        where = ""
        hint = _SYNTAX_HINT
        located = re.fullmatch(r"(?s)(.*) \(at line (\d+), column (\d+)\)", message)
        at_end = re.fullmatch(r"(?s)(.*) \(at end of document\)", message)
        if located:
            line_number = int(located.group(2))
            message = f"{located.group(1)} (column {located.group(3)})"
            where = f", line {line_number}"
            lines = text.splitlines()
            line = lines[line_number - 1] if 0 < line_number <= len(lines) else ""
            if any(mark in line for mark in _CURLY_QUOTES):
                hint = (
                    "Hint: this line has curly quotes (“ ” or ‘ ’), which some editors put in "
                    'automatically; replace them with straight double quotes (").'
                )
        elif at_end:
            message = f"{at_end.group(1)} (at the end of the file)"
            hint = (
                'Hint: something opened earlier is never closed: a double quote ("), a '
                "bracket ([ or [[) or a brace ({). Look for the last one you wrote."
            )
        # "Cannot declare ('scale',) twice" -> "Cannot declare [scale] twice"
        message = re.sub(
            r"\(((?:'[^']*',? ?)+)\)",
            lambda m: "[" + ".".join(re.findall(r"'([^']*)'", m.group(1))) + "]",
            message,
        )
        if "overwrite" in message or "twice" in message:
            message += " — a key or [section] is written twice"
        raise InstrumentError(f"{shown}{where}: TOML syntax error: {message}.\n{hint}") from None


def _read_toml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and parse one TOML file; every failure is an ``InstrumentError`` naming the file."""
    shown = os.fspath(path)
    if os.path.isdir(path):
        raise InstrumentError(
            f"{shown} is a folder, not an instrument file; give the path of a .toml file."
        )
    try:
        with open(path, "rb") as handle:
            raw = handle.read(_MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise InstrumentError(
            f"{shown}: no such instrument file. Check the spelling and the folder of the path."
        ) from None
    except PermissionError:
        raise InstrumentError(f"{shown} cannot be read: permission denied.") from None
    except OSError as exc:
        raise InstrumentError(f"{shown} cannot be read: {exc.strerror or exc}.") from None
    if len(raw) > _MAX_FILE_BYTES:
        raise InstrumentError(
            f"{shown} is larger than 1 MB, far too large for an instrument file; check the path."
        )
    try:
        text = raw.decode("utf-8-sig")  # forgive the byte-order mark some Windows editors add
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InstrumentError(
            f"{shown}, line {line}: the file is not UTF-8 text. Save it again as UTF-8 (most "
            "editors offer this under 'Save as', 'Encoding')."
        ) from None
    return _parse_toml_text(text, shown)


def load_instrument_file(path: str | os.PathLike[str]) -> Instrument:
    """Read, parse and validate one instrument file.

    Raises ``InstrumentError`` naming the file for a missing, unreadable or non-UTF-8 file, the
    file and line for a TOML syntax error, and every definition problem otherwise.
    ``Instrument.source`` is the path as given.
    """
    return parse_instrument(_read_toml(path), os.fspath(path))


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
    instrument = parse_instrument(_parse_toml_text(text, shown), shown)
    return replace(instrument, source="built-in")


def _builtin_text(name: str) -> str:
    """The text of a package-data file beside this module. Read directly when it is a plain file
    (importing ``importlib.resources`` costs as much as the rest of ``summary CLIENT``); through
    ``importlib.resources`` otherwise, e.g. when ratetool runs from a zip file."""
    try:
        return (Path(__file__).parent / name).read_text(encoding="utf-8")
    except OSError:
        from importlib.resources import files

        return files(__name__).joinpath(name).read_text(encoding="utf-8")


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
        message = f"There is no instrument called {ref!r}.{_did_you_mean(ref, known)}"
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
        data = _read_toml(path)
    except InstrumentError as exc:
        return _Entry(path, None, None, None, str(exc))
    declared_id = data.get("id") if isinstance(data.get("id"), str) else None
    raw_version = data.get("version")
    declared_version = raw_version if _is_int(raw_version) else None
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


# --------------------------------------------------------------------------------------------------
# Answers


def check_answer(instrument: Instrument, item_id: str, raw: str | int) -> int:
    """Turn one typed answer into a whole number for ``item_id``, or raise ``AnswerError``.

    Accepted: a whole number inside the scale written with ASCII digits, with surrounding spaces,
    leading zeros or one leading sign (``" 7 "``, ``"07"``, ``"+3"``; ``"-2"`` on a scale that
    goes below zero); an ``int`` is checked as it is. Refused, each with a one-line message that
    starts with the item id and says what to give: empty text, decimals (``"7.5"``, ``"7,0"``),
    anything else (``"x"``, ``"seven"``), ``bool`` and numbers outside the scale (``"11"``,
    ``"-1"`` on 0–10). Skipping is not handled here: callers decide what a skip looks like.
    """
    if item_id not in instrument.item_ids:
        raise AnswerError(
            f"{item_id!r} is not an item of {instrument.id} (its items are: "
            f"{', '.join(instrument.item_ids)})."
        )
    give = f"give a whole number from {instrument.scale.min} to {instrument.scale.max}"
    value: object
    if isinstance(raw, str):
        text = raw.strip()
        if not text:
            raise AnswerError(f"{item_id}: no answer given; {give}.")
        if re.fullmatch(_INTEGER_ANSWER, text):
            value = int(text)
        elif re.fullmatch(_DECIMAL_ANSWER, text):
            raise AnswerError(f"{item_id}: {_shorten(text, 20)} is not a whole number; {give}.")
        else:
            raise AnswerError(f"{item_id}: {_shorten(text, 20)!r} is not a number; {give}.")
    else:
        value = raw
    problem = instrument.answer_problem(item_id, value)
    if problem is not None:
        raise AnswerError(problem)
    return value
