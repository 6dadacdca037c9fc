"""Stack floor: start Python and import what a drawing command needs: Typer, rich's console
and table, and tomllib.

    python benchmarks/floors/stack.py
"""

import tomllib  # noqa: F401

import rich.console  # noqa: F401
import rich.table  # noqa: F401
import typer  # noqa: F401
