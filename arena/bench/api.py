"""JSON routes for benchmark runs, run comparisons and the metric board (read only, aggregates only).

Nothing here is per video: per-prompt scores of a named model would let a voter match a battle clip to its
model (pixel metrics can be measured on any clip), so prompts that got worse and contact sheets stay in the
operator's HTML report (`arena bench report`); nor are the run's seeds (the arena's secret pool seeds) or the
text of its failures.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Path, Query

from adapters.errors import ConfigError
from arena.bench.schema import (
    FailureCountJSON,
    HumanRatingJSON,
    PublicComparisonJSON,
    PublicRunJSON,
    RunListRowJSON,
)
from arena.services.container import Arena
from arena.services.metric_board import MetricBoardJSON
from arena.services.views import Refusal

if TYPE_CHECKING:
    from arena.bench.results import RunData

RunId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[\w\-]+$")]
Word = Annotated[str | None, Query(max_length=64, pattern=r"^[\w\-]+$")]
Pairs = Annotated[
    list[Annotated[str, Query(max_length=130, pattern=r"^[\w.\-]+=[\w.\-]+$")]] | None,
    Query(max_length=16, description="A_MODEL=B_MODEL (repeatable)"),
]


def _run(arena: Arena, run_id: str) -> RunData:
    from arena.bench.results import load_run

    try:
        return load_run(arena, run_id)
    except ConfigError as exc:  # reasons never repeat the input
        raise Refusal("unknown_run", "no such run", 404) from exc


def public_run(data: RunData, ratings: dict[str, HumanRatingJSON]) -> PublicRunJSON:
    """A run's report numbers without what only the operator may see: the seeds it used (the arena's pool seeds,
    derived from its secret: with them anyone could regenerate a pool clip in the Playground and recognise it in a
    battle) and failure texts (paths, hosts); failures are counted per model and kind."""
    counts = Counter((failure["model"], failure["kind"]) for failure in data.failures)
    failures = [FailureCountJSON(model=m, kind=k, count=n) for (m, k), n in sorted(counts.items())]
    return PublicRunJSON(**data.numbers(ratings), run=data.public_info(), failures=failures)


def bench_router(arena: Arena) -> APIRouter:
    router = APIRouter()

    @router.get("/api/runs")
    def runs(limit: int = Query(50, ge=1, le=500)) -> list[RunListRowJSON]:
        from arena.bench.results import list_runs

        return list_runs(arena.factory, limit)

    @router.get("/api/runs/{run_id}")
    def run(run_id: RunId) -> PublicRunJSON:
        from arena.bench.results import human_ratings

        data = _run(arena, run_id)
        return public_run(data, human_ratings(arena, data.models))

    @router.get("/api/runs/{run_a}/compare/{run_b}")
    def compare(
        run_a: RunId,
        run_b: RunId,
        pair: Pairs = None,
        alpha: Annotated[float, Query(gt=0, lt=0.5)] = 0.05,
        method: Annotated[str, Query(pattern="^(holm|bh)$")] = "holm",
    ) -> PublicComparisonJSON:
        from arena.bench.compare import compare_runs, parse_pairs

        a, b = _run(arena, run_a), _run(arena, run_b)
        try:
            result = compare_runs(a, b, parse_pairs(pair or [], a), alpha=alpha, method=method)  # type: ignore[arg-type]
        except ConfigError as exc:
            reason = "not comparable: the runs need one suite and the same seeds, and pairs of their models"
            raise Refusal("not_comparable", reason, 422) from exc
        return result.public()  # per-prompt rows: operator's report only

    @router.get("/api/metrics")
    def metric_board(category: Word = None, language: Word = None) -> MetricBoardJSON:
        """Per model and metric: mean, 95 % CI and videos (pool videos, suite prompts); the agreement of each
        metric with the human votes; whether the encoder is calibrated."""
        board = arena.metric_board
        videos = board.read()
        return MetricBoardJSON(
            encoder=board.encoder,
            calibrated=board.calibrated(),
            filters={"category": category, "language": language},
            rows=board.summary(category=category, language=language, videos=videos),
            agreement=board.agreement(videos),
        )

    return router
