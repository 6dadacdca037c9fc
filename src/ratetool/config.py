"""``config.toml``: the practitioner's settings.

```toml
format = 1                 # optional
practitioner = "AB"        # initials or a code, stored with each rating
instrument = "checkin"     # default instrument for `ratetool rate`
store = "toml"             # "toml" (one file per client) or "csv" (one ratings.csv)

[alerts]                   # thresholds; the defaults are starting points, not norms
low = 90                   # overall below this percent of the maximum
drop = 2.5                 # a fall of at least this many percentage points since the last session
item = 70                  # any single item at or below this percent of its scale

[fhir]                     # `ratetool export --format fhir` (docs/fhir.md)
instrument_base = "urn:ratetool:instrument:"   # a Questionnaire's url is this + the instrument id
client_system = "urn:ratetool:client"          # the identifier system of client codes
```

A missing file means the defaults. A file that does not parse, or holds an unknown key or a value
of the wrong kind, is an error naming the file and key: a typo must never silently fall back to a
default. Config is the one file ratetool rewrites, always through ``fsutil.atomic_write``.
"""

from __future__ import annotations

import math
import re
from codecs import BOM_UTF8
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ratetool import paths
from ratetool.errors import ConfigError

if TYPE_CHECKING:
    from ratetool.scoring import Thresholds

CONFIG_FORMAT = 1
CONFIG_NAME = paths.CONFIG_NAME
STORES = ("toml", "csv")

DEFAULT_ALERTS = {"low": 90.0, "drop": 2.5, "item": 70.0}
_ALERT_HELP = {
    "low": "overall percent below which a session is flagged (0-100)",
    "drop": "fall in percentage points since the previous session that is flagged (> 0)",
    "item": "item percent at or below which an item is flagged (0-100)",
}


@dataclass(frozen=True)
class Config:
    """The settings of ``config.toml`` (the defaults where it says nothing or does not exist)."""

    practitioner: str | None = None
    instrument: str = "checkin"
    store: str = "toml"
    alerts: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_ALERTS))
    #: ``[fhir]``: ``instrument_base`` and ``client_system`` as given (the defaults are in
    #: ``ratetool.exporters.fhir``).
    fhir: dict[str, str] = field(default_factory=dict)
    path: Path | None = None
    exists: bool = False

    def thresholds(self) -> Thresholds:
        from ratetool.scoring import Thresholds  # lazily: rate and --help never need scoring

        return Thresholds(**self.alerts)


def _toml_error_line(message: str) -> str:
    match = re.search(r"\(at line (\d+), column (\d+)\)", message)
    return f", line {match.group(1)}" if match else ""


def read_toml_file(path: Path, error_cls: type[Exception], what: str) -> dict[str, Any]:
    """Read and parse a TOML file, turning every failure into ``error_cls`` naming file and line."""
    import tomllib

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise error_cls(f"{path}: no such file.") from None
    except OSError as exc:
        raise error_cls(f"{path}: cannot read {what} ({exc.strerror}).") from None
    try:
        text = raw.removeprefix(BOM_UTF8).decode("utf-8")  # utf-8-sig, without its codec's import
    except UnicodeDecodeError as exc:
        raise error_cls(
            f"{path}: not UTF-8 text (byte {exc.start}); save the {what} as UTF-8."
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        raise error_cls(
            f"{path}{_toml_error_line(msg)}: TOML syntax error: {msg}. Fix that line in a text "
            f"editor and try again."
        ) from None
    except RecursionError:
        from ratetool.limits import nesting_line, nesting_problem

        raise error_cls(
            f"{path}, line {nesting_line(text)}: {nesting_problem()}. Fix that line in a text "
            f"editor and try again."
        ) from None


def _number(value: Any) -> bool:
    """A finite number (TOML also has ``inf`` and ``nan``, which no threshold can be)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def parse_config(data: dict[str, Any], path: Path | None) -> Config:
    where = str(path) if path else CONFIG_NAME
    problems: list[str] = []
    known = {"format", "practitioner", "instrument", "store", "alerts", "fhir"}
    for key in data:
        if key not in known:
            problems.append(f"unknown key {key!r} (known keys: {', '.join(sorted(known))})")
    fmt = data.get("format", CONFIG_FORMAT)
    if not isinstance(fmt, int) or isinstance(fmt, bool):
        problems.append("'format' must be a whole number")
    elif fmt > CONFIG_FORMAT:
        raise ConfigError(
            f"{where}: written for config format {fmt}; this ratetool reads format "
            f"{CONFIG_FORMAT}. Update ratetool (pip install -U ratetool)."
        )
    practitioner = data.get("practitioner")
    if practitioner is not None and (not isinstance(practitioner, str) or not practitioner.strip()):
        problems.append("'practitioner' must be non-empty text, e.g. practitioner = \"AB\"")
    elif isinstance(practitioner, str):
        from ratetool.limits import MAX_PRACTITIONER, has_control

        text = practitioner.strip()
        if len(text) > MAX_PRACTITIONER or "\t" in text or "\n" in text or has_control(text):
            problems.append(
                f"'practitioner' must be short initials or a code on one line (at most "
                f"{MAX_PRACTITIONER} characters)"
            )
    instrument = data.get("instrument", "checkin")
    if not isinstance(instrument, str) or not instrument.strip():
        problems.append(
            "'instrument' must be an instrument id or a path, e.g. instrument = \"checkin\""
        )
    store = data.get("store", "toml")
    if store not in STORES:
        problems.append(
            f"'store' must be one of {', '.join(repr(s) for s in STORES)}, not {store!r}"
        )
    alerts = dict(DEFAULT_ALERTS)
    raw_alerts = data.get("alerts", {})
    if not isinstance(raw_alerts, dict):
        problems.append("'alerts' must be a table: [alerts]")
    else:
        for key, value in raw_alerts.items():
            if key not in DEFAULT_ALERTS:
                problems.append(
                    f"unknown key {key!r} in [alerts] (known keys: {', '.join(DEFAULT_ALERTS)})"
                )
            elif not _number(value):
                problems.append(
                    f"[alerts] {key} = {value!r} must be a finite number: {_ALERT_HELP[key]}"
                )
            elif key in ("low", "item") and not 0 <= value <= 100:
                problems.append(f"[alerts] {key} = {value} is outside 0-100: {_ALERT_HELP[key]}")
            elif key == "drop" and value <= 0:
                problems.append(f"[alerts] drop = {value} must be above 0: {_ALERT_HELP[key]}")
            else:
                alerts[key] = float(value)
    fhir = _fhir_table(data.get("fhir", {}), problems)
    if problems:
        raise ConfigError("\n".join(f"{where}: {p}" for p in problems))
    return Config(
        practitioner=practitioner.strip() if isinstance(practitioner, str) else None,
        instrument=instrument.strip(),
        store=store,
        alerts=alerts,
        fhir=fhir,
        path=path,
        exists=path is not None and path.exists(),
    )


FHIR_KEYS = {
    "instrument_base": 'where Questionnaire urls start, e.g. "https://clinic.example/fhir/Questionnaire/"',
    "client_system": 'the identifier system of client codes, e.g. "https://clinic.example/client"',
}
_URI = re.compile(r"(urn:[A-Za-z0-9][A-Za-z0-9-]*:|https?://)[!-~]*")


def _fhir_table(raw: Any, problems: list[str]) -> dict[str, str]:
    """``[fhir]``: each key an absolute URI (``urn:…`` or ``http(s)://…``) without spaces or
    ``|`` (which separates a system from a value in FHIR searches)."""
    if not isinstance(raw, dict):
        problems.append("'fhir' must be a table: [fhir]")
        return {}
    found: dict[str, str] = {}
    for key, value in raw.items():
        if key not in FHIR_KEYS:
            problems.append(f"unknown key {key!r} in [fhir] (known keys: {', '.join(FHIR_KEYS)})")
        elif not isinstance(value, str) or not _URI.fullmatch(value) or "|" in value:
            problems.append(
                f"[fhir] {key} = {value!r} must be a URI starting with urn:, http:// or "
                f"https://, without spaces or '|': {FHIR_KEYS[key]}"
            )
        else:
            found[key] = value
    return found


def load_config(config_dir: Path) -> Config:
    """Read ``<config_dir>/config.toml``; defaults when it does not exist."""
    path = config_dir / CONFIG_NAME
    if not path.exists():
        return Config(path=path, exists=False)
    data = read_toml_file(path, ConfigError, "config file")
    return parse_config(data, path)


def save_config(config_dir: Path, updates: dict[str, Any]) -> Config:
    """Merge ``updates`` into config.toml and write it atomically.

    The existing file must parse and validate first: a file ratetool cannot fully read is never
    rewritten (the error says what to fix). Comments in the old file are not kept, so the old
    file is kept beside it as ``config.toml.<timestamp>.old`` when it existed.
    """
    import tomli_w

    from ratetool.fsutil import atomic_write

    path = config_dir / CONFIG_NAME
    current: dict[str, Any] = {}
    if path.exists():
        current = read_toml_file(path, ConfigError, "config file")
        parse_config(current, path)  # refuse to rewrite a file we do not fully understand
    merged = {**current, **{k: v for k, v in updates.items() if v is not None}}
    merged.setdefault("format", CONFIG_FORMAT)
    config = parse_config(merged, path)
    ordered: dict[str, Any] = {
        k: merged[k]
        for k in ("format", "practitioner", "instrument", "store", "alerts", "fhir")
        if k in merged
    }
    text = "# ratetool settings; see `ratetool --help` and the README.\n" + tomli_w.dumps(ordered)
    if path.exists():
        from datetime import datetime

        stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
        atomic_write(path.with_name(f"{CONFIG_NAME}.{stamp}.old"), path.read_bytes())
    atomic_write(path, text.encode("utf-8"))
    return replace(config, exists=True)
