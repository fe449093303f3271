"""Votes under load: N concurrent simulated voters through the JSON API of a real app process on 127.0.0.1.

Run by hand: `.venv/bin/python benchmarks/load_votes.py [--voters 200] [--seconds 60] [--postgres]`.
Each voter takes a signed session, then starts a battle and votes, again and again (5 % vote twice, 2 % vote on
someone else's battle: both must be refused). Afterwards the database is read: every acknowledged vote must be
stored exactly once with its choice and nothing refused stored. Prints votes/s and p50/p99 of the vote requests
(and of the battle starts). `--postgres` runs two app processes on one throwaway Postgres, voters split between
them. `--kill-after S` kills the app with -9 after S seconds, restarts it and checks again. Rate limits are off and
the open-battle cap per address raised: every voter comes from 127.0.0.1. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.load import AppProcess, LoadResult, load_env, merge, prefill, run_voters, verify  # noqa: E402

GOALS = "goals: 0 lost, 0 duplicated, vote p99 < 250 ms, >= 300 votes/s (SQLite)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--voters", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--prompts", type=int, default=12, help="suite prompts in the pre-generated pool")
    parser.add_argument("--postgres", action="store_true", help="two app processes on one throwaway Postgres")
    parser.add_argument("--kill-after", type=float, default=None, help="kill -9 the app after this many seconds")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="arena-load-"))
    with ExitStack() as stack:
        url = None
        if args.postgres:
            from tests.support.postgres import throwaway_postgres

            url = stack.enter_context(throwaway_postgres())
        env = load_env(root, url)
        pool = prefill(env, args.prompts)
        print(f"pool: {pool} videos; database: {'postgres' if url else 'sqlite'}; {os.cpu_count()} CPUs")
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        apps = [AppProcess(env, log=root / f"app{i}.log").start() for i in range(2 if args.postgres else 1)]
        for app in apps:
            stack.callback(app.stop)
        if args.kill_after is not None:
            threading.Timer(args.kill_after, apps[0].kill).start()
        cpu_before = sum(app.cpu_s() for app in apps)
        results: list[LoadResult] = []
        threads = [
            threading.Thread(
                target=lambda a=app, i=i: results.append(
                    run_voters(a.url, args.voters // len(apps), args.seconds, i * 10_000)
                )
            )
            for i, app in enumerate(apps)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        result = merge(results, parallel=True)
        cpu = sum(app.cpu_s() for app in apps) - cpu_before if args.kill_after is None else None
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        if args.kill_after is not None:
            apps[0].start()
            time.sleep(3)  # the restart sweeps at once; give the timer one round too
        check = verify(env["ARENA_DATABASE_URL"], result)
        print(result.summary())
        if cpu is not None and result.acked:
            per_vote = 1000 * cpu / len(result.acked)
            print(
                f"app CPU: {cpu:.1f} s = {per_vote:.1f} ms per acknowledged vote with its battle start and session "
                f"(the machine's load aside: one fully used core would serve ~{1000 / per_vote:.0f} votes/s)"
            )
        print(
            f"stored {check.stored}; lost {len(check.lost)}, duplicated {len(check.duplicated)}, "
            f"changed {len(check.changed)}, refused but stored {len(check.refused_but_stored)}, "
            f"unexplained {len(check.unexplained)} -> {'OK' if check.ok else 'FAILED'}"
        )
        print(GOALS)


if __name__ == "__main__":
    main()
