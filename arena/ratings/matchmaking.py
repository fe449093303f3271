"""Adaptive matchmaking: pick the next (prompt, model pair) where a vote teaches most.

"adaptive" scores each pair by the expected reduction of rank uncertainty: the expected number of misordered
model pairs, Σ Φ(−|Δ|/S) over all pairs (Δ the rating difference, S its standard error), before and after one
more vote on the pair. The vote is treated as a Gaussian observation of θ_a − θ_b with information p(1−p)
(a Kalman update of the two models' variances, models taken as independent); the expectation over the vote's
outcome is a Gauss–Hermite average over the possible new means. Close pairs of uncertain models score high,
settled or lopsided pairs score near zero. Pairs are then sampled with probability ∝ score^sharpness, so a
snapshot reused for several battles still spreads them.

The exploration floor: models with fewer than `min_votes` votes are paired first; a share `exploration` of picks
is always uniform over pairs (so every pair keeps a chance ≥ exploration / pairs); prompts go to the least-voted
category among the pair's candidates (uniform otherwise). "uniform" draws a pair, then a prompt, uniformly.
`balanced=True` (the default) makes each adaptive pick model-first: a model drawn ∝ its vote deficit (most votes −
its votes + 1), then its opponent ∝ gain, so per-model vote counts stay about equal (end models are not starved):
with the board's bias-corrected calibration its end models are within 5 points of the uniform design's (README).

Unbiased ratings (inverse-probability weighting): pairs picked from past results are biased in finite samples
(a model that looks far from the rest stops being sampled, so its luck sticks). Each adaptive pick therefore
carries a design weight q / π: the chance the uniform design would give its pair (1 / pairs) over the chance
the matchmaker gave it. Weighted, the votes estimate the ratings of the uniform design, whose target is the one
boards are compared on; the uniform share bounds every weight by 1 / exploration. Weights are rounded to a grid
of 2^(1/8) (±4.4 %) so that aggregated rows stay few. benchmarks/matchmaking_sim.py measures the result.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import numpy as np

from arena.ratings.battles import BattleRows
from arena.ratings.bt import DEFAULT_PRIOR, INIT_RATING, NAT, fisher_sd

Pair = tuple[str, str]
_GH_X, _GH_W = np.polynomial.hermite.hermgauss(12)


@dataclass(frozen=True, eq=False)
class MatchState:
    """A snapshot for one decision. `rating`, `sd` (rating points) and `votes` align with `models`.

    `pool` maps a model pair (either order) to the prompt ids for which both models have a clip.
    """

    models: tuple[str, ...]
    rating: np.ndarray
    sd: np.ndarray
    votes: np.ndarray
    pool: Mapping[Pair, Sequence[str]]
    prompt_category: Mapping[str, str] = field(default_factory=dict)
    category_votes: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def from_rows(
        cls,
        rows: BattleRows,
        pool: Mapping[Pair, Sequence[str]],
        *,
        models: Sequence[str] | None = None,
        prompt_category: Mapping[str, str] | None = None,
        prior: float = DEFAULT_PRIOR,
    ) -> MatchState:
        """From past battles (fit + Fisher standard errors). Models with no battles get 1000 ± the prior's sd."""
        names = tuple(models) if models is not None else tuple(sorted({m for p in pool for m in p}))
        rating = np.full(len(names), INIT_RATING)
        sd = np.full(len(names), 1.0 / np.sqrt(max(prior, 1e-6)) / NAT)
        votes = np.zeros(len(names), dtype=np.int64)
        if len(rows):
            r, s = fisher_sd(rows, prior=prior)
            v = rows.counts()["votes"]
            for i, m in enumerate(rows.models):
                if m in names:
                    k = names.index(m)
                    rating[k], sd[k], votes[k] = r[i], s[i], v[i]
        cat_votes: dict[str, int] = {}
        if "category" in rows.extra:  # votes per category: a row stands for `battles` votes
            for c, n in zip(rows.extra["category"].tolist(), rows.battles.tolist(), strict=True):
                if c is not None:
                    cat_votes[str(c)] = cat_votes.get(str(c), 0) + int(n)
        return cls(names, rating, sd, votes, pool, dict(prompt_category or {}), cat_votes)


def _misorder_gain(delta: np.ndarray, var_now: np.ndarray, var_after: np.ndarray) -> np.ndarray:
    """Φ(−|Δ|/S) − E[Φ(−|X|/S')], X ~ N(Δ, S² − S'²): expected drop in the chance that a pair is misordered."""
    from scipy.special import ndtr

    spread = np.sqrt(2.0 * np.clip(var_now - var_after, 0.0, None))[..., None]
    x = delta[..., None] + spread * _GH_X
    after = (ndtr(-np.abs(x) / np.sqrt(var_after)[..., None]) * _GH_W).sum(axis=-1) / np.sqrt(np.pi)
    return ndtr(-np.abs(delta) / np.sqrt(var_now)) - after


def pair_gains(state: MatchState, pairs: np.ndarray) -> np.ndarray:
    """Expected reduction of the number of misordered model pairs from one vote on each (i, j) in `pairs`."""
    theta, var = state.rating * NAT, (state.sd * NAT) ** 2
    i, j = pairs[:, 0], pairs[:, 1]
    d = theta[i] - theta[j]
    p = 1.0 / (1.0 + np.exp(-d))
    noise = 1.0 / np.maximum(p * (1.0 - p), 1e-9)  # variance of one vote as an observation of d
    v_d = var[i] + var[j]
    new_i = var[i] - var[i] ** 2 / (v_d + noise)
    new_j = var[j] - var[j] ** 2 / (v_d + noise)
    gain = _misorder_gain(d, v_d, v_d * noise / (v_d + noise))  # the pair itself (its covariance included)
    k = len(theta)
    for side, new_var, other in ((i, new_i, j), (j, new_j, i)):
        dk = theta[side][:, None] - theta[None, :]
        g = _misorder_gain(dk, var[side][:, None] + var[None, :], new_var[:, None] + var[None, :])
        g[np.arange(len(side)), side] = 0.0
        g[np.arange(len(side)), other] = 0.0
        gain = gain + g.sum(axis=1) if k > 2 else gain
    return np.clip(gain, 0.0, None)


@dataclass(frozen=True)
class Matchmaker:
    policy: Literal["adaptive", "uniform"] = "adaptive"
    # Defaults chosen by benchmarks/matchmaking_sim.py: half the picks uniform, pairs ∝ gain (not gain²), model
    # first (balanced) keep the bias of the board's ratings small while saving votes to a good order.
    exploration: float = 0.5  # share of picks made uniformly at random (adaptive only)
    min_votes: int = 5  # models with fewer votes are paired first (adaptive only)
    sharpness: float = 1.0  # adaptive pairs are drawn ∝ gain ** sharpness
    balanced: bool = True  # adaptive picks: a model ∝ its vote deficit, then its opponent ∝ gain

    def __post_init__(self) -> None:
        if self.policy not in ("adaptive", "uniform"):
            raise ValueError(f"unknown policy {self.policy!r}; expected 'adaptive' or 'uniform'")
        if not 0.0 <= self.exploration <= 1.0:
            raise ValueError("exploration must lie in [0, 1]")

    def pair_probabilities(self, state: MatchState) -> tuple[list[Pair], np.ndarray]:
        """The candidate pairs (non-empty pool, both models known) and the chance each is picked next."""
        index = {m: n for n, m in enumerate(state.models)}
        pairs = [p for p, prompts in state.pool.items() if prompts and p[0] in index and p[1] in index and p[0] != p[1]]
        if not pairs:
            raise ValueError("no model pair has a candidate prompt in the pool")
        uniform = np.full(len(pairs), 1.0 / len(pairs))
        if self.policy == "uniform":
            return pairs, uniform
        idx = np.array([(index[a], index[b]) for a, b in pairs])
        votes = state.votes[idx]
        if votes.min() < self.min_votes:  # floor: pair the least-voted model, opponent chosen by gain
            least = idx.ravel()[np.argmin(votes.ravel())]
            mask = (idx == least).any(axis=1)
        else:
            mask = np.ones(len(pairs), dtype=bool)
        gain = pair_gains(state, idx) ** self.sharpness * mask
        if self.balanced and mask.all():
            adaptive = anchored(idx, gain, (state.votes.max() - state.votes + 1).astype(float))
        else:
            adaptive = gain / gain.sum() if gain.sum() > 0 else mask / mask.sum()
        return pairs, (1.0 - self.exploration) * adaptive + self.exploration * uniform

    def _prompt(self, state: MatchState, prompts: Sequence[str], rng: np.random.Generator) -> str:
        if self.policy == "adaptive" and state.prompt_category and rng.random() >= self.exploration:
            seen = np.array([state.category_votes.get(state.prompt_category.get(p, ""), 0) for p in prompts])
            prompts = [p for p, s in zip(prompts, seen, strict=True) if s == seen.min()]
        return prompts[int(rng.integers(len(prompts)))]

    def choose(self, state: MatchState, rng: np.random.Generator) -> Pick:
        """(prompt_id, model_a, model_b, design weight); which model is shown on the left is random."""
        return self.choose_many(state, rng, 1)[0]

    def choose_many(self, state: MatchState, rng: np.random.Generator, n: int) -> list[Pick]:
        """`n` picks from one snapshot (scores computed once), each with its design weight."""
        pairs, prob = self.pair_probabilities(state)
        return self.draw(state, pairs, prob, rng, n)

    def draw(
        self, state: MatchState, pairs: Sequence[Pair], prob: np.ndarray, rng: np.random.Generator, n: int = 1
    ) -> list[Pick]:
        """`n` picks with the chances :meth:`pair_probabilities` gave for ``state`` (kept by callers that pick
        many times from one snapshot)."""
        out = []
        for k in rng.choice(len(pairs), size=n, p=prob):
            a, b = pairs[k] if rng.random() < 0.5 else pairs[k][::-1]
            weight = 1.0 if self.policy == "uniform" else design_weight(1.0 / len(pairs), float(prob[k]))
            out.append(Pick(self._prompt(state, state.pool[pairs[k]], rng), a, b, weight))
        return out


def anchored(idx: np.ndarray, gain: np.ndarray, anchor: np.ndarray) -> np.ndarray:
    """Pair chances when a model is drawn ∝ `anchor` (over models with a pair), then one of its pairs ∝ gain
    (uniformly if none of them gains)."""
    k = len(anchor)
    first, second = idx[:, 0], idx[:, 1]
    total = np.bincount(first, gain, k) + np.bincount(second, gain, k)
    degree = np.bincount(first, minlength=k) + np.bincount(second, minlength=k)
    chance = np.where(degree > 0, anchor, 0.0)
    chance = chance / chance.sum()
    share = np.zeros(len(idx))
    for end in (first, second):
        share += chance[end] * np.where(total[end] > 0, gain / np.maximum(total[end], 1e-300), 1.0 / degree[end])
    return share


class Pick(NamedTuple):
    prompt_id: str
    model_a: str
    model_b: str
    weight: float  # the design weight of the battle (1 for uniform picks)


def design_weight(uniform: float, chosen: float, step: float = 0.125) -> float:
    """q / π rounded to the grid 2^(k · step): the inverse-probability weight of a pick made with chance π
    where the uniform design would give q."""
    if not 0.0 < chosen <= 1.0:
        raise ValueError("a pick's probability must lie in (0, 1]")
    return float(2.0 ** (step * round(math.log2(uniform / chosen) / step)))
