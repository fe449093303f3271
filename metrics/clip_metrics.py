"""Metrics over CLIP features. All of them share the one batched image-feature pass of the video."""

from __future__ import annotations

from typing import ClassVar

from metrics import formulas
from metrics.base import Need, Value, VideoMetric
from metrics.features import VideoContext

_IMAGE = frozenset({Need.IMAGE_FEATURES})


class TextAlignment(VideoMetric):
    name = "clipsim"
    version = "1"
    higher_is_better = True
    range = (-1.0, 1.0)
    description = (
        "Text alignment (CLIPSIM): mean cosine between the prompt's CLIP text feature and the image features "
        "of K=8 frames sampled as VBench does (the middle frame of each of K equal segments)."
    )
    needs = frozenset({Need.IMAGE_FEATURES, Need.TEXT_FEATURES})
    frames_k: ClassVar[int] = formulas.DEFAULT_CLIPSIM_FRAMES

    def _compute(self, ctx: VideoContext) -> Value:
        text = ctx.text_feature()  # first: an unsupported language never costs an image pass
        idx = formulas.vbench_middle_indices(len(ctx.frames), self.frames_k)
        value = formulas.clipsim(ctx.image_features(), text, idx)
        return Value(value, {"frame_indices": idx.tolist(), "clip_score": max(100.0 * value, 0.0)})


class ClipTemp(VideoMetric):
    name = "clip_temp"
    version = "1"
    higher_is_better = True
    range = (-1.0, 1.0)
    description = "CLIP-Temp (EvalCrafter): mean cosine between the CLIP image features of consecutive frames."
    needs = _IMAGE

    def _compute(self, ctx: VideoContext) -> Value:
        return Value(formulas.clip_temp(ctx.image_features()))


class SubjectConsistency(VideoMetric):
    name = "subject_consistency"
    version = "1"
    higher_is_better = True
    range = (0.0, 1.0)
    description = (
        "Subject consistency (VBench formula): mean over t of ½[max(0, cos(f_{t-1}, f_t)) + max(0, cos(f_0, f_t))]. "
        "VBench uses DINO features here; with no DINO weights present it uses CLIP features, so it equals "
        "background_consistency on the same encoder."
    )
    needs = _IMAGE

    def _compute(self, ctx: VideoContext) -> Value:
        return Value(formulas.vbench_consistency(ctx.image_features()), {"features": "clip"})


class BackgroundConsistency(VideoMetric):
    name = "background_consistency"
    version = "1"
    higher_is_better = True
    range = (0.0, 1.0)
    description = (
        "Background consistency (VBench formula on CLIP image features): mean over t of "
        "½[max(0, cos(f_{t-1}, f_t)) + max(0, cos(f_0, f_t))]. Subject consistency uses the same CLIP features "
        "when no DINO weights are present."
    )
    needs = _IMAGE

    def _compute(self, ctx: VideoContext) -> Value:
        return Value(formulas.vbench_consistency(ctx.image_features()), {"features": "clip"})
