"""Drawing one shape: signed distance functions of the six shapes and an anti-aliased alpha blend.

A shape is drawn into every frame of a clip at once (a pose per frame): on small frames numpy's cost per call
outweighs its arithmetic, so one call per clip instead of one per frame renders a 4-frame 64x64 training stack
~17 % faster. Each pixel is computed exactly as drawing its frame alone computed it (in float64, as the poses
are), so clips, and the tiny CLIP's training data with them, are the same to the bit
(tests/adapters/test_shapes_draw.py)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


# -- shapes: signed distance (pixels, negative inside) of a shape of "radius" r at offset (x, y) ----------
def sdf(shape: str, x: np.ndarray, y: np.ndarray, r: float | np.ndarray) -> np.ndarray:
    """``x``, ``y``: offsets; ``r``: a radius, or an array of them broadcasting against the offsets."""
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
    frames: np.ndarray,
    shape: str,
    rgb: np.ndarray,
    xs: Sequence[float],
    ys: Sequence[float],
    rs: Sequence[float],
    angles: Sequence[float],
    mark: bool = False,
    frame_of: Sequence[int] | None = None,
) -> None:
    """Alpha-blend one anti-aliased shape into frames of the float32 ``frames`` (F, H, W, 3), one layer at a time
    in order: layer i into frame ``frame_of[i]`` (default: frame i), centred on (xs[i], ys[i]), radius rs[i],
    turned by angles[i], touching only its bounding box there. Several copies of a shape are drawn in one call as
    consecutive runs of layers (copy after copy, as drawing them one by one would).

    ``mark``: a darker dot near the rim, so that a turning circle or ring is seen to turn."""
    _, height, width, _ = frames.shape
    boxes = []  # (layer, frame, x0, x1, y0, y1) of each layer seen in its frame
    for i, (f, x_f, y_f, r_f) in enumerate(zip(frame_of or range(len(xs)), xs, ys, rs, strict=True)):
        ext = 1.2 * r_f + 2
        x0, x1 = max(0, int(x_f - ext)), min(width, int(x_f + ext) + 1)
        y0, y1 = max(0, int(y_f - ext)), min(height, int(y_f + ext) + 1)
        if x0 < x1 and y0 < y1:
            boxes.append((i, f, x0, x1, y0, y1))
    if not boxes:
        return
    # Layers a chunk at a time, each chunk's arrays small enough to stay in cache (on big frames the blend terms
    # of every layer at once made the clip slower than drawing copy by copy).
    chunk = max(1, 2**14 // max((b[3] - b[2]) * (b[5] - b[4]) for b in boxes))
    x, y, r = (np.asarray(v, dtype=np.float64) for v in (xs, ys, rs))  # once, for every chunk
    for start in range(0, len(boxes), chunk):
        _blend(frames, shape, rgb, mark, (x, y, r, angles), boxes[start : start + chunk])


Poses = tuple[np.ndarray, np.ndarray, np.ndarray, Sequence[float]]  # float64 xs, ys, rs and the angles of the layers


def _blend(
    frames: np.ndarray, shape: str, rgb: np.ndarray, mark: bool, poses: Poses, boxes: Sequence[tuple[int, ...]]
) -> None:
    """Draw the layers of ``boxes`` (layer, frame, x0, x1, y0, y1), in order."""
    xs, ys, rs, angles = poses
    seen = [b[0] for b in boxes]
    # Offsets over one box size for all layers (a layer's own box is the top-left part of it).
    box_w, box_h = max(b[3] - b[2] for b in boxes), max(b[5] - b[4] for b in boxes)
    left = np.array([b[2] for b in boxes], dtype=np.float64)[:, None, None]
    top = np.array([b[4] for b in boxes], dtype=np.float64)[:, None, None]
    x, y, r = (v[seen][:, None, None] for v in (xs, ys, rs))
    dx = left + np.arange(box_w, dtype=np.float64)[None, None, :] + 0.5 - x
    dy = top + np.arange(box_h, dtype=np.float64)[None, :, None] + 0.5 - y
    turn = [angles[i] for i in seen]
    if any(turn):  # (cos 0 = 1 and sin 0 = 0 leave an unturned layer's offsets as they are, to the bit)
        c = np.array([math.cos(a) for a in turn])[:, None, None]
        s = np.array([math.sin(a) for a in turn])[:, None, None]
        dx, dy = c * dx + s * dy, -s * dx + c * dy
    alpha = np.clip(0.5 - sdf(shape, dx, dy, r), 0.0, 1.0)[..., None]
    # The blend's two terms for every layer at once, with the colour axis spelt out: numpy broadcasting a size-1
    # axis against 3 colours runs inner loops of 3 elements, several times slower on these small boxes.
    alpha3 = np.repeat(alpha, 3, axis=-1)
    if mark and shape in ("circle", "ring"):
        dot = np.clip(0.5 - (np.hypot(dx - 0.72 * r, dy) - 0.16 * r), 0.0, 1.0)[..., None]
        paint = alpha3 * (rgb * (1 - dot) + rgb * 0.45 * dot)
    else:  # alpha * rgb, along rows of (x, colour)
        paint = (alpha3.reshape(len(boxes), box_h, 3 * box_w) * np.tile(rgb, box_w)).reshape(alpha3.shape)
    keep = 1 - alpha3
    for k, (_, f, x0, x1, y0, y1) in enumerate(boxes):
        region = frames[f, y0:y1, x0:x1]
        region *= keep[k, : y1 - y0, : x1 - x0]
        region += paint[k, : y1 - y0, : x1 - x0]
