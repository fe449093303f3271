"""How many votes matchmaking needs: uniform random pairs against the adaptive sampler.

20 models of known strength (evenly spaced over 600 rating points, ~32 apart), simulated voters: Bradley–Terry
outcomes, ties (τ = 0.3 · 2 min(p, 1 − p), decisive outcomes drawn so the mean score stays p) and 10 % noisy
voters who vote at random. The ratings are refitted every `--refresh` votes (the snapshot the service would
cache); each policy then picks the next `--refresh` battles from that snapshot. We record the votes after which
Kendall τ against the truth stays ≥ 0.9 up to `--max-votes` (and the votes after which the top model stays
right); a run that never settles counts as > max. Median and spread over seeds.

    python benchmarks/matchmaking_sim.py [--seeds 20] [--max-votes 8000] [--refresh 20]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from arena.ratings.bt import DEFAULT_PRIOR, INIT_RATING, NAT, centred_sd, fit_strengths
from arena.ratings.matchmaking import Matchmaker, MatchState

N_MODELS, SPREAD, TIE, NOISE = 20, 600.0, 0.3, 0.1


def kendall_tau(x: np.ndarray, y: np.ndarray) -> float:
    sx, sy = np.sign(x[:, None] - x[None, :]), np.sign(y[:, None] - y[None, :])
    iu = np.triu_indices(len(x), 1)
    return float((sx[iu] * sy[iu]).sum() / len(iu[0]))


def vote(truth: np.ndarray, a: int, b: int, rng: np.random.Generator) -> float:
    """model a's score: 1, 0 or 0.5."""
    if rng.random() < NOISE:
        return float(rng.choice([1.0, 0.0, 0.5]))
    p = 1.0 / (1.0 + 10.0 ** ((truth[b] - truth[a]) / 400.0))
    tau = TIE * 2.0 * min(p, 1.0 - p)
    if rng.random() < tau:
        return 0.5
    return 1.0 if rng.random() < (p - tau / 2.0) / (1.0 - tau) else 0.0


def snapshot(wins: np.ndarray, tot: np.ndarray, theta0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """θ and Fisher standard errors (natural units) from the pair tables (i < j)."""
    k = len(theta0)
    pi, pj = np.triu_indices(k, 1)
    theta = fit_strengths(wins[pi, pj], tot[pi, pj], pi, pj, k, prior=DEFAULT_PRIOR, theta0=theta0)[0]
    p = 1.0 / (1.0 + np.exp(-(theta[pi] - theta[pj])))
    h = np.zeros((k, k))
    h[pi, pj] = h[pj, pi] = -tot[pi, pj] * p * (1 - p)
    h[np.arange(k), np.arange(k)] = -h.sum(axis=1) + DEFAULT_PRIOR
    return theta, centred_sd(h)


def run(policy: str, seed: int, max_votes: int, refresh: int) -> tuple[int, int]:
    rng = np.random.default_rng(seed)
    truth = INIT_RATING + np.linspace(-SPREAD / 2, SPREAD / 2, N_MODELS)
    models = tuple(f"m{i:02d}" for i in range(N_MODELS))
    categories = ["people", "animals", "nature", "city", "abstract"]
    prompts = [f"{c}-{n}" for c in categories for n in range(4)]
    prompt_category = {p: p.split("-")[0] for p in prompts}
    pool = {(models[i], models[j]): prompts for i in range(N_MODELS) for j in range(i + 1, N_MODELS)}
    index = {m: i for i, m in enumerate(models)}
    picker = Matchmaker(policy=policy)  # type: ignore[arg-type]
    wins, tot = np.zeros((N_MODELS, N_MODELS)), np.zeros((N_MODELS, N_MODELS))
    votes = np.zeros(N_MODELS, dtype=np.int64)
    cat_votes = dict.fromkeys(categories, 0)
    theta = np.zeros(N_MODELS)
    sd = np.full(N_MODELS, 1.0 / np.sqrt(DEFAULT_PRIOR))
    last_bad_tau = last_bad_top = 0
    for done in range(0, max_votes, refresh):
        state = MatchState(
            models, INIT_RATING + theta / NAT, sd / NAT, votes.copy(), pool, prompt_category, dict(cat_votes)
        )
        for prompt, ma, mb in picker.choose_many(state, rng, refresh):
            a, b = index[ma], index[mb]
            s = vote(truth, a, b, rng)
            i, j, s_i = (a, b, s) if a < b else (b, a, 1.0 - s)
            wins[i, j] += s_i
            tot[i, j] += 1
            votes[a] += 1
            votes[b] += 1
            cat_votes[prompt_category[prompt]] += 1
        theta, sd = snapshot(wins, tot, theta)
        n = done + refresh
        if kendall_tau(theta, truth) < 0.9:
            last_bad_tau = n
        if np.argmax(theta) != np.argmax(truth):
            last_bad_top = n
    settled = (last_bad_tau + refresh, last_bad_top + refresh)
    return tuple(v if v <= max_votes else max_votes + 1 for v in settled)  # type: ignore[return-value]


def describe(values: list[int], cap: int) -> str:
    v = np.array(values)
    q1, med, q3 = np.percentile(v, [25, 50, 75])
    censored = int((v > cap).sum())
    return f"median {med:6.0f}  IQR {q1:5.0f}–{q3:5.0f}  range {v.min():5d}–{v.max():5d}" + (
        f"  ({censored} never settled within {cap})" if censored else ""
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--max-votes", type=int, default=8000)
    ap.add_argument("--refresh", type=int, default=20, help="votes between refits of the snapshot")
    args = ap.parse_args()
    results: dict[str, list[tuple[int, int]]] = {}
    t0 = time.perf_counter()
    for policy in ("uniform", "adaptive"):
        results[policy] = [run(policy, seed, args.max_votes, args.refresh) for seed in range(args.seeds)]
    print(
        f"{N_MODELS} models {SPREAD:.0f} points apart end to end; ties τ = {TIE}·2min(p,1−p); "
        f"{NOISE:.0%} random voters; {args.seeds} seeds; refit every {args.refresh} votes"
    )
    for target, col in (("Kendall τ ≥ 0.9 for good", 0), ("top model right for good", 1)):
        print(target)
        meds = {}
        for policy, res in results.items():
            vals = [r[col] for r in res]
            meds[policy] = float(np.median(vals))
            print(f"  {policy:9s} {describe(vals, args.max_votes)}")
        ratios = [u[col] / a[col] for u, a in zip(results["uniform"], results["adaptive"], strict=True)]
        print(
            f"  adaptive / uniform (medians): {meds['adaptive'] / meds['uniform']:.2f}; "
            f"per-seed uniform/adaptive ratio median {np.median(ratios):.2f}"
        )
    print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
