"""JSON routes for benchmark runs, run comparisons and the metric board (read only, aggregates only).

Nothing here is per video: per-prompt scores of a named model would let a voter match a battle clip to its
model (pixel metrics can be measured on any clip), so prompts that got worse and contact sheets stay in the
operator's HTML report (`arena bench report`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from adapters.errors import ConfigError
from arena.services.container import Arena
from arena.services.views import Refusal


def _run(arena: Arena, run_id: str) -> Any:
    from arena.bench.results import load_run

    try:
        return load_run(arena, run_id)
    except ConfigError as exc:
        raise Refusal("unknown_run", str(exc), 404) from exc


def bench_router(arena: Arena) -> APIRouter:
    router = APIRouter()

    @router.get("/api/runs")
    def runs(limit: int = Query(50, ge=1, le=500)) -> list[dict[str, Any]]:
        from arena.bench.results import list_runs

        return list_runs(arena.factory, limit)

    @router.get("/api/runs/{run_id}")
    def run(run_id: str) -> dict[str, Any]:
        from arena.bench.results import human_ratings

        data = _run(arena, run_id)
        return dict(data.to_json(human_ratings(arena, data.models)))

    @router.get("/api/runs/{run_a}/compare/{run_b}")
    def compare(
        run_a: str,
        run_b: str,
        pair: list[str] | None = Query(None, description="A_MODEL=B_MODEL (repeatable)"),
        alpha: float = Query(0.05, gt=0, lt=0.5),
        method: str = Query("holm", pattern="^(holm|bh)$"),
    ) -> dict[str, Any]:
        from arena.bench.compare import compare_runs, parse_pairs

        a, b = _run(arena, run_a), _run(arena, run_b)
        try:
            result = compare_runs(a, b, parse_pairs(pair or [], a), alpha=alpha, method=method)  # type: ignore[arg-type]
        except ConfigError as exc:
            raise Refusal("not_comparable", str(exc), 422) from exc
        body = result.to_json()
        body.pop("worst_prompts")  # per-prompt: operator's report only
        return body

    @router.get("/api/metrics")
    def metric_board(category: str | None = None, language: str | None = None) -> dict[str, Any]:
        """Per model and metric: mean, 95 % CI and videos (pool videos, suite prompts); the agreement of each
        metric with the human votes; whether the encoder is calibrated."""
        board = arena.metric_board
        videos = board.read()
        return {
            "encoder": board.encoder,
            "calibrated": board.calibrated(),
            "filters": {"category": category, "language": language},
            "rows": board.summary(category=category, language=language, videos=videos),
            "agreement": board.agreement(videos),
        }

    return router
