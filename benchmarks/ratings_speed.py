"""Speed of the rating engine against FastChat's method, in one process.

100,000 simulated battles among 20 models; Bradley–Terry point fit plus 100 bootstrap rounds, from the battle
rows in memory (a list of FastChat-style dicts) to ratings and 95 % CIs.
Baseline (FastChat's method, written here in a few lines): a DataFrame, rows grouped into unique
(model_a, model_b, outcome) counts, multinomial weights per round, one L-BFGS refit per round with
scipy.optimize.minimize, one round after another. Ours: BattleRows + one batched Newton solve over all rounds.

    python benchmarks/ratings_speed.py [--battles 100000] [--models 20] [--rounds 100] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np


def simulate(n: int, k: int, seed: int) -> list[dict[str, str]]:
    rng = np.random.default_rng(seed)
    truth = rng.normal(1000, 120, k)
    a = rng.integers(0, k, n)
    b = (a + rng.integers(1, k, n)) % k
    p = 1 / (1 + 10 ** ((truth[b] - truth[a]) / 400))
    u = rng.random(n)
    winner = np.where(
        u < 0.08, "tie", np.where(u < 0.12, "tie (bothbad)", np.where(rng.random(n) < p, "model_a", "model_b"))
    )
    names = [f"model-{i:02d}" for i in range(k)]
    return [
        {"model_a": names[x], "model_b": names[y], "winner": w} for x, y, w in zip(a, b, winner.tolist(), strict=True)
    ]


def fastchat_prepare(records: Any) -> tuple[Any, ...]:
    """FastChat's preprocessing: a DataFrame, outcomes 1 / 0 / 0.5, unique (model_a, model_b, outcome) counts."""
    import pandas as pd

    df = records if isinstance(records, pd.DataFrame) else pd.DataFrame(records)
    models = pd.unique(df[["model_a", "model_b"]].to_numpy().ravel())
    index = {m: i for i, m in enumerate(models)}
    df["outcome"] = df["winner"].map({"model_a": 1.0, "model_b": 0.0, "tie": 0.5, "tie (bothbad)": 0.5})
    grouped = df.groupby(["model_a", "model_b", "outcome"]).size().reset_index(name="n")
    matchups = np.column_stack([grouped["model_a"].map(index), grouped["model_b"].map(index)])
    return models, matchups, grouped["outcome"].to_numpy(), grouped["n"].to_numpy(dtype=float), len(df)


def fastchat_fit(prepared: tuple[Any, ...], rounds: int, seed: int) -> tuple[dict[str, float], Any]:
    """FastChat's compute_bt + compute_bootstrap_bt: L-BFGS from zeros, scale 400, base 10, init 1000."""
    from scipy.optimize import minimize
    from scipy.special import expit

    models, matchups, outcomes, counts, n = prepared
    alpha = np.log(10.0)

    def loss_and_grad(r: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray]:
        prob = expit(alpha * (r[matchups[:, 0]] - r[matchups[:, 1]]))
        loss = -((np.log(prob) * outcomes + np.log(1 - prob) * (1 - outcomes)) * w).sum()
        g = -alpha * (outcomes - prob) * w
        grad = np.zeros_like(r)
        np.add.at(grad, matchups, g[:, None] * np.array([1.0, -1.0]))
        return loss, grad

    def fit(w: np.ndarray) -> np.ndarray:
        res = minimize(
            loss_and_grad,
            np.zeros(len(models)),
            args=(w,),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": 100, "gtol": 1e-6},
        )
        return res.x * 400 + 1000

    point = fit(counts)
    draws = np.random.default_rng(seed).multinomial(n, counts / counts.sum(), size=rounds)
    samples = np.array([fit(w) for w in draws])  # one round after another
    low, high = np.quantile(samples, [0.025, 0.975], axis=0)
    return dict(zip(models, point, strict=True)), {m: (low[i], high[i]) for i, m in enumerate(models)}


def fastchat_baseline(records: list[dict[str, str]], rounds: int, seed: int) -> tuple[dict[str, float], Any]:
    return fastchat_fit(fastchat_prepare(records), rounds, seed)


def ours_fit(rows: Any, rounds: int, seed: int) -> tuple[dict[str, float], Any]:
    from arena.ratings.uncertainty import fit_with_bootstrap

    point, samples = fit_with_bootstrap(rows, rounds, np.random.default_rng(seed))
    low, high = np.quantile(samples, [0.025, 0.975], axis=0)
    return dict(zip(rows.models, point, strict=True)), {m: (low[i], high[i]) for i, m in enumerate(rows.models)}


def ours(records: list[dict[str, str]], rounds: int, seed: int) -> tuple[dict[str, float], Any]:
    from arena.ratings.battles import BattleRows

    return ours_fit(BattleRows.from_records(records), rounds, seed)


def ours_columnar(columns: dict[str, list[str]], rounds: int, seed: int) -> tuple[dict[str, float], Any]:
    from arena.ratings.battles import BattleRows

    return ours_fit(BattleRows.from_table(columns), rounds, seed)


def fastchat_columnar(columns: dict[str, list[str]], rounds: int, seed: int) -> tuple[dict[str, float], Any]:
    """The same FastChat method fed a dict of lists (its DataFrame is then built from columns)."""
    import pandas as pd

    return fastchat_fit(fastchat_prepare(pd.DataFrame(columns)), rounds, seed)


def best_time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--battles", type=int, default=100_000)
    ap.add_argument("--models", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3, help="take the best of this many runs of each")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    records = simulate(args.battles, args.models, args.seed)
    ours(records[:1000], 2, 0)  # warm-up: first-call imports are not what we measure
    fastchat_baseline(records[:1000], 2, 0)
    t_base, (r_base, ci_base) = best_time(lambda: fastchat_baseline(records, args.rounds, args.seed), args.repeat)
    t_ours, (r_ours, ci_ours) = best_time(lambda: ours(records, args.rounds, args.seed), args.repeat)
    from arena.ratings.battles import BattleRows

    prepared, rows = fastchat_prepare(records), BattleRows.from_records(records)
    t_base_fit, _ = best_time(lambda: fastchat_fit(prepared, args.rounds, args.seed), args.repeat)
    t_ours_fit, _ = best_time(lambda: ours_fit(rows, args.rounds, args.seed), args.repeat)
    t_base_prep, _ = best_time(lambda: fastchat_prepare(records), args.repeat)
    t_ours_prep, _ = best_time(lambda: BattleRows.from_records(records), args.repeat)
    columns = {k: [r[k] for r in records] for k in ("model_a", "model_b", "winner")}
    t_base_col, _ = best_time(lambda: fastchat_columnar(columns, args.rounds, args.seed), args.repeat)
    t_ours_col, (r_col, _) = best_time(lambda: ours_columnar(columns, args.rounds, args.seed), args.repeat)
    assert max(abs(r_col[m] - r_ours[m]) for m in r_ours) < 1e-9
    diff = max(abs(r_base[m] - r_ours[m]) for m in r_base)
    width = np.mean([ci_base[m][1] - ci_base[m][0] for m in ci_base])
    ci_diff = max(max(abs(ci_base[m][0] - ci_ours[m][0]), abs(ci_base[m][1] - ci_ours[m][1])) for m in ci_base)
    print(f"{args.battles} battles, {args.models} models, BT + {args.rounds} bootstrap rounds (best of {args.repeat})")
    print(f"{'':34}{'FastChat method':>16}{'arena.ratings':>15}{'ratio':>8}")
    for name, tb, to in (
        ("end to end (dict rows -> CIs)", t_base, t_ours),
        ("  rows -> grouped/typed rows", t_base_prep, t_ours_prep),
        ("  fit + bootstrap + quantiles", t_base_fit, t_ours_fit),
        ("columnar (dict of lists -> CIs)", t_base_col, t_ours_col),
    ):
        print(f"{name:34}{tb * 1000:13.1f} ms{to * 1000:12.1f} ms{tb / to:7.1f}x")
    print(f"speed-up (end to end): {t_base / t_ours:.1f}x")
    print(f"largest point-rating difference: {diff:.4f} points")
    print(f"largest CI-bound difference: {ci_diff:.2f} points (independent resamples; mean CI width {width:.1f})")


if __name__ == "__main__":
    main()
