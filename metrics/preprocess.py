"""VBench's frame transforms on its MP4 path (``vbench/utils.py``), written in torch without torchvision.

VBench's ``load_video`` turns the decoded uint8 frames into a float32 tensor (``torch.Tensor(frames)``), so every
resize runs on floats in 0..255: no rounding back to uint8 and no clamping of bicubic overshoot. torchvision's
``Resize(n)`` sets the short side to ``n`` and the long side to ``int(n * long / short)`` (truncated), and returns
the image untouched when that is its size already; with ``antialias=False`` it is plain ``F.interpolate``.
``CenterCrop(n)`` starts at ``int(round((size - n) / 2))``. Then ``/ 255`` and ``Normalize(mean, std)``.

* ``clip_transform(n)``: bicubic resize, centre crop, CLIP (OpenAI) mean/std: background consistency, aesthetics.
* ``dino_transform(n)``: bilinear resize, **no crop**, ImageNet mean/std: subject consistency (DINO).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import Any

import numpy as np

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
N_PX = 224  # VBench's size for both transforms (its CLIPs and DINO take 224)


def resized_size(height: int, width: int, short: int) -> tuple[int, int]:
    """torchvision ``Resize(short)``'s output (height, width): the long side is truncated, not rounded."""
    if width <= height:
        return int(short * height / width), short
    return short, int(short * width / height)


def centre_crop_offsets(height: int, width: int, size: int) -> tuple[int, int]:
    """torchvision ``CenterCrop(size)``'s (top, left) on an image at least ``size`` on each side."""
    return round((height - size) / 2.0), round((width - size) / 2.0)  # Python round, as torchvision


def _float_frames(frames: np.ndarray, device: str) -> Any:
    import torch

    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"expected uint8 frames (N, H, W, 3), got {frames.dtype} {frames.shape}")
    # torch.Tensor(frames) in VBench: float32 0..255, channels first
    return torch.from_numpy(np.ascontiguousarray(frames)).to(device).permute(0, 3, 1, 2).float()


def _resize(x: Any, short: int, mode: str) -> Any:
    import torch.nn.functional as F

    size = resized_size(x.shape[-2], x.shape[-1], short)
    if size == tuple(x.shape[-2:]):
        return x
    return F.interpolate(x, size=size, mode=mode, align_corners=False, antialias=False)


def _normalise(x: Any, mean: tuple[float, ...], std: tuple[float, ...]) -> Any:
    import torch

    x = x.div(255.0)
    m = torch.tensor(mean, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    return x.sub(m).div(s)


def clip_transform(frames: np.ndarray, n_px: int = N_PX, device: str = "cpu") -> Any:
    """VBench ``clip_transform(n_px)`` on uint8 (N, H, W, 3) frames -> float (N, 3, n_px, n_px)."""
    x = _resize(_float_frames(frames, device), n_px, "bicubic")
    top, left = centre_crop_offsets(x.shape[-2], x.shape[-1], n_px)
    x = x[:, :, top : top + n_px, left : left + n_px]
    return _normalise(x, CLIP_MEAN, CLIP_STD)


def dino_transform(frames: np.ndarray, n_px: int = N_PX, device: str = "cpu") -> Any:
    """VBench ``dino_transform(n_px)`` on uint8 (N, H, W, 3) frames -> float (N, 3, n_px, long side): no crop."""
    x = _resize(_float_frames(frames, device), n_px, "bilinear")
    return _normalise(x, IMAGENET_MEAN, IMAGENET_STD)


def encode_in_batches(frames: np.ndarray, batch_size: int, encode: Callable[[np.ndarray], Any]) -> np.ndarray:
    """``encode`` (uint8 frames -> a torch tensor of features) over ``batch_size`` frames at a time, no grad,
    as one float32 (N, D) array."""
    import torch

    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    out = []
    with torch.inference_mode():
        for start in range(0, len(frames), batch_size):
            out.append(encode(frames[start : start + batch_size]).float().cpu().numpy())
    return np.concatenate(out).astype(np.float32)


class VBenchClipFeatures:
    """A loaded CLIP encoder seen through VBench's ``clip_transform`` at the encoder's input size (224 for every
    CLIP VBench uses): the encoder's own ``encode_images`` runs with its ``preprocess`` swapped for VBench's, so an
    encoder that encodes frames in its own way keeps it. Features are cached apart from the encoder's own transform."""

    def __init__(self, encoder: Any) -> None:
        self.encoder = encoder
        self.n_px = int(encoder.image_size[0])
        self.cache_id = f"{encoder.cache_id}-vbench{self.n_px}"

    def encode_images(self, frames: np.ndarray, batch_size: int = 32) -> np.ndarray:
        view = copy.copy(self.encoder)  # shares the model; only this view's transform differs
        view.preprocess = functools.partial(clip_transform, n_px=self.n_px, device=self.encoder.device)
        return np.asarray(view.encode_images(frames, batch_size=batch_size))
