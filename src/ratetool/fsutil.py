"""File-system helpers every writer goes through: private folders and files, durable writes.

- ``ensure_private_dir``: make a folder (and parents) with mode 0700 on POSIX.
- ``append_durably``: append bytes to a file (created 0600), flush and fsync before returning.
- ``fsync_dir``: fsync a folder so a new or renamed entry in it survives a crash.
- ``atomic_write``: replace a small file (config) by writing a temp file in the same folder,
  fsync, then ``os.replace``; on any failure the original stays intact and the temp file is removed.
"""

from __future__ import annotations

import os
from pathlib import Path

POSIX = os.name == "posix"
FILE_MODE = 0o600
DIR_MODE = 0o700


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` and missing parents; folders ratetool creates are 0700 on POSIX."""
    missing: list[Path] = []
    p = path
    while not p.exists():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:
            pass
        if POSIX:
            os.chmod(folder, DIR_MODE)
    return path


def fsync_dir(path: Path) -> None:
    """fsync a folder so a newly created or renamed entry survives a crash (POSIX only)."""
    if not POSIX:
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def open_private(path: Path, flags: int) -> int:
    """``os.open`` with mode 0600 for files that do not exist yet."""
    flags |= getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    return os.open(path, flags, FILE_MODE)


def append_durably(path: Path, data: bytes) -> None:
    """Append ``data`` to ``path`` in one write, then flush and fsync.

    The file is created 0600 if it does not exist (and its folder is fsynced so the new name is
    durable too). Bytes already in the file are never touched.
    """
    created = not path.exists()
    fd = open_private(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        fsync_dir(path.parent)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically; the old file stays intact if anything fails."""
    ensure_private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise
    fsync_dir(path.parent)


def describe_os_error(error: OSError, path: Path | str) -> str:
    """A plain sentence for an OSError, naming the path (no traceback, no errno jargon)."""
    reason = error.strerror or error.__class__.__name__
    return f"{path}: {reason}"


__all__ = [
    "POSIX",
    "FILE_MODE",
    "DIR_MODE",
    "ensure_private_dir",
    "append_durably",
    "atomic_write",
    "fsync_dir",
    "open_private",
    "describe_os_error",
]
