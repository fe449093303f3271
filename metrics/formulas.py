"""The metric formulas as pure NumPy functions over explicit arrays (no models, no I/O).

Features are rows of a (N, D) array; every function L2-normalises its inputs itself, so
``cos(a, b)`` is the dot product of the normalised rows. Formulas follow VBench / EvalCrafter
(see REFERENCE.md §2).
"""

from __future__ import annotations

import numpy as np

DEFAULT_CLIPSIM_FRAMES = 8


def l2_normalize(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(norm, 1e-12)


def vbench_middle_indices(num_frames: int, k: int = DEFAULT_CLIPSIM_FRAMES) -> np.ndarray:
    """VBench's K "middle" frames: ``a = linspace(0, N, K+1).astype(int); i_k = (a_k + a_{k+1} - 1) // 2``.

    K is capped at N (with K > N some segments are empty and VBench's formula would give index -1).
    """
    if num_frames < 1 or k < 1:
        raise ValueError(f"need num_frames >= 1 and k >= 1, got {num_frames}, {k}")
    k = min(k, num_frames)
    a = np.linspace(0, num_frames, k + 1).astype(int)
    return (a[:-1] + a[1:] - 1) // 2


def clipsim(image_features: np.ndarray, text_feature: np.ndarray, indices: np.ndarray | None = None) -> float:
    """Mean cosine between the sampled frames' image features and the prompt's text feature."""
    img = l2_normalize(image_features)
    if indices is not None:
        img = img[np.asarray(indices)]
    txt = l2_normalize(np.asarray(text_feature).reshape(-1))
    return float(np.mean(img @ txt))


def consecutive_cosines(features: np.ndarray) -> np.ndarray:
    """cos(f_{t-1}, f_t) for t = 1..N-1."""
    f = l2_normalize(features)
    return np.sum(f[:-1] * f[1:], axis=-1)


def clip_temp(features: np.ndarray) -> float:
    """EvalCrafter's CLIP-Temp: mean cosine between consecutive frames (1.0 for a single frame)."""
    if len(features) < 2:
        return 1.0
    return float(np.mean(consecutive_cosines(features)))


def vbench_consistency(features: np.ndarray) -> float:
    """VBench subject/background consistency: mean over t >= 1 of
    ``½ [max(0, cos(f_{t-1}, f_t)) + max(0, cos(f_0, f_t))]`` (1.0 for a single frame)."""
    if len(features) < 2:
        return 1.0
    f = l2_normalize(features)
    prev = np.maximum(0.0, np.sum(f[:-1] * f[1:], axis=-1))
    first = np.maximum(0.0, f[1:] @ f[0])
    return float(np.mean(0.5 * (prev + first)))


def temporal_flicker(frames: np.ndarray) -> float:
    """VBench temporal flickering: ``(255 - mean |frame_t - frame_{t-1}|) / 255`` on 0–255 pixels.

    The mean runs over every pixel and channel of every consecutive pair (1.0 for a single frame).
    """
    if len(frames) < 2:
        return 1.0
    total = 0.0
    for t in range(1, len(frames)):  # pair by pair: no (F, H, W, 3) int16 copy of the whole video
        total += float(np.mean(np.abs(frames[t].astype(np.int16) - frames[t - 1].astype(np.int16))))
    return (255.0 - total / (len(frames) - 1)) / 255.0
