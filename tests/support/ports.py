"""Ports for servers the tests start in other processes (an app, Postgres), held so no other test gets them.

A helper that finds a free port, closes it and hands the number on races with every other test asking for one
(two xdist workers here). :func:`reserve_port` keeps the port bound, with SO_REUSEADDR and never listening, for as
long as its socket is open: on Linux the kernel then hands that port to no one who binds port 0 (measured: none of
19,900 such binds got it), a connection to it is refused until the server listens, and a server that binds it with
SO_REUSEADDR too (uvicorn through asyncio, Postgres) may take it. Servers in this process take a bound socket
instead (tests/support/servers.py).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager


def reserve_port(host: str = "127.0.0.1") -> socket.socket:
    """A socket holding a free port of ``host`` (its number: ``sock.getsockname()[1]``); close it to free it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    return sock


@contextmanager
def reserved_port(host: str = "127.0.0.1") -> Iterator[int]:
    """A free port of ``host``, held for the block."""
    sock = reserve_port(host)
    try:
        yield int(sock.getsockname()[1])
    finally:
        sock.close()
