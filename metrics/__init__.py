"""Automatic video metrics: VBench dimensions (consistency, flicker, dynamic degree, aesthetics), EvalCrafter's CLIP
metrics, motion amount, basic facts.

``import metrics`` is light: torch, open_clip and OpenCV load only when a metric or encoder needs them.
Never imports ``arena`` (arena imports metrics).
"""

from metrics.base import FeatureModels, MetricResult, Need, NotSupported, Unavailable, Value, VideoMetric
from metrics.encoders import ENCODERS, EncoderNotFound, EncoderSpec, load_encoder
from metrics.registry import build_registry
from metrics.scorer import UNCALIBRATED_WARNING, Scorer, VideoReport

__all__ = [
    "ENCODERS",
    "UNCALIBRATED_WARNING",
    "EncoderNotFound",
    "EncoderSpec",
    "FeatureModels",
    "MetricResult",
    "Need",
    "NotSupported",
    "Scorer",
    "Unavailable",
    "Value",
    "VideoMetric",
    "VideoReport",
    "build_registry",
    "load_encoder",
]
