"""Style control (as LMArena's): Bradley–Terry as a logistic regression with extra columns for what the blind
cannot hide, so the ratings hold the style fixed and the coefficients say how much style sways votes.

For each battle and style feature f the column is the normalised difference (x_a − x_b) / (x_a + x_b) of the two
clips (model_a is the clip shown on the left); a constant column is the left side's advantage (position bias).
Features: duration (frames / fps, seconds), pixels (width × height), fps, and aspect ratio (width / height), read
from the extra fields duration_a, pixels_a, fps_a, aspect_a and their _b counterparts (NaN or None: unknown; such
battles are left out of the controlled fit). Ties count half, as in the board.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arena.ratings.battles import STYLE_FIELDS, BattleRows
from arena.ratings.bt import DEFAULT_PRIOR, NAT, fit_ratings, to_ratings

FEATURES = ("duration", "pixels", "fps", "aspect")


@dataclass(frozen=True, eq=False)
class StyleFit:
    """Ratings with and without style held fixed (aligned with `models`), and the style coefficients in rating
    points per unit of normalised difference (`left` is the left side's advantage in points), with standard errors."""

    models: tuple[str, ...]
    plain: np.ndarray
    controlled: np.ndarray
    coefficients: dict[str, float]
    se: dict[str, float]
    battles: int  # battles with every feature known (the others are left out of the controlled fit)


def _features(rows: BattleRows) -> tuple[np.ndarray, np.ndarray]:
    """(n × 4) normalised differences and the mask of rows where all of them are known and positive."""
    missing = [f for f in STYLE_FIELDS if f not in rows.extra]
    if missing:
        raise KeyError(f"style control needs the fields {', '.join(STYLE_FIELDS)}; missing: {', '.join(missing)}")

    def side(s: str) -> np.ndarray:
        cols = [rows.extra[f"{name}_{s}"] for name in FEATURES]
        return np.stack([np.array([np.nan if v is None else float(v) for v in c.tolist()]) for c in cols], axis=1)

    xa, xb = side("a"), side("b")
    ok = np.all(np.isfinite(xa) & np.isfinite(xb) & (xa > 0) & (xb > 0), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(ok[:, None], (xa - xb) / (xa + xb), 0.0)
    return z, ok


def style_control(rows: BattleRows, *, prior: float = DEFAULT_PRIOR, max_iter: int = 50) -> StyleFit:
    """Fit ratings with style columns by Newton's method (ties half, row weights × counts); Fisher standard errors."""
    z, ok = _features(rows)
    live = ok & (rows.weight > 0) & (rows.battles > 0)
    k, nf = rows.n_models, len(FEATURES)
    a, b, s = rows.a[live], rows.b[live], rows.score[live]
    w = rows.weight[live] * rows.battles[live]
    n = len(a)
    x = np.zeros((n, k + nf + 1))
    x[np.arange(n), a] += 1.0
    x[np.arange(n), b] -= 1.0
    x[:, k : k + nf] = z[live]
    x[:, -1] = 1.0  # left side
    ridge = np.full(k + nf + 1, 1e-6)
    ridge[:k] = max(prior, 1e-6)
    beta = np.zeros(k + nf + 1)
    for _ in range(max_iter):
        eta = x @ beta
        p = 0.5 * (1.0 + np.tanh(0.5 * eta))
        grad = x.T @ (w * (s - p)) - ridge * beta
        hess = (x * (w * p * (1.0 - p))[:, None]).T @ x + np.diag(ridge)
        step = np.linalg.solve(hess, grad)
        step *= min(1.0, 2.0 / max(np.abs(step).max(), 1e-300))
        beta += step
        if np.abs(step).max() < 1e-9:
            break
    eta = x @ beta
    p = 0.5 * (1.0 + np.tanh(0.5 * eta))
    cov = np.linalg.inv((x * (w * p * (1.0 - p))[:, None]).T @ x + np.diag(ridge))
    theta = beta[:k] - beta[:k].mean()
    names = (*FEATURES, "left")
    coef = {f: float(beta[k + i] / NAT) for i, f in enumerate(names)}
    se = {f: float(np.sqrt(max(cov[k + i, k + i], 0.0)) / NAT) for i, f in enumerate(names)}
    return StyleFit(
        rows.models,
        fit_ratings(rows, prior=prior),
        to_ratings(theta, rows.models),
        coef,
        se,
        int(rows.battles[live].sum()),
    )
