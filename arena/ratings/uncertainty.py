"""Uncertainty of Bradley–Terry ratings: bootstraps that keep weights, the prompt-cluster bootstrap, and the
cluster-robust (sandwich) covariance the verdicts use.

* Battle bootstrap (FastChat, extended to weights): battles are grouped by (pair, outcome, weight); a round draws
  multinomial counts over the groups (as many battles as there are) and each drawn battle keeps its own weight.
  Drawing rows in proportion to their weights instead changes the estimator (gold-check down-weights would be
  undone) and under-covers.
* Prompt-cluster bootstrap (`cluster="prompt_id"`): a round draws prompts with replacement and takes all their
  battles, so intervals speak for prompts in general, not only the prompts asked. Rows with no value in the
  cluster field are resampled as battles.
* `robust_fit`: H⁻¹ (Σ_c g_c g_cᵀ · G/(G − 1)) H⁻¹ at the point fit, g_c the score of cluster c (a battle when no
  cluster is named); what the cluster bootstrap estimates, computed in one pass, so a verdict can be evaluated at
  every look.

Battles picked by the adaptive matchmaker carry a design weight (the extra field `design_weight`, q / π: see
arena.ratings.matchmaking). Fitting them unweighted is efficient but biased (an extreme model stops being sampled,
so its luck sticks: the scale stretches); fitting them weighted is unbiased but noisy (it throws away what the
matchmaker gained). Calibrated estimator, used whenever some design weight is not 1: the ratings of the unweighted
fit (the order, where the savings are) mapped by the increasing cubic a·θ + b·θ³/s² that best fits the
design-weighted battles (the scale, and the spread of the ends, the uniform design would give; a dilation alone
left the end models 9-10 points out). With every design weight 1 this is the FastChat fit itself (a = 1, b = 0
exactly). benchmarks/matchmaking_sim.py measures these and Firth's bias-reduced fit (arena.ratings.bt.fit_firth)
of the weighted battles: that one's ends are within noise of the target, but its order needs 1.4-1.6× uniform's
votes (the weights' noise), so it is not the board's estimator. The board reports the calibrated estimate less
its bootstrap bias (2·point − mean of the rounds it already draws for the intervals, `corrected=True`), with
normal intervals of the sandwich se (`interval_se`): what the simulation measured (README, matchmaking).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arena.ratings.battles import BattleRows
from arena.ratings.bt import (
    DEFAULT_PRIOR,
    INIT_RATING,
    NAT,
    OUTCOME_CLASS,
    UniqueRows,
    calibrate,
    fit_strengths,
    pair_totals,
    to_ratings,
    unique_rows,
)

DEFAULT_ROUNDS = 1000


@dataclass(frozen=True, eq=False)
class Design:
    """The battles with weight > 0 (`live` selects their rows) over the fit's unique (pair, outcome) rows `u`:
    `unit` maps each live row to its unique row, `clusters` codes each live row's cluster (−1: none). `base`:
    each live row's weight without its design weight (None when every design weight is 1)."""

    u: UniqueRows
    live: np.ndarray
    unit: np.ndarray
    clusters: np.ndarray
    base: np.ndarray | None = None

    def plain_weight(self, rows: BattleRows) -> np.ndarray:
        """Per unique row: Σ base weight × count (the unweighted fit's totals)."""
        assert self.base is not None
        n = rows.battles[self.live].astype(np.float64)
        return np.bincount(self.unit, self.base * n, len(self.u.weight))


def cluster_codes(values: np.ndarray) -> np.ndarray:
    """Integer codes of a cluster column (−1 where missing); an integer column is taken as coded already."""
    if np.issubdtype(values.dtype, np.integer):
        return values.astype(np.int64)
    known = np.array([v is not None for v in values.tolist()], dtype=bool)
    codes = np.full(len(values), -1, np.int64)
    if known.any():
        _, codes[known] = np.unique(np.asarray([str(v) for v in values[known]]), return_inverse=True)
    return codes


def design(rows: BattleRows, cluster: str | None = None) -> Design:
    u = unique_rows(rows)
    live = np.flatnonzero((rows.weight > 0) & (rows.battles > 0))
    a, b, win = rows.a[live], rows.b[live], rows.winner[live]
    k = rows.n_models
    i, j = np.minimum(a, b), np.maximum(a, b)
    cls = OUTCOME_CLASS[win]
    key = (i * k + j) * 3 + np.where(a > b, 2 - cls, cls)
    ukey = (u.i * k + u.j) * 3 + (u.score * 2).astype(np.int64)
    codes = np.full(len(live), -1, np.int64)
    if cluster is not None:
        if cluster not in rows.extra:
            raise KeyError(f"the battles carry no {cluster!r} field to cluster by")
        codes = cluster_codes(rows.extra[cluster])[live]
        if (codes >= 0).any():
            _, codes[codes >= 0] = np.unique(codes[codes >= 0], return_inverse=True)
    base = None
    if "design_weight" in rows.extra:
        raw = rows.extra["design_weight"][live]
        known = raw.dtype.kind == "f"  # a float column: taken as it is; else None (no design weight) counts as 1
        dw = raw.astype(np.float64) if known else np.array([1.0 if v is None else v for v in raw], float)
        if not np.allclose(dw, 1.0):
            base = rows.weight[live] / np.where(dw > 0, dw, 1.0)
    return Design(u, live, np.searchsorted(ukey, key), codes, base)


def _resample(table: np.ndarray, unit: np.ndarray, group: np.ndarray, draws: np.ndarray, n_unique: int) -> np.ndarray:
    """(rounds, n_unique): Σ over groups of draws[:, group] · table (a sparse (unique row × group) product)."""
    from scipy.sparse import csr_matrix

    m = csr_matrix((table, (unit, group)), shape=(n_unique, draws.shape[1]))
    return np.asarray((m @ draws.T).T)


def _round_weights(
    rows: BattleRows, d: Design, rounds: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray | None]:
    """(rounds, n_unique) resampled weights of the unique rows, and the same draws' base weights (or None)."""
    w, n = rows.weight[d.live], rows.battles[d.live].astype(np.float64)
    base = w if d.base is None else d.base
    n_unique = len(d.u.weight)
    out, plain = np.zeros((rounds, n_unique)), np.zeros((rounds, n_unique))
    free = d.clusters < 0
    if free.any():  # battles: multinomial over (unique row, weights) groups; a drawn battle keeps its weights
        unit, wf, bf = d.unit[free], w[free], base[free]
        wu, wi = np.unique(wf, return_inverse=True)
        bu, bi = np.unique(bf, return_inverse=True)
        keys, inv = np.unique((unit * len(wu) + wi) * len(bu) + bi, return_inverse=True)
        counts = np.bincount(inv, n[free], len(keys))
        draws = rng.multinomial(int(counts.sum()), counts / counts.sum(), size=rounds).astype(np.float64)
        g_unit = keys // len(bu) // len(wu)  # keys are sorted, so groups of one unique row are adjacent
        starts = np.flatnonzero(np.r_[True, g_unit[1:] != g_unit[:-1]])
        cols = g_unit[starts]
        out[:, cols] += np.add.reduceat(draws * wu[keys // len(bu) % len(wu)], starts, axis=1)
        plain[:, cols] += np.add.reduceat(draws * bu[keys % len(bu)], starts, axis=1)
    if (~free).any():  # clusters: drawn with replacement, each brings all its battles
        c = d.clusters[~free]
        g = int(c.max()) + 1
        draws = rng.multinomial(g, np.full(g, 1.0 / g), size=rounds).astype(np.float64)
        out += _resample(w[~free] * n[~free], d.unit[~free], c, draws, n_unique)
        plain += _resample(base[~free] * n[~free], d.unit[~free], c, draws, n_unique)
    return out, (None if d.base is None else plain)


def _calibrated(
    d: Design, weighted: np.ndarray, plain: np.ndarray | None, k: int, prior: float, theta0: np.ndarray | None = None
) -> np.ndarray:
    """Strengths for unique-row weights (rounds, n_unique): the fit itself, or, with design weights, the fit of
    the base weights mapped by the calibration that best fits the design-weighted battles (see the module doc)."""
    u = d.u
    tol = 1e-9 if theta0 is None else 1e-6
    if plain is None:
        return fit_strengths(*pair_totals(u, weighted), u.pair_i, u.pair_j, k, prior=prior, theta0=theta0, tol=tol)
    theta = fit_strengths(*pair_totals(u, plain), u.pair_i, u.pair_j, k, prior=prior, theta0=theta0, tol=tol)
    return calibrate(theta, *pair_totals(u, weighted), u.pair_i, u.pair_j, prior)[0]


def fit_with_bootstrap(
    rows: BattleRows,
    rounds: int,
    rng: np.random.Generator,
    *,
    anchor: str | None = None,
    anchor_rating: float = INIT_RATING,
    prior: float = DEFAULT_PRIOR,
    cluster: str | None = None,
    corrected: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Point ratings (models,) and bootstrap ratings (rounds, models), aligned with `rows.models`; all rounds are
    refitted in one batched solve started from the point fit. `cluster`: an extra field to resample by.
    `corrected`: with design weights, the point is the calibrated fit less its bootstrap bias (`bias_corrected`)
    and the rounds are shifted with it; without design weights nothing changes."""
    d = design(rows, cluster)
    k = rows.n_models
    plain = None if d.base is None else d.plain_weight(rows)
    point = _calibrated(d, d.u.weight, plain, k, prior)[0]
    ratings = to_ratings(point, rows.models, anchor, anchor_rating)
    if rounds <= 0:
        return ratings, np.zeros((0, k))
    if len(d.live) == 0:
        return ratings, np.tile(ratings, (rounds, 1))
    weighted, plain_rounds = _round_weights(rows, d, rounds, rng)
    theta = _calibrated(d, weighted, plain_rounds, k, prior, theta0=point)
    samples = to_ratings(theta, rows.models, anchor, anchor_rating)
    if corrected and d.base is not None:
        fixed = bias_corrected(ratings, samples)
        return fixed, samples + (fixed - ratings)
    return ratings, samples


def bias_corrected(point: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """The point estimate less its bootstrap bias: 2·point − mean of the bootstrap rounds."""
    return 2.0 * point - samples.mean(axis=0)


def design_weighted(rows: BattleRows) -> bool:
    """Whether some battle with weight > 0 carries a design weight other than 1 (the calibrated estimator)."""
    return design(rows).base is not None


def interval_se(rows: BattleRows, *, anchor: str | None = None, cluster: str | None = None) -> np.ndarray:
    """Per model, the sandwich se (rating points) of its rating in the board's gauge (mean 1000, or `anchor`
    pinned): the se behind the intervals of the corrected estimate."""
    cov = robust_fit(rows, cluster=cluster).cov
    if anchor is not None:
        proj = np.eye(rows.n_models)
        proj[:, rows.index(anchor)] -= 1.0
        cov = proj @ cov @ proj.T
    return np.sqrt(np.clip(np.diag(cov), 0.0, None))


def bootstrap_ratings(
    rows: BattleRows,
    rounds: int,
    rng: np.random.Generator,
    *,
    anchor: str | None = None,
    prior: float = DEFAULT_PRIOR,
    cluster: str | None = None,
) -> np.ndarray:
    """(rounds, models) bootstrap ratings; see `fit_with_bootstrap`."""
    return fit_with_bootstrap(rows, rounds, rng, anchor=anchor, prior=prior, cluster=cluster)[1]


@dataclass(frozen=True, eq=False)
class RobustFit:
    """The point fit with its covariance in rating points²: cluster-robust (`cov`) and model-based (`model_cov`,
    the inverse observed information), both in the gauge where ratings average 1000. `clusters`: how many."""

    models: tuple[str, ...]
    rating: np.ndarray
    cov: np.ndarray
    model_cov: np.ndarray
    clusters: int

    def gap(self, a: int, b: int) -> tuple[float, float, float]:
        """(rating a − rating b, its robust se, its model-based se)."""
        c = np.zeros(len(self.models))
        c[a], c[b] = 1.0, -1.0
        return (
            float(self.rating[a] - self.rating[b]),
            float(np.sqrt(max(c @ self.cov @ c, 0.0))),
            float(np.sqrt(max(c @ self.model_cov @ c, 0.0))),
        )


def _pair_matrix(a: np.ndarray, b: np.ndarray, c: np.ndarray, k: int) -> np.ndarray:
    """Σ c (e_a − e_b)(e_a − e_b)ᵀ: a graph Laplacian with edge weights c."""
    off = np.bincount(a * k + b, c, k * k).astype(np.float64).reshape(k, k)
    off += off.T
    return np.diag(off.sum(axis=1)) - off


def robust_fit(rows: BattleRows, *, cluster: str | None = None, prior: float = DEFAULT_PRIOR) -> RobustFit:
    """Point fit and sandwich covariance, clustered by the extra field `cluster` (battles without a value, or all
    battles when `cluster` is None, are their own clusters)."""
    d = design(rows, cluster)
    k = rows.n_models
    live = d.live
    a, b, s, w, n = rows.a[live], rows.b[live], rows.score[live], rows.weight[live], rows.battles[live]
    slope = None
    if d.base is None:
        theta = _calibrated(d, d.u.weight, None, k, prior)[0]
        point = theta
    else:  # the base-weight fit and its covariance, then mapped by the calibration (its slope: the Jacobian)
        u, w = d.u, d.base
        theta = fit_strengths(*pair_totals(u, d.plain_weight(rows)), u.pair_i, u.pair_j, k, prior=prior)[0]
        mapped, slopes = calibrate(theta, *pair_totals(u, u.weight), u.pair_i, u.pair_j, prior)
        point, slope = mapped[0], slopes[0]
    p = 1.0 / (1.0 + np.exp(-(theta[a] - theta[b])))
    resid = w * (s - p)  # score of one battle along e_a − e_b
    h = _pair_matrix(a, b, w * n * p * (1.0 - p), k)
    h_inv = np.linalg.inv(h + np.eye(k) * max(prior, 1e-6))
    free = d.clusters < 0
    meat = _pair_matrix(a[free], b[free], n[free] * resid[free] ** 2, k)  # a free battle is its own cluster
    g_count = int(n[free].sum())
    if (~free).any():
        cl = d.clusters[~free]
        g = int(cl.max()) + 1
        contrib = n[~free] * resid[~free]
        score = np.bincount(cl * k + a[~free], contrib, g * k) - np.bincount(cl * k + b[~free], contrib, g * k)
        score = score.reshape(g, k)
        meat += score.T @ score
        g_count += g
    if g_count > 1:
        meat *= g_count / (g_count - 1)
    proj = np.eye(k) - 1.0 / k
    if slope is not None:  # centred calibration map: its Jacobian is proj · diag(slope)
        proj = proj @ np.diag(slope)
    cov = proj @ h_inv @ meat @ h_inv @ proj.T
    model_cov = proj @ h_inv @ proj.T
    scale = 1.0 / NAT**2
    return RobustFit(rows.models, to_ratings(point, rows.models), cov * scale, model_cov * scale, g_count)
