"""Online Elo: one pass over the battles in the order given (time order), as FastChat's `compute_elo`."""

from __future__ import annotations

import numpy as np

from arena.ratings.battles import BattleRows

ELO_K = 4.0


def elo_array(
    rows: BattleRows, *, k: float = ELO_K, scale: float = 400.0, base: float = 10.0, init: float = 1000.0
) -> np.ndarray:
    """Ratings aligned with `rows.models`. Ties (either kind) score 0.5; a row's weight multiplies its K.

    Each update is zero-sum, so the ratings always average `init`.
    """
    rows = rows.expand()  # one row per battle, in order
    ratings = [init] * rows.n_models
    a_list, b_list = rows.a.tolist(), rows.b.tolist()
    s_list, w_list = rows.score.tolist(), rows.weight.tolist()
    for a, b, s, w in zip(a_list, b_list, s_list, w_list, strict=True):
        ra, rb = ratings[a], ratings[b]
        ea = 1.0 / (1.0 + base ** ((rb - ra) / scale))
        delta = k * w * (s - ea)
        ratings[a] = ra + delta
        ratings[b] = rb - delta
    return np.asarray(ratings)


def compute_elo(rows: BattleRows, *, k: float = ELO_K, init: float = 1000.0) -> dict[str, float]:
    return dict(zip(rows.models, elo_array(rows, k=k, init=init).tolist(), strict=True))
