"""The CSV store's index, ``<data dir>/.ratetool-cache/ratings.csv.index`` (a derived cache).

``<data dir>/.ratetool-cache/ratings.csv.index`` lets an append, ``read_client`` and
``client_fingerprints`` skip the history. It describes a prefix of ``ratings.csv`` that parsed
without any problem: its size, the CRC-32 of those bytes, the file's inode and modification time,
the header, the number of lines, and per client the highest session number, the byte spans of its
rows and the CRC-32 of those rows' bytes. It is used only when it provably describes the file:

- same size, inode, modification and change time as recorded: the file is unchanged (every write moves
  the modification time; ratetool only ever appends, or in repair shortens);
- otherwise, if the file is at least as long and the CRC-32 of the recorded prefix still
  matches, the file only grew: just the new bytes are parsed (and the index brought up to date);
- otherwise (shorter, edited, replaced), or when the index is missing, unreadable, of another
  version or fails its own checksum: the whole file is read and the index written again.

``read_client`` checks the whole index's checksum but parses only the facts line and its own
client's line (a client listed twice makes the index unusable, so the file is read).

It is never the only copy of anything (every fact in it is derived from ``ratings.csv``), it is
written only for a file without problems (so a torn or damaged file is always found by reading
it), rows read through it are checked to be whole rows of the client asked for (else the whole
file is read), and ``CsvStore.check`` (run by ``ratetool check``) compares what it would make
appends and reads believe with the whole file parsed, and rebuilds it if they differ. An index
for a prefix stays true while the file grows, so indexes written by concurrent readers (atomic
rename, no lock needed) can be older but never wrong. A client's *fingerprint* (for the summary
and export caches) is the CRC-32 of its rows and of the header, so it changes with any change to
that client's data. A correction row counts as a row of the client it is stored under (a rename's
old code), and the index lists the renames (old code, new code) so ``read_client`` and the
fingerprints of a renamed client take the rows of every code shown under it.
"""

from __future__ import annotations

import json
import os
import zlib
from typing import NamedTuple

from ratetool import paths
from ratetool.store import Problem
from ratetool.store.csv_format import RATINGS_NAME, Header, header_problem
from ratetool.store.csv_parse import ParsedCsv

CACHE_DIR = paths.CACHE_DIR
INDEX_NAME = f"{RATINGS_NAME}.index"
INDEX_VERSION = 2
_INDEX_MAGIC = "ratetool csv index"

#: Per client: (highest session, "start length start length ..." of its rows, CRC-32 of them).
ClientEntry = tuple[int, str, int]


class Index(NamedTuple):
    """What an index file records about ``ratings.csv`` (see the module's text)."""

    size: int
    crc: int
    mtime_ns: int
    ctime_ns: int
    ino: int
    lines: int
    columns: tuple[str, ...]
    #: Client code -> (highest session, "start length start length ...", CRC-32 of the client's
    #: rows): the byte spans of the client's rows as one string (loading the index does not build
    #: 200,000 numbers), and a checksum of their bytes (the client's data fingerprint).
    clients: dict[str, ClientEntry]
    #: Every rename in the indexed rows, (old code, new code), in file order.
    renames: tuple[tuple[str, str], ...] = ()

    def to_bytes(self) -> bytes:
        """A checksummed first line, one JSON line of facts, then one line per client:
        ``code<TAB>highest session<TAB>crc<TAB>spans`` (client codes hold no tab or line break)."""
        meta = json.dumps(
            {
                "file": RATINGS_NAME,
                "size": self.size,
                "crc32": self.crc,
                "mtime_ns": self.mtime_ns,
                "ctime_ns": self.ctime_ns,
                "ino": self.ino,
                "lines": self.lines,
                "columns": list(self.columns),
                "renames": [list(pair) for pair in self.renames],
            },
            separators=(",", ":"),
        )
        rows = "".join(f"{code}\t{e[0]}\t{e[2]}\t{e[1]}\n" for code, e in self.clients.items())
        body = f"{meta}\n{rows}".encode()
        return f"{_INDEX_MAGIC} {INDEX_VERSION} {zlib.crc32(body):08x}\n".encode() + body

    @classmethod
    def from_bytes(cls, raw: bytes, client: str | None = None) -> Index | None:
        """The index, or ``None`` if it is not one this ratetool wrote, intact.

        With ``client``, ``clients`` holds only that client's line (none if it has none), which
        is all ``read_client`` needs: parsing the lines of thousands of clients would cost more
        than the rest of its work. Such an index is for reading that client, nothing else."""
        first_end = raw.find(b"\n")
        if first_end < 0:
            return None
        parts = raw[:first_end].decode("ascii", "replace").rsplit(" ", 2)
        if len(parts) != 3 or parts[0] != _INDEX_MAGIC or parts[1] != str(INDEX_VERSION):
            return None
        body = memoryview(raw)[first_end + 1 :]
        if parts[2] != f"{zlib.crc32(body):08x}":
            return None
        try:
            if client is None:
                lines = str(body, "utf-8").split("\n")
            else:
                lines = lines_of_client(raw, first_end, client)
            doc = json.loads(lines[0])
            clients: dict[str, ClientEntry] = {}
            for line in lines[1:-1]:
                code, top, crc, spans = line.split("\t")
                clients[code] = (int(top), spans, int(crc))
            index = cls(
                size=int(doc["size"]),
                crc=int(doc["crc32"]),
                mtime_ns=int(doc["mtime_ns"]),
                ctime_ns=int(doc["ctime_ns"]),
                ino=int(doc["ino"]),
                lines=int(doc["lines"]),
                columns=tuple(doc["columns"]),
                clients=clients,
                renames=tuple((str(old), str(new)) for old, new in doc.get("renames", ())),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        if doc.get("file") != RATINGS_NAME or header_problem(index.columns) is not None:
            return None
        return index

    def matches(self, info: os.stat_result) -> bool:
        """The file is the one indexed, unchanged (same size, inode, modification and change
        time: a hand edit that restores the modification time still moves the change time)."""
        return (
            info.st_size == self.size
            and info.st_mtime_ns == self.mtime_ns
            and info.st_ctime_ns == self.ctime_ns
            and info.st_ino == self.ino
        )


def lines_of_client(raw: bytes, first_end: int, client: str) -> list[str]:
    """The lines of an index body (after the checksum line, which ends at ``first_end``) as
    ``split("\\n")`` gives them, keeping only the facts line and ``client``'s line. Raises
    ``ValueError`` when that client has two lines, or a line is not UTF-8."""
    meta_end = raw.find(b"\n", first_end + 1)
    if meta_end < 0:
        return [raw[first_end + 1 :].decode("utf-8")]
    lines = [raw[first_end + 1 : meta_end].decode("utf-8")]
    needle = f"\n{client}\t".encode()
    start = raw.find(needle, meta_end)
    end = raw.find(b"\n", start + 1) if start >= 0 else -1
    if end >= 0:  # a whole line (an unfinished last line is no line, as in split)
        if raw.find(needle, end) >= 0:
            raise ValueError(f"two lines for client {client}")
        lines.append(raw[start + 1 : end].decode("utf-8"))
    lines.append("")
    return lines


def merge_clients(
    parsed: ParsedCsv, data: bytes, base: dict[str, ClientEntry] | None = None, shift: int = 0
) -> dict[str, ClientEntry]:
    """``base`` (not changed) plus the rows of ``parsed``: their spans in ``data``, moved by
    ``shift`` to be offsets in the file, and their bytes added to each client's checksum."""
    out = dict(base or {})
    view = memoryview(data)
    crc32 = zlib.crc32
    for code, rows in (parsed.clients or {}).items():
        spans = rows.spans
        old = out.get(code)
        crc = old[2] if old is not None else 0
        for i in range(0, len(spans), 2):
            crc = crc32(view[spans[i] : spans[i] + spans[i + 1]], crc)
        if shift:
            spans = [n + shift if i % 2 == 0 else n for i, n in enumerate(spans)]
        text = " ".join(map(str, spans))
        if old is None:
            out[code] = (rows.max_session, text, crc)
        else:
            out[code] = (max(old[0], rows.max_session), f"{old[1]} {text}", crc)
    return out


def spans_of(entry: ClientEntry) -> list[int]:
    return [int(n) for n in entry[1].split()]


def renames_in(
    parsed: ParsedCsv, base: tuple[tuple[str, str], ...] = ()
) -> tuple[tuple[str, str], ...]:
    """``base`` and the renames among ``parsed``'s corrections, in file order."""
    found = [(c.client, c.new_client) for c in parsed.corrections if c.new_client]
    return (*base, *found) if found else base


class View(NamedTuple):
    """What a read found, through the index or by parsing the whole file."""

    problems: list[Problem]
    header: Header | None
    size: int
    crc: int
    lines: int
    #: Per client (see ``Index.clients``; only one client's, when made for ``read_client``);
    #: None when the file has problems.
    clients: dict[str, ClientEntry] | None
    #: The whole file parsed, when it was.
    parsed: ParsedCsv | None = None
    #: The renames in the file (``Index.renames``).
    renames: tuple[tuple[str, str], ...] = ()
