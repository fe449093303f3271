"""What a run produced, read back from the database: its videos (by plan, whichever run made them), their scores,
latency and memory, failures, and the metric board of its videos (per model and per category with 95 %
intervals, each metric pooled as it says, and VBench's view) from :meth:`MetricBoardService.report`.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from adapters.errors import ConfigError
from arena.bench.schema import (
    ComparisonJSON,
    FailureJSON,
    HumanRatingJSON,
    MetricCsvRow,
    PublicRunInfoJSON,
    RunInfoJSON,
    RunJSON,
    RunListRowJSON,
    RunNumbersJSON,
    SpeedJSON,
    failure_json,
)
from arena.services.container import Arena
from db.models import Prompt, Run, Video
from db.session import transaction
from metrics.board import MetricReport
from metrics.pooling import Estimate

ALL = "all"
LATEST = "latest"


@dataclass(frozen=True)
class RunVideo:
    id: int
    model_id: str
    prompt_id: int
    key: str
    language: str
    category: str
    text: str
    seed: int
    file_path: str
    latency_s: float | None
    peak_memory_bytes: int | None
    memory_kind: str | None
    made_by_run: str | None
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def unit(self) -> tuple[str, str, int]:
        """What pairs this video with another run's: prompt key, language, seed."""
        return self.key, self.language, self.seed


@dataclass(frozen=True)
class RunData:
    """A run and everything it produced (videos of its plan, the configured encoder's latest scores)."""

    id: str
    suite: str
    language: str
    models: list[str]
    seeds: list[int]
    settings: dict[str, Any]
    settings_key: str
    backend: str
    status: str
    counts: dict[str, Any]
    config: dict[str, Any]
    created_at: str
    finished_at: str | None
    names: dict[str, str]
    encoder: str
    calibrated: bool
    directions: dict[str, bool | None]
    videos: list[RunVideo]
    failures: list[FailureJSON]
    board: MetricReport

    @property
    def metrics(self) -> list[str]:
        return sorted({row.metric for row in self.board.models})

    @property
    def categories(self) -> list[str]:
        return list(dict.fromkeys(v.category for v in self.videos))

    def of(self, model_id: str, category: str = ALL) -> list[RunVideo]:
        return [v for v in self.videos if v.model_id == model_id and category in (ALL, v.category)]

    def summary(self, category: str = ALL) -> dict[str, dict[str, Estimate]]:
        """model -> metric -> its pooled value with a 95 % interval (all prompts, or one category)."""
        rows = self.board.models if category == ALL else [r for r in self.board.categories if r.category == category]
        out: dict[str, dict[str, Estimate]] = {}
        for row in rows:
            out.setdefault(row.model_id, {})[row.metric] = row.estimate
        return {m: out[m] for m in self.models if m in out}

    def speed(self) -> dict[str, SpeedJSON]:
        """model -> videos, latency (median, p90, mean; seconds) and peak memory (largest, bytes, its kind)."""
        out: dict[str, SpeedJSON] = {}
        for model_id in self.models:
            videos = self.of(model_id)
            latencies = sorted(v.latency_s for v in videos if v.latency_s is not None)
            memory = [v.peak_memory_bytes for v in videos if v.peak_memory_bytes is not None]
            kinds = sorted({v.memory_kind for v in videos if v.memory_kind})
            out[model_id] = SpeedJSON(
                videos=len(videos),
                latency_median_s=statistics.median(latencies) if latencies else None,
                latency_p90_s=latencies[min(len(latencies) - 1, int(0.9 * len(latencies)))] if latencies else None,
                latency_mean_s=statistics.fmean(latencies) if latencies else None,
                peak_memory_bytes=max(memory) if memory else None,
                memory_kind=", ".join(kinds) or None,
            )
        return out

    def public_info(self) -> PublicRunInfoJSON:
        """The run's description without its seeds."""
        return PublicRunInfoJSON(
            id=self.id,
            suite=self.suite,
            language=self.language,
            models=self.models,
            settings=self.settings,
            backend=self.backend,
            status=self.status,
            counts=self.counts,
            created_at=self.created_at,
            finished_at=self.finished_at,
            snapped=self.config.get("snapped", {}),
            seed_indices=self.config.get("seed_indices"),
            encoder=self.encoder,
            calibrated=self.calibrated,
            videos=len(self.videos),
        )

    def info(self) -> RunInfoJSON:
        return RunInfoJSON(**self.public_info(), seeds=self.seeds)

    def metric_rows(self) -> list[MetricCsvRow]:
        """One row per (category incl. all, model, metric): the CSV of the report."""
        return [
            MetricCsvRow(
                run=self.id,
                category=category,
                model=model_id,
                metric=metric,
                value=e.value,
                ci_low=e.low,
                ci_high=e.high,
                videos=e.videos,
                pooling=e.pooling,
            )
            for category in [ALL, *self.categories]
            for model_id, row in self.summary(category).items()
            for metric, e in row.items()
        ]

    def to_json(
        self, ratings: dict[str, HumanRatingJSON] | None = None, comparison: ComparisonJSON | None = None
    ) -> RunJSON:
        """The report's numbers: run info, per-model and per-category metrics, speed, failures, ratings (and a
        comparison with an earlier run, when given)."""
        out = RunJSON(**self.numbers(ratings), run=self.info(), failures=self.failures)
        if comparison is not None:
            out["comparison"] = comparison
        return out

    def numbers(self, ratings: dict[str, HumanRatingJSON] | None = None) -> RunNumbersJSON:
        """Per-model and per-category metrics, the VBench view, speed and human ratings."""
        return RunNumbersJSON(
            directions=self.directions,
            models={m: self.names.get(m, m) for m in self.models},
            metrics={m: {k: e.to_dict(6) for k, e in row.items()} for m, row in self.summary().items()},
            categories={
                c: {m: {k: e.to_dict(6) for k, e in row.items()} for m, row in self.summary(c).items()}
                for c in self.categories
            },
            vbench=self.board.vbench.to_dict(),
            speed=self.speed(),
            ratings=ratings or {},
        )


def _run_videos_query(run: Run) -> Any:
    return (
        select(Video, Prompt)
        .join(Prompt, Prompt.id == Video.prompt_id)
        .where(
            Video.settings_key == run.settings_key,
            Video.model_id.in_(run.models),
            Video.prompt_id.in_(run.prompt_ids),
            Video.seed.in_(run.seeds),
        )
        .order_by(Video.id)
    )


def run_video_ids(factory: sessionmaker[Session], run_id: str) -> list[int]:
    with transaction(factory) as session:
        run = _get_run(session, run_id)
        return [video.id for video, _ in session.execute(_run_videos_query(run))]


def _get_run(session: Session, run_id: str) -> Run:
    """The run with this id (`latest`: the newest run)."""
    if run_id == LATEST:
        run_id = session.scalar(select(Run.id).order_by(Run.created_at.desc()).limit(1)) or run_id
    run = session.get(Run, run_id)
    if run is None:
        raise ConfigError(f"no run {run_id!r} (see `arena bench list`)")
    return run


def load_run(arena: Arena, run_id: str) -> RunData:
    from metrics.registry import build_registry

    registry = build_registry()
    directions = {name: registry.get(name).higher_is_better for name in registry.names()}
    with transaction(arena.factory) as session:
        run = _get_run(session, run_id)
        rows = session.execute(_run_videos_query(run)).all()
    ids = [video.id for video, _ in rows]
    scored = arena.metric_board.read_all(video_ids=ids).videos
    with transaction(arena.factory) as session:
        run = _get_run(session, run_id)
        videos = []
        for video, prompt in rows:
            provenance = video.provenance or {}
            videos.append(
                RunVideo(
                    id=video.id,
                    model_id=video.model_id,
                    prompt_id=prompt.id,
                    key=prompt.key,
                    language=prompt.language,
                    category=prompt.category,
                    text=prompt.text,
                    seed=video.seed,
                    file_path=video.file_path,
                    latency_s=video.latency_s,
                    peak_memory_bytes=provenance.get("peak_memory_bytes"),
                    memory_kind=provenance.get("memory_kind"),
                    made_by_run=video.run_id,
                    scores=dict(scored[video.id].scores) if video.id in scored else {},
                )
            )
        failures = [failure_json(f) for f in run.failures]
        info: dict[str, Any] = {
            "id": run.id,
            "suite": run.suite,
            "language": run.language,
            "models": list(run.models),
            "seeds": list(run.seeds),
            "settings": dict(run.settings),
            "settings_key": run.settings_key,
            "backend": run.backend,
            "status": run.status.value,
            "counts": dict(run.counts),
            "config": dict(run.config),
            "created_at": run.created_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        }
    names = {m: meta["display_name"] for m, meta in arena.leaderboard.models().items()}
    used = {m for v in videos for m in v.scores}
    return RunData(
        **info,
        names=names,
        encoder=arena.settings.metrics_encoder,
        calibrated=arena.metric_board.calibrated(),
        directions={m: d for m, d in directions.items() if m in used},
        videos=videos,
        failures=failures,
        board=arena.metric_board.report(video_ids=ids),
    )


def human_ratings(arena: Arena, models: list[str]) -> dict[str, HumanRatingJSON]:
    """The arena's Bradley–Terry ratings of these models where votes exist (rating, 95 % CI, votes)."""
    board = arena.leaderboard.board(min_votes=0)
    return {
        row["model_id"]: HumanRatingJSON(
            rating=row["rating"], ci=row["ci"], insufficient=row["insufficient"], votes=row["votes"]
        )
        for row in board["rows"]
        if row["model_id"] in models
    }


def list_runs(factory: sessionmaker[Session], limit: int = 50) -> list[RunListRowJSON]:
    with transaction(factory) as session:
        runs = session.scalars(select(Run).order_by(Run.created_at.desc()).limit(limit)).all()
        return [
            RunListRowJSON(
                id=r.id,
                suite=r.suite,
                language=r.language,
                models=list(r.models),
                seeds=len(r.seeds),
                prompts=len(r.prompt_ids),
                status=r.status.value,
                counts=dict(r.counts),
                created_at=r.created_at.isoformat(),
            )
            for r in runs
        ]
