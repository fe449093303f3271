"""The JSON API served by uvicorn on 127.0.0.1 in a background thread, for simulated voters to talk to."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from arena.services.container import Arena


@contextmanager
def serve_api(arena: Arena, start_timeout_s: float = 30.0) -> Iterator[str]:
    """Serve ``arena``'s JSON API (no UI) on a free port of 127.0.0.1; yields its base URL."""
    import uvicorn

    from arena.api import create_api

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(create_api(arena), log_level="warning", timeout_graceful_shutdown=2, timeout_keep_alive=60)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="arena-sim-api", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + start_timeout_s
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the API server did not start")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
