"""Aesthetic score with the LAION aesthetic head, only when the head and its CLIP are present locally.

The head is a stack of linear layers over L2-normalised CLIP ViT-L/14 (OpenAI) image features: the
linear ``sa_0_4_vit_l_14_linear.pth`` VBench uses, or the improved predictor's MLP
(``sac+logos+ava1-l14-linearMSE.pth``, linear layers with no activations). As in VBench the video score
is the mean over frames of head(feature) / 10, on features through VBench's ``clip_transform`` (no antialias).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from metrics.base import FeatureModels, Need, Unavailable, Value, VideoMetric
from metrics.encoders import EncoderNotFound, get_spec
from metrics.features import VideoContext

HEAD_FILES = ("sa_0_4_vit_l_14_linear.pth", "sac+logos+ava1-l14-linearMSE.pth")
HEAD_DIRS = ("~/.cache/vbench/aesthetic_model/emb_reader", "~/.cache/emb_reader", "~/.cache/arena/aesthetic")


def default_head_candidates() -> list[Path]:
    return [Path(d).expanduser() / f for d in HEAD_DIRS for f in HEAD_FILES]


def load_head(path: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    """The head's linear layers, in order, as (weight (out, in), bias (out,)) float64 arrays."""
    import torch

    state = torch.load(path, map_location="cpu", weights_only=True)
    state = state.get("state_dict", state)
    prefixes = sorted(
        {k[: -len("weight")] for k in state if k.endswith("weight")},
        key=lambda p: [int(n) for n in re.findall(r"\d+", p)],
    )
    if not prefixes:
        raise ValueError(f"{path} holds no linear layers")
    return [(state[p + "weight"].double().numpy(), state[p + "bias"].double().numpy().reshape(-1)) for p in prefixes]


def apply_head(layers: list[tuple[np.ndarray, np.ndarray]], features: np.ndarray) -> np.ndarray:
    x = np.asarray(features, dtype=np.float64)
    for weight, bias in layers:
        x = x @ weight.T + bias
    return x.reshape(len(features))


class AestheticScore(VideoMetric):
    name = "aesthetic"
    version = "2"  # 1: open_clip's antialiased transform; 2: VBench's clip_transform
    higher_is_better = True
    range = (-float("inf"), float("inf"))  # nominally 0-1 (LAION's 0-10 scale / 10); the head is unbounded
    description = (
        "Aesthetic quality (VBench): mean over frames of the LAION aesthetic head on CLIP ViT-L/14 (OpenAI) image "
        "features (VBench's clip_transform: bicubic, no antialias, centre crop), divided by 10. Reported only when "
        "the head file and that CLIP's weights are present locally."
    )
    needs = frozenset({Need.IMAGE_FEATURES})

    def __init__(self, head: str | Path | None = None, encoder_id: str = "ViT-L-14-openai") -> None:
        self.head = Path(head).expanduser() if head is not None else None
        self.encoder_id = encoder_id
        self._layers: dict[Path, Any] = {}  # head file -> loaded layers: read once, not once per video

    def encoder_for(self, models: FeatureModels) -> tuple[str | None, bool]:
        """The CLIP's id, plus the head's file name unless it is VBench's (another head gives other scores)."""
        try:
            head = self._find_head().name
        except Unavailable:
            head = HEAD_FILES[0]
        label = self.encoder_id if head == HEAD_FILES[0] else f"{self.encoder_id}+{head}"
        return label, get_spec(self.encoder_id).calibrated

    def missing_weights(self, hf_cache_dir: str | Path | None = None) -> str | None:
        from metrics.encoders import locate_checkpoint

        try:
            self._find_head()
            locate_checkpoint(get_spec(self.encoder_id), None, hf_cache_dir)
        except (Unavailable, EncoderNotFound) as exc:
            return str(exc)
        return None

    def _find_head(self) -> Path:
        candidates = [self.head] if self.head is not None else default_head_candidates()
        for path in candidates:
            if path.is_file():
                return path
        raise Unavailable(f"LAION aesthetic head not found; looked at {', '.join(map(str, candidates))}")

    def _compute(self, ctx: VideoContext) -> Value:
        path = self._find_head()
        try:
            feats = ctx.vbench_clip_features(self.encoder_id)
        except EncoderNotFound as exc:
            raise Unavailable(f"the aesthetic head needs its CLIP: {exc}") from exc
        if path not in self._layers:
            self._layers[path] = load_head(path)
        layers = self._layers[path]
        if layers[0][0].shape[1] != feats.shape[1]:
            raise Unavailable(
                f"head {path.name} expects {layers[0][0].shape[1]}-d features, encoder {self.encoder_id!r} "
                f"gives {feats.shape[1]}-d"
            )
        scores = apply_head(layers, feats)
        return Value(float(np.mean(scores)) / 10.0, {"head": path.name, "laion_score": float(np.mean(scores))})
