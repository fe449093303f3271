"""Shared fixtures: the tiny random encoder (loaded once) and hand-built videos."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def moving_square(frames: int = 8, h: int = 48, w: int = 64, step: int = 3) -> np.ndarray:
    """A white square sliding right over a gradient: real motion, a little texture."""
    video = np.zeros((frames, h, w, 3), np.uint8)
    video[..., 2] = np.linspace(0, 200, w, dtype=np.uint8)[None, None, :]
    for t in range(frames):
        x = 4 + step * t
        video[t, h // 3 : h // 3 + 12, x : x + 12] = 255
    return video


def constant_video(frames: int = 6, h: int = 32, w: int = 40, colour: tuple[int, int, int] = (30, 90, 200)):
    return np.broadcast_to(np.array(colour, np.uint8), (frames, h, w, 3)).copy()


@pytest.fixture(scope="session")
def tiny_encoder():
    from metrics.encoders import load_encoder

    return load_encoder("tiny-random", device="cpu")


@pytest.fixture(scope="session")
def scorer(tiny_encoder):
    """A Scorer over the session's tiny encoder (its own caches)."""
    from metrics.scorer import Scorer

    return Scorer("tiny-random", device="cpu", batch_size=4, loaded=[tiny_encoder])
