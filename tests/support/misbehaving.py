"""A model that misbehaves as its prompt says (a `python` adapter target), and an HTTP model server in front of it
that can also answer garbage: the bad models of the fuzz tests."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import numpy as np

BEHAVIOURS = ("raise", "hang", "nan", "shape", "zero", "huge", "channels", "none", "garbage", "status500", "ok")
HANG_S = 2.5  # longer than the tests' generation timeout, short enough that the thread ends soon after


def behaviour_of(prompt: str) -> str:
    return next((b for b in BEHAVIOURS if f"<{b}>" in prompt), "ok")


def generate(prompt: str, seed: int = 0, num_frames: int = 4, width: int = 32, height: int = 32) -> Any:
    kind = behaviour_of(prompt)
    if kind in ("raise", "status500"):
        raise RuntimeError(f"misbehaving model failed on purpose ({kind}) at {os.getpid()}")
    if kind == "hang":
        time.sleep(HANG_S)
    if kind == "nan":
        return np.full((num_frames, height, width, 3), np.nan, np.float32)
    if kind == "shape":
        return np.zeros((num_frames, height, width), np.uint8)
    if kind == "zero":
        return np.zeros((0, height, width, 3), np.uint8)
    if kind == "huge":
        return np.full((2, 1024, 1024, 3), 90, np.uint8)
    if kind == "channels":
        return np.zeros((num_frames, height, width, 4), np.uint8)
    if kind == "none":
        return None
    rng = np.random.default_rng(seed)
    return rng.integers(0, 255, (num_frames, height, width, 3), dtype=np.uint8)


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class Garbage:
    """ASGI wrapper of the model server: a generate request whose prompt asks for garbage gets random bytes
    labelled video/mp4, and one asking for a slow answer waits first; everything else passes through."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], slow_s: float = 2.5) -> None:
        self.app = app
        self.slow_s = slow_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/v1/generate":
            await self.app(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        prompt = str(json.loads(body or b"{}").get("prompt", ""))
        if behaviour_of(prompt) == "garbage" or "<slow>" in prompt:
            if "<slow>" in prompt:
                import asyncio

                await asyncio.sleep(self.slow_s)
            data = os.urandom(2048)
            headers = [(b"content-type", b"video/mp4"), (b"content-length", str(len(data)).encode())]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": data})
            return
        sent = False

        async def replay() -> MutableMapping[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)
