"""Simulated battles from known ratings, for calibration tests and benchmarks (pure: the RNG is injected).

Each battle: a uniformly random pair (the first of the pair on the left), a uniformly random prompt (prompts are
spread over categories and languages in turn), and an outcome from Bradley–Terry with
* per-prompt model effects N(0, prompt_sd²) added to the ratings (some prompts suit some models),
* ties with probability τ = tie_rate · 2 min(p, 1 − p), the decisive outcomes drawn so the mean score stays p,
* a share `noise` of random voters (win / loss / tie with equal chance).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from arena.ratings.battles import BattleRows


@dataclass(frozen=True)
class World:
    ratings: np.ndarray
    tie_rate: float = 0.2
    prompts: int = 60
    categories: Sequence[str] = ("people", "animals", "city")
    languages: Sequence[str] = ("en", "zh")
    prompt_sd: float = 0.0
    noise: float = 0.0

    @property
    def models(self) -> list[str]:
        return [f"m{i:02d}" for i in range(len(self.ratings))]

    def target(self) -> np.ndarray:
        """The ratings a uniform design estimates here (centred on 1000): the Bradley–Terry fit to every pair's
        expected score over the prompt effects and random voters, pairs weighted equally. Both compress the scale
        (with neither it is the centred ratings), so intervals for "prompts in general" are checked against this."""
        from arena.ratings.bt import NAT, fit_strengths

        k = len(self.ratings)
        pi, pj = np.triu_indices(k, 1)
        x, w = np.polynomial.hermite_e.hermegauss(40)  # a prompt's effect on the gap: N(0, 2 prompt_sd²)
        gap = (self.ratings[pi] - self.ratings[pj])[:, None] + np.sqrt(2.0) * self.prompt_sd * x[None, :]
        p = (w / w.sum() / (1.0 + 10.0 ** (-gap / 400.0))).sum(axis=1)  # ties keep the mean score at p
        score = self.noise * 0.5 + (1.0 - self.noise) * p
        theta = fit_strengths(score, np.ones(len(pi)), pi, pj, k, prior=0.0)[0] / NAT
        return theta - theta.mean() + 1000.0

    def battles(self, n: int, rng: np.random.Generator) -> BattleRows:
        k = len(self.ratings)
        a = rng.integers(0, k, n)
        b = (a + rng.integers(1, k, n)) % k
        pid = rng.integers(0, self.prompts, n)
        effect = rng.normal(0.0, self.prompt_sd, (self.prompts, k)) if self.prompt_sd > 0 else np.zeros((1, k))
        shift = effect[pid, a] - effect[pid, b] if self.prompt_sd > 0 else np.zeros(n)
        p = 1.0 / (1.0 + 10.0 ** ((self.ratings[b] - self.ratings[a] - shift) / 400.0))
        tau = self.tie_rate * 2.0 * np.minimum(p, 1.0 - p)
        tie = rng.random(n) < tau
        a_wins = rng.random(n) < (p - tau / 2.0) / (1.0 - tau)
        winner = np.where(tie, "tie", np.where(a_wins, "model_a", "model_b"))
        random_voter = rng.random(n) < self.noise
        winner = np.where(random_voter, rng.choice(["model_a", "model_b", "tie"], n), winner)
        names = self.models
        cats, langs = np.asarray(self.categories), np.asarray(self.languages)
        extra = {
            "prompt_id": pid.tolist(),
            "category": cats[pid % len(cats)].tolist(),
            "language": langs[(pid // len(cats)) % len(langs)].tolist(),
        }
        return BattleRows.from_columns([names[i] for i in a], [names[i] for i in b], winner.tolist(), None, extra)
