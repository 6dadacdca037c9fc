"""Instruments: the questionnaires, as plain data in TOML files.

An instrument file is described in docs/instruments.md (``checkin.toml`` beside this module is one).
The package is four rooms, each re-exported here so callers import from ``ratetool.instruments``:

- ``model``: ``Instrument`` and its parts (immutable), and ``check_answer(instrument, item_id,
  raw)``, which turns a typed answer into a whole number or raises ``AnswerError``.
- ``validation``: ``parse_instrument(data, source)`` checks a parsed TOML table; every problem is
  collected and reported in one ``InstrumentError``, one line per problem, each line starting with
  ``source``.
- ``loading``: ``load_instrument_file(path)`` reads, parses and validates one file, naming the
  file (and the line, for a TOML syntax error) in every message.
- ``registry``: ``builtin_ids()`` / ``load_builtin(id)`` for the instruments shipped with ratetool,
  and ``Registry(config_dir)``, which finds instruments by id (and version) or path, custom files in
  ``<config dir>/instruments/`` first, and lists them all, broken files included.

Nothing here imports Typer or rich, and nothing is read until a function is called.
"""

from ratetool.instruments.loading import load_instrument_file
from ratetool.instruments.model import (
    Dimension,
    Instrument,
    Item,
    Norms,
    Scale,
    check_answer,
)
from ratetool.instruments.registry import (
    DEFAULT_INSTRUMENT,
    Listing,
    Registry,
    builtin_ids,
    load_builtin,
)
from ratetool.instruments.validation import FORMAT_VERSION, ID_RE, parse_instrument

__all__ = [
    "DEFAULT_INSTRUMENT",
    "FORMAT_VERSION",
    "ID_RE",
    "Dimension",
    "Instrument",
    "Item",
    "Listing",
    "Norms",
    "Registry",
    "Scale",
    "builtin_ids",
    "check_answer",
    "load_builtin",
    "load_instrument_file",
    "parse_instrument",
]
