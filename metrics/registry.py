"""Every metric, registered in this one place (lazy ``"module:Class"`` strings: nothing heavy is imported)."""

from __future__ import annotations

from adapters.registry import Registry
from metrics.base import VideoMetric

METRICS: tuple[tuple[str, str], ...] = (
    ("clipsim", "metrics.clip_metrics:TextAlignment"),
    ("clip_temp", "metrics.clip_metrics:ClipTemp"),
    ("subject_consistency", "metrics.vbench_metrics:SubjectConsistency"),
    ("background_consistency", "metrics.vbench_metrics:BackgroundConsistency"),
    ("temporal_flicker", "metrics.pixel_metrics:TemporalFlicker"),
    ("dynamic_degree", "metrics.vbench_metrics:DynamicDegree"),
    ("static_filter", "metrics.vbench_metrics:StaticFilter"),
    ("motion_amount", "metrics.pixel_metrics:MotionAmount"),
    ("motion_direction", "metrics.motion_direction:MotionDirection"),
    ("aesthetic", "metrics.aesthetic:AestheticScore"),
    ("facts", "metrics.pixel_metrics:VideoFacts"),
)


def build_registry() -> Registry[VideoMetric]:
    """A fresh registry holding every metric (a new object per call: no shared module state)."""
    registry: Registry[VideoMetric] = Registry("metric", VideoMetric)
    for name, target in METRICS:
        registry.register(name, target)
    return registry
