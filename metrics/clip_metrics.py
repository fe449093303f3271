"""EvalCrafter's CLIP metrics over the configured CLIP encoder (its own open_clip transform): CLIPSIM, CLIP-Temp."""

from __future__ import annotations

from metrics import formulas
from metrics.base import Need, Value, VideoMetric
from metrics.features import VideoContext


class TextAlignment(VideoMetric):
    name = "clipsim"
    version = "2"  # 1: VBench-style 8 middle frames; 2: every frame, as EvalCrafter
    higher_is_better = True
    range = (-1.0, 1.0)
    description = (
        "Text alignment (CLIPSIM, EvalCrafter's CLIP-Score): mean cosine between the prompt's CLIP text feature "
        "and the image features of every frame (formulas.CLIPSIM_FRAMES), on the CLIP's own transform. "
        "EvalCrafter feeds unnormalised 224x224 squashed frames; here the CLIP's own preprocessing is used."
    )
    needs = frozenset({Need.IMAGE_FEATURES, Need.TEXT_FEATURES})

    def _compute(self, ctx: VideoContext) -> Value:
        text = ctx.text_feature()  # first: an unsupported language never costs an image pass
        idx = formulas.clipsim_indices(len(ctx.frames))
        value = formulas.clipsim(ctx.image_features(), text, idx)
        return Value(value, {"frames": formulas.CLIPSIM_FRAMES, "clip_score": max(100.0 * value, 0.0)})


class ClipTemp(VideoMetric):
    name = "clip_temp"
    version = "1"
    higher_is_better = True
    range = (-1.0, 1.0)
    description = "CLIP-Temp (EvalCrafter): mean cosine between the CLIP image features of consecutive frames."
    needs = frozenset({Need.IMAGE_FEATURES})

    def _compute(self, ctx: VideoContext) -> Value:
        return Value(formulas.clip_temp(ctx.image_features()))
