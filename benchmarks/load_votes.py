"""Votes under load: N concurrent simulated voters through the JSON API of a real app process on 127.0.0.1.

Run by hand: `.venv/bin/python benchmarks/load_votes.py [--voters 200] [--seconds 30] [--postgres] [--processes N]
[--rate 300] [--kill-after S] [--spares N] [--mixed-only] [--busy N [--busy-nice 10]]`.

Two runs, each checked afterwards against the database (every acknowledged vote stored exactly once with its
choice, nothing refused stored):

- mixed: each voter takes a signed session, then starts a battle and votes, again and again (5 % vote twice, 2 %
  vote on someone else's battle: both must be refused) for `--seconds`;
- votes: each voter starts `--per-voter` battles first (not timed), then all vote at once: votes/s and p50/p99 of
  the vote requests alone (a battle start re-encodes both served copies, so in the mixed run it sets the pace);
- paced: as votes, but the voters together cast `--rate` votes/s, evenly spread, each vote timed from when it was
  due: the latency at that rate (the votes run measures the most the app can take, where every vote waits behind
  the others).

Also CPU per vote, of the app process and of the voters (this process: asyncio tasks, each on its own keep-alive
connection, tests/support/wire.py), which depend much less than times on what else the shared machine runs; the
votes run starts once the app is idle again (it re-encodes spare copies after the starts). The voters never pause,
so a vote waits about voters / rate (Little's law): with 200 voters, p99 < 250 ms needs > 800 votes/s, i.e.
under 2.5 ms of CPU per vote for app and voters together on 2 free cores; the paced run asks for the latency at
`--rate` instead.

`--postgres`: two app processes on one throwaway Postgres, voters split between them (`--processes`: as many app
processes on either database). `--kill-after S` kills the app with -9 S seconds into the mixed run, restarts it
and checks again. `--spares N`: N re-encoded copies of each pool clip prepared before the app starts (by this
process, not timed), and the app's own refilling turned off (ARENA_SERVE_SPARES=0): the first N x pool / 2 battle
starts of the mixed run take ready copies and encode nothing, later ones re-encode both copies on their request
(`--spares 0`: every start does). Without `--spares` the app keeps 1 copy of each clip ready in the background, as
deployed. `--mixed-only` skips the votes and paced runs. Clips are `--size` (default 64x64x8: the vote path does
not depend on it). Rate limits are off and the open-battle cap per address raised (every voter is 127.0.0.1).
`--busy N`: N processes spinning on the CPU beside the app and the voters from the first timed run to the end (the
pool is filled before), so a busy machine (load about N) is measured by the same command; `--busy-nice 10` runs them
at that lower priority, as a host would run its generation or training jobs beside the arena (docs/hosting.md).
Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.load import (  # noqa: E402
    AppProcess,
    LoadResult,
    load_env,
    merge,
    prefill,
    run_split,
    run_voters,
    verify,
)

GOALS = "goals: 0 lost, 0 duplicated, vote p99 < 250 ms, >= 300 votes/s (SQLite)"


def in_parallel(apps: list[AppProcess], run: Callable[[AppProcess, int], LoadResult]) -> LoadResult:
    results: list[LoadResult] = []
    threads = [threading.Thread(target=lambda a=a, i=i: results.append(run(a, i))) for i, a in enumerate(apps)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return merge(results, parallel=True)


def wait_idle(apps: list[AppProcess], timeout_s: float = 120.0, busy: float = 0.05) -> float:
    """Wait until the apps use under ``busy`` of a core over a second (the spare copies the starts used are
    prepared again), so the votes run measures votes only; returns the seconds waited."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        before = sum(a.cpu_s() for a in apps)
        time.sleep(1.0)
        if sum(a.cpu_s() for a in apps) - before < busy:
            break
    return time.monotonic() - t0


def report(
    name: str, result: LoadResult, database_url: str, cpu_s: tuple[float, float] | None, *earlier: LoadResult
) -> None:
    """Print a run's figures (``cpu_s``: the app's and the voters' CPU seconds), and check the database against it
    and the ``earlier`` runs on the same database."""
    check = verify(database_url, merge([*earlier, result], parallel=False))
    print(f"[{name}] {result.summary()}")
    if cpu_s is not None and result.acked:
        app_ms, client_ms = (1000 * s / len(result.acked) for s in cpu_s)
        cores = os.cpu_count() or 1
        print(
            f"[{name}] CPU per vote: app {app_ms:.1f} ms (one busy core: ~{1000 / app_ms:.0f} votes/s), "
            f"voters (this process) {client_ms:.1f} ms; both on these {cores} cores: "
            f"~{1000 * cores / (app_ms + client_ms):.0f} votes/s at most"
        )
    print(
        f"[{name}] stored {check.stored}; lost {len(check.lost)}, duplicated {len(check.duplicated)}, changed "
        f"{len(check.changed)}, refused but stored {len(check.refused_but_stored)}, unexplained "
        f"{len(check.unexplained)} -> {'OK' if check.ok else 'FAILED'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--voters", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the mixed run")
    parser.add_argument("--per-voter", type=int, default=3, help="battles each voter votes on in the votes run")
    parser.add_argument("--prompts", type=int, default=12, help="suite prompts in the pre-generated pool")
    parser.add_argument("--size", default="64x64x8", help="clips: WIDTHxHEIGHTxFRAMES")
    parser.add_argument("--postgres", action="store_true", help="two app processes on one throwaway Postgres")
    parser.add_argument("--processes", type=int, default=None, help="app processes (default: 2 on Postgres, else 1)")
    parser.add_argument("--rate", type=float, default=300.0, help="votes/s of the paced run (0: no paced run)")
    parser.add_argument("--paced-rounds", type=int, default=3, help="rounds of the paced run (--per-voter votes each)")
    parser.add_argument("--kill-after", type=float, default=None, help="kill -9 the app this long into the mixed run")
    parser.add_argument("--spares", type=int, default=None, help="copies of each pool clip ready (not refilled)")
    parser.add_argument("--mixed-only", action="store_true", help="the mixed run alone (no votes or paced run)")
    parser.add_argument("--busy", type=int, default=0, help="processes spinning on the CPU during the timed runs")
    parser.add_argument("--busy-nice", type=int, default=0, help="niceness of the --busy processes (0: the app's)")
    args = parser.parse_args()
    width, height, frames = args.size.split("x")
    root = Path(tempfile.mkdtemp(prefix="arena-load-"))
    with ExitStack() as stack:
        url = None
        if args.postgres:
            from tests.support.postgres import throwaway_postgres

            url = stack.enter_context(throwaway_postgres())
        env = load_env(
            root, url, ARENA_DEFAULT_WIDTH=width, ARENA_DEFAULT_HEIGHT=height, ARENA_DEFAULT_NUM_FRAMES=frames
        )
        database = env["ARENA_DATABASE_URL"]
        pool = prefill(env, args.prompts, spares=args.spares or 0)
        if args.spares is not None:  # the stock is what was prepared here: the app does not refill it
            env["ARENA_SERVE_SPARES"] = "0"
            print(f"spares: {args.spares} ready copies of each pool clip, not refilled")
        print(f"pool: {pool} videos of {args.size}; database: {'postgres' if url else 'sqlite'}; {os.cpu_count()} CPUs")
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        processes = args.processes or (2 if args.postgres else 1)
        apps = [AppProcess(env, log=root / f"app{i}.log").start() for i in range(processes)]
        for app in apps:
            stack.callback(app.stop)
        share = args.voters // len(apps)
        for _ in range(args.busy):  # the other work of a busy machine
            spinner = subprocess.Popen(["nice", "-n", str(args.busy_nice), sys.executable, "-c", "while True: pass"])
            stack.callback(spinner.wait)
            stack.callback(spinner.kill)
        if args.busy:
            print(f"busy: {args.busy} processes spinning on the CPU (nice {args.busy_nice}) from here to the end")

        cpu = sum(a.cpu_s() for a in apps), time.process_time()
        if args.kill_after is not None:
            threading.Timer(args.kill_after, apps[0].kill).start()
        mixed = in_parallel(apps, lambda a, i: run_voters(a.url, share, args.seconds, i * 10_000))
        if args.kill_after is not None:
            apps[0].start()
            time.sleep(3)  # the restart sweeps at once; give the timer a round too
            report("mixed, killed and restarted", mixed, database, None)
            print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
            return
        report("mixed", mixed, database, (sum(a.cpu_s() for a in apps) - cpu[0], time.process_time() - cpu[1]))
        if args.mixed_only:
            print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
            return

        marks: dict[str, tuple[float, float]] = {}
        lock = threading.Lock()

        def mark(name: str) -> None:  # CPU of the voting phase only: from the first start to the last end
            with lock:
                if name == "voting" and "voting" not in marks:
                    print(f"[votes] waited {wait_idle(apps):.0f} s for the app to prepare its spare copies again")
                now = sum(a.cpu_s() for a in apps), time.process_time()
                marks[name] = now if name == "voted" else marks.get(name, now)

        votes = in_parallel(apps, lambda a, i: run_split(a.url, share, args.per_voter, i * 10_000, mark))
        spent = (marks["voted"][0] - marks["voting"][0], marks["voted"][1] - marks["voting"][1])
        report("votes", votes, database, spent, mixed)
        if args.rate:  # the latency at a given rate: the same voters, each voting on its own clock

            def settle(name: str) -> None:
                if name == "voting":
                    print(f"[paced] waited {wait_idle(apps):.0f} s for the app to prepare its spare copies again")

            rate = args.rate / len(apps)
            rounds = [
                in_parallel(
                    apps,
                    lambda a, i, r=r: run_split(a.url, share, args.per_voter, (r + 2) * 10_000 + i, settle, rate=rate),
                )
                for r in range(args.paced_rounds)  # (each on new sessions: a session holds 3 open battles at most)
            ]
            paced = merge(rounds, parallel=False)
            report(f"paced at {args.rate:g} votes/s", paced, database, None, mixed, votes)
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(GOALS)


if __name__ == "__main__":
    main()
