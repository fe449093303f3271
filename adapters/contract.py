"""The output contract, checked in one place for every adapter: frames become uint8 (F, H, W, 3), or a typed
error naming the model says what is wrong (shape, dtype, range, NaN, zero frames, fps)."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from adapters.errors import OutputContractError

Layout = Literal["FHWC", "FCHW", "BFHWC", "BFCHW"]


def _to_numpy(frames: Any) -> np.ndarray:
    if hasattr(frames, "detach"):  # torch tensor, without importing torch
        frames = frames.detach().float().cpu().numpy() if frames.dtype.is_floating_point else frames.cpu().numpy()
    if isinstance(frames, list | tuple):
        frames = np.stack([np.asarray(f) for f in frames])
    return np.asarray(frames)


def to_uint8_frames(frames: Any, layout: Layout, model_id: str) -> np.ndarray:
    """Convert frames from ``layout`` to uint8 (F, H, W, 3), checking the contract on the way."""
    try:
        arr = _to_numpy(frames)
    except Exception as exc:  # e.g. ragged lists of frames
        raise OutputContractError(model_id, f"frames could not be read as an array: {exc}") from exc
    expected_ndim = len(layout)
    if arr.ndim != expected_ndim:
        raise OutputContractError(
            model_id, f"frames have shape {arr.shape}, expected {expected_ndim} dims in layout {layout}"
        )
    if layout.startswith("B"):
        if arr.shape[0] != 1:
            raise OutputContractError(model_id, f"expected a batch of one video, got {arr.shape[0]}")
        arr = arr[0]
    if layout.endswith("CHW"):
        arr = np.moveaxis(arr, 1, -1)
    if arr.shape[0] == 0:
        raise OutputContractError(model_id, "zero frames")
    if arr.shape[-1] != 3:
        raise OutputContractError(model_id, f"frames have {arr.shape[-1]} channels, expected 3 (RGB)")
    if arr.shape[1] < 2 or arr.shape[2] < 2:
        raise OutputContractError(model_id, f"frames are {arr.shape[2]}x{arr.shape[1]}, too small")
    if arr.dtype == np.uint8:
        return np.ascontiguousarray(arr)
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise OutputContractError(model_id, "frames contain NaN or infinite values")
        lo, hi = float(arr.min()), float(arr.max())
        if lo < -1e-3 or hi > 1 + 1e-3:
            raise OutputContractError(model_id, f"float frames must lie in [0, 1], got [{lo:.4g}, {hi:.4g}]")
        return np.ascontiguousarray((np.clip(arr, 0.0, 1.0) * 255.0).round().astype(np.uint8))
    raise OutputContractError(model_id, f"frames have dtype {arr.dtype}, expected uint8 or float in [0, 1]")


def check_fps(fps: float | None, model_id: str) -> float:
    if fps is None or not np.isfinite(fps) or fps <= 0 or fps > 240:
        raise OutputContractError(model_id, f"fps must be a positive number up to 240, got {fps!r}")
    return float(fps)
