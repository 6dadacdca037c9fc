"""ratetool: session alliance ratings kept in plain files the practitioner owns.

Importing this package does no I/O and imports nothing heavy; see ``ratetool.cli`` for the
command line and the core modules (``instruments``, ``scoring``, ``store``) for the library.
"""

__version__ = "0.1.0"
