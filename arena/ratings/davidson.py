"""Davidson's tie model (an option beside the FastChat convention of ties as half a win), with "both bad" kept as
its own outcome.

P(i wins) ∝ π_i, P(j wins) ∝ π_j, P(tie) ∝ ν_tie √(π_i π_j), P(both bad) ∝ ν_bad √(π_i π_j). With θ = log π the
decisive votes follow Bradley–Terry exactly (P(i beats j | decisive) = σ(θ_i − θ_j)), so the ratings share the
board's scale (R = 1000 + θ · 400 / ln 10), but ties no longer compress it. ν_tie and ν_bad say how often close
models tie or are both judged bad; each model's both-bad share (with a Wilson interval) is reported apart: a
model that is often in both-bad votes has a quality floor problem the ratings do not show.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arena.ratings.battles import BOTHBAD, MODEL_A, TIE, BattleRows
from arena.ratings.bt import DEFAULT_PRIOR, NAT, to_ratings
from arena.ratings.raters import wilson_interval


@dataclass(frozen=True, eq=False)
class DavidsonFit:
    """Ratings (aligned with `models`) with standard errors in points, the two tie strengths, and per model its
    share of battles judged both bad with a 95 % Wilson interval."""

    models: tuple[str, ...]
    ratings: np.ndarray
    se: np.ndarray
    nu_tie: float
    nu_bad: float
    bothbad_share: np.ndarray
    bothbad_ci: np.ndarray  # (models, 2)


def _tables(rows: BattleRows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique pairs (i < j) and weighted counts per outcome: i wins, j wins, tie, both bad."""
    live = (rows.weight > 0) & (rows.battles > 0)
    a, b, w = rows.a[live], rows.b[live], rows.winner[live]
    wt = rows.weight[live] * rows.battles[live]
    i, j = np.minimum(a, b), np.maximum(a, b)
    flipped = a > b
    outcome = np.select(
        [w == TIE, w == BOTHBAD, (w == MODEL_A) != flipped],
        [2, 3, 0],
        default=1,
    )  # 0: i won, 1: j won
    pair = i * rows.n_models + j
    keys, inv = np.unique(pair, return_inverse=True)
    counts = np.zeros((len(keys), 4))
    np.add.at(counts, (inv, outcome), wt)
    return keys // rows.n_models, keys % rows.n_models, counts


def _objective(
    params: np.ndarray, pi: np.ndarray, pj: np.ndarray, c: np.ndarray, k: int, prior: float
) -> tuple[float, np.ndarray]:
    theta, kt, kb = params[:k], params[k], params[k + 1]
    nt, nb = np.exp(kt), np.exp(kb)
    d = 0.5 * (theta[pi] - theta[pj])
    den = 2.0 * np.cosh(d) + nt + nb
    log_den = np.log(den)
    ll = c[:, 0] * (d - log_den) + c[:, 1] * (-d - log_den) + c[:, 2] * (kt - log_den) + c[:, 3] * (kb - log_den)
    total = c.sum(axis=1)
    dg = 2.0 * np.sinh(d) / den  # d log_den / d d
    dl_dd = c[:, 0] - c[:, 1] - total * dg
    grad = np.zeros(k + 2)
    np.add.at(grad, pi, 0.5 * dl_dd)
    np.add.at(grad, pj, -0.5 * dl_dd)
    grad[k] = (c[:, 2] - total * nt / den).sum()
    grad[k + 1] = (c[:, 3] - total * nb / den).sum()
    value = -ll.sum() + 0.5 * prior * (theta**2).sum()
    grad[:k] -= prior * theta
    return float(value), -grad


def davidson(rows: BattleRows, *, prior: float = DEFAULT_PRIOR) -> DavidsonFit:
    from scipy.optimize import minimize

    k = rows.n_models
    pi, pj, c = _tables(rows)
    bounds = [(None, None)] * k + [(-20.0, 10.0), (-20.0, 10.0)]
    start = np.zeros(k + 2)
    start[k:] = -1.0
    args = (pi, pj, c, k, max(prior, 1e-6))
    res = minimize(_objective, start, args=args, jac=True, method="L-BFGS-B", bounds=bounds, options={"gtol": 1e-9})
    x = res.x
    # observed information by central differences of the analytic gradient
    h = 1e-5
    info = np.zeros((k + 2, k + 2))
    for col in range(k + 2):
        step = np.zeros(k + 2)
        step[col] = h
        info[col] = (_objective(x + step, *args)[1] - _objective(x - step, *args)[1]) / (2 * h)
    cov = np.linalg.pinv(0.5 * (info + info.T))
    proj = np.zeros((k + 2, k + 2))
    proj[:k, :k] = np.eye(k) - 1.0 / k
    cov_theta = (proj @ cov @ proj)[:k, :k]
    theta = x[:k] - x[:k].mean()
    counts = rows.counts()["votes"].astype(np.float64)
    bad = rows.winner == BOTHBAD
    n = rows.battles * (rows.weight > 0)
    bad_votes = np.bincount(rows.a[bad], n[bad], k) + np.bincount(rows.b[bad], n[bad], k)
    share = np.divide(bad_votes, counts, out=np.zeros(k), where=counts > 0)
    ci = np.array([wilson_interval(float(v), float(t)) for v, t in zip(bad_votes, counts, strict=True)])
    return DavidsonFit(
        rows.models,
        to_ratings(theta, rows.models),
        np.sqrt(np.clip(np.diag(cov_theta), 0.0, None)) / NAT,
        float(np.exp(x[k])),
        float(np.exp(x[k + 1])),
        share,
        ci.reshape(k, 2),
    )
