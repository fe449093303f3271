"""What a pair chooser works on: a candidate battle (a prompt and two models that both have a video for it), the
chooser protocol, and the uniform chooser. The adaptive one is arena.services.matchmaking."""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

V = TypeVar("V")


@dataclass(frozen=True)
class Candidate:
    """A possible battle: a prompt and an unordered pair of models that both have a video for it."""

    prompt_id: int
    model_a: str
    model_b: str
    category: str = "general"
    language: str = "en"
    design_weight: float = 1.0  # the pick's inverse-probability weight (arena.ratings.matchmaking); 1: uniform


class PerCandidates(Generic[V]):
    """Values derived from candidate tuples, each kept under its tuple's identity: a pool snapshot's tuples (all its
    candidates, those of a language) are the same objects for every start from it, so what was derived from one is
    found again without hashing it. A filtered list is new on every start: never kept. At most ``size`` are kept,
    all dropped when full (old snapshots' tuples go with them)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: dict[int, tuple[Sequence[Candidate], V]] = {}
        self._lock = threading.Lock()

    def get(self, candidates: Sequence[Candidate]) -> V | None:
        kept = self._kept.get(id(candidates))
        return kept[1] if kept is not None and kept[0] is candidates else None

    def put(self, candidates: Sequence[Candidate], value: V) -> None:
        if isinstance(candidates, tuple):
            with self._lock:
                if len(self._kept) >= self.size:
                    self._kept = {}
                self._kept[id(candidates)] = (candidates, value)


class PairChooser(Protocol):
    def __call__(self, candidates: Sequence[Candidate], rng: random.Random) -> Candidate: ...


def uniform_choice(candidates: Sequence[Candidate], rng: random.Random) -> Candidate:
    return rng.choice(list(candidates))
