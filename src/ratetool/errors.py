"""Errors the core raises for problems a user can fix.

The command line turns every ``RatetoolError`` into one message on stderr and exit status 1, in one
place (``ratetool.cli.app``). Messages are written for a practitioner, not a programmer: they say
what was wrong, where (file, line, row, item), and what to do. They never contain answers.
"""

from __future__ import annotations


class RatetoolError(Exception):
    """A problem the user can fix. ``str(error)`` is the whole message shown to them."""

    exit_code = 1


class ConfigError(RatetoolError):
    """``config.toml`` is unreadable or holds a key or value ratetool does not accept."""


class InstrumentError(RatetoolError):
    """An instrument definition is missing, unreadable or invalid."""


class ClientCodeError(RatetoolError):
    """A client code is not a safe pseudonymous code."""


class AnswerError(RatetoolError):
    """An answer given on the command line or in a file is not valid for its item."""


class StoreError(RatetoolError):
    """The data folder cannot be read or written safely."""


class FormatTooNewError(StoreError):
    """A data file was written by a newer ratetool than this one."""


class DamagedFileError(StoreError):
    """A data file does not parse, or its last block is incomplete; nothing will be written to it."""


class LockTimeoutError(StoreError):
    """Another ratetool kept the data folder locked for too long."""


class ImportRowsError(RatetoolError):
    """Rows of an import file are invalid; nothing was written."""


class ExportError(RatetoolError):
    """An export cannot be written (for example the file exists and --force was not given)."""
