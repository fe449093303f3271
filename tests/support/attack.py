"""What a determined client measures of the clips it is served: decoded-frame thumbnails, and the sizes of the
coded slices (H.264 NAL units of types 1 and 5, read under any padding). Shared by the blind-attack tests."""

from __future__ import annotations

import io
import time
from typing import Any

import av
import httpx
import numpy as np


def decode(data: bytes) -> np.ndarray:
    with av.open(io.BytesIO(data)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


def thumb(frames: np.ndarray, k: int = 32) -> np.ndarray:
    """Downscaled grey frames (F, k, k): a simple perceptual signature, as a client would compute it."""
    grey = frames.astype(np.float32).mean(axis=3)
    count, height, width = grey.shape
    grey = grey[:, : height // k * k, : width // k * k]
    return grey.reshape(count, k, height // k, k, width // k).mean(axis=(2, 4))


def distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).mean()) if a.shape == b.shape else float("inf")


def slice_sizes(data: bytes) -> list[int]:
    """Per frame, the bytes of its coded slices (what a parser reads under filler padding)."""
    out = []
    with av.open(io.BytesIO(data)) as container:
        for packet in container.demux(container.streams.video[0]):
            if not packet.size:
                continue
            raw, i, total = bytes(packet), 0, 0
            while i + 4 <= len(raw):
                size = int.from_bytes(raw[i : i + 4], "big")
                if raw[i + 4] & 0x1F in (1, 5):
                    total += size
                i += 4 + size
            out.append(total)
    return out


def until_shown(http: httpx.Client, battle: dict[str, Any], timeout_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while battle["status"] == "generating":
        assert time.monotonic() < deadline, "a battle was not ready in time"
        time.sleep(0.05)
        battle = http.get(f"/api/battles/{battle['id']}").json()
    assert battle["status"] == "shown", battle
    return battle


def nearest(library: list[tuple[str, np.ndarray]], item: np.ndarray) -> tuple[float, str | None]:
    """(distance, model) of the closest known thumbnail."""
    return min(((distance(item, t), m) for m, t in library), default=(float("inf"), None))
