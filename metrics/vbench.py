"""VBench's 16 dimensions, how VBench normalises them for its leaderboard, and our view of them (pure).

From VBench's ``scripts/constant.py`` / ``cal_final_score.py``: each dimension's raw score is normalised as
``(raw - Min) / (Max - Min)`` and multiplied by its weight (dynamic degree 0.5, the rest 1); the Quality score is the
weighted mean of the 7 quality dimensions, the Semantic score of the 9 semantic ones, Total = (4 Q + 1 S) / 5.
Raw dimension scores pool as VBench pools them: consistency over every frame pair of a model's videos, temporal
flickering over its static videos only (VBench's static filter, at most 5 per prompt), dynamic degree as the share
of dynamic videos, aesthetic quality as the mean over videos.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from typing_extensions import TypedDict  # not typing's: pydantic (the API's schema) needs this one below 3.12

from metrics.pooling import Estimate, EstimateJSON, Pooling, VideoScores, pool_videos

Group = Literal["quality", "semantic"]
Status = Literal["computed", "unavailable", "not_computed"]
QUALITY_WEIGHT, SEMANTIC_WEIGHT = 4, 1
STATIC_PER_PROMPT = 5  # static_filter.py keeps at most 5 static videos per prompt for temporal flickering


@dataclass(frozen=True)
class Dimension:
    key: str  # VBench's dimension id
    group: Group
    norm_min: float  # NORMALIZE_DIC
    norm_max: float
    weight: float  # DIM_WEIGHT
    vbench_runs: str  # what VBench computes it with
    metric: str | None = None  # our metric for it; None: not computed here
    pooling: Pooling = "mean"
    vbench_model: str | None = None  # our id of the model VBench uses (None: no model)

    @property
    def title(self) -> str:
        return self.key.replace("_", " ")

    def normalise(self, raw: float) -> float:
        return (raw - self.norm_min) / (self.norm_max - self.norm_min)


def _q(key: str, lo: float, hi: float, runs: str, weight: float = 1.0) -> Dimension:
    return Dimension(key, "quality", lo, hi, weight, runs)


def _s(key: str, lo: float, hi: float, runs: str) -> Dimension:
    return Dimension(key, "semantic", lo, hi, 1.0, runs)


def _ours(dim: Dimension, metric: str, vbench_model: str, pooling: Pooling = "mean") -> Dimension:
    return replace(dim, metric=metric, vbench_model=vbench_model, pooling=pooling)


DIMENSIONS: tuple[Dimension, ...] = (
    _ours(_q("subject_consistency", 0.1462, 1.0, "DINO ViT-B/16"), "subject_consistency", "dino-vitb16", "pairs"),
    _ours(
        _q("background_consistency", 0.2615, 1.0, "CLIP ViT-B/32 (OpenAI)"),
        "background_consistency",
        "ViT-B-32-openai",
        "pairs",
    ),
    _ours(
        _q("temporal_flickering", 0.6293, 1.0, "pixels, on static videos only (RAFT static filter)"),
        "temporal_flicker",
        "raft_large-C_T_V1",
    ),
    _q("motion_smoothness", 0.706, 0.9975, "AMT-S frame interpolation"),
    _ours(
        _q("dynamic_degree", 0.0, 1.0, "RAFT (raft-things)", weight=0.5), "dynamic_degree", "raft_large-C_T_V1", "share"
    ),
    _ours(
        _q("aesthetic_quality", 0.0, 1.0, "LAION aesthetic head on CLIP ViT-L/14 (OpenAI)"),
        "aesthetic",
        "ViT-L-14-openai",
    ),
    _q("imaging_quality", 0.0, 1.0, "MUSIQ (SPAQ)"),
    _s("object_class", 0.0, 1.0, "GRiT detector, VBench's object prompts"),
    _s("multiple_objects", 0.0, 1.0, "GRiT detector, VBench's object-pair prompts"),
    _s("human_action", 0.0, 1.0, "UMT ViT-L/16 (Kinetics-400), VBench's action prompts"),
    _s("color", 0.0, 1.0, "GRiT detector + captions, VBench's colour prompts"),
    _s("spatial_relationship", 0.0, 1.0, "GRiT detector, VBench's spatial prompts"),
    _s("scene", 0.0, 0.8222, "Tag2Text captions, VBench's scene prompts"),
    _s("appearance_style", 0.0009, 0.2855, "CLIP ViT-B/32, VBench's style prompts"),
    _s("temporal_style", 0.0, 0.364, "ViCLIP, VBench's temporal-style prompts"),
    _s("overall_consistency", 0.0, 0.364, "ViCLIP, VBench's overall prompts"),
)
NOTES = (
    "Normalised = (raw - Min) / (Max - Min) with VBench's leaderboard constants (scripts/constant.py); the weight "
    "applies when VBench averages dimensions into its Quality and Semantic scores.",
    "Raw values are comparable with published VBench entries only when the same models ran (same_models_as_vbench) "
    "and on VBench's own prompts (946 prompts, 5 videos each, sampled per dimension); an arena suite is another set.",
    "VBench's Quality and Semantic scores need all their dimensions; they are not computed here.",
)


class DimensionScoreJSON(TypedDict):
    dimension: str
    group: Group
    status: Status
    estimate: EstimateJSON | None
    normalised: float | None
    weight: float
    model: str | None
    vbench_model: str | None
    same_models_as_vbench: bool | None
    note: str


class ModelVBenchJSON(TypedDict):
    model_id: str
    model: str
    dimensions: list[DimensionScoreJSON]


class NotComputedJSON(TypedDict):
    """A VBench dimension with no metric here, and what VBench computes it with."""

    dimension: str
    group: Group
    vbench_runs: str


class NormalisationJSON(TypedDict):
    """A dimension's leaderboard constants: ``(raw - min) / (max - min)``, times ``weight``."""

    dimension: str
    group: Group
    min: float
    max: float
    weight: float


class VBenchJSON(TypedDict):
    models: list[ModelVBenchJSON]
    not_computed: list[NotComputedJSON]
    normalisation: list[NormalisationJSON]
    notes: list[str]


@dataclass(frozen=True)
class DimensionScore:
    dimension: str
    group: Group
    status: Status
    estimate: Estimate | None
    normalised: float | None
    weight: float
    model: str | None  # the model the value came from (stored score's encoder)
    vbench_model: str | None
    same_models_as_vbench: bool | None
    note: str = ""

    def to_dict(self) -> DimensionScoreJSON:
        return DimensionScoreJSON(
            dimension=self.dimension,
            group=self.group,
            status=self.status,
            estimate=self.estimate.to_dict() if self.estimate else None,
            normalised=None if self.normalised is None else round(self.normalised, 4),
            weight=self.weight,
            model=self.model,
            vbench_model=self.vbench_model,
            same_models_as_vbench=self.same_models_as_vbench,
            note=self.note,
        )


@dataclass(frozen=True)
class ModelVBench:
    model_id: str
    model: str
    dimensions: list[DimensionScore]

    def to_dict(self) -> ModelVBenchJSON:
        return ModelVBenchJSON(
            model_id=self.model_id, model=self.model, dimensions=[d.to_dict() for d in self.dimensions]
        )


@dataclass(frozen=True)
class VBenchView:
    models: list[ModelVBench]
    not_computed: list[NotComputedJSON] = field(default_factory=list)
    normalisation: list[NormalisationJSON] = field(default_factory=list)
    notes: tuple[str, ...] = NOTES

    def to_dict(self) -> VBenchJSON:
        return VBenchJSON(
            models=[m.to_dict() for m in self.models],
            not_computed=self.not_computed,
            normalisation=self.normalisation,
            notes=list(self.notes),
        )


def static_videos(videos: Sequence[VideoScores]) -> list[VideoScores]:
    """Videos the static filter keeps, at most :data:`STATIC_PER_PROMPT` per (model, prompt), lowest id first."""
    kept: dict[tuple[str, int], list[VideoScores]] = defaultdict(list)
    for v in sorted(videos, key=lambda v: v.video_id):
        if v.scores.get("static_filter") == 1.0 and len(kept[(v.model_id, v.prompt_id)]) < STATIC_PER_PROMPT:
            kept[(v.model_id, v.prompt_id)].append(v)
    return [v for group in kept.values() for v in group]


def _score(
    dim: Dimension, videos: Sequence[VideoScores], models: Mapping[str, str], reasons: Mapping[str, str]
) -> tuple[Status, Estimate | None, str | None, str]:
    assert dim.metric is not None
    model = models.get(dim.metric)
    pool: Sequence[VideoScores] = videos
    note = ""
    if dim.key == "temporal_flickering":
        model = models.get("static_filter")
        judged = [v for v in videos if "static_filter" in v.scores]
        if not judged:
            reason = reasons.get("static_filter", "the static filter has not run")
            return "unavailable", None, model, f"needs VBench's static filter: {reason}"
        pool = [v for v in static_videos(judged) if dim.metric in v.scores]
        note = f"{len(pool)} static of {len(judged)} videos (at most {STATIC_PER_PROMPT} per prompt)"
        if not pool:
            return "unavailable", None, model, note
    estimate = pool_videos(pool, dim.metric, dim.pooling)
    if estimate is None:
        return "unavailable", None, model, reasons.get(dim.metric, "no stored score")
    return "computed", estimate, model, note


def build_view(
    videos: Sequence[VideoScores],
    names: Mapping[str, str],
    models: Mapping[str, str],
    reasons: Mapping[str, str] | None = None,
) -> VBenchView:
    """The VBench view per model. ``models``: metric -> the model its stored scores came from; ``reasons``:
    metric -> why it could not run (for metrics with no value)."""
    reasons = reasons or {}
    by_model: dict[str, list[VideoScores]] = defaultdict(list)
    for v in videos:
        by_model[v.model_id].append(v)
    out = []
    for model_id in sorted(by_model):
        dims = []
        for dim in DIMENSIONS:
            if dim.metric is None:
                continue
            status, est, used, note = _score(dim, by_model[model_id], models, reasons)
            same = None if used is None else used == dim.vbench_model
            normalised = dim.normalise(est.value) if est is not None else None
            dims.append(
                DimensionScore(
                    dim.key, dim.group, status, est, normalised, dim.weight, used, dim.vbench_model, same, note
                )
            )
        out.append(ModelVBench(model_id, names.get(model_id, model_id), dims))
    not_computed = [
        NotComputedJSON(dimension=d.key, group=d.group, vbench_runs=d.vbench_runs)
        for d in DIMENSIONS
        if d.metric is None
    ]
    table = [
        NormalisationJSON(dimension=d.key, group=d.group, min=d.norm_min, max=d.norm_max, weight=d.weight)
        for d in DIMENSIONS
    ]
    return VBenchView(out, not_computed, table)
