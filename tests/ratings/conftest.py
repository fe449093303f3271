"""Fixtures for the rating tests: simulated battles from known ratings."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from arena.ratings.battles import BattleRows

Simulate = Callable[..., BattleRows]


def _simulate(ratings: np.ndarray, n: int, rng: np.random.Generator, tie_rate: float = 0.0) -> BattleRows:
    """`n` battles between random pairs with BT outcomes: E[score of a] = p(a beats b) exactly.

    Ties come with probability τ = tie_rate · 2 min(p, 1 − p) (mostly between close models), and the decisive
    outcomes are drawn so that wins + ties / 2 still average p: the model the engine assumes.
    """
    k = len(ratings)
    a = rng.integers(0, k, n)
    b = (a + rng.integers(1, k, n)) % k
    p = 1.0 / (1.0 + 10.0 ** ((ratings[b] - ratings[a]) / 400.0))
    tau = tie_rate * 2.0 * np.minimum(p, 1.0 - p)
    tie = rng.random(n) < tau
    a_wins = rng.random(n) < (p - tau / 2.0) / (1.0 - tau)
    winner = np.where(tie, "tie", np.where(a_wins, "model_a", "model_b"))
    names = [f"m{i:02d}" for i in range(k)]
    return BattleRows.from_columns([names[i] for i in a], [names[i] for i in b], winner.tolist())


@pytest.fixture
def simulate() -> Simulate:
    return _simulate
