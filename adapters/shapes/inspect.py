"""What a clip shows, measured from its pixels, and how far that is from what a prompt asks: the eye of the
simulated voters.

:func:`look` reduces a clip to a few facts (which palette colours cover how much, how many blobs, their shape
descriptors, where the foreground's centroid goes, how much the picture changes, brightness, sharpness);
:func:`judge` renders the prompt's ground truth at the clip's size and compares the two, giving one error per
aspect, each about 1 for a full-strength defect of that kind and about 0 for a faithful clip.
It sees only pixels: it never reads a model's name or a video's provenance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adapters.shapes.lexicon import COLOURS, PALETTE
from adapters.shapes.render import render_scene
from adapters.shapes.scene import Scene, parse_prompt

SHORT_SIDE = 96  # clips are looked at with this short side (enough for counts, shapes and blur)
_PALETTE = np.asarray([PALETTE[c] for c in COLOURS], dtype=np.float32)
# Scale of each aspect's raw distance that a full-strength defect reaches (measured on the demo generators).
SCALES = {
    "colour": 1.0,
    "shape": 0.34,
    "count": 0.5,
    "motion": 0.2,
    "stillness": 1.0,
    "jerk": 0.1,
    "flicker": 12.0,
    "blur": 0.47,
}


@dataclass(frozen=True)
class Facts:
    colours: np.ndarray  # (len(COLOURS),) share of foreground pixels nearest each palette colour
    area: np.ndarray  # (F,) foreground share of each frame
    centroid: np.ndarray  # (F, 2) foreground centroid, in frame widths/heights
    blobs: float  # connected foreground blobs (median over three frames)
    shape: np.ndarray  # (3,) mean extent, solidity and hole share of the blobs of the middle frame
    change: float  # mean absolute change between consecutive frames inside the foreground, brightness-normalised
    brightness: np.ndarray  # (F,) mean luminance
    sharpness: float  # 99th percentile of the luminance gradient


def _resize(frames: np.ndarray) -> np.ndarray:
    import cv2

    h, w = frames.shape[1:3]
    scale = SHORT_SIDE / min(h, w)
    if abs(scale - 1.0) < 1e-6:
        return frames.astype(np.float32)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return np.stack([cv2.resize(f, size, interpolation=interp) for f in frames]).astype(np.float32)


def _blob_shape(mask: np.ndarray) -> tuple[float, np.ndarray]:
    import cv2
    from scipy import ndimage

    labels, _ = ndimage.label(mask)
    found = []
    for i, box in enumerate(ndimage.find_objects(labels), 1):
        blob = labels[box] == i
        area = float(blob.sum())
        if area < 6:
            continue
        filled = ndimage.binary_fill_holes(blob)
        points = np.argwhere(filled)[:, ::-1].astype(np.int32)
        hull = float(cv2.contourArea(cv2.convexHull(points))) + 0.5 * len(cv2.convexHull(points))
        found.append((area / blob.size, float(filled.sum()) / max(hull, 1.0), 1.0 - area / float(filled.sum())))
    return float(len(found)), np.mean(found, axis=0) if found else np.zeros(3)


def look(frames: np.ndarray) -> Facts:
    """The facts of a uint8 (F, H, W, 3) clip."""
    x = _resize(frames)
    background = np.median(x.reshape(len(x), -1, 3), axis=1)  # (F, 3)
    fg = np.abs(x - background[:, None, None, :]).max(axis=-1) > 50  # (F, H, W)
    pixels = x[fg]
    if len(pixels):
        nearest = np.linalg.norm(pixels[:, None, :] - _PALETTE[None], axis=-1).argmin(axis=1)
        colours = np.bincount(nearest, minlength=len(COLOURS)) / len(pixels)
    else:
        colours = np.zeros(len(COLOURS))
    h, w = fg.shape[1:]
    area = fg.mean(axis=(1, 2))
    ys, xs = np.arange(h)[None, :, None] / h, np.arange(w)[None, None, :] / w
    weight = np.maximum(fg.sum(axis=(1, 2)), 1)
    centroid = np.stack([(fg * xs).sum(axis=(1, 2)) / weight, (fg * ys).sum(axis=(1, 2)) / weight], axis=1)
    picks = sorted({0, len(x) // 2, len(x) - 1})
    blobs = float(np.median([_blob_shape(fg[i])[0] for i in picks]))
    shape = _blob_shape(fg[len(x) // 2])[1]
    luma = x @ np.asarray([0.299, 0.587, 0.114], dtype=np.float32)
    norm = luma / np.maximum(luma.mean(axis=(1, 2), keepdims=True), 1.0)
    moving = fg[1:] | fg[:-1]
    change = float((np.abs(np.diff(norm, axis=0)) * moving).sum() / max(moving.sum(), 1)) if len(x) > 1 else 0.0
    grad = np.hypot(*np.gradient(luma[len(x) // 2]))
    return Facts(
        colours=colours,
        area=area,
        centroid=centroid,
        blobs=blobs,
        shape=shape,
        change=change,
        brightness=luma.mean(axis=(1, 2)),
        sharpness=float(np.percentile(grad, 99)),
    )


def _log_area(facts: Facts) -> np.ndarray:
    return np.log((facts.area + 1e-3) / (facts.area[0] + 1e-3))


def compare(clip: Facts, truth: Facts) -> dict[str, float]:
    """Per-aspect error of ``clip`` against ``truth`` (0: as asked; about 1: a full-strength defect)."""
    path = (clip.centroid - clip.centroid[0]) - (truth.centroid - truth.centroid[0])
    steps = np.diff(clip.centroid, axis=0) - np.diff(truth.centroid, axis=0)
    raw = {
        "colour": 0.5 * float(np.abs(clip.colours - truth.colours).sum()),
        "shape": float(np.abs(clip.shape - truth.shape).sum()),
        "count": abs(clip.blobs - truth.blobs) / max(truth.blobs, 1.0),
        "motion": float(np.linalg.norm(path, axis=1).mean())
        + 0.1 * float(np.abs(_log_area(clip) - _log_area(truth)).mean()),
        "stillness": max(0.0, 1.0 - clip.change / truth.change) if truth.change > 0.02 else 0.0,
        "jerk": float(np.percentile(np.linalg.norm(steps, axis=1), 90)) if len(steps) else 0.0,
        "flicker": max(0.0, float(np.std(np.diff(clip.brightness))) - float(np.std(np.diff(truth.brightness))))
        if len(clip.brightness) > 2
        else 0.0,
        "blur": max(0.0, 1.0 - clip.sharpness / max(truth.sharpness, 1e-6)),
    }
    return {k: min(v / SCALES[k], 3.0) for k, v in raw.items()}


def truth_facts(scene: Scene, num_frames: int, width: int, height: int, seeds: int = 1) -> Facts:
    """The facts of the ground truth of ``scene`` drawn at this size (seed 0)."""
    return look(render_scene(scene, seed=0, num_frames=num_frames, width=width, height=height))


def judge(frames: np.ndarray, prompt: str | Scene) -> dict[str, float]:
    """Per-aspect error of a clip against what ``prompt`` asks (see :func:`compare`)."""
    scene = parse_prompt(prompt) if isinstance(prompt, str) else prompt
    f, h, w = frames.shape[:3]
    return compare(look(frames), truth_facts(scene, f, w, h))
