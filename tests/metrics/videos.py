"""Hand-built test videos for the metric tests."""

from __future__ import annotations

import numpy as np


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
