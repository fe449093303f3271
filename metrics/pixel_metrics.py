"""Metrics over decoded pixels only (no encoder): temporal flicker, motion amount, basic facts."""

from __future__ import annotations

import numpy as np

from metrics import formulas
from metrics.base import Need, NotSupported, Value, VideoMetric
from metrics.features import VideoContext

_PIXELS = frozenset({Need.PIXELS})
MOTION_SHORT_SIDE = 128  # flow is measured at this short side, so values compare across resolutions


class TemporalFlicker(VideoMetric):
    name = "temporal_flicker"
    version = "1"
    higher_is_better = True
    range = (0.0, 1.0)
    description = (
        "Temporal flickering (VBench formula): (255 - mean absolute difference of consecutive frames in 0-255 "
        "pixel space) / 255, every frame. 1 for a constant video. It also falls as motion rises, so VBench scores "
        "it on static videos only: the board's VBench view averages it over the videos static_filter keeps."
    )
    needs = _PIXELS

    def _compute(self, ctx: VideoContext) -> Value:
        return Value(formulas.temporal_flicker(ctx.frames))


def gray_frames(frames: np.ndarray, short_side: int = MOTION_SHORT_SIDE) -> list[np.ndarray]:
    """Each RGB frame as grey levels, resized to ``short_side`` (the size the flow metrics measure at)."""
    import cv2

    h, w = frames.shape[1:3]
    scale = short_side / min(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return [cv2.resize(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), size, interpolation=interp) for f in frames]


def farneback_motion(frames: np.ndarray, short_side: int = MOTION_SHORT_SIDE) -> tuple[float, list[float]]:
    """Mean Farnebäck optical-flow magnitude (pixels per frame at ``short_side``) and the per-pair means."""
    import cv2

    if len(frames) < 2:
        return 0.0, []
    gray = gray_frames(frames, short_side)
    per_pair = []
    prev = gray[0]
    for cur in gray[1:]:
        if np.array_equal(prev, cur):  # no motion by definition (Farnebäck leaves ~1e-3 px of noise here)
            per_pair.append(0.0)
        else:
            # OpenCV's stubs require an output array for `flow`; None (allocate one) is what its docs allow.
            flow = cv2.calcOpticalFlowFarneback(prev, cur, None, 0.5, 3, 15, 3, 5, 1.2, 0)  # type: ignore[call-overload]
            per_pair.append(float(np.mean(np.hypot(flow[..., 0], flow[..., 1]))))
        prev = cur
    return float(np.mean(per_pair)), per_pair


class MotionAmount(VideoMetric):
    name = "motion_amount"
    version = "2"  # 1: pixels per native frame (depended on fps); 2: pixels per second at ~8 fps
    higher_is_better = None  # more motion is neither better nor worse: a diagnostic
    range = (0.0, float("inf"))
    description = (
        "Motion amount (ours, not VBench's): mean optical-flow magnitude (OpenCV Farnebäck on grayscale frames "
        f"resized to a {MOTION_SHORT_SIDE}-pixel short side) between frames sampled every max(1, round(fps / 8)) "
        "(about 8 fps, VBench's rate), in pixels per second, so it does not depend on the frame rate. A weight-free "
        "number beside VBench's RAFT-based dynamic degree. 0 for a constant video."
    )
    needs = _PIXELS

    def _compute(self, ctx: VideoContext) -> Value:
        if ctx.fps <= 0:
            raise NotSupported("motion amount needs the frame rate")
        interval = formulas.vbench_sample_interval(ctx.fps)
        mean, per_pair = farneback_motion(ctx.frames[::interval])
        per_second = ctx.fps / interval
        details = {"interval": interval, "short_side": MOTION_SHORT_SIDE}
        return Value(mean * per_second, details | {"max_pair": max(per_pair, default=0.0) * per_second})


class VideoFacts(VideoMetric):
    name = "facts"
    version = "1"
    higher_is_better = None
    range = (0.0, float("inf"))
    description = "Basic facts. Value: duration in seconds (frames / fps; 0 when fps is unknown); details: frames, "
    description += "width, height, fps."
    needs = _PIXELS

    def _compute(self, ctx: VideoContext) -> Value:
        f, h, w = ctx.frames.shape[:3]
        duration = f / ctx.fps if ctx.fps > 0 else 0.0
        return Value(duration, {"frames": int(f), "width": int(w), "height": int(h), "fps": float(ctx.fps)})
