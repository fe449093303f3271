"""Motion direction: does the video move the way its prompt asks? A weight-free metric on dense optical flow.

For each pair of frames (sampled at about 8 fps, VBench's rate, at a 128-pixel short side, a faint picture's
contrast raised first) OpenCV's Farnebäck flow is split in two:

* the **camera**: a similarity transform (shift, scale, turn) fitted to the flow of a grid of points by least
  median of squares, so it follows the larger part of the picture (the background). Its shift of the centre,
  negated (a pan left moves the content right), and its scale change (a zoom in makes the content grow) give the
  camera's move as an (x, y, z) vector;
* the **foreground**: the flow left once the camera's is taken away. Pixels that still move form blobs; their
  mean flow (weighted by how far each moves) is the foreground's shift, and a least-squares scale fitted to each
  blob's flow, its own shift taken out, gives its growth (towards the camera) or shrinking (away).

Both vectors are in short sides per second (x right, y down, z towards the camera), averaged over the clip. For an
asked direction d (a unit vector) and a measured move m the score is ``m·d / max(|m|, floor)``: +1 when what moves
goes as asked, -1 the opposite way, 0 when nothing moves or it moves across. The value is the mean over what the
prompt asks: the objects' directions (unit vectors summed: ``a ball moves left while a box rises`` asks up-left)
and the camera's move. A prompt that names no direction, or only directions that cancel (``a ball moves left and a
box moves right``), is *not supported* (no value).

Why not RAFT: the metrics read RAFT only with its trained weights (found offline or not at all), and a random-weight
RAFT says nothing about direction; OpenCV's flow needs no weights, so this metric always runs (about 50 ms of CPU a
16-frame clip). Limits: the foreground is everything that moves against the background, so with several objects
the dominant mover decides (one that circles or bounces can drown one that approaches); which object is which is
not known, so opposite directions of two objects cannot be checked; a subject that fills most of the frame is taken
for the camera; a flat, textureless background shows no camera move; depth (growing, shrinking, zooms) is read
less surely than moves across the picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from metrics import formulas
from metrics.base import Need, NotSupported, Value, VideoMetric
from metrics.directions import VECTORS, AskedMotion, asked_motion
from metrics.features import VideoContext
from metrics.pixel_metrics import MOTION_SHORT_SIDE, gray_frames

SHORT_SIDE = MOTION_SHORT_SIDE  # flow is measured at motion_amount's short side
GRID = 8  # camera fit: one flow sample every GRID pixels
FLOOR = 0.02  # short sides per second: moves slower than this count as standing still
NOISE_PX = 0.1  # residual flow below this many pixels per pair is taken for noise (not foreground)
MIN_BLOB = 6  # pixels: smaller moving blobs are ignored
SPREAD = 40.0  # grey levels: a pair whose median absolute deviation is lower gets its contrast raised to this
# Farnebäck's settings: pyramid scale, levels, window, iterations, polynomial size and sigma.
FARNEBACK = (0.5, 4, 21, 3, 5, 1.1)


@dataclass(frozen=True)
class Moves:
    """Measured moves of one clip, (x, y, z) in short sides per second: the foreground's and the camera's."""

    foreground: np.ndarray
    camera: np.ndarray
    pairs: int


def _stretched(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both frames with one contrast gain (at least 1) that brings their spread about the median to SPREAD: a
    faint background texture (a sky, a wall, the shapes world's) then shows the camera's move to the flow."""
    both = np.concatenate([first.ravel(), second.ravel()]).astype(np.float32)
    median = float(np.median(both))
    gain = max(1.0, SPREAD / max(float(np.median(np.abs(both - median))), 0.5))

    def stretch(x: np.ndarray) -> np.ndarray:
        return np.clip((x.astype(np.float32) - median) * gain + 128.0, 0, 255).astype(np.uint8)

    return stretch(first), stretch(second)


def _flow(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    import cv2

    # OpenCV's stubs require an output array for `flow`; None (allocate one) is what its docs allow.
    return np.asarray(cv2.calcOpticalFlowFarneback(first, second, None, *FARNEBACK, 0))  # type: ignore[call-overload]


def _camera_fit(flow: np.ndarray) -> np.ndarray:
    """The 2x3 similarity that maps a pixel to where the majority of the picture goes (identity when unsure)."""
    import cv2

    h, w = flow.shape[:2]
    ys, xs = np.mgrid[GRID // 2 : h : GRID, GRID // 2 : w : GRID]
    src = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32)
    dst = src + flow[ys.ravel(), xs.ravel()]
    matrix, _ = cv2.estimateAffinePartial2D(src, dst, method=cv2.LMEDS)
    return np.asarray(matrix, dtype=np.float64) if matrix is not None else np.eye(2, 3)


def _camera_move(matrix: np.ndarray, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """(the camera's (x, y, z) move in pixels per pair, the camera's flow field (h, w, 2))."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    points = np.stack([xs, ys], axis=-1)
    field = points @ matrix[:, :2].T + matrix[:, 2] - points
    centre = np.array([(w - 1) / 2, (h - 1) / 2])
    shift = matrix[:, :2] @ centre + matrix[:, 2] - centre  # where the centre of the picture goes
    scale = float(np.hypot(matrix[0, 0], matrix[1, 0]))
    radius = float(np.hypot(xs - centre[0], ys - centre[1]).mean())  # mean outward speed of a zoom
    return np.array([-shift[0], -shift[1], (scale - 1.0) * radius]), field


def _foreground_move(residual: np.ndarray) -> np.ndarray:
    """(x, y, z) of what moves against the camera, in pixels per pair (zeros when nothing does): x, y the mean
    residual flow of the moving pixels weighted by how far they move; z how fast the moving blobs grow, from a
    least-squares scale fitted to each blob's flow once its own shift is taken out (so a shift or a turn adds
    nothing), as the speed of the blob's edge (scale rate times its RMS radius)."""
    from scipy import ndimage

    magnitude = np.hypot(residual[..., 0], residual[..., 1])
    moving = magnitude > NOISE_PX
    labels, count = ndimage.label(moving)
    if count == 0:
        return np.zeros(3)
    weight = np.where(moving, magnitude - NOISE_PX, 0.0)
    shift = (residual * weight[..., None]).sum(axis=(0, 1)) / weight.sum()
    index = np.arange(1, count + 1)

    def per_blob(values: np.ndarray) -> np.ndarray:  # weighted sum over each blob, with a 0 for the background
        return np.concatenate([[0.0], ndimage.sum_labels(values * weight, labels, index)])

    mass = np.maximum(per_blob(np.ones_like(weight)), 1e-9)
    # positions at the middle of each pixel's step: a turn's steps are chords, each pointing slightly inwards
    ys, xs = np.mgrid[0 : residual.shape[0], 0 : residual.shape[1]]
    px, py = xs + residual[..., 0] / 2, ys + residual[..., 1] / 2
    dx, dy = px - (per_blob(px) / mass)[labels], py - (per_blob(py) / mass)[labels]
    fx, fy = (
        residual[..., 0] - (per_blob(residual[..., 0]) / mass)[labels],
        residual[..., 1] - (per_blob(residual[..., 1]) / mass)[labels],
    )
    spread = per_blob(dx * dx + dy * dy)
    scale = per_blob(dx * fx + dy * fy) / np.maximum(spread, 1e-9)  # fitted d(size)/size per pair
    edge = scale * np.sqrt(spread / mass)
    sizes = np.concatenate([[0], ndimage.sum_labels(moving, labels, index)])
    kept = (sizes >= MIN_BLOB) & (np.arange(count + 1) > 0)
    growth = float((edge * mass)[kept].sum() / max(float(mass[kept].sum()), 1e-9)) if kept.any() else 0.0
    return np.array([shift[0], shift[1], growth])


def measure(frames: np.ndarray, fps: float, short_side: int | None = None) -> Moves:
    """The foreground's and the camera's mean moves over a uint8 (F, H, W, 3) clip."""
    # a clip too short for the step (2-3 frames at 24 fps) takes the longest step that still leaves one pair
    interval = max(1, min(formulas.vbench_sample_interval(fps), len(frames) - 1))
    gray = gray_frames(frames[::interval], short_side or SHORT_SIDE)
    per_second = fps / interval / min(gray[0].shape) if len(gray) > 1 else 0.0
    fg, cam = [], []
    for prev, cur in pairwise(gray):
        if np.array_equal(prev, cur):
            fg.append(np.zeros(3))
            cam.append(np.zeros(3))
            continue
        flow = _flow(*_stretched(prev, cur))
        camera, field = _camera_move(_camera_fit(flow), *flow.shape[:2])
        cam.append(camera)
        fg.append(_foreground_move(flow - field))
    if not fg:
        return Moves(np.zeros(3), np.zeros(3), 0)
    return Moves(np.mean(fg, axis=0) * per_second, np.mean(cam, axis=0) * per_second, len(fg))


def agreement(move: np.ndarray, asked: np.ndarray, floor: float = FLOOR) -> float:
    """m·d / max(|m|, floor) for a unit direction d: +1 as asked, -1 opposite, 0 still or across."""
    return float(np.clip(move @ asked / max(float(np.linalg.norm(move)), floor), -1.0, 1.0))


def object_vector(asked: AskedMotion) -> np.ndarray | None:
    """The unit sum of the objects' asked directions (None: none asked, or they cancel)."""
    if not asked.objects:
        return None
    total = np.sum([VECTORS[d] for d in asked.objects], axis=0)
    norm = float(np.linalg.norm(total))
    return total / norm if norm > 0.5 else None


class MotionDirection(VideoMetric):
    name = "motion_direction"
    version = "2"
    higher_is_better = True
    range = (-1.0, 1.0)
    description = (
        "Motion direction (ours): whether the foreground (and the camera, when the prompt names a camera move) "
        "moves the way the prompt says (left/right/up/down/towards/away; English and Chinese words). OpenCV "
        f"Farnebäck flow at a {SHORT_SIDE}-pixel short side, frames every max(1, round(fps / 8)) (fewer for a clip "
        "too short for that step); the camera is a "
        "similarity fitted to the flow (least median of squares), the foreground what moves against it. Per asked "
        f"direction d and measured move m: m·d / max(|m|, {FLOOR} short sides per second); the mean over the "
        "objects' and the camera's asked directions. +1 as asked, 0 still, -1 the opposite way. Not supported when "
        "the prompt names no direction."
    )
    needs = frozenset({Need.PIXELS})

    def _compute(self, ctx: VideoContext) -> Value:
        asked = asked_motion(ctx.prompt)
        wanted = object_vector(asked)
        if wanted is None and asked.camera is None:
            if asked.objects:
                raise NotSupported(f"the prompt asks for opposite directions ({', '.join(asked.objects)})")
            raise NotSupported("the prompt names no direction of motion")
        if ctx.fps <= 0:
            raise NotSupported("motion direction needs the frame rate")
        if len(ctx.frames) < 2:
            raise NotSupported("motion direction needs at least 2 frames")
        moves = measure(ctx.frames, ctx.fps)
        if moves.pairs == 0:  # not reached with 2 frames or more; never score "nothing measured" as standing still
            raise NotSupported("motion direction measured no pair of frames")
        scores: dict[str, float] = {}
        if wanted is not None:
            scores["objects"] = agreement(moves.foreground, wanted)
        if asked.camera is not None:
            scores["camera"] = agreement(moves.camera, np.asarray(VECTORS[asked.camera]))
        said = [f"{part} {value:+.2f}" for part, value in scores.items()]  # one line for the CLI's notes
        details = {
            "asked": (" + ".join(asked.objects) or "-") + f", camera {asked.camera_move or '-'} ({', '.join(said)})",
            "asked_objects": list(asked.objects),
            "asked_camera": asked.camera_move,
            "scores": scores,
            "foreground_move": [round(float(v), 4) for v in moves.foreground],
            "camera_move": [round(float(v), 4) for v in moves.camera],
            "pairs": moves.pairs,
        }
        return Value(float(np.mean(list(scores.values()))), details)
