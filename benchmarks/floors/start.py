"""Start floor: start Python and import Typer, the library every ratetool command starts with.

    python benchmarks/floors/start.py [--mark]

With ``--mark`` it prints a line once Typer is imported, so a harness can stop the clock at the
same point it stops it for ``ratetool rate`` (its first question on the screen), before either
process shuts down.
"""

import sys

import typer  # noqa: F401

if "--mark" in sys.argv[1:]:
    print("floor: ready", flush=True)
