"""Append ratings to one client in a loop, for the store's process tests.

    python append_loop.py DATA_DIR KIND CLIENT N [--cli] [--barrier]

Each rating is appended through the ``Store`` API (``open_store(DATA_DIR, KIND).add``), or with
``--cli`` by running ``ratetool rate CLIENT --answers ... --yes`` as a child process (the store
kind then comes from config.toml in RATETOOL_CONFIG_DIR). After each save returns, one line
``saved <session> <id>`` is printed and flushed, so a test that kills this process knows exactly
which ratings were reported saved (``<id>`` is ``-`` for --cli, which does not print it).

With ``--barrier`` the script prints ``ready`` and waits for one line on stdin before its first
append: the test starts every writer, waits for every ``ready``, then releases them all at once
(a pipe barrier; no sleeping). The script exits 0 after N appends, or 3 if stdin closes before
``go``. N = 0 means "until killed".
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

ANSWERS = {"empathy": 8, "warmth": 9, "genuineness": 7, "trust": 10}
_SAVED = re.compile(r"Saved: session (\d+) for ")


def _ratetool() -> list[str]:
    """The ratetool command: the entry point beside this Python, else ``python -m ratetool``."""
    folder = Path(sys.executable).parent
    for name in ("ratetool", "ratetool.exe"):
        if (folder / name).exists():
            return [str(folder / name)]
    return [sys.executable, "-m", "ratetool"]


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("--")]
    flags = {a for a in argv if a.startswith("--")}
    data_dir, kind, client, count = Path(args[0]), args[1], args[2], int(args[3])
    use_cli = "--cli" in flags

    if "--barrier" in flags:
        print("ready", flush=True)
        if not sys.stdin.readline():
            return 3

    store = None
    if not use_cli:
        from ratetool.model import Rating
        from ratetool.store import open_store, refuse_if_problems

        store = open_store(data_dir, kind)
    command = _ratetool() + ["rate", client, "--answers", "8,9,7,10", "--yes"]
    done = 0
    while count == 0 or done < count:
        if use_cli:
            proc = subprocess.run(
                command, env=os.environ, capture_output=True, text=True, check=False
            )
            match = _SAVED.search(proc.stdout)
            if proc.returncode != 0 or not match:
                sys.stderr.write(f"ratetool rate failed ({proc.returncode}): {proc.stderr}\n")
                return 1
            print(f"saved {match.group(1)} -", flush=True)
        else:
            rating = Rating(
                id=str(uuid.uuid4()),
                client=client,
                session=0,
                rated_at=datetime.now(UTC).astimezone(),
                instrument="checkin",
                instrument_version=1,
                answers=dict(ANSWERS),
                comment=f"writer {os.getpid()} rating {done + 1}",
            )
            # Like `ratetool rate`: look at the file first (outside the lock), then add under it.
            # The unlocked read also gives the other writer a window to take the lock.
            refuse_if_problems(store.read_client(client).problems)
            added = store.add([rating]).added[0]
            print(f"saved {added.session} {added.id}", flush=True)
        done += 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
