"""Battle starts of the JSON API take turns (``start_concurrency`` per app process), waiting on the event loop
instead of in the thread pool, so votes and videos are not queued behind a crowd of starts."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from arena.api import create_api
from arena.services.container import Arena
from tests.support.servers import ThreadedServer

STARTS = 10


def _most_at_once(arena: Arena) -> tuple[int, list[int]]:
    """Start ``STARTS`` battles together through the API (each start held 0.2 s, its GIL released, as a start
    waiting on the database or a copy would be); the most that ran at once, and the answers."""
    starting = arena.battles.start
    lock = threading.Lock()
    running, most = 0, 0

    def held(*args: Any, **kwargs: Any) -> Any:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            time.sleep(0.2)
            return starting(*args, **kwargs)
        finally:
            with lock:
                running -= 1

    arena.battles.start = held  # type: ignore[method-assign]
    server = ThreadedServer(create_api(arena)).start()
    try:

        def start(_: int) -> int:
            with httpx.Client(base_url=server.url, timeout=60) as http:
                return http.post("/api/battles", json={}).status_code

        with ThreadPoolExecutor(STARTS) as pool:
            codes = list(pool.map(start, range(STARTS)))
    finally:
        server.stop()
    return most, codes


@pytest.mark.parametrize("turns", [2, 20])
def test_starts_take_turns(arena_factory: Callable[..., Arena], turns: int) -> None:
    arena = arena_factory(start_concurrency=turns)
    arena.pool_videos.fill(models=["alpha-7b", "beta-v2"])
    most, codes = _most_at_once(arena)
    assert codes == [200] * STARTS  # all started, in turns
    if turns < STARTS:
        assert most == turns
    else:  # the control: without turns the thread pool runs them together
        assert most > 2
