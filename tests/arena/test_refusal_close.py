"""A refused request's body is read and dropped before the refusal closes the connection (arena.middleware._drain):
closed with the client's bytes unread, the connection is reset, and the reset may erase the refusal before the
client reads it (RFC 9112 §9.6)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from arena.middleware import DRAIN_S, BodyLimitMiddleware
from tests.support.servers import ThreadedServer

BODY = b"\0" * 1024
HEAD = (
    "POST /gradio_api/upload HTTP/1.1\r\nHost: arena\r\nContent-Type: multipart/form-data; boundary=b\r\n"
    f"Content-Length: {len(BODY)}\r\n\r\n"
).encode()


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    server = ThreadedServer(BodyLimitMiddleware(FastAPI())).start()
    try:
        yield server.port
    finally:
        server.stop()


def _answer_before(sock: socket.socket, wait_s: float) -> bytes:
    sock.settimeout(wait_s)
    try:
        return sock.recv(65536)
    except TimeoutError:
        return b""


def test_the_refusal_waits_for_the_body_then_closes_cleanly(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(HEAD)
        assert _answer_before(sock, 0.3) == b""  # the body is still due: no answer, no close yet
        sock.sendall(BODY)
        sock.settimeout(5)
        answer = b""
        while chunk := sock.recv(65536):  # a reset would raise here instead of ending the stream
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 403") and b'"uploads_disabled"' in answer


def test_a_body_that_never_comes_is_waited_for_a_bounded_time(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(HEAD)
        started = time.monotonic()
        answer = _answer_before(sock, DRAIN_S + 5)  # empty if no answer came by then
        waited = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 403") and waited > DRAIN_S - 0.5  # it waited for the body, then answered


def test_an_oversized_body_gets_its_413_not_a_reset(port: int) -> None:
    """Refused on its declared length, before the app sees it; the client, still sending, reads the 413."""
    body = b" " * (2 * 1024 * 1024)  # over the 1 MB limit outside /api/, under DRAIN_BYTES
    head = f"POST /gradio_api/queue/join HTTP/1.1\r\nHost: arena\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    for _ in range(5):
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(head)
            time.sleep(0.05)  # the refusal is decided on the headers alone
            sock.sendall(body)  # a reset would raise here or below
            sock.settimeout(5)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 413") and b'"too_large"' in answer
