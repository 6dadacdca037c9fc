"""Make a synthetic data folder for benchmarks: CLIENTS clients x SESSIONS sessions.

    python benchmarks/make_data.py OUT_DIR [--clients 1000] [--sessions 100] [--store toml|csv]

Answers follow a per-client trajectory (steady, rupture and repair, slow decline) with noise,
comments appear on about one rating in five, and every id, date and answer is reproducible from
the seed. The data is written through ratetool's own store, so the files are exactly what
ratetool writes. OUT_DIR must not exist yet (a config.toml selecting the store is written into
OUT_DIR/config).
"""

from __future__ import annotations

import argparse
import random
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

COMMENTS = [
    "Felt heard today.",
    "A bit rushed at the end.",
    "Hard session, but useful.",
    'She said "we went too fast".',
    "Not sure this is helping yet.",
    "Très bien, merci 🙂",
    "Good to talk about work.",
    "I wanted more time on the family stuff.",
]


def ratings_for(client_index: int, sessions: int, rng: random.Random):
    from ratetool.model import Rating

    code = f"C-{client_index:04d}"
    kind = client_index % 3
    start = datetime(2024, 1, 8, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    start += timedelta(days=client_index % 28, hours=client_index % 8)
    for n in range(1, sessions + 1):
        if kind == 0:
            base = 8.8
        elif kind == 1:
            base = 8.5 if n % 20 not in (5, 6) else 5.0
        else:
            base = 9.2 - 3.0 * n / sessions
        answers = {
            item: max(0, min(10, round(base + rng.uniform(-1.2, 1.2))))
            for item in ("empathy", "warmth", "genuineness", "trust")
        }
        yield Rating(
            id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            client=code,
            session=n,
            rated_at=start + timedelta(weeks=n - 1),
            instrument="checkin",
            instrument_version=1,
            answers=answers,
            practitioner=("AB", "CD", "EF")[client_index % 3],
            comment=rng.choice(COMMENTS) if rng.random() < 0.2 else None,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--store", choices=("toml", "csv"), default="toml")
    parser.add_argument("--seed", type=int, default=20261128)
    args = parser.parse_args(argv)
    if args.out.exists():
        print(f"{args.out} exists; choose a new folder.", file=sys.stderr)
        return 1
    from ratetool.config import save_config
    from ratetool.store import open_store

    data = args.out / "data"
    save_config(args.out / "config", {"store": args.store, "practitioner": "AB"})
    store = open_store(data, args.store)
    rng = random.Random(args.seed)
    batch = []
    for i in range(1, args.clients + 1):
        batch.extend(ratings_for(i, args.sessions, rng))
        if len(batch) >= 20_000:
            store.add(batch, number_sessions=False)
            batch.clear()
    if batch:
        store.add(batch, number_sessions=False)
    print(f"{args.out}: {args.clients} clients x {args.sessions} sessions ({args.store})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
