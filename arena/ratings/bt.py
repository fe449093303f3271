"""Bradley–Terry ratings with FastChat's conventions, and a vectorised bootstrap.

P(a beats b) = 1 / (1 + 10^((R_b − R_a)/400)); a win of model_a scores 1, a loss 0, `tie` and `tie (bothbad)`
0.5. Battles are reduced to unique (pair, outcome) rows with summed weights; with no anchor the ratings average
exactly 1000. Internally strengths θ are natural log-odds: R = 1000 + θ · 400 / ln 10.

Finiteness: a zero-mean Gaussian prior of precision `prior` on θ (default 0.01: about 0.04 of a virtual tie
against an average model) keeps a model with only wins (or only losses) finite, at a few hundred to ~1000 points
from the rest, while moving ratings with hundreds of votes by well under a point. With `prior=0` (the plain
maximum likelihood, as FastChat) separable data has no finite optimum; the stopping rule then applies: Newton
steps are capped at 2 log-odds units and stop after `max_iter`, so ratings stay finite but arbitrary.

The fitter is a damped Newton iteration run on many fits at once (the bootstrap rounds of
arena.ratings.uncertainty): each iteration is one batched (rounds × models × models) linear solve, with a
backtracking line search per round. Boards (with intervals and guards) are in arena.ratings.board.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arena.ratings.battles import BattleRows

SCALE, BASE, INIT_RATING = 400.0, 10.0, 1000.0
NAT = np.log(BASE) / SCALE  # natural log-odds per rating point
DEFAULT_PRIOR = 0.01
_MAX_STEP = 2.0  # log-odds units
_QUADRATIC = 0.1  # steps below this skip the line search


@dataclass(frozen=True)
class UniqueRows:
    """Battles grouped by (unordered pair, outcome), sorted by pair. `i < j` index the two models; `score` is
    model i's score (1, 0, 0.5); `weight` sums row weights, `count` counts rows; `starts` begins each pair."""

    i: np.ndarray
    j: np.ndarray
    score: np.ndarray
    weight: np.ndarray
    count: np.ndarray
    pair_i: np.ndarray
    pair_j: np.ndarray
    starts: np.ndarray
    n_models: int


OUTCOME_CLASS = np.array([2, 0, 1, 1], dtype=np.int64)  # outcome class of model_a per winner code: 2 win, 1 tie, 0 loss


def unique_rows(rows: BattleRows) -> UniqueRows:
    keep = (rows.weight > 0) & (rows.battles > 0)
    everything = bool(keep.all())
    a, b, win = (rows.a, rows.b, rows.winner) if everything else (rows.a[keep], rows.b[keep], rows.winner[keep])
    weights = rows.weight if everything else rows.weight[keep]
    n = rows.battles if everything else rows.battles[keep]
    k = rows.n_models
    single = bool((n == 1).all())
    unit = single and bool((weights == 1.0).all())
    # Count ordered (a, b, winner) first: one pass over the rows; orientation is folded on the small table.
    key = (a * k + b) * 4 + win
    if k * k * 4 <= 1 << 24:  # counting beats sorting while the key space is small
        count = np.bincount(key, None if single else n, minlength=k * k * 4)
        uniq = np.flatnonzero(count)
        count = count[uniq]
        weight = count.astype(np.float64) if unit else np.bincount(key, weights * n, minlength=k * k * 4)[uniq]
    else:
        uniq, inv = np.unique(key, return_inverse=True)
        count = np.bincount(inv, n, minlength=len(uniq))
        weight = np.bincount(inv, weights=weights * n, minlength=len(uniq))
    ua, ub, cls = uniq // 4 // k, uniq // 4 % k, OUTCOME_CLASS[uniq % 4]
    i, j = np.minimum(ua, ub), np.maximum(ua, ub)
    key = (i * k + j) * 3 + np.where(ua > ub, 2 - cls, cls)  # outcome seen from the lower-index model
    uniq, inv = np.unique(key, return_inverse=True)
    count = np.bincount(inv, count.astype(np.float64), len(uniq))
    weight = np.bincount(inv, weight, len(uniq))
    pair = uniq // 3
    starts = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]]) if len(pair) else np.zeros(0, np.int64)
    ui, uj = pair // k, pair % k
    return UniqueRows(ui, uj, (uniq % 3) / 2.0, weight, count, ui[starts], uj[starts], starts, k)


def pair_totals(u: UniqueRows, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-pair (wins of i, battles) for weight vectors over unique rows, shape (..., n_unique)."""
    if len(u.starts) == 0:
        shape = (*weights.shape[:-1], 0)
        return np.zeros(shape), np.zeros(shape)
    return np.add.reduceat(weights * u.score, u.starts, axis=-1), np.add.reduceat(weights, u.starts, axis=-1)


def _loglik(
    theta: np.ndarray, wins: np.ndarray, tot: np.ndarray, pi: np.ndarray, pj: np.ndarray, prior: float
) -> np.ndarray:
    d = theta[:, pi] - theta[:, pj]
    # wins · log σ(d) + losses · log σ(−d), with log σ(d) = d − log(1 + e^d)
    return (wins * d - tot * np.logaddexp(0.0, d)).sum(axis=1) - 0.5 * prior * (theta**2).sum(axis=1)


def _information(
    c: np.ndarray, pair_i: np.ndarray, pair_j: np.ndarray, flat_i: np.ndarray, flat_j: np.ndarray, k: int
) -> np.ndarray:
    """(rounds, k, k) Laplacians Σ_pairs c (e_i − e_j)(e_i − e_j)ᵀ for pair weights c (rounds, pairs); flat_i/j
    index (round, model) as round · k + model."""
    r = c.shape[0]
    h = np.zeros((r, k, k))
    h[:, pair_i, pair_j] = -c
    h[:, pair_j, pair_i] = -c
    diag = np.arange(k)
    h[:, diag, diag] = (np.bincount(flat_i, c.ravel(), r * k) + np.bincount(flat_j, c.ravel(), r * k)).reshape(r, k)
    return h


def _layout(
    r: int, k: int, pair_i: np.ndarray, pair_j: np.ndarray, prior: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flat (round, model) indices of each pair's two models, and the ridge that makes the information
    invertible: it is flat along θ + c, so with no prior a rank-one term fixes the mean at 0 without bias."""
    rows = np.arange(r)[:, None]
    ridge = np.full((k, k), 1.0 / k) if prior == 0 else np.zeros((k, k))
    ridge[np.arange(k), np.arange(k)] += max(prior, 1e-10)
    return (rows * k + pair_i).ravel(), (rows * k + pair_j).ravel(), ridge


def fit_strengths(
    wins: np.ndarray,
    totals: np.ndarray,
    pair_i: np.ndarray,
    pair_j: np.ndarray,
    n_models: int,
    *,
    prior: float = DEFAULT_PRIOR,
    tol: float = 1e-9,
    max_iter: int = 100,
    theta0: np.ndarray | None = None,
) -> np.ndarray:
    """Maximum a posteriori strengths θ (natural log-odds, summing to 0) for each row of `wins`/`totals`.

    wins, totals: (rounds, pairs) weighted wins of `pair_i` over `pair_j` (ties count half) and battles.
    theta0: optional starting point (n_models,) or (rounds, n_models), e.g. the point fit for bootstrap rounds.
    Returns (rounds, n_models).
    """
    if prior < 0:
        raise ValueError("prior must be ≥ 0")
    wins, totals = np.atleast_2d(wins).astype(np.float64), np.atleast_2d(totals).astype(np.float64)
    r, k = wins.shape[0], n_models
    theta = np.zeros((r, k)) if theta0 is None else np.broadcast_to(theta0, (r, k)).astype(np.float64)
    if k < 2 or wins.shape[1] == 0:
        return theta
    flat_i, flat_j, ridge = _layout(r, k, pair_i, pair_j, prior)
    ll: np.ndarray | None = None
    for _ in range(max_iter):
        d = theta[:, pair_i] - theta[:, pair_j]
        p = 0.5 * (1.0 + np.tanh(0.5 * d))  # logistic, overflow-free
        resid = wins - totals * p
        c = totals * p * (1.0 - p)
        # Weighted bincounts are float64 (numpy's stubs say intp): annotate so `g -= ...` type-checks.
        g: np.ndarray = np.bincount(flat_i, resid.ravel(), r * k) - np.bincount(flat_j, resid.ravel(), r * k)
        g = g.reshape(r, k)
        g -= prior * theta
        h = _information(c, pair_i, pair_j, flat_i, flat_j, k)
        step = np.linalg.solve(h + ridge, g[..., None])[..., 0]
        big = np.abs(step).max(axis=1, keepdims=True)
        step *= np.minimum(1.0, _MAX_STEP / np.maximum(big, 1e-300))
        t = np.ones((r, 1))
        if big.max() > _QUADRATIC:
            # Far from the optimum: halve the step of any round whose objective did not improve.
            if ll is None:
                ll = _loglik(theta, wins, totals, pair_i, pair_j, prior)
            for _ in range(30):
                new_ll = _loglik(theta + t * step, wins, totals, pair_i, pair_j, prior)
                bad = new_ll < ll - 1e-12 * np.abs(ll)
                if not bad.any():
                    break
                t[bad] *= 0.5
            ll = new_ll if not bad.any() else None
        else:  # close to the optimum a plain Newton step is safe (quadratic convergence)
            ll = None
        theta = theta + t * step
        if np.abs(t * step).max() < tol:
            break
    return theta - theta.mean(axis=1, keepdims=True) if prior == 0 else theta


def fit_firth(
    wins: np.ndarray,
    totals: np.ndarray,
    pair_i: np.ndarray,
    pair_j: np.ndarray,
    n_models: int,
    *,
    prior: float = DEFAULT_PRIOR,
    tol: float = 1e-9,
    max_iter: int = 100,
    theta0: np.ndarray | None = None,
) -> np.ndarray:
    """Firth's bias-reduced strengths: the maximum of the (prior-penalised) log-likelihood + ½ log det I(θ), I the
    Fisher information of the identified (centred) strengths, Σ_pairs t·p(1 − p)(e_i − e_j)(e_i − e_j)ᵀ (with
    weighted totals, the weighted information). The maximum likelihood spreads ratings away from the centre by
    O(1/n); the penalty (a Jeffreys prior) removes that term, and keeps separated data finite.

    Fisher scoring on the modified score Σ_pairs (e_i − e_j)(wins − t·p + h·(½ − p)), h = t·p(1 − p)·vᵀI⁻¹v the
    pair's leverage (v = e_i − e_j), started from the MAP fit (or `theta0`). Shapes as `fit_strengths`.
    """
    wins, totals = np.atleast_2d(wins).astype(np.float64), np.atleast_2d(totals).astype(np.float64)
    if theta0 is None:  # the plain fit, kept finite by at least the default prior (separated data diverges)
        start = max(prior, DEFAULT_PRIOR)
        theta0 = fit_strengths(wins, totals, pair_i, pair_j, n_models, prior=start, max_iter=max_iter)
    r, k = wins.shape[0], n_models
    theta = np.broadcast_to(theta0, (r, k)).astype(np.float64)
    if k < 2 or wins.shape[1] == 0:
        return theta
    flat_i, flat_j, ridge = _layout(r, k, pair_i, pair_j, prior)
    for _ in range(max_iter):
        d = theta[:, pair_i] - theta[:, pair_j]
        p = 0.5 * (1.0 + np.tanh(0.5 * d))
        c = totals * p * (1.0 - p)
        h = _information(c, pair_i, pair_j, flat_i, flat_j, k)
        inv = np.linalg.inv(h + ridge)
        leverage = c * (inv[:, pair_i, pair_i] + inv[:, pair_j, pair_j] - 2.0 * inv[:, pair_i, pair_j])
        resid = (wins - totals * p + leverage * (0.5 - p)).ravel()
        g = (np.bincount(flat_i, resid, r * k) - np.bincount(flat_j, resid, r * k)).reshape(r, k) - prior * theta
        step = np.einsum("rkl,rl->rk", inv, g)
        big = np.abs(step).max(axis=1, keepdims=True)
        step *= np.minimum(1.0, _MAX_STEP / np.maximum(big, 1e-300))
        theta = theta + step
        if big.max() < tol:
            break
    return theta - theta.mean(axis=1, keepdims=True) if prior == 0 else theta


def dilation(
    theta: np.ndarray, wins: np.ndarray, totals: np.ndarray, pair_i: np.ndarray, pair_j: np.ndarray, prior: float
) -> np.ndarray:
    """Per row of θ (rounds, models): the factor α maximising the (prior-penalised) likelihood of `wins`/`totals`
    (rounds, pairs) at strengths α·θ. When θ is the fit of those same totals, α = 1 exactly."""
    theta, wins, totals = np.atleast_2d(theta), np.atleast_2d(wins), np.atleast_2d(totals)
    d = theta[:, pair_i] - theta[:, pair_j]
    norm = (theta**2).sum(axis=1)
    alpha = np.ones(len(theta))
    for _ in range(50):
        p = 0.5 * (1.0 + np.tanh(0.5 * alpha[:, None] * d))
        grad = (d * (wins - totals * p)).sum(axis=1) - prior * alpha * norm
        hess = (d * d * totals * p * (1.0 - p)).sum(axis=1) + prior * norm
        step = grad / np.maximum(hess, 1e-12)
        alpha = alpha + np.clip(step, -0.5, 0.5)
        if np.abs(step).max() < 1e-10:
            break
    return alpha


def calibrate(
    theta: np.ndarray, wins: np.ndarray, totals: np.ndarray, pair_i: np.ndarray, pair_j: np.ndarray, prior: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per row of θ (rounds, models): the increasing map f = a·θ + b·θ³/s² (s² the row's mean square), centred,
    whose (a, b) maximise the (prior-penalised) likelihood of `wins`/`totals` at strengths f; and the slope df/dθ
    before centring. A dilation (b = 0) where the best cubic would not be increasing over the row's models (θ
    itself if that too would reverse the order). When θ is the fit of those same totals, f = θ exactly."""
    theta, wins, totals = np.atleast_2d(theta), np.atleast_2d(wins), np.atleast_2d(totals)
    s2 = np.maximum((theta**2).mean(axis=1, keepdims=True), 1e-300)
    g = np.stack([theta, theta**3 / s2], axis=1)  # (rounds, 2, models)
    d = g[:, :, pair_i] - g[:, :, pair_j]
    gram = np.einsum("rkm,rlm->rkl", g, g) + 1e-12 * np.eye(2)
    par = np.tile([1.0, 0.0], (len(theta), 1))
    for _ in range(50):
        p = 0.5 * (1.0 + np.tanh(0.5 * np.einsum("rk,rkp->rp", par, d)))
        grad = np.einsum("rkp,rp->rk", d, wins - totals * p) - prior * np.einsum("rkl,rl->rk", gram, par)
        hess = np.einsum("rkp,rlp,rp->rkl", d, d, totals * p * (1.0 - p)) + prior * gram
        step = np.linalg.solve(hess, grad[..., None])[..., 0]
        par += np.clip(step, -0.5, 0.5)
        if np.abs(step).max() < 1e-10:
            break
    bad = ((par[:, :1] + 3.0 * par[:, 1:] * theta**2 / s2) <= 0).any(axis=1)
    if bad.any():  # the best dilation, or none at all if even that would reverse the order
        alpha = dilation(theta[bad], wins[bad], totals[bad], pair_i, pair_j, prior)
        par[bad] = np.c_[np.where(alpha > 0, alpha, 1.0), np.zeros(bad.sum())]
    f = par[:, :1] * theta + par[:, 1:] * theta**3 / s2
    return f - f.mean(axis=1, keepdims=True), par[:, :1] + 3.0 * par[:, 1:] * theta**2 / s2


def to_ratings(
    theta: np.ndarray, models: tuple[str, ...], anchor: str | None = None, anchor_rating: float = INIT_RATING
) -> np.ndarray:
    """θ (…, models) → ratings; with `anchor`, shifted so that model sits at `anchor_rating` in every row."""
    ratings = INIT_RATING + theta / NAT
    if anchor is not None:
        if anchor not in models:
            raise KeyError(f"anchor model {anchor!r} has no battles; known: {', '.join(models)}")
        idx = models.index(anchor)
        ratings = ratings - ratings[..., idx : idx + 1] + anchor_rating
    return ratings


def fit_ratings(
    rows: BattleRows, *, anchor: str | None = None, anchor_rating: float = INIT_RATING, prior: float = DEFAULT_PRIOR
) -> np.ndarray:
    """Point ratings as an array aligned with `rows.models`."""
    u = unique_rows(rows)
    wins, tot = pair_totals(u, u.weight)
    theta = fit_strengths(wins, tot, u.pair_i, u.pair_j, rows.n_models, prior=prior)[0]
    return to_ratings(theta, rows.models, anchor, anchor_rating)


def fit_bradley_terry(
    rows: BattleRows, *, anchor: str | None = None, anchor_rating: float = INIT_RATING, prior: float = DEFAULT_PRIOR
) -> dict[str, float]:
    """Bradley–Terry ratings per model (see the module docstring for conventions and the prior)."""
    ratings = fit_ratings(rows, anchor=anchor, anchor_rating=anchor_rating, prior=prior)
    return dict(zip(rows.models, ratings.tolist(), strict=True))


def fisher_sd(rows: BattleRows, *, prior: float = DEFAULT_PRIOR) -> tuple[np.ndarray, np.ndarray]:
    """Point ratings and their standard errors (rating points) from the inverse observed information.

    Cheap (one fit, one K×K inverse): the uncertainty snapshot for matchmaking, where a bootstrap per
    battle would be too slow.
    """
    u = unique_rows(rows)
    wins, tot = pair_totals(u, u.weight)
    k = rows.n_models
    theta = fit_strengths(wins, tot, u.pair_i, u.pair_j, k, prior=prior)[0]
    p = 1.0 / (1.0 + np.exp(-(theta[u.pair_i] - theta[u.pair_j])))
    c = tot * p * (1 - p)  # information of each pair: its battles times p(1 − p)
    h = np.zeros((k, k))
    h[u.pair_i, u.pair_j] = -c
    h[u.pair_j, u.pair_i] = -c
    h[np.arange(k), np.arange(k)] = -h.sum(axis=1) + max(prior, 1e-6)
    return to_ratings(theta, rows.models), centred_sd(h) / NAT


def centred_sd(hessian: np.ndarray) -> np.ndarray:
    """Standard errors of θ in the gauge where strengths average 0: diag(P H⁻¹ P), P = I − 11ᵀ/K.

    The raw inverse would add the (prior-only) uncertainty of a common shift to every model."""
    k = len(hessian)
    proj = np.eye(k) - 1.0 / k
    cov = proj @ np.linalg.inv(hessian) @ proj
    return np.sqrt(np.clip(np.diag(cov), 0.0, None))
