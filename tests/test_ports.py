"""The port reservation the tests hand to servers in other processes (tests/support/ports.py)."""

from __future__ import annotations

import socket

import httpx
import pytest
from fastapi import FastAPI

from tests.support.ports import reserve_port, reserved_port
from tests.support.servers import ThreadedServer


def test_a_reserved_port_refuses_connections_and_a_plain_bind_until_its_server_takes_it() -> None:
    app = FastAPI()

    @app.get("/ping")
    def ping() -> str:
        return "pong"

    with reserved_port() as port:
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/ping", timeout=2)
        with socket.socket() as plain, pytest.raises(OSError):  # a bind without SO_REUSEADDR: taken
            plain.bind(("127.0.0.1", port))
        server = ThreadedServer(app, port=port).start()  # binds with SO_REUSEADDR, as uvicorn and Postgres do
        try:
            assert httpx.get(f"{server.url}/ping", timeout=5).json() == "pong" and server.port == port
        finally:
            server.stop()


def test_a_released_port_is_free_again() -> None:
    sock = reserve_port()
    port = int(sock.getsockname()[1])
    sock.close()
    with socket.socket() as plain:
        plain.bind(("127.0.0.1", port))
