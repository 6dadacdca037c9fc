"""File-system helpers every writer goes through: private folders and files, durable writes.

- ``ensure_private_dir``: make a folder (and parents) with mode 0700 on POSIX.
- ``append_durably``: append bytes to a file (created 0600), flush and fsync before returning.
- ``fsync_dir``: fsync a folder so a new or renamed entry in it survives a crash.
- ``atomic_write``: replace a small file (config) by writing a temp file in the same folder,
  fsync, then ``os.replace``; on any failure the original stays intact and the temp file is removed.
- ``open_private`` opens without following a symbolic link (``O_NOFOLLOW`` on POSIX, a check just
  before opening on Windows), and ``refuse_links`` refuses a path with a link anywhere between a
  folder (the data folder) and it: the one place for "open for writing safely". Nothing ratetool
  writes goes through a link to somewhere else.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from ratetool.errors import StoreError

POSIX = os.name == "posix"
FILE_MODE = 0o600
DIR_MODE = 0o700
#: ``O_NOFOLLOW`` where the platform has it: opening a symbolic link fails instead of following.
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def link_message(link: Path, what: str = "Nothing was written") -> str:
    """What to say about a symbolic link ratetool will not go through: the link, where it
    points, and what to do."""
    try:
        target = os.readlink(link)
    except OSError:
        target = "somewhere else"
    kind = "folder" if link.is_dir() else "file"
    return (
        f"{link} is a symbolic link (to {target}); ratetool does not read or write through links "
        "inside its data folder, so nothing outside it is ever changed. Replace the link with the "
        f"{kind} itself (or remove the link). {what}."
    )


def first_link(path: Path, inside: Path) -> Path | None:
    """The first of the entries from ``inside`` down to ``path`` (``inside`` itself excluded)
    that is a symbolic link, else ``None``. ``path`` outside ``inside`` counts as a link."""
    try:
        parts = path.relative_to(inside).parts
    except ValueError:
        return path
    current = inside
    for part in parts:
        current = current / part
        if current.is_symlink():
            return current
    return None


def refuse_links(path: Path, inside: Path) -> None:
    """Raise ``StoreError`` naming the link if ``path`` or a folder between ``inside`` and it is
    a symbolic link."""
    found = first_link(path, inside)
    if found is not None:
        raise StoreError(link_message(found))


def ensure_private_dir(path: Path, inside: Path | None = None) -> Path:
    """Create ``path`` and missing parents; folders ratetool creates are 0700 on POSIX. With
    ``inside``, a link between ``inside`` and ``path`` is refused first (``StoreError``)."""
    if inside is not None:
        refuse_links(path, inside)
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
    """``os.open`` with mode 0600 for files that do not exist yet, never following a symbolic
    link: a link at ``path`` (even one pointing nowhere) raises ``StoreError`` naming it."""
    flags |= getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0) | NOFOLLOW
    if not NOFOLLOW and path.is_symlink():  # Windows: no O_NOFOLLOW, check just before
        raise StoreError(link_message(path))
    try:
        return os.open(path, flags, FILE_MODE)
    except OSError as exc:
        # O_NOFOLLOW on a link: ELOOP on Linux, EMLINK on FreeBSD, EFTYPE on NetBSD.
        if exc.errno in (errno.ELOOP, errno.EMLINK, getattr(errno, "EFTYPE", -1)) and (
            path.is_symlink()
        ):
            raise StoreError(link_message(path)) from None
        raise


def write_durably(fd: int, data: bytes) -> None:
    """Write all of ``data`` to ``fd`` (``os.write`` may write less than asked) and fsync it."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.fsync(fd)


def append_durably(path: Path, data: bytes, inside: Path | None = None) -> None:
    """Append ``data`` to ``path`` in one write, then flush and fsync.

    The file is created 0600 if it does not exist (and its folder is fsynced so the new name is
    durable too). Bytes already in the file are never touched. A link at ``path`` is never
    followed; with ``inside``, a link in a folder between ``inside`` and ``path`` is refused too.
    If the first write into a file this call created fails (a full disk), the file is removed
    again, so no empty file is left behind; a file that existed before is never removed.
    """
    if inside is not None:
        refuse_links(path, inside)
    flags = os.O_WRONLY | os.O_APPEND
    while True:
        try:
            fd, created = open_private(path, flags), False
            break
        except FileNotFoundError:
            pass
        try:
            # O_EXCL: this call made the file, so only this call may remove it again.
            fd, created = open_private(path, flags | os.O_CREAT | os.O_EXCL), True
            break
        except FileExistsError:
            continue  # made by someone else meanwhile: append to it
    try:
        write_durably(fd, data)
    except BaseException:
        os.close(fd)
        if created:
            try:
                path.unlink()
            except OSError:
                pass
        raise
    os.close(fd)
    if created:
        fsync_dir(path.parent)


def atomic_write(path: Path, data: bytes, inside: Path | None = None) -> None:
    """Replace ``path`` with ``data`` atomically; the old file stays intact if anything fails.

    With ``inside``, a link between ``inside`` and ``path`` (``path`` included) is refused
    (``StoreError``); the temp file is never a link either way. ``os.replace`` replaces a link at
    ``path`` itself, never the file it points to.
    """
    ensure_private_dir(path.parent, inside)
    if inside is not None:
        refuse_links(path, inside)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        try:
            write_durably(fd, data)
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
    "NOFOLLOW",
    "link_message",
    "first_link",
    "refuse_links",
    "ensure_private_dir",
    "append_durably",
    "atomic_write",
    "fsync_dir",
    "open_private",
    "describe_os_error",
]
