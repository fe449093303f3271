"""HTTPAdapter against the real protocol server (adapters.http_server) on 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from adapters.base import GenerationRequest, RawVideo, ResolvedRequest, VideoAdapter
from adapters.capabilities import Capabilities, FrameRule, SizeRule
from adapters.errors import (
    AdapterUnavailableError,
    GenerationError,
    OutputContractError,
    RequestError,
)
from adapters.http_adapter import HTTPAdapter
from adapters.http_server import create_app

CAPS = Capabilities(
    frames=FrameRule(step=4, offset=1, min=5, max=33),
    size=SizeRule(multiple=16, min=32, max=128),
    default_frames=9,
    default_width=64,
    default_height=48,
    default_fps=12.0,
)


class ScriptedAdapter(VideoAdapter):
    """A server-side model following a script: a gradient video, an error, or blocking until released."""

    kind = "scripted"

    def __init__(self, behaviour: str, frames: Callable[..., np.ndarray]) -> None:
        super().__init__("scripted-model")
        self.behaviour = behaviour
        self.frames = frames
        self.seeds: list[int] = []
        self.entered = threading.Event()
        self.release = threading.Event()

    def capabilities(self) -> Capabilities:
        return CAPS

    def _generate(self, r: ResolvedRequest) -> RawVideo:
        self.seeds.append(r.seed)
        if self.behaviour == "fail":
            raise GenerationError(self.model_id, "CUDA out of memory (scripted)")
        if self.behaviour == "refuse":
            raise RequestError(self.model_id, "no prompts about cats (scripted)")
        if self.behaviour == "crash":
            raise RuntimeError("boom")
        if self.behaviour == "nan":
            return RawVideo(np.full((r.num_frames, r.height, r.width, 3), np.nan, dtype=np.float32))
        if self.behaviour == "block":
            self.entered.set()
            assert self.release.wait(10), "the test never released the server"
        return RawVideo(self.frames(r.num_frames, r.width, r.height, r.seed), fps=r.fps)


@pytest.fixture
def scripted(serve_app, make_gradient):  # type: ignore[no-untyped-def]
    """(adapter, url) for a scripted server; blocked calls are released before the server stops."""
    started: list[ScriptedAdapter] = []

    def start(behaviour: str = "gradient", token: str | None = None) -> tuple[ScriptedAdapter, str]:
        adapter = ScriptedAdapter(behaviour, make_gradient)
        started.append(adapter)
        return adapter, serve_app(create_app(adapter, token)).url

    yield start
    for adapter in started:
        adapter.release.set()


def client(url: str, **params: Any) -> HTTPAdapter:
    adapter = HTTPAdapter.from_config("remote-model", {"url": url, **params})
    assert isinstance(adapter, HTTPAdapter)
    return adapter


def test_frames_round_trip_and_seed_is_honoured(scripted, make_gradient) -> None:  # type: ignore[no-untyped-def]
    server_model, url = scripted()
    remote = client(url)  # capabilities come from /v1/health
    req = GenerationRequest(prompt="a red fox runs", seed=1234, num_frames=10, width=70, height=50)
    video = remote.generate(req)
    assert server_model.seeds == [1234]
    assert video.seed == 1234 and video.fps == 12.0
    assert video.frames.shape == (9, 48, 64, 3) and video.frames.dtype == np.uint8
    assert video.provenance.adjustments == {"num_frames": [10, 9], "width": [70, 64], "height": [50, 48]}
    error = np.abs(video.frames.astype(int) - make_gradient(9, 64, 48, 1234).astype(int)).mean()
    assert error < 3, f"frames changed by {error:.2f} levels on the way"
    assert video.provenance.params["remote"]["model_id"] == "scripted-model"
    assert video.provenance.adapter_kind == "http"

    other = remote.generate(req.model_copy(update={"seed": 7}))
    assert server_model.seeds == [1234, 7]
    assert np.abs(other.frames.astype(int) - video.frames.astype(int)).mean() > 10
    remote.close()


@pytest.mark.parametrize(
    ("behaviour", "error", "words"),
    [
        ("fail", GenerationError, "CUDA out of memory (scripted)"),
        ("crash", GenerationError, "RuntimeError: boom"),
        ("refuse", RequestError, "no prompts about cats"),
        ("nan", OutputContractError, "frames contain NaN"),
    ],
)
def test_server_errors_arrive_typed_with_the_servers_message(scripted, behaviour, error, words) -> None:  # type: ignore[no-untyped-def]
    _, url = scripted(behaviour)
    with pytest.raises(error) as info:
        client(url).generate(GenerationRequest(prompt="a cat", seed=1))
    assert words in str(info.value) and "remote-model" in str(info.value)
    assert type(info.value) is error


def test_protocol_errors_are_json_with_status_codes(scripted) -> None:  # type: ignore[no-untyped-def]
    _, url = scripted()
    with httpx.Client(base_url=url, timeout=5) as http:
        bad_json = http.post("/v1/generate", content=b"{nope", headers={"Content-Type": "application/json"})
        out_of_range = http.post("/v1/generate", json={"prompt": "x", "num_frames": 0})
        unknown_key = http.post("/v1/generate", json={"prompt": "x", "frames": 8})
        missing = http.get("/v2/anything")
    assert bad_json.status_code == 400 and bad_json.json()["error"]["code"] == "bad_request"
    assert out_of_range.status_code == 422 and "num_frames" in out_of_range.json()["error"]["message"]
    assert unknown_key.status_code == 422 and "frames" in unknown_key.json()["error"]["message"]
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_slow_server_times_out_within_the_configured_time(scripted) -> None:  # type: ignore[no-untyped-def]
    server_model, url = scripted("block")
    remote = client(url, timeout_s=0.5, capabilities=CAPS.model_dump())
    start = time.perf_counter()
    with pytest.raises(GenerationError, match=r"timed out: no answer after 0\.5 s"):
        remote.generate(GenerationRequest(prompt="slow", seed=3))
    elapsed = time.perf_counter() - start
    assert server_model.entered.is_set()
    assert elapsed < 1.5, f"a 0.5 s timeout took {elapsed:.2f} s"


def test_busy_server_answers_503_and_the_client_says_busy(scripted) -> None:  # type: ignore[no-untyped-def]
    server_model, url = scripted("block")
    results: list[Any] = []
    first = threading.Thread(target=lambda: results.append(client(url).generate(GenerationRequest(prompt="a"))))
    first.start()
    assert server_model.entered.wait(10)
    assert client(url).health().status == "busy"
    with pytest.raises(GenerationError, match="busy"):
        client(url, retries=0).generate(GenerationRequest(prompt="b"))
    server_model.release.set()
    first.join(10)
    assert len(results) == 1 and results[0].num_frames == 9  # the first call still finished


def test_bytes_that_are_not_a_video_are_an_output_contract_error(serve_app) -> None:  # type: ignore[no-untyped-def]
    from fastapi import FastAPI
    from fastapi.responses import Response

    app = FastAPI()

    @app.post("/v1/generate")
    def garbage() -> Response:
        return Response(b"\x00\x01 definitely not an mp4 " * 20, media_type="video/mp4", headers={"X-Seed": "5"})

    url = serve_app(app).url
    with pytest.raises(OutputContractError, match="not a video"):
        client(url, capabilities={}).generate(GenerationRequest(prompt="x", seed=5))


def test_wrong_or_missing_token_is_unavailable(scripted, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _, url = scripted(token="s3cret")
    monkeypatch.setenv("ARENA_TEST_TOKEN", "wrong")
    remote = client(url, token_env="ARENA_TEST_TOKEN", capabilities={})
    with pytest.raises(AdapterUnavailableError, match="wrong or missing token"):
        remote.generate(GenerationRequest(prompt="x", seed=1))
    assert not remote.check().ok
    with pytest.raises(AdapterUnavailableError, match="wrong or missing token"):
        client(url, capabilities={}).generate(GenerationRequest(prompt="x", seed=1))  # no token at all

    monkeypatch.setenv("ARENA_TEST_TOKEN", "s3cret")
    assert client(url, token_env="ARENA_TEST_TOKEN").generate(GenerationRequest(prompt="x", seed=1)).seed == 1
    monkeypatch.delenv("ARENA_TEST_TOKEN")
    with pytest.raises(AdapterUnavailableError, match=r"ARENA_TEST_TOKEN .* is not set"):
        client(url, token_env="ARENA_TEST_TOKEN", capabilities={}).generate(GenerationRequest(prompt="x"))


def test_health_check_ok_and_unreachable(scripted, unused_port) -> None:  # type: ignore[no-untyped-def]
    _, url = scripted()
    availability = client(url).check()
    assert availability.ok and "scripted-model" in availability.detail

    gone = client(f"http://127.0.0.1:{unused_port}", connect_timeout_s=1, health_timeout_s=1)
    start = time.perf_counter()
    availability = gone.check()
    assert not availability.ok and "cannot connect" in availability.detail
    with pytest.raises(AdapterUnavailableError, match="cannot read capabilities"):
        gone.capabilities()
    with pytest.raises(AdapterUnavailableError, match="cannot connect"):
        client(f"http://127.0.0.1:{unused_port}", capabilities={}).generate(GenerationRequest(prompt="x"))
    assert time.perf_counter() - start < 5


def test_params_reject_bad_urls_and_two_token_sources() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="http"):
        client("ftp://x")
    with pytest.raises(ValidationError, match="not both"):
        client("http://x", token="t", token_env="T")
    assert "hunter2" not in repr(client("http://x", token="hunter2").params)


@pytest.mark.slow
def test_cli_serve_model_serves_a_python_callable(tmp_path: Path, unused_port: int, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from adapters.python_adapter import example_callable

    models = tmp_path / "models.yaml"
    models.write_text(
        "models:\n"
        "  - id: served-fn\n"
        "    display_name: Served function\n"
        "    kind: python\n"
        "    params:\n"
        "      target: adapters.python_adapter:example_callable\n"
        "      capabilities: {size: {multiple: 16}, default_frames: 5, default_fps: 10}\n",
        encoding="utf-8",
    )
    arena = Path(sys.executable).parent / "arena"
    monkeypatch.setenv("ARENA_SERVE_TOKEN", "tok-123")  # read by the server process and by the client
    cmd = [str(arena), "serve-model", "served-fn", "--models-file", str(models), "--port", str(unused_port)]
    proc = subprocess.Popen(
        [*cmd, "--token-env", "ARENA_SERVE_TOKEN", "--log-level", "warning"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        remote = client(f"http://127.0.0.1:{unused_port}", token_env="ARENA_SERVE_TOKEN", connect_timeout_s=1)
        deadline = time.monotonic() + 30
        while not (availability := remote.check()).ok:  # bounded: 30 s for the process to start
            assert proc.poll() is None, proc.communicate()[0].decode()
            assert time.monotonic() < deadline, availability.detail
            time.sleep(0.1)
        video = remote.generate(GenerationRequest(prompt="a boat", seed=42, width=44, height=44))
        assert video.frames.shape == (5, 48, 48, 3) and video.fps == 10.0 and video.seed == 42
        expected = example_callable("a boat", seed=42, num_frames=5, width=48, height=48)
        assert np.abs(video.frames.astype(int) - expected.astype(int)).mean() < 3
        remote.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
