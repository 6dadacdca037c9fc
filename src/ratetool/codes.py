"""Client codes: what a safe, pseudonymous client code is (``ratetool.model`` re-exports it).

A module of its own so that checking a code loads nothing else.
"""

from __future__ import annotations

import re

from ratetool.errors import ClientCodeError

CLIENT_CODE_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")

# Names Windows will not use as a file name, with or without an extension.
_WINDOWS_RESERVED = frozenset(
    ["con", "prn", "aux", "nul", "conin$", "conout$"]
    + [f"com{i}" for i in range(1, 10)]
    + [f"lpt{i}" for i in range(1, 10)]
)

_WHY_CODES = (
    "Use a pseudonymous code such as C-014, never a name: codes keep clients' identities out of "
    "files, file names and screens."
)


def validate_client_code(code: str) -> str:
    """Return ``code`` if it is a safe client code, else raise ``ClientCodeError`` saying why."""
    if not isinstance(code, str) or not code:
        raise ClientCodeError(f"A client code is needed. {_WHY_CODES}")
    if not CLIENT_CODE_RE.fullmatch(code):
        if len(code) > 64:
            problem = f"is {len(code)} characters long (at most 64)"
        else:
            bad = sorted({ch for ch in code if not re.fullmatch(r"[A-Za-z0-9_-]", ch)})
            shown = ", ".join("a space" if ch == " " else repr(ch) for ch in bad)
            problem = (
                f"contains {shown}; only the letters A-Z and a-z (no accents), digits, '-' and "
                "'_' are allowed"
            )
        raise ClientCodeError(f"Client code {code!r} {problem}. {_WHY_CODES}")
    if code.lower() in _WINDOWS_RESERVED:
        raise ClientCodeError(
            f"Client code {code!r} is a name Windows reserves for devices and cannot be a file "
            f"name. {_WHY_CODES}"
        )
    return code
