"""Simulated voters at work: each one is an HTTP client of the real JSON API, with its own server-issued
simulated session. It starts a battle, downloads both clips as any browser would, looks at them
(:func:`adapters.shapes.inspect`), and votes. It never learns which model made a clip before its vote.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from arena.simulation.voters import Population, decide


@dataclass
class SimulationResult:
    votes: int = 0
    refused: Counter[str] = field(default_factory=Counter)  # refusal code -> how many
    careless_sessions: set[str] = field(default_factory=set)
    sessions: list[str] = field(default_factory=list)
    seconds: float = 0.0


class _Eye:
    """Looks at clips; remembers the ground truth of each (prompt, clip shape) it has drawn."""

    def __init__(self) -> None:
        self._truth: dict[tuple[str, int, int, int], Any] = {}

    def errors(self, data: bytes, prompt: str) -> dict[str, float]:
        from adapters.shapes import parse_prompt
        from adapters.shapes.inspect import compare, look, truth_facts
        from adapters.video_io import decode_mp4

        frames, _ = decode_mp4(data)
        f, h, w = frames.shape[:3]
        key = (prompt, f, w, h)
        if key not in self._truth:
            self._truth[key] = truth_facts(parse_prompt(prompt), f, w, h)
        return compare(look(frames), self._truth[key])


def _refusal(response: Any) -> str:
    try:
        return str(response.json()["error"]["code"])
    except Exception:
        return f"http_{response.status_code}"


def _send(http: Any, method: str, url: str, **kwargs: Any) -> Any:
    """One request, sent again once on a fresh connection when the kept-alive one was closed under it (a server
    drops idle connections after a few seconds; a voter that looked at its clips longer can race that close). A
    vote sent twice is stored once: the second answer is a refusal, counted as such."""
    import httpx

    try:
        return http.request(method, url, **kwargs)
    except (httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError):
        return http.request(method, url, **kwargs)


def cast_votes(
    base_url: str,
    sessions: Sequence[tuple[str, str]],
    population: Population,
    votes_per_voter: int,
    *,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> SimulationResult:
    """Each voter of ``population`` (``sessions``: one (session id, signed token) per voter) votes
    ``votes_per_voter`` times on anonymous pool battles, voters taking turns."""
    import httpx

    if len(sessions) != population.voters:
        raise ValueError(f"{population.voters} voters need as many sessions, got {len(sessions)}")
    rng = np.random.default_rng(seed)
    eye = _Eye()
    result = SimulationResult(sessions=[s for s, _ in sessions])
    result.careless_sessions = {s for i, (s, _) in enumerate(sessions) if population.is_careless(i)}
    started = time.monotonic()
    total = votes_per_voter * population.voters
    with httpx.Client(base_url=base_url, timeout=120.0) as http:
        for n in range(total):
            index = n % population.voters
            token = sessions[index][1]
            headers = {"x-arena-session": token}
            battle = _send(http, "POST", "/api/battles", json={}, headers=headers)
            if battle.status_code != 200:
                result.refused[_refusal(battle)] += 1
                continue
            body = battle.json()
            clips = [_send(http, "GET", body[side]["video_url"], headers=headers) for side in ("left", "right")]
            if any(c.status_code != 200 for c in clips):
                result.refused["media"] += 1
                continue
            left, right = (eye.errors(c.content, body["prompt"]) for c in clips)
            choice, aspects = decide(left, right, population, population.is_careless(index), rng)
            voted = _send(
                http,
                "POST",
                f"/api/battles/{body['id']}/vote",
                json={"choice": choice, "aspects": aspects},
                headers=headers,
            )
            if voted.status_code == 200:
                result.votes += 1
            else:
                result.refused[_refusal(voted)] += 1
            if progress:
                progress(n + 1, total)
    result.seconds = time.monotonic() - started
    return result
