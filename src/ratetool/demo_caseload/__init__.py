"""The example caseload ``ratetool demo`` starts from: the four made-up clients of examples/data.

``clients/`` holds byte-identical copies of ``examples/data/clients/*.toml`` (written by
``examples/make_demo_data.py``), shipped as package data so the demo works from an installed
wheel, where examples/ is not. tests/test_demo.py checks that the two stay identical: after
running that script, copy its files here.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from ratetool.paths import CLIENT_SUFFIX, CLIENTS_DIR


def client_files() -> dict[str, bytes]:
    """The example clients' files: file name -> bytes, in name order."""
    folder = files(__name__).joinpath(CLIENTS_DIR)
    return {
        entry.name: entry.read_bytes()
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(CLIENT_SUFFIX)
    }


def seed(data_dir: Path) -> list[str]:
    """Write the example caseload into ``data_dir`` (a new, empty TOML-store data folder).

    Returns the client codes written. Refuses (``FileExistsError``) to overwrite a client file.
    """
    clients = data_dir / CLIENTS_DIR
    clients.mkdir(mode=0o700, parents=True, exist_ok=True)
    codes = []
    for name, data in client_files().items():
        with open(clients / name, "xb") as out:
            out.write(data)
        codes.append(name.removesuffix(CLIENT_SUFFIX))
    return codes
