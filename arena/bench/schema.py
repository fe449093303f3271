"""The JSON of benchmark runs, as `arena bench … --json`, the HTML report's embedded data and the read-only
`/api/runs` routes give it. The public types are the operator's minus what only the operator may see (a run's
seeds, failure texts, per-prompt rows): each operator type extends its public one.
"""

from __future__ import annotations

from typing import Any, NotRequired

from typing_extensions import TypedDict  # not typing's: pydantic (the API's schema) needs this one below 3.12

from arena.ratings.verdicts import DecisionJSON
from db.runs import RunFailure
from metrics.pooling import EstimateJSON
from metrics.vbench import VBenchJSON


class FailureJSON(TypedDict):
    """A generation of a run that failed or was skipped (prompt and seed None: the whole model)."""

    model: str
    prompt_id: int | None
    seed: int | None
    kind: str  # error | timeout | unavailable | skipped
    reason: str


def failure_json(row: RunFailure) -> FailureJSON:
    return FailureJSON(model=row.model_id, prompt_id=row.prompt_id, seed=row.seed, kind=row.kind, reason=row.reason)


class RunSummaryJSON(TypedDict):
    """What `arena bench run --json` prints: this invocation's counts (``skipped``: already stored before it)."""

    run_id: str
    resumed: bool
    status: str
    jobs: int
    generated: int
    skipped: int
    failed: int
    scored: int
    failures: list[FailureJSON]
    error: str | None


class FailureCountJSON(TypedDict):
    model: str
    kind: str
    count: int


class RunListRowJSON(TypedDict):
    """A run in `arena bench list` and `/api/runs` (seeds and prompts counted)."""

    id: str
    suite: str
    language: str
    models: list[str]
    seeds: int
    prompts: int
    status: str
    counts: dict[str, Any]  # jobs, generated, skipped, failed, stored
    created_at: str


class PublicRunInfoJSON(TypedDict):
    id: str
    suite: str
    language: str
    models: list[str]
    settings: dict[str, Any]  # the one request every model got
    backend: str
    status: str
    counts: dict[str, Any]
    created_at: str
    finished_at: str | None
    snapped: dict[str, dict[str, list[Any]]]  # model -> field -> [asked, used] where its rules changed a value
    seed_indices: list[int] | None
    encoder: str
    calibrated: bool
    videos: int


class RunInfoJSON(PublicRunInfoJSON):
    seeds: list[int]  # derived from the arena's secret: the operator's only


class SpeedJSON(TypedDict):
    """A model's latency in seconds (None: no timed video) and its largest peak memory."""

    videos: int
    latency_median_s: float | None
    latency_p90_s: float | None
    latency_mean_s: float | None
    peak_memory_bytes: int | None
    memory_kind: str | None


class HumanRatingJSON(TypedDict):
    rating: float
    ci: list[float | None]  # [low, high]; None for an open end (an unbeaten or never-winning model)
    insufficient: bool
    votes: int


class MetricCsvRow(TypedDict):
    """A row of the report's CSV: one (category incl. all, model, metric)."""

    run: str
    category: str
    model: str
    metric: str
    value: float
    ci_low: float
    ci_high: float
    videos: int
    pooling: str


class CellJSON(DecisionJSON):
    """One comparison of two runs (mean paired difference B − A), flattened with its decision."""

    model_a: str
    model_b: str
    metric: str
    category: str
    prompts: int
    verdict: str  # better | worse | higher | lower | no difference shown | identical | insufficient data


class WorstPromptJSON(TypedDict):
    model_a: str
    model_b: str
    key: str
    category: str
    text: str
    score: float  # mean standardised change over metrics with a direction (negative: worse)
    diffs: dict[str, float]
    video_a: int
    video_b: int


class PublicComparisonJSON(TypedDict):
    run_a: str
    run_b: str
    pairs: list[list[str]]
    alpha: float
    method: str
    family_size: int
    units: int  # matched (prompt, language, seed) units
    cells: list[CellJSON]


class ComparisonJSON(PublicComparisonJSON):
    worst_prompts: list[WorstPromptJSON]


class RunNumbersJSON(TypedDict):
    """What every reader of a run may see of its numbers (aggregates only)."""

    directions: dict[str, bool | None]  # metric -> higher is better (None: no direction)
    models: dict[str, str]  # id -> display name
    metrics: dict[str, dict[str, EstimateJSON]]  # model -> metric -> its value over all prompts
    categories: dict[str, dict[str, dict[str, EstimateJSON]]]  # category -> model -> metric -> value
    vbench: VBenchJSON
    speed: dict[str, SpeedJSON]
    ratings: dict[str, HumanRatingJSON]  # the arena's human ratings of the run's models, where votes exist


class PublicRunJSON(RunNumbersJSON):
    run: PublicRunInfoJSON
    failures: list[FailureCountJSON]


class RunJSON(RunNumbersJSON):
    run: RunInfoJSON
    failures: list[FailureJSON]
    comparison: NotRequired[ComparisonJSON]
