"""A metric board from per-video scores (pure: the arena reads the database, this pools): per model, per model and
prompt category, each metric pooled as its class says (metrics.pooling), and VBench's view (metrics.vbench)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NotRequired

from typing_extensions import TypedDict  # not typing's: pydantic (the API's schema) needs this one below 3.12

from metrics.pooling import Estimate, Pooling, VideoScores, pool_videos
from metrics.vbench import VBenchJSON, VBenchView, build_view


def metric_poolings() -> dict[str, Pooling]:
    """metric -> how a board pools it (class attributes of the registry: nothing heavy is imported)."""
    from metrics.registry import build_registry

    registry = build_registry()
    return {name: registry.get(name).pooling for name in registry.names()}


class MetricRowJSON(TypedDict):
    """A :class:`MetricRow` as the board's JSON gives it ("mean" and "ci": the names the board has always printed;
    "pooling" says what the value is)."""

    model_id: str
    model: str
    metric: str
    category: NotRequired[str]  # rows per prompt category only
    mean: float
    ci: list[float]
    videos: int
    pooling: Pooling
    pairs: NotRequired[int]


@dataclass(frozen=True)
class MetricRow:
    """One metric of one model (and one prompt category, or all when None), pooled over its videos."""

    model_id: str
    model: str
    category: str | None
    metric: str
    estimate: Estimate

    def to_dict(self) -> MetricRowJSON:
        est = self.estimate.to_dict()
        out = MetricRowJSON(
            model_id=self.model_id,
            model=self.model,
            metric=self.metric,
            mean=est["value"],
            ci=est["ci"],
            videos=est["videos"],
            pooling=est["pooling"],
        )
        if self.category is not None:
            out["category"] = self.category
        if "pairs" in est:
            out["pairs"] = est["pairs"]
        return out


def summarise(
    videos: Sequence[VideoScores],
    names: Mapping[str, str],
    poolings: Mapping[str, Pooling],
    by_category: bool = False,
) -> list[MetricRow]:
    """One row per (model, metric), or per (model, category, metric), sorted."""
    groups: dict[tuple[str, str | None], list[VideoScores]] = defaultdict(list)
    for v in videos:
        groups[(v.model_id, v.category if by_category else None)].append(v)
    rows = []
    for (model_id, category), group in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        for metric in sorted({m for v in group for m in v.scores}):
            estimate = pool_videos(group, metric, poolings.get(metric, "mean"))
            if estimate is not None:
                rows.append(MetricRow(model_id, names.get(model_id, model_id), category, metric, estimate))
    return rows


class MetricReportJSON(TypedDict):
    encoder: str
    calibrated: bool
    videos: int
    models: list[MetricRowJSON]
    categories: list[MetricRowJSON]
    vbench: VBenchJSON


@dataclass(frozen=True)
class MetricReport:
    """Metrics of a set of videos: per model, per model and category (95 % intervals), and the VBench view."""

    encoder: str
    calibrated: bool
    videos: int
    models: list[MetricRow]
    categories: list[MetricRow]
    vbench: VBenchView

    def to_dict(self) -> MetricReportJSON:
        return MetricReportJSON(
            encoder=self.encoder,
            calibrated=self.calibrated,
            videos=self.videos,
            models=[r.to_dict() for r in self.models],
            categories=[r.to_dict() for r in self.categories],
            vbench=self.vbench.to_dict(),
        )


def build_report(
    videos: Sequence[VideoScores],
    names: Mapping[str, str],
    encoder: str,
    calibrated: bool,
    models: Mapping[str, str],
    reasons: Mapping[str, str] | None = None,
) -> MetricReport:
    """``models``: metric -> the model its stored scores came from; ``reasons``: why a metric has no value."""
    poolings = metric_poolings()
    return MetricReport(
        encoder=encoder,
        calibrated=calibrated,
        videos=len(videos),
        models=summarise(videos, names, poolings),
        categories=summarise(videos, names, poolings, by_category=True),
        vbench=build_view(videos, names, models, reasons),
    )
