"""The Fisher standard errors used by matchmaking: they follow the data, not the order of the rows."""

from __future__ import annotations

import numpy as np

from arena.ratings import BattleRows
from arena.ratings.bt import fisher_sd


def _rows(n_ab: int, n_bc: int, first: str = "ab") -> BattleRows:
    ab = [{"model_a": "a", "model_b": "b", "winner": w} for w in ["model_a"] * (3 * n_ab) + ["model_b"] * (2 * n_ab)]
    bc = [{"model_a": "b", "model_b": "c", "winner": w} for w in ["model_a"] * (3 * n_bc) + ["model_b"] * (2 * n_bc)]
    return BattleRows.from_records(ab + bc if first == "ab" else bc + ab)


def test_standard_errors_shrink_where_there_are_more_battles_whatever_the_order() -> None:
    for first in ("ab", "bc"):
        _, sd = fisher_sd(_rows(1, 100, first))
        assert sd[0] > 1.5 * sd[2]  # a has 5 battles, c has 500
    _, few_first = fisher_sd(_rows(1, 100, "ab"))
    _, many_first = fisher_sd(_rows(100, 1, "ab"))
    assert np.allclose(few_first, many_first[::-1], rtol=1e-6)


def test_rows_that_all_weigh_zero_give_the_prior() -> None:
    rows = _rows(2, 2)
    rating, sd = fisher_sd(rows.with_weights(np.zeros(len(rows))))
    assert np.allclose(rating, 1000.0) and np.all(np.isfinite(sd)) and np.allclose(sd, sd[0])
