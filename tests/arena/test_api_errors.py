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
NAMED_PAIR = ["alpha-7b", "beta-v2"]


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
            (http.post("/api/battles", json={"prompt": "x" * 5000}), 400, "invalid"),
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
        assert "prompt" in refusal(surrogate, 400, "invalid")  # a text rule, as an over-long prompt
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


def test_an_over_long_prompt_is_one_400_whatever_its_length(server: ThreadedServer) -> None:
    """A prompt over MAX_PROMPT_CHARS is refused by the one text rule (400 invalid, as documented), whether it
    is one character over or 60,000 (up to 2,000 the service refused it with 400, past 2,000 the schema with 422)."""
    from arena.services.inputs import MAX_PROMPT_CHARS

    with httpx.Client(base_url=server.url, timeout=30) as http:
        for length in (MAX_PROMPT_CHARS + 1, 2001, 60_000):
            reason = refusal(http.post("/api/battles", json={"prompt": MARKER + "x" * length}), 400, "invalid")
            assert reason == f"the prompt is longer than {MAX_PROMPT_CHARS} characters"
        assert http.post("/api/battles", json={"prompt": "a red ball " + "x" * 980}).status_code == 200


def raw_request(port: int, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
    """One request with the path sent exactly as given (httpx and browsers resolve ``..`` before sending)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def test_unknown_api_paths_get_our_404_and_wrong_methods_a_405_with_the_gradio_ui_mounted(arena: Arena) -> None:
    """Every path under /api that no route serves answers in our format, not Gradio's ``{"detail"}`` (which
    answered /api, OPTIONS and, sent unresolved, paths with ``..``); a known path with a wrong method is a 405
    naming the methods it takes (Allow header)."""
    from arena.server import create_app

    srv = ThreadedServer(create_app(arena)).start()
    try:
        unknown = [
            ("GET", "/api"),
            ("POST", "/api?x=1"),
            ("GET", "/api/battles/../x"),
            ("POST", "/api/battles/../../api/x"),
            ("GET", "/api/battles/..%2Fx"),
            ("GET", "/api/battles/x/y/z"),
            ("OPTIONS", "/api/nothing"),
            ("DELETE", "/api//x"),
            ("GET", "/api/predict"),
        ]
        for method, path in unknown:
            status, _, body = raw_request(srv.port, method, path)
            assert (status, body) == (404, b'{"error":{"code":"not_found","reason":"no such API route"}}'), path
        for method, path, allowed in [("GET", "/api/battles", "POST"), ("PUT", "/api/leaderboard", "GET")]:
            status, headers, body = raw_request(srv.port, method, path)
            assert status == 405 and headers["allow"] == allowed, (path, status, body)
            assert body == b'{"error":{"code":"method_not_allowed","reason":"this route takes %s"}}' % allowed.encode()
        assert raw_request(srv.port, "GET", "/api/leaderboard")[0] == 200
        assert raw_request(srv.port, "GET", "/")[0] == 200  # the UI is still at "/"
    finally:
        srv.stop()


def test_named_battles_on_pool_prompts_are_403_in_the_error_format(server: ThreadedServer) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        bodies = [
            {"mode": "named", "models": NAMED_PAIR},
            {"mode": "named", "models": NAMED_PAIR, "prompt_id": 1},
            {"mode": "named", "models": NAMED_PAIR, "prompt": " A Red Ball Rolls Left."},
            {"prompt": "A red ball rolls left"},
        ]
        for body in bodies:
            answer = http.post("/api/battles", json=body)
            assert answer.status_code == 403 and set(answer.json()["error"]) == {"code", "reason"}, answer.text
            assert answer.json()["error"]["code"] == "pool_prompt"
        fine = http.post("/api/battles", json={"mode": "named", "models": NAMED_PAIR, "prompt": "a red cat"})
        assert fine.status_code == 200 and fine.json()["left"]["model"] in ("Alpha Seven", "Beta Two")


def test_invisible_and_direction_marks_in_prompts() -> None:
    from arena.services.inputs import clean_text
    from arena.services.views import Refusal

    for bad in ("\u200b\u200b", " \u2060\ufeff ", "\u202eA red ball", "a \u2066ball\u2069"):
        with pytest.raises(Refusal):
            clean_text(bad)
    assert clean_text(" \U0001f469\u200d\U0001f4bb codes a red ball ") == "\U0001f469\u200d\U0001f4bb codes a red ball"
