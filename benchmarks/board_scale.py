"""The board at scale: ratings, 1,000-round intervals and verdicts from the database at 10k, 100k and 1M votes,
on SQLite and on a throwaway Postgres, beside FastChat's method on the same battles read from a file.

Votes: 20 models with Bradley–Terry strengths, 100 prompts in English and Chinese (200 prompt rows, 10
categories), 10 % ties and 5 % both-bad, 5,000 sessions; written once as a JSONL export and imported in parts
with the arena's batched import (`arena votes import`), whose speed is reported too.

Ours, per size: a cold `LeaderboardService.snapshot()` (reads the vote counts and the stored Elo), the board
with 1,000 bootstrap rounds and the in-house verdicts (`versus`, whatever decision layer is on main), in a
separate process; best of `--repeat` runs, each with a fresh service. Also `arena ratings --json` as a new
process (interpreter start and imports included).

FastChat's method: a faithful transcription of fastchat/serve/monitor/rating_systems.py (compute_elo,
compute_bt, compute_bootstrap_bt): JSON lines → Python dicts → DataFrame → unique (model_a, model_b, outcome)
rows → L-BFGS fits, the 1,000 bootstrap rounds one after another (FastChat spreads them over a process pool; on
this 2-core machine that would halve its time at most).

Peak memory: the most memory allocated at once during the work (tracemalloc, numpy's arrays included), in a
separate untimed run.
The machine is shared: times vary from run to run; the ratios are measured side by side. Beside each wall time
the CPU seconds of the same work (all its threads), which the other engineers' load inflates far less, and the
load average when the size was done.

    python benchmarks/board_scale.py [--sizes 10000,100000,1000000] [--backends sqlite,postgres] [--rounds 1000]

Last full run (2 Dec 2026, run 4, load average 7–13 on the 2 shared cores), 10k / 100k / 1M votes: SQLite board
0.29 / 0.34 / 0.34 s (CPU 0.18 / 0.22 / 0.32 s), Postgres 0.21 / 0.34 / 0.41 s (CPU 0.18 / 0.19 / 0.30 s);
FastChat 2.6 / 11.2 / 57.5 s. Import of the 900k-row part: SQLite 72 s (38 s CPU, both processes), Postgres
111 s (17 s CPU in our processes). All figures and earlier runs: the README's Benchmarks table.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
IN_HOUSE = "model-00"


# ---- the battles -----------------------------------------------------------------------------------------------
def simulate(path: Path, n: int, models: int, prompts: int, seed: int = 0) -> None:
    """`n` FastChat-style battle rows (plus our fields) as JSON lines."""
    rng = np.random.default_rng(seed)
    truth = rng.normal(1000, 100, models)
    a = rng.integers(0, models, n)
    b = (a + rng.integers(1, models, n)) % models
    p = 1 / (1 + 10 ** ((truth[b] - truth[a]) / 400))
    u = rng.random(n)
    winner = np.where(
        u < 0.10, "tie", np.where(u < 0.15, "tie (bothbad)", np.where(rng.random(n) < p, "model_a", "model_b"))
    )
    key, zh, session = rng.integers(0, prompts, n), rng.random(n) < 0.4, rng.integers(0, 5000, n)
    names = [f"model-{i:02d}" for i in range(models)]
    with path.open("w", encoding="utf-8") as fh:
        for i, (x, y, w, k, z, s) in enumerate(
            zip(a.tolist(), b.tolist(), winner.tolist(), key.tolist(), zh.tolist(), session.tolist(), strict=True)
        ):
            row = {
                "battle_id": f"b{i}",
                "model_a": names[x],
                "model_b": names[y],
                "winner": w,
                "mode": "anonymous",
                "prompt_key": f"p{k:03d}",
                "language": "zh" if z else "en",
                "category": f"category-{k % 10}",
                "suite": "bench",
                "session_id": f"s{s}",
                "ip_hash": f"h{s % 3000}",
                "tstamp": 1.7e9 + i,
            }
            fh.write(json.dumps(row) + "\n")


def split(path: Path, sizes: list[int], folder: Path) -> tuple[list[Path], list[Path]]:
    """The file cut into parts to import one after another, and the prefixes of each size (FastChat's input)."""
    parts, prefixes = [], []
    with path.open(encoding="utf-8") as fh:
        lines = fh.readlines()
    start = 0
    for size in sizes:
        part, prefix = folder / f"part-{size}.jsonl", folder / f"battles-{size}.jsonl"
        part.write_text("".join(lines[start:size]), encoding="utf-8")
        prefix.write_text("".join(lines[:size]), encoding="utf-8")
        parts.append(part)
        prefixes.append(prefix)
        start = size
    return parts, prefixes


# ---- FastChat's method (rating_systems.py, transcribed) ----------------------------------------------------------
def fc_get_matchups_models(df: Any) -> tuple[np.ndarray, list[str]]:
    import pandas as pd

    n_rows = len(df)
    model_indices, models = pd.factorize(pd.concat([df["model_a"], df["model_b"]]))
    matchups = np.column_stack([model_indices[:n_rows], model_indices[n_rows:]])
    return matchups, models.to_list()


def fc_preprocess_for_elo(df: Any) -> tuple[np.ndarray, np.ndarray, list[str]]:
    matchups, models = fc_get_matchups_models(df)
    outcomes = np.full(len(df), 0.5)
    outcomes[df["winner"] == "model_a"] = 1.0
    outcomes[df["winner"] == "model_b"] = 0.0
    return matchups, outcomes, models


def fc_preprocess_for_bt(df: Any) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    n_rows = len(df)
    schedule = np.full((n_rows, 3), fill_value=1, dtype=np.int32)
    schedule[:, [0, 1]], models = fc_get_matchups_models(df)
    schedule[df["winner"] == "model_a", 2] = 2
    schedule[df["winner"] == "model_b", 2] = 0
    matchups_outcomes, weights = np.unique(schedule, return_counts=True, axis=0)
    matchups = matchups_outcomes[:, [0, 1]]
    outcomes = matchups_outcomes[:, 2].astype(np.float64) / 2.0
    return matchups, outcomes, models, weights.astype(np.float64)


def fc_compute_elo(df: Any, k: float = 4.0, base: float = 10.0, init: float = 1000.0, scale: float = 400.0) -> dict:
    matchups, outcomes, models = fc_preprocess_for_elo(df)
    alpha = math.log(base) / scale
    ratings = np.full(shape=(len(models),), fill_value=init)
    for (model_a_idx, model_b_idx), outcome in zip(matchups, outcomes, strict=True):
        prob = 1.0 / (1.0 + math.exp(alpha * (ratings[model_b_idx] - ratings[model_a_idx])))
        update = k * (outcome - prob)
        ratings[model_a_idx] += update
        ratings[model_b_idx] -= update
    return {model: ratings[idx] for idx, model in enumerate(models)}


def fc_bt_loss_and_grad(
    ratings: np.ndarray, matchups: np.ndarray, outcomes: np.ndarray, weights: np.ndarray, alpha: float = 1.0
) -> tuple[float, np.ndarray]:
    from scipy.special import expit

    matchup_ratings = ratings[matchups]
    logits = alpha * (matchup_ratings[:, 0] - matchup_ratings[:, 1])
    probs = expit(logits)
    loss = -((np.log(probs) * outcomes + np.log(1.0 - probs) * (1.0 - outcomes)) * weights).sum()
    matchups_grads = -alpha * (outcomes - probs) * weights
    model_grad = np.zeros_like(ratings)
    np.add.at(model_grad, matchups[:, [0, 1]], matchups_grads[:, None] * np.array([1.0, -1.0], dtype=np.float64))
    return loss, model_grad


def fc_fit_bt(
    matchups: np.ndarray, outcomes: np.ndarray, weights: np.ndarray, n_models: int, alpha: float, tol: float = 1e-6
) -> np.ndarray:
    from scipy.optimize import minimize

    result = minimize(
        fun=fc_bt_loss_and_grad,
        x0=np.zeros(n_models, dtype=np.float64),
        args=(matchups, outcomes, weights, alpha),
        jac=True,
        method="L-BFGS-B",
        options={"disp": False, "maxiter": 100, "gtol": tol},
    )
    return np.asarray(result["x"])


def fc_scale_and_offset(ratings: np.ndarray, models: list[str], scale: float = 400, init: float = 1000) -> np.ndarray:
    return (ratings * scale) + init  # (FastChat's anchor model, mixtral-8x7b-instruct-v0.1, is not among ours)


def fc_compute_bt(df: Any, base: float = 10.0, scale: float = 400.0, init: float = 1000, tol: float = 1e-6) -> Any:
    import pandas as pd

    matchups, outcomes, models, weights = fc_preprocess_for_bt(df)
    ratings = fc_fit_bt(matchups, outcomes, weights, len(models), math.log(base), tol)
    scaled = fc_scale_and_offset(ratings, models, scale, init)
    return pd.Series(scaled, index=models).sort_values(ascending=False)


def fc_compute_bootstrap_bt(
    battles: Any, num_round: int, base: float = 10.0, scale: float = 400.0, init: float = 1000.0, tol: float = 1e-6
) -> Any:
    import pandas as pd

    matchups, outcomes, models, weights = fc_preprocess_for_bt(battles)
    rng = np.random.default_rng(seed=0)
    idxs = rng.multinomial(n=len(battles), pvals=weights / weights.sum(), size=(num_round))
    boot_weights = idxs.astype(np.float64) / len(battles)
    # FastChat: pool.imap_unordered over a process pool; here one round after another.
    results = [fc_fit_bt(matchups, outcomes, w, len(models), np.log(base), tol) for w in boot_weights]
    scaled = fc_scale_and_offset(np.array(results), models, scale, init)
    df = pd.DataFrame(scaled, columns=models)
    return df[df.median().sort_values(ascending=False).index]


def fastchat_board(path: Path, rounds: int) -> dict[str, Any]:
    """FastChat end to end: the file's battles into a DataFrame, online Elo, BT, bootstrap CIs."""
    import pandas as pd

    with path.open(encoding="utf-8") as fh:
        battles = pd.DataFrame([json.loads(line) for line in fh])
    elo = fc_compute_elo(battles)
    bt = fc_compute_bt(battles)
    boot = fc_compute_bootstrap_bt(battles, rounds)
    low, high = boot.quantile(0.025), boot.quantile(0.975)
    return {"ratings": bt.to_dict(), "ci": {m: [low[m], high[m]] for m in bt.index}, "elo": elo}


# ---- ours --------------------------------------------------------------------------------------------------------
def our_board(url: str, rounds: int) -> dict[str, Any]:
    """A cold board from the database: a fresh service reads the counts, fits, and gives the in-house verdicts;
    then the same service refreshed (`refresh_s`: what a page view costs after a new vote, when only the changed
    counts are read)."""
    from arena.services.leaderboard import LeaderboardService
    from arena.settings import Settings
    from db.session import make_engine, make_session_factory

    settings = Settings(database_url=url, bootstrap_rounds=rounds, min_votes=0, in_house_model=IN_HOUSE)  # type: ignore[call-arg]
    engine = make_engine(url)
    try:
        service = LeaderboardService(make_session_factory(engine), settings)
        snap = service.snapshot()
        board = snap.board()
        versus = snap.versus(IN_HOUSE)
        start, cpu = time.perf_counter(), time.process_time()
        again = service.snapshot(max_age_s=0)  # a new snapshot from the cached counts: rows rebuilt, refitted
        again.board()
        again.versus(IN_HOUSE)
        refresh_s, refresh_cpu_s = time.perf_counter() - start, time.process_time() - cpu
    finally:
        engine.dispose()
    rows = snap.battle_rows()
    return {
        "ratings": {r["model_id"]: r["rating"] for r in board["rows"]},
        "ci": {r["model_id"]: r["ci"] for r in board["rows"]},
        "verdicts": len(versus["rows"]) if isinstance(versus, dict) else len(getattr(versus, "rows", ())),
        "unique_rows": len(rows),
        "votes": rows.total,
        "refresh_s": refresh_s,
        "refresh_cpu_s": refresh_cpu_s,
    }


def measure(kind: str, target: str, rounds: int, repeat: int) -> dict[str, Any]:
    """Run one side `repeat` times in this process (best time; for ours the cold part only), then once more
    under tracemalloc for its peak memory (numpy's arrays included)."""
    import tracemalloc

    def run() -> dict[str, Any]:
        return our_board(target, rounds) if kind == "ours" else fastchat_board(Path(target), rounds)

    best, best_cpu, out = math.inf, math.inf, {}
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        out = run()
        best = min(best, time.perf_counter() - start - out.get("refresh_s", 0.0))
        best_cpu = min(best_cpu, time.process_time() - cpu - out.get("refresh_cpu_s", 0.0))
    tracemalloc.start()
    run()
    peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return {"seconds": best, "cpu_s": best_cpu, "peak_mb": peak_mb, **out}


def in_process(kind: str, target: str, rounds: int, repeat: int) -> dict[str, Any]:
    """`measure` in a new process (its own peak memory), after the imports it needs are warm."""
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); import benchmarks.board_scale as b; "
        "b.warm(sys.argv[2]); print('RESULT' + json.dumps(b.measure(sys.argv[2], sys.argv[3], int(sys.argv[4]), "
        "int(sys.argv[5]))))"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code, str(ROOT), kind, target, str(rounds), str(repeat)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT")), None)
    if line is None:
        raise RuntimeError(f"{kind} on {target} failed:\n{done.stdout}\n{done.stderr}")
    return dict(json.loads(line[len("RESULT") :]))


def warm(kind: str) -> None:
    """Import what each side uses, so the measured time is the work, not first imports."""
    if kind == "ours":
        import arena.services.leaderboard  # noqa: F401
        import db.session  # noqa: F401
    else:
        import pandas  # noqa: F401
        import scipy.optimize  # noqa: F401


def cli_seconds(url: str, rounds: int) -> float:
    """`arena ratings --json` from the database, as a new process (start and imports included)."""
    env = {**os.environ, "ARENA_DATABASE_URL": url, "ARENA_BOOTSTRAP_ROUNDS": str(rounds), "ARENA_MIN_VOTES": "0"}
    env |= {"OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", "from arena.cli import main; main()", "ratings", "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return time.perf_counter() - start


def import_part(url: str, part: Path) -> tuple[float, float]:
    """`arena votes import` of `part` in this process: (wall seconds, CPU seconds of this process and of the
    import's reader process)."""
    import resource

    from arena.services.export import database
    from arena.services.tallies import Tallies
    from arena.services.vote_import import import_votes

    def children() -> float:
        used = resource.getrusage(resource.RUSAGE_CHILDREN)  # reaped children: the reader, joined by the import
        return used.ru_utime + used.ru_stime

    start, cpu, reader = time.perf_counter(), time.process_time(), children()
    with database(url) as factory:
        import_votes(factory, part, tallies=Tallies())
    return time.perf_counter() - start, time.process_time() - cpu + children() - reader


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--models", type=int, default=20)
    ap.add_argument("--prompts", type=int, default=100, help="prompt keys (each in English and Chinese)")
    ap.add_argument("--rounds", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3, help="best of this many runs of our board")
    ap.add_argument("--skip-fastchat", action="store_true")
    args = ap.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="board-scale-")))
        source = folder / "battles.jsonl"
        simulate(source, sizes[-1], args.models, args.prompts)
        parts, prefixes = split(source, sizes, folder)
        fastchat = {}
        if not args.skip_fastchat:
            for n, prefix in zip(sizes, prefixes, strict=True):
                fastchat[n] = in_process("fastchat", str(prefix), args.rounds, 1)
                print(f"FastChat {n:>9,d} battles: {fastchat[n]['seconds']:.1f} s", flush=True)
        results: dict[str, dict[int, dict[str, Any]]] = {}
        for backend in args.backends.split(","):
            if backend == "sqlite":
                url = f"sqlite:///{folder / 'arena.db'}"
            else:
                sys.path.insert(0, str(ROOT))
                from tests.support.postgres import throwaway_postgres

                url = stack.enter_context(throwaway_postgres())
            results[backend], previous = {}, 0
            for n, part in zip(sizes, parts, strict=True):
                imported, import_cpu = import_part(url, part)
                ours = in_process("ours", url, args.rounds, args.repeat)
                ours |= {"import_s": imported, "import_cpu_s": import_cpu, "import_rows": n - previous}
                ours |= {"cli_s": cli_seconds(url, args.rounds), "load": os.getloadavg()[0]}
                previous = n
                results[backend][n] = ours
                report_line(backend, n, ours, fastchat.get(n))
        report(results, fastchat, sizes)


def report_line(backend: str, n: int, ours: dict[str, Any], fastchat: dict[str, Any] | None) -> None:
    rate = ours["import_rows"] / ours["import_s"]
    line = (
        f"{backend:8s} {n:>9,d} votes {ours['unique_rows']:>7,d} rows  board {ours['seconds']:5.2f} s "
        f"(CPU {ours['cpu_s']:4.2f} s; refresh {ours['refresh_s']:4.2f} s) peak {ours['peak_mb']:5.0f} MB  "
        f"cli {ours['cli_s']:5.2f} s  import {ours['import_rows']:,d} rows {ours['import_s']:5.1f} s "
        f"(CPU {ours['import_cpu_s']:5.1f} s, {rate:7,.0f} rows/s)  load {ours['load']:4.1f}"
    )
    if fastchat:
        diff = max(abs(ours["ratings"][m] - fastchat["ratings"][m]) for m in fastchat["ratings"])
        line += (
            f" | FastChat {fastchat['seconds']:6.1f} s peak {fastchat['peak_mb']:5.0f} MB"
            f"  speedup {fastchat['seconds'] / ours['seconds']:5.0f}x  max |Δrating| {diff:.2f}"
        )
    print(line, flush=True)


def report(
    results: dict[str, dict[int, dict[str, Any]]], fastchat: dict[int, dict[str, Any]], sizes: list[int]
) -> None:
    small, large = sizes[0], sizes[-1]
    print(f"\ngrowth {small:,d} → {large:,d} votes (time at {large:,d} / time at {small:,d}):")
    for backend, by_size in results.items():
        print(
            f"  {backend:8s} board {by_size[large]['seconds'] / by_size[small]['seconds']:.2f}x "
            f"(CPU {by_size[large]['cpu_s'] / by_size[small]['cpu_s']:.2f}x), "
            f"`arena ratings --json` {by_size[large]['cli_s'] / by_size[small]['cli_s']:.2f}x"
        )
    if fastchat:
        print(f"  FastChat {fastchat[large]['seconds'] / fastchat[small]['seconds']:.2f}x")


if __name__ == "__main__":
    main()
