"""``python -m ratetool``: the same entry point as the ``ratetool`` command."""

from ratetool.cli import main

if __name__ == "__main__":  # pragma: no cover - exercised by a subprocess test
    main()
