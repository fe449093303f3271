"""What a pair chooser works on: a candidate battle (a prompt and two models that both have a video for it), the
chooser protocol, and the uniform chooser. The adaptive one is arena.services.matchmaking."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Candidate:
    """A possible battle: a prompt and an unordered pair of models that both have a video for it."""

    prompt_id: int
    model_a: str
    model_b: str
    category: str = "general"
    language: str = "en"
    design_weight: float = 1.0  # the pick's inverse-probability weight (arena.ratings.matchmaking); 1: uniform


class PairChooser(Protocol):
    def __call__(self, candidates: Sequence[Candidate], rng: random.Random) -> Candidate: ...


def uniform_choice(candidates: Sequence[Candidate], rng: random.Random) -> Candidate:
    return rng.choice(list(candidates))
