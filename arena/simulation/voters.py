"""Simulated voters of the shapes world: how a voter turns what it sees into a vote.

A voter looks at both clips of a battle with :func:`adapters.shapes.inspect.judge` (pixels against the prompt's
ground truth), weighs the errors into one penalty per clip (:data:`WEIGHTS`), and votes like a noisy person:
P(left) = logistic(Δpenalty / noise), a tie when the clips are about as good. A position bias is a share of votes
given to the left clip without looking; a careless voter picks a side at random.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

# How much each kind of error costs a voter (errors are about 1 for a full-strength defect).
WEIGHTS: Mapping[str, float] = {
    "colour": 1.0,
    "shape": 0.8,
    "count": 0.6,
    "motion": 0.8,
    "stillness": 1.0,
    "jerk": 0.5,
    "flicker": 0.6,
    "blur": 0.5,
}
ASPECTS: Mapping[str, tuple[str, ...]] = {  # the optional finer votes, from the errors they are about
    "text_alignment": ("colour", "shape", "count"),
    "motion": ("motion", "stillness", "jerk"),
    "visual_quality": ("flicker", "blur"),
}
CAP = 1.5  # one error counts at most this much (a wildly wrong measure must not decide alone)


def penalty(errors: Mapping[str, float], keys: tuple[str, ...] | None = None) -> float:
    """The weighted sum of (capped) errors, over ``keys`` (default: every weighted error)."""
    return float(sum(WEIGHTS[k] * min(errors.get(k, 0.0), CAP) for k in (keys or tuple(WEIGHTS))))


@dataclass(frozen=True)
class Population:
    """A crowd of simulated voters: ``voters`` sessions, ``careless`` of them voting at random."""

    voters: int = 12
    careless: int = 2
    noise: float = 0.15  # penalty difference that moves the odds by a factor e
    position_bias: float = 0.0  # share of votes given to the left clip without looking
    tie_margin: float = 0.03  # clips closer than this are a tie (about half the time)
    label: str = "sim"

    def __post_init__(self) -> None:
        if self.voters < 1 or not 0 <= self.careless <= self.voters:
            raise ValueError("a population needs at least one voter and at most as many careless ones")
        if self.noise <= 0 or not 0.0 <= self.position_bias <= 1.0:
            raise ValueError("noise must be positive and the position bias a share in [0, 1]")

    def is_careless(self, index: int) -> bool:
        """Voters 0..careless-1 are the careless ones."""
        return index < self.careless


def _side(delta: float, noise: float, rng: np.random.Generator) -> str:
    """'left' or 'right' for a penalty difference ``delta`` = right - left (> 0: left is better)."""
    z = delta / noise
    p_left = 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))
    return "left" if rng.random() < p_left else "right"


def decide(
    left: Mapping[str, float],
    right: Mapping[str, float],
    population: Population,
    careless: bool,
    rng: np.random.Generator,
) -> tuple[str, dict[str, str]]:
    """(choice, aspects) of one voter for a battle whose clips have these errors."""
    if careless:
        return ("left" if rng.random() < 0.5 else "right"), {}
    if rng.random() < population.position_bias:
        return "left", {}
    delta = penalty(right) - penalty(left)
    close = abs(delta) < population.tie_margin and rng.random() < 0.5
    choice = "tie" if close else _side(delta, population.noise, rng)
    aspects = {}
    for aspect, keys in ASPECTS.items():
        d = penalty(right, keys) - penalty(left, keys)
        aspects[aspect] = "tie" if abs(d) < population.tie_margin else _side(d, population.noise, rng)
    return choice, aspects
