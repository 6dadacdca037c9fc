"""Write the demo caseload in ``examples/data/``: made-up clients, in ratetool's real file format.

    python examples/make_demo_data.py [OUT_DIR] [--force]

OUT_DIR defaults to ``examples/data`` beside this script. Every id, date and answer is fixed, and
the ratings are written through ratetool's own store (``open_store(...).add(...)``), so running it
again reproduces byte-identical files in exactly the format ``ratetool rate`` writes. It refuses to
write into a folder that is not empty unless ``--force`` is given; then it first removes only the
files it writes itself (``clients/*.toml``, ``README.md`` and the store's lock file).

The four clients:

- ``C-101``, steady strong alliance (check-in, 10 sessions): high from the start, never falling,
  so no alert ever fires.
- ``C-102``, rupture and repair (check-in, 9 sessions): a sharp fall at session 5 (drop, low and
  item alerts), then a recovery over three sessions.
- ``C-103``, slow decline (check-in, 10 sessions): one point less every session or two; the
  ``drop`` alert catches each step, ``low`` from session 8 on.
- ``C-104``, two instruments (another practitioner): the long ``core`` questionnaire at sessions
  1, 5 and 9 (one item skipped at session 9), the check-in in between, so trends are per
  instrument.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
NAMESPACE = uuid.UUID("5d1b7f0e-2c52-4c8e-9a51-3f0e7f6a0b11")
TZ = timezone(timedelta(hours=1))
CHECKIN = ("empathy", "warmth", "genuineness", "trust")
CORE = tuple(f"{item}_{n}" for n in (1, 2, 3) for item in CHECKIN)
SKIP = None

# client -> (practitioner, first session (date, hour, minute), sessions)
# each session: (instrument, answers in item order (None = skipped), comment or None)
CLIENTS: dict[str, tuple[str, datetime, list[tuple[str, tuple, str | None]]]] = {
    "C-101": (
        "AB",
        datetime(2025, 1, 6, 10, 50, tzinfo=TZ),
        [
            ("checkin", (9, 9, 9, 10), None),
            ("checkin", (9, 10, 9, 10), None),
            ("checkin", (10, 9, 9, 10), "Good to talk about work."),
            ("checkin", (10, 10, 9, 10), None),
            ("checkin", (10, 10, 9, 10), None),
            ("checkin", (9, 10, 10, 10), None),
            ("checkin", (10, 10, 10, 10), None),
            ("checkin", (10, 10, 10, 10), "Felt heard today."),
            ("checkin", (10, 10, 10, 10), None),
            ("checkin", (10, 10, 10, 10), None),
        ],
    ),
    "C-102": (
        "AB",
        datetime(2025, 1, 7, 14, 50, tzinfo=TZ),
        [
            ("checkin", (9, 9, 9, 9), None),
            ("checkin", (9, 10, 9, 9), None),
            ("checkin", (10, 10, 9, 9), None),
            ("checkin", (10, 10, 9, 10), None),
            ("checkin", (6, 8, 7, 5), "I felt you weren't really listening today."),
            ("checkin", (7, 9, 8, 7), "Better. Glad we talked about last week."),
            ("checkin", (9, 9, 9, 8), None),
            ("checkin", (9, 10, 9, 9), None),
            ("checkin", (10, 10, 9, 10), "Thank you for hearing me out."),
        ],
    ),
    "C-103": (
        "AB",
        datetime(2025, 1, 8, 9, 50, tzinfo=TZ),
        [
            ("checkin", (10, 10, 9, 10), None),
            ("checkin", (10, 9, 10, 10), None),
            ("checkin", (10, 9, 9, 10), None),
            ("checkin", (9, 10, 9, 10), None),
            ("checkin", (9, 9, 9, 10), None),
            ("checkin", (9, 9, 9, 9), "A bit rushed at the end."),
            ("checkin", (9, 9, 8, 10), None),
            ("checkin", (9, 8, 9, 9), None),
            ("checkin", (8, 9, 8, 9), "Not sure this is helping yet."),
            ("checkin", (8, 8, 7, 10), None),
        ],
    ),
    "C-104": (
        "CD",
        datetime(2025, 1, 9, 16, 50, tzinfo=TZ),
        [
            ("core", (4, 4, 4, 3, 4, 5, 4, 3, 2, 1, 2, 3), "Hard to open up at first."),
            ("checkin", (9, 9, 9, 9), None),
            ("checkin", (9, 9, 10, 9), None),
            ("checkin", (9, 10, 10, 9), None),
            ("core", (5, 5, 4, 4, 4, 5, 5, 4, 1, 1, 2, 2), None),
            ("checkin", (10, 10, 10, 9), None),
            ("checkin", (10, 10, 10, 9), None),
            ("checkin", (9, 10, 10, 8), None),
            ("core", (5, 5, 5, 4, 5, 5, SKIP, 5, 1, 1, 1, 2), None),
            ("checkin", (10, 10, 10, 7), "Still finding it hard to say some things."),
        ],
    ),
}


def ratings():
    from ratetool.model import Rating

    out = []
    for code, (practitioner, start, sessions) in CLIENTS.items():
        for number, (instrument, values, comment) in enumerate(sessions, 1):
            ids = CHECKIN if instrument == "checkin" else CORE
            assert len(values) == len(ids), (code, number)
            answers = {i: v for i, v in zip(ids, values) if v is not SKIP}
            skipped = tuple(i for i, v in zip(ids, values) if v is SKIP)
            out.append(
                Rating(
                    id=str(uuid.uuid5(NAMESPACE, f"{code}/{number}/{instrument}")),
                    client=code,
                    session=number,
                    rated_at=start + timedelta(weeks=number - 1),
                    instrument=instrument,
                    instrument_version=1,
                    answers=answers,
                    practitioner=practitioner,
                    comment=comment,
                    skipped=skipped,
                )
            )
    return out


README = """\
# Demo caseload

Made-up ratings of four made-up clients, in ratetool's real file format, for trying ratetool
and for the examples in the project README:

    ratetool --data-dir examples/data summary
    ratetool --data-dir examples/data summary C-102
    ratetool --data-dir examples/data chart C-102

Written by `examples/make_demo_data.py` (run it with `--force` to write them again; the files
come out identical). Do not add real clients' data here.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?", type=Path, default=HERE / "data")
    parser.add_argument("--force", action="store_true", help="replace the files this script writes")
    args = parser.parse_args(argv)
    out: Path = args.out

    from ratetool.store import LOCK_NAME, open_store

    if out.exists() and any(out.iterdir()):
        if not args.force:
            print(
                f"{out} is not empty; run again with --force to replace the demo files in it.",
                file=sys.stderr,
            )
            return 1
        for path in [*(out / "clients").glob("*.toml"), out / "README.md", out / LOCK_NAME]:
            path.unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    store = open_store(out)
    store.add(ratings(), number_sessions=False)
    (out / LOCK_NAME).unlink(missing_ok=True)  # the store's lock file is not data
    (out / "README.md").write_text(README, encoding="utf-8", newline="\n")
    print(f"Wrote {len(CLIENTS)} clients to {out / 'clients'}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
