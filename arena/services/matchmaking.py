"""Choosing the next battle from the pool with the rating engine's matchmaker (adaptive or uniform)."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from typing import Literal

from arena.services.battles import Candidate
from arena.services.leaderboard import LeaderboardService


class MatchmakingChooser:
    """A PairChooser: builds a snapshot of ratings, uncertainty and vote counts from the stored votes and lets
    :class:`arena.ratings.Matchmaker` pick where a vote teaches most (with an exploration floor)."""

    def __init__(self, leaderboard: LeaderboardService, policy: Literal["adaptive", "uniform"] = "adaptive") -> None:
        self.leaderboard = leaderboard
        self.policy = policy

    def __call__(self, candidates: Sequence[Candidate], rng: random.Random) -> Candidate:
        import numpy as np

        from arena.ratings import BattleRows, Matchmaker, MatchState

        pool: dict[tuple[str, str], list[str]] = defaultdict(list)
        by_key: dict[tuple[str, str, str], Candidate] = {}
        categories: dict[str, str] = {}
        for c in candidates:
            pool[(c.model_a, c.model_b)].append(str(c.prompt_id))
            by_key[(str(c.prompt_id), c.model_a, c.model_b)] = c
            categories[str(c.prompt_id)] = c.category
        rows = BattleRows.from_records(self.leaderboard.rows())
        models = sorted({m for pair in pool for m in pair})
        state = MatchState.from_rows(rows, pool, models=models, prompt_category=categories)
        prompt, a, b = Matchmaker(policy=self.policy).choose(state, np.random.default_rng(rng.getrandbits(64)))
        return by_key.get((prompt, a, b)) or by_key[(prompt, b, a)]
