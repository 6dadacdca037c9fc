"""Validating an instrument definition: a parsed TOML table in, an ``Instrument`` out.

``parse_instrument`` collects every problem so the practitioner can fix them in one go, and
reports them in one ``InstrumentError``, one line per problem, each starting with the source and
naming the key or item. The rules are those of docs/instruments.md.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ratetool.errors import InstrumentError
from ratetool.instruments.model import (
    INTEGER_ANSWER,
    Dimension,
    Instrument,
    Item,
    Norms,
    Scale,
    shorten,
)
from ratetool.limits import has_control, visible

#: The instrument file format this ratetool reads and writes (the optional ``format`` key).
FORMAT_VERSION = 1

#: Instrument, dimension and item ids: letters, digits, ``-`` and ``_``; 1 to 64 characters.
ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


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
_NORMS_KEYS = ("sd", "reliability", "source")


# --------------------------------------------------------------------------------------------------
# Small helpers for messages (``did_you_mean`` and ``is_int`` serve the registry too)


def _quoted(text: str) -> str:
    """Text as the practitioner would write it in TOML: in double quotes, shortened."""
    shown = visible(shorten(text).replace("\n", "\\n").replace("\t", "\\t"))
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


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when a close option exists, else ``""``."""
    import difflib

    by_folded = {option.casefold(): option for option in options}
    close = difflib.get_close_matches(str(word).casefold(), list(by_folded), n=1, cutoff=0.6)
    return f" (did you mean '{by_folded[close[0]]}'?)" if close else ""


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


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
                problem += did_you_mean(key, known)
            self.add(problem)

    def text(self, value: object, what: str) -> str | None:
        if not isinstance(value, str):
            self.add(f"{what} must be text in double quotes, not {_describe(value)}")
            return None
        if not value.strip():
            self.add(f"{what} is empty; write the words to show")
            return None
        if "\t" in value or "\n" in value or has_control(value):
            self.add(
                f"{what} must be on one line, without line breaks, tabs or other control "
                "characters (a long line is fine; ratetool wraps it on screen)"
            )
            return None
        return value.strip()

    def whole(self, value: object, what: str, *, example: str = "1") -> int | None:
        if is_int(value):
            return value  # type: ignore[return-value]
        problem = f"{what} must be a whole number such as {example}, not {_describe(value)}"
        if isinstance(value, str) and re.fullmatch(INTEGER_ANSWER, value.strip()):
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
        place += f" (id '{shorten(item_id)}')"
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
                f"{', '.join(declared_ids)}){did_you_mean(dimension, declared_ids)}"
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
        check.add(
            f"norms must be a [norms] section with sd, reliability and source, not {_describe(raw)}"
        )
        return None
    check.unknown_keys(raw, _NORMS_KEYS, "in [norms]")
    sd = reliability = source = None
    for key in ("sd", "reliability"):
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
    given = raw.get("source")
    if given is None or (isinstance(given, str) and not given.strip()):
        check.add(NORMS_SOURCE_MISSING)
    else:
        source = check.text(given, "source in [norms]")
    if sd is None or reliability is None or source is None:
        return None
    return Norms(sd=sd, reliability=reliability, source=source)


#: Norms without a source are refused: made-up norms give made-up reliable change.
NORMS_SOURCE_MISSING = (
    "[norms] has no 'source' (or an empty one): say where sd and reliability come from, a "
    'citation (source = "Author, Manual, 2nd ed., p. 12") or your own data (source = "own data, '
    'n = 120"). Norms without a source are refused, as made-up norms give made-up reliable '
    "change; delete the [norms] section if you have none"
)


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
