"""Malformed requests to the JSON API: each is a 4xx in the one documented format, and nothing is echoed back."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from arena.api import create_api
from arena.services.container import Arena
from tests.support.servers import ThreadedServer

MARKER = "ECHO-MARKER-7f3a"


@pytest.fixture
def server(arena: Arena) -> Iterator[ThreadedServer]:
    srv = ThreadedServer(create_api(arena)).start()
    yield srv
    srv.stop()


def refusal(response: httpx.Response, status: int, code: str | None = None) -> str:
    assert response.status_code == status, response.text[:300]
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "reason"}, body
    assert MARKER not in response.text
    if code:
        assert body["error"]["code"] == code, body
    return str(body["error"]["reason"])


def test_malformed_inputs_are_4xx_in_the_error_format(server: ThreadedServer) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        battle = http.post("/api/battles", json={}).json()
        vote = f"/api/battles/{battle['id']}/vote"
        raw = {"content-type": "application/json"}
        cases = [
            (http.post(vote, json={"choice": MARKER}), 422, "invalid_choice"),
            (http.post(vote, json={"choice": 7}), 422, "invalid_choice"),
            (http.post(vote, json={}), 422, "invalid"),
            (http.post(vote, json={"choice": "left", MARKER: 1}), 422, "invalid"),
            (http.post(vote, json={"choice": "left", "aspects": {"motion": MARKER}}), 422, "invalid_aspects"),
            (http.post(vote, content=b'{"choice": "le', headers=raw), 422, "invalid_json"),
            (http.post(vote, content=b"\xff\xfe" + MARKER.encode(), headers=raw), 422, None),
            (http.post("/api/battles", json={"prompt_id": 10**40}), 422, "invalid"),
            (http.post("/api/battles", json={"prompt_id": -1}), 422, "invalid"),
            (http.post("/api/battles", json={"prompt_id": 2**31 - 1}), 404, "unknown_prompt"),
            (http.post("/api/battles", json={"prompt_id": "1e999"}), 422, "invalid"),
            (http.post("/api/battles", json={"mode": MARKER}), 422, "invalid"),
            (http.post("/api/battles", json={"language": "\u0000"}), 422, "invalid"),
            (http.post("/api/battles", json={"language": "A"}), 422, "invalid"),  # a language no prompt has
            (http.post("/api/battles", json={"language": "xq-zz", "prompt_id": 1}), 422, "invalid"),
            (http.post("/api/battles", json={"models": [MARKER, "x", "y"], "mode": "named"}), 422, "invalid"),
            (http.post("/api/battles", json=[1, 2]), 422, "invalid"),
            (http.post("/api/battles", json={"prompt": "   "}), 400, "invalid"),
            (http.post("/api/battles", json={"prompt": "a\u0000b"}), 400, "invalid"),
            (http.post("/api/battles", json={"prompt": "\u200b\u200b"}), 400, "invalid"),  # only zero-width spaces
            (http.post("/api/battles", json={"prompt": "\u202eA red ball"}), 400, "invalid"),  # shown reversed
            (http.post("/api/battles", json={"prompt": "x" * 5000}), 422, "invalid"),
            (http.get("/api/battles/" + "z" * 300), 404, "unknown_battle"),
            (http.get("/api/battles/%00"), 404, "unknown_battle"),
            (http.get("/api/battles/..%2f..%2fetc/reveal"), 404, None),
            (http.get("/api/leaderboard", params={"language": "\u0000"}), 422, "invalid"),
            (http.get("/api/compare", params={"a": "x" * 1000, "b": "y"}), 422, "invalid"),
            (http.get("/api/nothing-here"), 404, "not_found"),
            (http.get("/media/clip/1-deadbeef.mp4"), 404, "not_found"),
            (http.get("/media/" + "a" * 5000 + ".mp4"), 404, "not_found"),
        ]
        for response, status, code in cases:
            refusal(response, status, code)
        # A lone surrogate (valid JSON, invalid Unicode) and an oversized integer never give a 500.
        surrogate = http.post("/api/battles", content=b'{"prompt": "a \\ud800 b"}', headers=raw)
        assert "prompt" in refusal(surrogate, 422, "invalid")  # pydantic's JSON parser refuses it first
        big = http.post("/api/battles", content=b'{"prompt_id": ' + b"9" * 5000 + b"}", headers=raw)
        assert big.status_code in (400, 413, 422) and "error" in big.json()
        assert http.get("/healthz").json() == {"status": "ok"}


def test_bodies_over_64_kb_are_refused_unread(server: ThreadedServer) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        body = b'{"prompt": "' + MARKER.encode() * 10_000 + b'"}'
        declared = http.post("/api/battles", content=body, headers={"content-type": "application/json"})
        assert "larger than 65536" in refusal(declared, 413, "too_large")

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
            yield b'{"prompt": "'
            for _ in range(200):
                yield MARKER.encode() * 100
            yield b'"}'

        streamed = http.post("/api/battles", content=chunks(), headers={"content-type": "application/json"})
        refusal(streamed, 413, "too_large")
        assert http.post("/api/battles", json={}).status_code == 200  # still serving


def test_a_huge_declared_body_is_refused_before_it_is_sent(server: ThreadedServer) -> None:
    """A 100 MB Content-Length is answered at once: the server reads no byte of the body."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            b"POST /api/battles HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 104857600\r\n\r\n"
        )
        answer = b""
        while b"too_large" not in answer and (chunk := sock.recv(4096)):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413") and b"too_large" in answer


def test_invisible_and_direction_marks_in_prompts() -> None:
    from arena.services.inputs import clean_text
    from arena.services.views import Refusal

    for bad in ("\u200b\u200b", " \u2060\ufeff ", "\u202eA red ball", "a \u2066ball\u2069"):
        with pytest.raises(Refusal):
            clean_text(bad)
    assert clean_text(" \U0001f469\u200d\U0001f4bb codes a red ball ") == "\U0001f469\u200d\U0001f4bb codes a red ball"
