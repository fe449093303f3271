"""Choosing the next battle from the pool with the rating engine's matchmaker (adaptive or uniform)."""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Literal, NamedTuple

from arena.services.leaderboard import LeaderboardService
from arena.services.pairs import Candidate, PerCandidates

if TYPE_CHECKING:
    import numpy as np

    from arena.ratings import BattleRows, MatchState

Key = tuple[str, str, str]  # (prompt id, model, model)
KEPT_FITS = 8  # fits kept for one set of rows: a snapshot's whole pool, each language, the gold ones of each


class _Fit(NamedTuple):
    state: MatchState
    by_key: dict[Key, Candidate]
    pairs: list[tuple[str, str]]
    prob: np.ndarray  # the matchmaker's chance of each of ``pairs``


class MatchmakingChooser:
    """A PairChooser: takes ratings, uncertainty and vote counts from the leaderboard's snapshot of the counted
    votes (the same one the board shows) and lets :class:`arena.ratings.Matchmaker` pick where a vote teaches
    most (with an exploration floor). A snapshot up to `refresh_s` old is good enough to choose a pair."""

    def __init__(
        self,
        leaderboard: LeaderboardService,
        policy: Literal["adaptive", "uniform"] = "adaptive",
        refresh_s: float = 10.0,
    ) -> None:
        self.leaderboard = leaderboard
        self.policy = policy
        self.refresh_s = refresh_s
        self._lock = threading.Lock()
        self._rows_at: tuple[float, BattleRows] | None = None  # the last rows taken from the snapshot, and when
        # The states built from those rows over a snapshot's candidate tuples (the whole pool, each language, the gold
        # ones of each), and the matchmaker's chances over their pairs: all rebuilt when the rows change. A gold draw
        # then costs what any draw costs (a fit on every one took it milliseconds longer, and a client timing its
        # starts could tell them apart).
        self._fits: tuple[BattleRows, PerCandidates[_Fit]] | None = None

    def _rows(self) -> BattleRows:
        with self._lock:
            if self._rows_at is not None and time.monotonic() - self._rows_at[0] < self.refresh_s:
                return self._rows_at[1]
        # Every counted vote, simulated ones too: choosing the next pair is not a verdict, and an arena voted on
        # only by simulated voters (calibration, the demo crowd) would otherwise look unvoted and pair one model
        # forever. The human board, exports and decisions still read human votes only.
        rows = self.leaderboard.snapshot(stale_ok_s=self.refresh_s, simulated=True).pair_rows(keep=("category",))
        with self._lock:
            self._rows_at = (time.monotonic(), rows)
        return rows

    def prefetch(self) -> None:
        """Take the rows now if they are stale. Battle starts call this before opening their transaction, so
        choosing a pair inside it touches no other connection (and no lock of the leaderboard): with every pooled
        connection held by threads waiting for a second one, the pool would deadlock under load."""
        self._rows()

    def _fit(self, rows: BattleRows, candidates: Sequence[Candidate]) -> _Fit:
        """The matchmaker's state (a fit of ``rows`` with standard errors) over ``candidates``, each candidate by
        (prompt, model, model), and the chance of each pair."""
        from arena.ratings import Matchmaker, MatchState

        pool: dict[tuple[str, str], list[str]] = defaultdict(list)
        by_key: dict[Key, Candidate] = {}
        categories: dict[str, str] = {}
        for c in candidates:
            pool[(c.model_a, c.model_b)].append(str(c.prompt_id))
            by_key[(str(c.prompt_id), c.model_a, c.model_b)] = c
            categories[str(c.prompt_id)] = c.category
        models = sorted({m for pair in pool for m in pair})
        state = MatchState.from_rows(rows, pool, models=models, prompt_category=categories)
        pairs, prob = Matchmaker(policy=self.policy).pair_probabilities(state)
        return _Fit(state, by_key, pairs, prob)

    def __call__(self, candidates: Sequence[Candidate], rng: random.Random) -> Candidate:
        import numpy as np

        from arena.ratings import Matchmaker

        rows = self._rows()
        with self._lock:
            if self._fits is None or self._fits[0] is not rows:
                self._fits = (rows, PerCandidates(KEPT_FITS))
            fits = self._fits[1]
        fit = fits.get(candidates)
        if fit is None:
            fit = self._fit(rows, candidates)
            fits.put(candidates, fit)
        draws = np.random.default_rng(rng.getrandbits(64))
        (pick,) = Matchmaker(policy=self.policy).draw(fit.state, fit.pairs, fit.prob, draws)
        chosen = (
            fit.by_key.get((pick.prompt_id, pick.model_a, pick.model_b))
            or fit.by_key[(pick.prompt_id, pick.model_b, pick.model_a)]
        )
        return replace(chosen, design_weight=pick.weight)
