"""`bench run` in process: a whole run on tiny models, failures and timeouts recorded while the run goes on,
identical requests with snapped values recorded, resume, and runs filling the battle pool."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from adapters.errors import ConfigError
from arena.api import create_api
from arena.bench.results import load_run
from arena.bench.runner import BenchRunner, Progress, RunOptions
from arena.services.container import Arena
from db.models import BattleMode, MetricScore, Prompt, Run, RunFailure, RunStatus, Video
from db.session import transaction


def suite_file(arena: Arena) -> str:
    return str(arena.settings.prompts_file)


def test_whole_run_on_tiny_models_records_failures_and_goes_on(bench_arena: Callable[..., Arena]) -> None:
    arena = bench_arena()
    seen: list[Progress] = []
    options = RunOptions(
        suite=suite_file(arena), models=["demo-faithful", "broken", "wan-missing", "demo-frozen"], seeds=(0, 1)
    )
    summary = BenchRunner(arena).run(options, progress=lambda p: seen.append(Progress(**vars(p))))
    rows_per_model = 4 * 2 * 2  # prompts x languages x seeds
    assert (summary.jobs, summary.generated, summary.skipped) == (4 * rows_per_model, 2 * rows_per_model, 0)
    assert summary.failed == 2 * rows_per_model and summary.scored == 2 * rows_per_model
    assert summary.status == "finished" and not summary.resumed
    assert [p.done for p in seen] == list(range(len(seen)))  # one step per generation, none lost
    kinds = sorted((f["model"], f["kind"]) for f in summary.failures)
    assert kinds == [("broken", "error")] * rows_per_model + [("wan-missing", "unavailable")]
    assert all("planted" in f["reason"] for f in summary.failures if f["model"] == "broken")
    wan = next(f for f in summary.failures if f["model"] == "wan-missing")
    assert "/nonexistent/wan-weights" in str(wan["reason"])
    with transaction(arena.factory) as session:
        run = session.get_one(Run, summary.run_id)
        assert run.status == RunStatus.finished and run.finished_at is not None
        assert run.counts["stored"] == 2 * rows_per_model and run.counts["failed"] == 2 * rows_per_model
        assert run.seeds == [arena.generation.pool_seed(0), arena.generation.pool_seed(1)]
        videos = session.scalars(select(Video).where(Video.run_id == summary.run_id)).all()
        assert len(videos) == 2 * rows_per_model and {v.model_id for v in videos} == {"demo-faithful", "demo-frozen"}
        assert all(v.settings_key == arena.generation.key for v in videos)  # the arena's own request
        assert all(v.provenance["model_id"] == v.model_id and v.latency_s is not None for v in videos)
        scored = session.scalar(
            select(func.count(MetricScore.video_id.distinct())).where(MetricScore.video_id.in_([v.id for v in videos]))
        )
        assert scored == len(videos)
    again = BenchRunner(arena).run(options)  # the plan finished: a new run, nothing regenerated, failures retried
    assert again.run_id != summary.run_id and (again.generated, again.skipped) == (0, 2 * rows_per_model)
    assert again.failed == 2 * rows_per_model and again.scored == 0
    assert load_run(arena, "latest").id == again.run_id
    public = TestClient(create_api(arena)).get(f"/api/runs/{summary.run_id}").json()
    assert public["failures"] == [
        {"model": "broken", "kind": "error", "count": rows_per_model},
        {"model": "wan-missing", "kind": "unavailable", "count": 1},
    ]
    assert "/nonexistent" not in json.dumps(public) and "planted" not in json.dumps(public)  # texts: operator only


def test_every_model_gets_one_request_and_snapped_values_are_recorded(bench_arena: Callable[..., Arena]) -> None:
    arena = bench_arena()
    options = RunOptions(
        suite=suite_file(arena), models=["capped", "demo-faithful"], language="en", num_frames=12, score=False
    )
    summary = BenchRunner(arena).run(options)
    assert summary.generated == 8 and summary.failed == 0
    with transaction(arena.factory) as session:
        run = session.get_one(Run, summary.run_id)
        assert run.settings["num_frames"] == 12 and run.settings["width"] == 64 and run.settings["fps"] == 8.0
        assert run.config["snapped"] == {"capped": {"num_frames": [12, 8]}, "demo-faithful": {}}
        videos = session.scalars(select(Video).where(Video.run_id == summary.run_id)).all()
        assert {v.settings_key for v in videos} == {run.settings_key} != {arena.generation.key}
        assert {(v.model_id, v.num_frames) for v in videos} == {("capped", 8), ("demo-faithful", 12)}
        assert {v.request["num_frames"] for v in videos} == {12}


def test_a_model_that_times_out_is_recorded_and_the_others_still_run(bench_arena: Callable[..., Arena]) -> None:
    arena = bench_arena()
    options = RunOptions(
        suite=suite_file(arena), models=["sleepy", "demo-faithful"], language="zh", timeout_s=0.5, score=False
    )
    start = time.monotonic()
    summary = BenchRunner(arena).run(options)
    assert time.monotonic() - start < 20  # one timeout, not one per prompt (a sleepy call takes 30 s)
    assert (summary.generated, summary.failed) == (4, 4)
    assert [(f["model"], f["kind"]) for f in summary.failures] == [("sleepy", "timeout")]


def test_unknown_model_or_empty_selection_is_refused_before_a_run_is_made(bench_arena: Callable[..., Arena]) -> None:
    arena = bench_arena()
    with pytest.raises(ConfigError, match=r"unknown model.*nope"):
        BenchRunner(arena).run(RunOptions(suite="smoke", models=["nope"]))
    with pytest.raises(ConfigError, match="no prompt in"):
        BenchRunner(arena).run(RunOptions(suite="smoke", models=["demo-faithful"], categories=("nope",)))
    with transaction(arena.factory) as session:
        assert session.scalar(select(func.count(Run.id))) == 0


def test_runs_fill_the_battle_pool_and_pool_status_counts_only_battle_eligible_videos(
    bench_arena: Callable[..., Arena], tmp_path: Path
) -> None:
    arena = bench_arena()
    assert {r["videos"] for r in arena.pool_videos.status()} == {0}
    summary = BenchRunner(arena).run(RunOptions(suite="smoke", models=["demo-faithful", "demo-frozen"], score=False))
    status = {r["model"]: r for r in arena.pool_videos.status()}
    assert status["demo-faithful"]["videos"] == 12 and status["demo-faithful"]["prompts"] == 12
    with transaction(arena.factory) as session:
        smoke = set(session.scalars(select(Prompt.id).where(Prompt.suite == "smoke")))
        candidates = arena.battles.pool_candidates(session)
    assert {c.prompt_id for c in candidates} == smoke  # battles start at once on the run's prompts
    battle = arena.battles.start("s1", language="zh")
    assert battle.status == "shown"
    # Videos that no battle may serve: other settings, typed prompts, the Playground.
    BenchRunner(arena).run(RunOptions(suite="smoke", models=["demo-faithful"], num_frames=4, score=False))
    arena.playground.generate("demo-faithful", "a typed prompt about a kite", seed=3)
    arena.battles.start("s2", prompt_text="another typed prompt", mode=BattleMode.named, models=list(status)[:2])
    after = {r["model"]: r for r in arena.pool_videos.status()}
    assert after == status
    assert all(r["prompts"] <= r["suite_prompts"] for r in after.values())
    with transaction(arena.factory) as session:
        assert session.scalar(select(func.count(Video.id)).where(Video.model_id == "demo-faithful")) > 12
    assert summary.generated == 24


def test_failures_of_a_run_are_kept_in_their_table(bench_arena: Callable[..., Arena]) -> None:
    arena = bench_arena()
    summary = BenchRunner(arena).run(RunOptions(suite=suite_file(arena), models=["broken"], language="en", score=False))
    with transaction(arena.factory) as session:
        rows = session.scalars(select(RunFailure).where(RunFailure.run_id == summary.run_id)).all()
        assert len(rows) == 4 and {r.kind for r in rows} == {"error"} and all(r.prompt_id for r in rows)
