"""The metric formulas as pure NumPy functions over explicit arrays (no models, no I/O).

Features are rows of a (N, D) array; every function L2-normalises its inputs itself, so
``cos(a, b)`` is the dot product of the normalised rows. Formulas follow VBench / EvalCrafter
(see REFERENCE.md §2).
"""

from __future__ import annotations

import numpy as np

DEFAULT_CLIPSIM_FRAMES = 8
# CLIPSIM's frames, chosen here only: "all" (EvalCrafter's CLIP-Score, the mean over every frame) or
# "vbench_middle" (VBench's K middle frames, the sampler VBench uses for ViCLIP; VBench has no CLIPSIM).
CLIPSIM_FRAMES = "all"


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


def clipsim_indices(num_frames: int) -> np.ndarray:
    """The frames CLIPSIM averages, by :data:`CLIPSIM_FRAMES`."""
    if CLIPSIM_FRAMES == "all":
        return np.arange(num_frames)
    return vbench_middle_indices(num_frames, DEFAULT_CLIPSIM_FRAMES)


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


def vbench_consistency_terms(features: np.ndarray) -> np.ndarray:
    """VBench subject/background consistency per frame pair: for t >= 1,
    ``s_t = ½ [max(0, cos(f_{t-1}, f_t)) + max(0, cos(f_0, f_t))]``. VBench pools Σ s_t over all pairs of all
    videos; a video's own score is their mean."""
    f = l2_normalize(features)
    prev = np.maximum(0.0, np.sum(f[:-1] * f[1:], axis=-1))
    first = np.maximum(0.0, f[1:] @ f[0])
    return np.asarray(0.5 * (prev + first))


def vbench_consistency(features: np.ndarray) -> float:
    """Mean of :func:`vbench_consistency_terms` (1.0 for a single frame)."""
    if len(features) < 2:
        return 1.0
    return float(np.mean(vbench_consistency_terms(features)))


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


# ---- VBench's RAFT-based rules (vbench/dynamic_degree.py, static_filter.py), on per-pair flow statistics ----


def vbench_sample_interval(fps: float) -> int:
    """VBench's dynamic-degree frame step: ``max(1, round(fps / 8))`` (Python's round: halves go to even)."""
    return max(1, round(fps / 8))


def top_mean(magnitudes_desc: np.ndarray, pixels: int, fraction: float) -> float:
    """Mean of the largest ``int(pixels * fraction)`` flow magnitudes (``magnitudes_desc``: sorted, largest first)."""
    cut = int(pixels * fraction)
    return float(np.mean(magnitudes_desc[:cut]))


def vbench_dynamic_params(height: int, width: int, frames: int) -> tuple[float, int]:
    """(threshold, count): ``6 * min(h, w) / 256`` pixels and ``round(4 * frames / 16)`` pairs, frames sampled."""
    return 6.0 * (min(height, width) / 256.0), round(4 * (frames / 16.0))


def vbench_check_move(scores: list[float], thres: float, count_num: int) -> bool:
    """VBench ``check_move``: dynamic once ``count_num`` pairs exceed the threshold (checked after each pair)."""
    count = 0
    for score in scores:
        if score > thres:
            count += 1
        if count >= count_num:
            return True
    return False


def vbench_static_params(height: int, width: int, frames: int) -> tuple[float, int]:
    """Static filter: (``3 * min(h, w) / 256``, ``round(2 * frames / 16)``) over all frames."""
    return 3.0 * (min(height, width) / 256.0), round(2 * (frames / 16.0))


def vbench_static_pairs(frames: int) -> list[tuple[int, int]]:
    """The static filter's pairs: every consecutive pair, then (first, last) and (last, first)."""
    return [(i, i + 1) for i in range(frames - 1)] + [(0, frames - 1), (frames - 1, 0)]


def vbench_check_static(scores: list[float], thres: float, count_num: int) -> bool:
    """VBench ``check_static``: at most ``count_num`` consecutive pairs above the threshold, and neither
    first/last pair above ``thres * count_num * 2``."""
    count = 0
    for score in scores[:-2]:
        if score > thres:
            count += 1
        if count > count_num:
            return False
    return all(score <= thres * count_num * 2 for score in scores[-2:])
