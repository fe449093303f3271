"""Helpers for adapter tests: real uvicorn servers on 127.0.0.1 and smooth test videos."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from tests.support.ports import reserved_port
from tests.support.servers import ThreadedServer

if TYPE_CHECKING:
    from tests.adapters.tiny_pipelines import TinyPipeline


def gradient(num_frames: int, width: int, height: int, seed: int = 0) -> np.ndarray:
    """A smooth moving gradient whose colours depend on ``seed`` (survives H.264 nearly intact)."""
    rng = np.random.default_rng(seed)
    base = rng.integers(40, 120, size=3)
    y, x = np.mgrid[0:height, 0:width]
    ramp = (x * 80 // max(width - 1, 1) + y * 40 // max(height - 1, 1))[None, :, :, None]
    t = np.arange(num_frames)[:, None, None, None] * 4
    return (base[None, None, None, :] + ramp + t).clip(0, 255).astype(np.uint8)


@pytest.fixture
def make_gradient() -> Callable[..., np.ndarray]:
    return gradient


@pytest.fixture
def serve_app() -> Iterator[Callable[[Any], ThreadedServer]]:
    """Start any ASGI app on a free local port; every server is stopped at teardown."""
    servers: list[ThreadedServer] = []

    def start(app: Any) -> ThreadedServer:
        server = ThreadedServer(app).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def unused_port() -> Iterator[int]:
    """A port nothing listens on (a connection is refused) until a server of the test binds it; no other test is
    handed it meanwhile (tests/support/ports.py)."""
    with reserved_port() as port:
        yield port


@pytest.fixture(scope="module")
def tiny() -> Callable[[str], TinyPipeline]:
    """Tiny pipelines by family (tiny_pipelines.BUILDERS) or version (tiny_versions.VERSION_BUILDERS), each
    built once per test module: a test that changes a pipeline in place builds its own."""
    import torch

    from tests.adapters.tiny_pipelines import BUILDERS
    from tests.adapters.tiny_versions import VERSION_BUILDERS

    torch.set_num_threads(1)
    built: dict[str, TinyPipeline] = {}

    def get(key: str) -> TinyPipeline:
        if key not in built:
            built[key] = {**BUILDERS, **VERSION_BUILDERS}[key]()
        return built[key]

    return get
