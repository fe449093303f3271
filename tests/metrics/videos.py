"""Hand-built test videos for the metric tests."""

from __future__ import annotations

import numpy as np


def moving_square(frames: int = 8, h: int = 48, w: int = 64, step: int = 3, size: int = 12) -> np.ndarray:
    """A white square sliding right over a gradient: real motion, a little texture."""
    video = np.zeros((frames, h, w, 3), np.uint8)
    video[..., 2] = np.linspace(0, 200, w, dtype=np.uint8)[None, None, :]
    for t in range(frames):
        x = 4 + step * t
        video[t, h // 3 : h // 3 + size, x : x + size] = 255
    return video


def constant_video(frames: int = 6, h: int = 32, w: int = 40, colour: tuple[int, int, int] = (30, 90, 200)):
    return np.broadcast_to(np.array(colour, np.uint8), (frames, h, w, 3)).copy()


def alternating_video(frames: int = 8, h: int = 32, w: int = 40) -> np.ndarray:
    """Two different images, A B A B ...: maximal flicker, no coherent motion."""
    a = np.zeros((h, w, 3), np.uint8)
    a[: h // 2] = (220, 40, 40)
    b = np.full((h, w, 3), 30, np.uint8)
    b[:, w // 3 :] = (40, 200, 90)
    return np.stack([a if t % 2 == 0 else b for t in range(frames)])


def noise_video(frames: int = 6, h: int = 32, w: int = 40, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (frames, h, w, 3), dtype=np.uint8)


def rendered_clip(frames: int = 24, h: int = 144, w: int = 176, speed: float = 1.0) -> np.ndarray:
    """A rendered scene: a shaded ball crossing a textured, slowly panning background (for a real H.264 clip)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    out = np.empty((frames, h, w, 3), np.uint8)
    for t in range(frames):
        pan = 1.5 * speed * t
        sky = 0.5 + 0.25 * np.sin((xx + pan) / 9.0) * np.cos(yy / 7.0) + 0.2 * (yy / h)
        img = np.stack([0.3 * sky, 0.5 * sky, 0.9 * sky], axis=-1)
        cx, cy = 20 + 5.0 * speed * t, h / 2 + 20 * np.sin(speed * t / 4.0)
        d2 = (xx - cx) ** 2 + (yy - cy) ** 2
        ball = d2 < 18**2
        shade = np.clip(1.0 - ((xx - cx + 6) ** 2 + (yy - cy + 6) ** 2) / 900.0, 0.2, 1.0)
        img[ball] = np.stack([shade, 0.3 * shade, 0.2 * shade], axis=-1)[ball]
        out[t] = np.clip(img * 255, 0, 255).astype(np.uint8)
    return out
