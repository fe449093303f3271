"""The demo crowd of `make demo`: a few hundred simulated votes on the Simulated board, so a newcomer sees the
arena's story at once (human votes start their own, clean board)."""

from __future__ import annotations

import logging
import math
import time
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from arena.simulation.voters import Population
from db.models import Vote
from db.session import transaction

if TYPE_CHECKING:
    from arena.services.container import Arena
    from arena.simulation.client import SimulationResult

log = logging.getLogger(__name__)
DEMO_CROWD = Population(voters=10, careless=2, label="demo")


def simulated_votes(arena: Arena) -> int:
    with transaction(arena.factory) as session:
        return int(session.scalar(select(func.count(Vote.id)).where(Vote.simulated.is_(True))) or 0)


def demo_crowd(arena: Arena, base_url: str, target: int, crowd: Population = DEMO_CROWD) -> SimulationResult | None:
    """Vote through the API at ``base_url`` until the simulated board holds about ``target`` votes. Only when
    every enabled model is a demo model: the simulated voters judge the shapes world and nothing else."""
    from arena.simulation.client import cast_votes

    kinds = {spec.kind for spec in arena.catalog.enabled()}
    if kinds != {"demo"}:
        log.info("demo crowd: not voting (it judges demo models only; enabled kinds: %s)", ", ".join(sorted(kinds)))
        return None
    missing = target - simulated_votes(arena)
    if missing <= 0:
        return None
    sessions = [arena.gate.signer.issue_simulated(crowd.label) for _ in range(crowd.voters)]
    started = time.monotonic()
    result = cast_votes(base_url, sessions, crowd, math.ceil(missing / crowd.voters), seed=missing)
    log.info("demo crowd: %d simulated votes in %.0f s (Simulated board tab)", result.votes, time.monotonic() - started)
    return result
