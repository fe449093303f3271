"""Drawing one shape: signed distance functions of the six shapes and an anti-aliased alpha blend."""

from __future__ import annotations

import math

import numpy as np


# -- shapes: signed distance (pixels, negative inside) of a shape of "radius" r at offset (x, y) ----------
def sdf(shape: str, x: np.ndarray, y: np.ndarray, r: float) -> np.ndarray:
    if shape == "circle":
        return np.hypot(x, y) - r
    if shape == "ring":
        return np.abs(np.hypot(x, y) - 0.72 * r) - 0.28 * r
    if shape == "square":
        b = 0.8 * r
        qx, qy = np.abs(x) - b, np.abs(y) - b
        return np.hypot(np.maximum(qx, 0), np.maximum(qy, 0)) + np.minimum(np.maximum(qx, qy), 0)
    if shape == "triangle":  # equilateral, circumradius r, pointing up (image y grows downwards)
        k, a = math.sqrt(3.0), r * math.sqrt(3.0) / 2
        px, py = np.abs(x) - a, -y + a / k
        flip = px + k * py > 0
        px, py = np.where(flip, (px - k * py) / 2, px), np.where(flip, (-k * px - py) / 2, py)
        px = px - np.clip(px, -2 * a, 0)
        return -np.hypot(px, py) * np.sign(py)
    if shape == "star":  # five points, outer radius r
        k1x, k1y = 0.809016994375, -0.587785252292
        px, py = np.abs(x), -y
        for kx, ky in ((k1x, k1y), (-k1x, k1y)):
            d = 2.0 * np.maximum(kx * px + ky * py, 0.0)
            px, py = px - d * kx, py - d * ky
        px, py = np.abs(px), py - r
        bax, bay = 0.45 * -k1y, 0.45 * k1x - 1.0
        h = np.clip((px * bax + py * bay) / (bax * bax + bay * bay), 0.0, r)
        return np.hypot(px - bax * h, py - bay * h) * np.sign(py * bax - px * bay)
    # heart: the unit heart spans y 0..1.1 with its tip at 0; scale it to a height of 2r
    s = 0.55 / r
    px, py = np.abs(x) * s, -y * s + 0.55
    lobe = np.hypot(px - 0.25, py - 0.75) - math.sqrt(2) / 4
    t = 0.5 * np.maximum(px + py, 0.0)
    body = np.sqrt(np.minimum(px * px + (py - 1.0) ** 2, (px - t) ** 2 + (py - t) ** 2)) * np.sign(px - py)
    return np.where(px + py > 1.0, lobe, body) / s


def draw_shape(
    frame: np.ndarray, shape: str, rgb: np.ndarray, x: float, y: float, r: float, angle: float, mark: bool = False
) -> None:
    """Alpha-blend one anti-aliased shape into a float32 (H, W, 3) frame, touching only its bounding box.

    ``mark``: a darker dot near the rim, so that a turning circle or ring is seen to turn."""
    height, width, _ = frame.shape
    ext = 1.2 * r + 2
    x0, x1 = max(0, int(x - ext)), min(width, int(x + ext) + 1)
    y0, y1 = max(0, int(y - ext)), min(height, int(y + ext) + 1)
    if x0 >= x1 or y0 >= y1:
        return
    dx = np.arange(x0, x1, dtype=np.float32)[None, :] + 0.5 - x
    dy = np.arange(y0, y1, dtype=np.float32)[:, None] + 0.5 - y
    if angle:
        c, s = math.cos(angle), math.sin(angle)
        dx, dy = c * dx + s * dy, -s * dx + c * dy
    alpha = np.clip(0.5 - sdf(shape, dx, dy, r), 0.0, 1.0)
    if mark and shape in ("circle", "ring"):
        dot = np.clip(0.5 - (np.hypot(dx - 0.72 * r, dy) - 0.16 * r), 0.0, 1.0)[..., None]
        colour = rgb * (1 - dot) + rgb * 0.45 * dot
    else:
        colour = rgb
    region = frame[y0:y1, x0:x1]
    a = alpha[..., None]
    region *= 1 - a
    region += a * colour
