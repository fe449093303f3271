"""The tallies stay equal to a recount under concurrent votes (threads; two processes on SQLite and on
Postgres) and after a process is killed with -9 half way through an import or through voting.

The process-based runs take half a minute each on 2 cores: they are marked slow (`make test-slow`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from arena.services.container import Arena
from arena.services.tally_check import check_tallies
from db.models import Rater, Vote
from db.session import transaction
from tests.arena.conftest import make_settings
from tests.support.voters import GOLD, cast

ROOT = Path(__file__).resolve().parents[2]
WORKING = ["alpha-7b", "beta-v2", "gamma-x"]
GOLDEN = {"gold_pairs": [">".join(GOLD)], "gold_rate": 0.6, "gold_policy": "downweight"}


def votes_in(arena: Arena) -> int:
    with transaction(arena.factory) as session:
        return int(session.scalar(select(func.count(Vote.id))) or 0)


def assert_recount(arena: Arena) -> None:
    with transaction(arena.factory) as session:
        assert check_tallies(session) == []


def failed_raters(arena: Arena) -> list[str]:
    with transaction(arena.factory) as session:
        return list(session.scalars(select(Rater.key).where(Rater.weight_class > 0)))


def voter_process(arena: Arena, prefix: str, count: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    args = [sys.executable, "-m", "tests.support.voters", arena.settings.model_dump_json(), prefix, str(count)]
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_threads_voting_at_once_keep_the_counts_right(arena_factory: Callable[..., Arena]) -> None:
    arena = arena_factory(**GOLDEN)
    arena.pool_videos.fill(models=WORKING)
    with ThreadPoolExecutor(4) as pool:
        cast_votes = sum(pool.map(lambda p: cast(arena, p, 12), ["a", "b", "c", "d"]))
    assert votes_in(arena) == cast_votes == 48
    assert_recount(arena)
    assert failed_raters(arena)  # classes moved while others were voting


@pytest.mark.slow
def test_two_processes_voting_on_sqlite_keep_the_counts_right(arena_factory: Callable[..., Arena]) -> None:
    arena = arena_factory(**GOLDEN)
    arena.pool_videos.fill(models=WORKING)
    procs = [voter_process(arena, p, 24) for p in ("p", "q")]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    assert votes_in(arena) == 48
    assert_recount(arena)
    assert failed_raters(arena)


@pytest.mark.slow
@pytest.mark.postgres
def test_two_processes_voting_on_postgres_keep_the_counts_right(postgres_url: str, tmp_path: Path) -> None:
    from tests.support.scripted import kinds_with_scripted

    arena = Arena.create(make_settings(tmp_path, database_url=postgres_url, **GOLDEN), kinds=kinds_with_scripted())
    try:
        arena.pool_videos.fill(models=WORKING)
        procs = [voter_process(arena, p, 24) for p in ("p", "q")]
        with ThreadPoolExecutor(2) as pool:  # and threads in this process at the same time
            here = sum(pool.map(lambda p: cast(arena, p, 8), ["t", "u"]))
        for proc in procs:
            _, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err
        assert votes_in(arena) == 48 + here
        assert_recount(arena)
    finally:
        arena.close()


def wait_for(condition: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.05)


def children_of(pid: int) -> list[int]:
    """Linux: the live child processes of `pid`."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, dead but not yet reaped by its new parent, does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_an_import_killed_half_way_leaves_counts_equal_to_a_recount_and_resumes(
    arena_factory: Callable[..., Arena], tmp_path: Path
) -> None:
    from tests.arena.test_tallies import random_votes, write

    arena = arena_factory()
    path = write(random_votes(12_000, seed=5), tmp_path / "votes.jsonl")
    code = (
        "import sys; from arena.services.export import database; from arena.services.vote_import import import_votes\n"
        "with database(sys.argv[1]) as f: import_votes(f, sys.argv[2], batch=1000)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", code, arena.settings.database_url, str(path)], cwd=ROOT, env=env)
    try:
        wait_for(lambda: votes_in(arena) >= 2000 or proc.poll() is not None)
        readers = children_of(proc.pid)  # the process reading the file ahead
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # mid-load: some batches stored, one perhaps half written
        proc.wait()
    stored = votes_in(arena)
    assert 0 < stored < 12_000 and stored % 1000 == 0  # whole batches only
    assert readers
    wait_for(lambda: not any(alive(pid) for pid in readers))  # the reader does not outlive the import
    assert_recount(arena)
    from arena.services.vote_import import import_votes

    stats = import_votes(arena.factory, path, tallies=arena.leaderboard.tallies)
    assert stats["skipped"] == stored and votes_in(arena) == 12_000
    assert_recount(arena)


@pytest.mark.slow
def test_a_voter_killed_mid_vote_leaves_counts_equal_to_a_recount(arena_factory: Callable[..., Arena]) -> None:
    arena = arena_factory(**GOLDEN)
    arena.pool_videos.fill(models=WORKING)
    proc = voter_process(arena, "k", 400)
    try:
        wait_for(lambda: votes_in(arena) >= 25 or proc.poll() is not None)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert 25 <= votes_in(arena) < 400
    restarted = arena_factory(**GOLDEN)  # a restart: the arena opens the same database again
    assert_recount(restarted)
    cast(restarted, "after", 5)
    assert_recount(restarted)


def many_votes(n: int, seed: int = 0) -> list[dict[str, object]]:
    """`n` export rows over the test arena's models and prompts (vectorised: quick to make)."""
    from tests.arena.test_tallies import MODELS, PROMPTS, WINNERS

    rng = np.random.default_rng(seed)
    a = rng.integers(0, 3, n)
    b = (a + rng.integers(1, 3, n)) % 3
    w, p, s = rng.integers(0, 4, n).tolist(), rng.integers(0, len(PROMPTS), n).tolist(), rng.integers(0, 500, n)
    return [
        {
            "battle_id": f"v{seed}-{k}",
            "model_a": MODELS[x],
            "model_b": MODELS[y],
            "winner": WINNERS[w[k]],
            "prompt_key": PROMPTS[p[k]][0],
            "language": PROMPTS[p[k]][1],
            "suite": "test",
            "session_id": f"s{s[k]}",
        }
        for k, (x, y) in enumerate(zip(a.tolist(), b.tolist(), strict=True))
    ]


@pytest.mark.slow
def test_cli_ratings_from_200k_votes_takes_about_as_long_as_from_20k(
    arena_factory: Callable[..., Arena], tmp_path: Path
) -> None:
    import resource
    import sqlite3

    from arena.services.vote_import import import_votes
    from tests.arena.test_tallies import write

    arena = arena_factory()
    rows = many_votes(200_000)
    base = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "ARENA_BOOTSTRAP_ROUNDS": "1000"}

    def cli_cpu_seconds(url: str) -> float:
        """CPU seconds of one `arena ratings --json` (CI runs another test beside this one: wall time would
        measure that test's load, CPU time measures the command)."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(
            [sys.executable, "-c", "from arena.cli import main; main()", "ratings", "--json"],
            env={**base, "ARENA_DATABASE_URL": url},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

    import_votes(arena.factory, write(rows[:20_000], tmp_path / "a.jsonl"))
    small_db = tmp_path / "small.db"  # the 20k database kept aside, so the two are timed in turns
    source, copy = sqlite3.connect(arena.settings.database_url.removeprefix("sqlite:///")), sqlite3.connect(small_db)
    source.backup(copy)
    source.close()
    copy.close()
    import_votes(arena.factory, write(rows[20_000:], tmp_path / "b.jsonl"))
    assert votes_in(arena) == 200_000
    small, large = float("inf"), float("inf")
    for _ in range(3):
        small = min(small, cli_cpu_seconds(f"sqlite:///{small_db}"))
        large = min(large, cli_cpu_seconds(arena.settings.database_url))
    assert large < 1.5 * small, (small, large)  # per-vote reading took 5× longer at 200k than at 20k
