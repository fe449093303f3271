"""VBench's per-video metrics, computed as VBench computes them (metrics/vbench.py: how the board aggregates them).

* subject consistency: DINO ViT-B/16 CLS features through ``dino_transform`` (no crop);
* background consistency: CLIP features through ``clip_transform`` (no antialias, centre crop);
* dynamic degree: RAFT on frames sampled at ~8 fps, mean of the top 5 % flow magnitudes per pair, a boolean;
* static filter: RAFT on every frame (top 2 %), the rule that picks the videos temporal flickering is scored on.

Consistency details carry ``pairs`` so the board pools Σ s_t over every frame pair of a model's videos, as VBench.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from metrics import formulas
from metrics.base import FeatureModels, Need, Value, VideoMetric
from metrics.features import VideoContext

_FLOW = frozenset({Need.PIXELS, Need.OPTICAL_FLOW})
DYNAMIC_FRACTION = 0.05  # dynamic_degree.py get_score: cut_index = int(h * w * 0.05)
STATIC_FRACTION = 0.02  # static_filter.py get_score: cut_index = int(h * w * 0.02)


def _consistency(features: np.ndarray, model: str) -> Value:
    return Value(formulas.vbench_consistency(features), {"pairs": len(features) - 1, "features": model})


class SubjectConsistency(VideoMetric):
    name = "subject_consistency"
    version = "2"  # 1: CLIP features (a copy of background consistency); 2: DINO, VBench's transform
    higher_is_better = True
    range = (0.0, 1.0)
    description = (
        "Subject consistency (VBench): mean over t of ½[max(0, cos(f_{t-1}, f_t)) + max(0, cos(f_0, f_t))] on DINO "
        "ViT-B/16 CLS features of every frame, resized as VBench does (bilinear short side 224, no antialias, no "
        "crop, ImageNet mean/std). Needs DINO weights (facebook/dino-vitb16; DINOv2 or a folder also run, labelled); "
        "without them it is unavailable. The board pools every frame pair of a model's videos."
    )
    needs = frozenset({Need.DINO_FEATURES})
    pooling = "pairs"

    def encoder_for(self, models: FeatureModels) -> tuple[str | None, bool]:
        return models.dino, True

    def _compute(self, ctx: VideoContext) -> Value:
        return _consistency(ctx.dino_features(), ctx.models.dino)


class BackgroundConsistency(VideoMetric):
    name = "background_consistency"
    version = "2"  # 1: open_clip's antialiased transform; 2: VBench's clip_transform
    higher_is_better = True
    range = (0.0, 1.0)
    description = (
        "Background consistency (VBench): the same formula on CLIP image features of every frame, resized as VBench "
        "does (bicubic short side to the CLIP's input size, no antialias, float frames, centre crop, CLIP mean/std). "
        "VBench uses CLIP ViT-B/32 (OpenAI). The board pools every frame pair of a model's videos."
    )
    needs = frozenset({Need.IMAGE_FEATURES})
    pooling = "pairs"

    def _compute(self, ctx: VideoContext) -> Value:
        return _consistency(ctx.vbench_clip_features(), ctx.encoder_id)


def _pair_scores(ctx: VideoContext, pairs: list[tuple[int, int]], fraction: float) -> list[float]:
    scores = []
    for first, second in pairs:
        magnitudes, pixels = ctx.flow_magnitudes(first, second)
        scores.append(formulas.top_mean(magnitudes, pixels, fraction))
    return scores


class _RaftRule(VideoMetric):
    """A VBench rule on RAFT flow: a yes/no per video, pooled as a share, keyed by the RAFT it ran on."""

    range = (0.0, 1.0)
    higher_is_better = None
    needs = _FLOW
    pooling = "share"

    def encoder_for(self, models: FeatureModels) -> tuple[str | None, bool]:
        return models.raft, True


class DynamicDegree(_RaftRule):
    name = "dynamic_degree"
    version = "1"  # VBench scores more motion higher; for one video it is a description (no direction)
    description = (
        "Dynamic degree (VBench): RAFT flow (20 iterations, frames padded to a multiple of 8) between frames sampled "
        "every max(1, round(fps / 8)); per pair the mean of its largest 5 % flow magnitudes; the video is dynamic "
        "(1) when round(4 * frames / 16) pairs exceed 6 * min(h, w) / 256 pixels, else 0. Needs RAFT weights "
        "(torchvision raft_large C_T_V1 = VBench's raft-things). The board reports the share of dynamic videos."
    )

    def _compute(self, ctx: VideoContext) -> Value:
        interval = formulas.vbench_sample_interval(ctx.fps)
        picked = list(range(0, len(ctx.frames), interval))
        height, width = ctx.frames.shape[1:3]
        thres, count_num = formulas.vbench_dynamic_params(height, width, len(picked))
        scores = _pair_scores(ctx, list(pairwise(picked)), DYNAMIC_FRACTION)
        moving = formulas.vbench_check_move(scores, thres, count_num)
        details: dict[str, object] = {"interval": interval, "frames": len(picked), "threshold": thres}
        details |= {"count": count_num, "pairs_over": sum(s > thres for s in scores), "pair_scores": scores}
        return Value(1.0 if moving else 0.0, details)


class StaticFilter(_RaftRule):
    name = "static_filter"
    version = "1"
    description = (
        "VBench's static filter: 1 when the video is static, else 0. RAFT on every frame pair plus (first, last) "
        "and (last, first); per pair the mean of its largest 2 % flow magnitudes; static when at most "
        "round(2 * frames / 16) consecutive pairs exceed 3 * min(h, w) / 256 pixels and neither first/last pair "
        "exceeds that threshold * count * 2. VBench scores temporal flickering on static videos only."
    )

    def _compute(self, ctx: VideoContext) -> Value:
        frames, height, width = ctx.frames.shape[:3]
        thres, count_num = formulas.vbench_static_params(height, width, frames)
        scores = _pair_scores(ctx, formulas.vbench_static_pairs(frames), STATIC_FRACTION)
        static = formulas.vbench_check_static(scores, thres, count_num)
        return Value(1.0 if static else 0.0, {"threshold": thres, "count": count_num, "pair_scores": scores})
