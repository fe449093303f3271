"""A client's history against the cost of its next battle: start CPU on a fresh database and after many battles
of the same network address (a lab behind one NAT address, or a long demo).

Run by hand: `.venv/bin/python benchmarks/client_history.py [--history 100000] [--battles 200]`. In process, on a
temporary SQLite database whose pool holds the offline demo models' clips (12 prompts, 64x64x8, no spare copies:
each start re-encodes its two copies). Each round starts, votes on and reveals ``--battles`` battles from 200
sessions behind one address hash; between the rounds ``--history`` voted and revealed battles of that address
are inserted. Prints the median start CPU of each round and their ratio, measured side by side in one run.
Nothing here asserts a time (tests/arena/test_client_history.py counts SQLite's steps instead).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from arena.services.container import Arena  # noqa: E402
from arena.settings import Settings  # noqa: E402
from db.models import Battle  # noqa: E402
from db.session import transaction  # noqa: E402
from tests.support.history import add_copies  # noqa: E402
from tests.support.load import load_env  # noqa: E402

ADDRESS = "one-address"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--history", type=int, default=100_000, help="battles of the address added between rounds")
    parser.add_argument("--battles", type=int, default=200, help="battles timed per round")
    args = parser.parse_args()
    env = load_env(
        Path(tempfile.mkdtemp(prefix="arena-history-")),
        ARENA_DEFAULT_WIDTH="64",
        ARENA_DEFAULT_HEIGHT="64",
        ARENA_DEFAULT_NUM_FRAMES="8",
    )
    settings = {k.removeprefix("ARENA_").lower(): v for k, v in env.items()} | {"serve_spares": 0}
    arena = Arena.create(Settings(_env_file=None, **settings))  # type: ignore[call-arg, arg-type]
    rng = random.Random(0)
    try:
        arena.pool_videos.fill(limit_prompts=12)

        def round_ms() -> float:
            times = []
            for k in range(args.battles):
                session_id = f"s{k % 200:03d}"
                started = time.process_time()
                view = arena.battles.start(session_id, ip_hash=ADDRESS, rng=rng)
                times.append(time.process_time() - started)
                arena.votes.vote(view.id, session_id, rng.choice(["left", "right", "tie", "both_bad"]))
                arena.votes.reveal(view.id, session_id)
            return statistics.median(times) * 1000

        fresh = round_ms()
        with transaction(arena.factory) as session:
            battles = session.scalars(select(Battle)).all()
            add_copies(session, battles, args.history, session_ids=[f"old{i}" for i in range(5000)])
        later = round_ms()
    finally:
        arena.close()
    print(
        f"start CPU median: fresh database {fresh:.2f} ms; after {args.history} more battles of the address "
        f"{later:.2f} ms; ratio {later / fresh:.2f}"
    )


if __name__ == "__main__":
    main()
