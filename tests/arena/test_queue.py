"""Live generation as queued jobs: returns at once, a fair bounded queue shared by processes, real progress,
only live-capable models for typed prompts, and a model that cannot load backs off instead of reloading."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from arena.services.container import Arena
from arena.services.views import BattleMode, Refusal
from db.models import Battle, GenerationJob, JobStatus, utcnow
from db.session import transaction
from tests.support.waiting import settled

MODELS = """
models:
  - {id: alpha-7b, display_name: Alpha Seven, kind: scripted, params: {colour: [255, 0, 0]}}
  - {id: gamma-x, display_name: Gamma Ex, kind: scripted, params: {colour: [0, 200, 0], delay_s: 0.8}}
  - {id: clips-only, display_name: Clips Only, kind: scripted_clips, params: {colour: [9, 9, 9]}}
  - {id: heavy-1, display_name: Heavy One, kind: scripted, params: {load_error: "weights are corrupt"}}
"""


@pytest.fixture
def models_file(tmp_path: Path) -> Path:
    path = tmp_path / "queue-models.yaml"
    path.write_text(MODELS, encoding="utf-8")
    return path


def jobs(arena: Arena, battle_id: str | None = None) -> list[GenerationJob]:
    with transaction(arena.factory) as session:
        query = select(GenerationJob).order_by(GenerationJob.id)
        return list(session.scalars(query.where(GenerationJob.battle_id == battle_id) if battle_id else query))


def test_a_typed_prompt_returns_at_once_and_shows_progress_until_both_videos_are_ready(
    arena_factory: Callable[..., Arena], models_file: Path
) -> None:
    arena = arena_factory(models_file=models_file)
    view = arena.battles.start("s1", prompt_text="a green frog jumps", models=["alpha-7b", "gamma-x"])
    # It returned before the videos existed (the slow one takes 0.8 s): nothing was generated on this call.
    assert view.status == "generating" and view.left_url is None and view.progress == 0.0
    assert view.public()["queue"] == {"position": view.queue_position, "progress": 0.0}
    seen = set()
    while view.status == "generating":
        seen.add(view.progress)
        time.sleep(0.05)
        view = arena.battles.get(view.id, "s1")
    assert view.status == "shown" and view.left_url and view.right_url
    assert any(p is not None and 0.0 < p < 1.0 for p in seen), seen  # the adapter's reports reached the page
    assert [j.status for j in jobs(arena, view.id)] == [JobStatus.done, JobStatus.done]


def test_claims_are_fair_between_clients(arena_factory: Callable[..., Arena], models_file: Path) -> None:
    arena = arena_factory(
        models_file=models_file,
        generation_workers=0,  # claims by hand below
        live_battles_per_session=10,
        generation_concurrency={"alpha-7b": 10, "gamma-x": 10},
    )
    greedy = [
        arena.battles.start("greedy", prompt_text=f"box {i}", mode=BattleMode.named, models=["alpha-7b", "gamma-x"])
        for i in range(3)
    ]
    polite = arena.battles.start("polite", prompt_text="one cat", mode=BattleMode.named, models=["alpha-7b", "gamma-x"])
    order = []
    while (job := arena.queue.claim()) is not None:
        order.append("polite" if job.battle_id == polite.id else "greedy")
    # The polite client's two jobs are taken second and fourth, not after the greedy client's six.
    assert order == ["greedy", "polite", "greedy", "polite", "greedy", "greedy", "greedy", "greedy"]
    assert {b.id for b in greedy} | {polite.id} == {j.battle_id for j in jobs(arena)}


def test_two_processes_never_exceed_a_models_limit(arena_factory: Callable[..., Arena], models_file: Path) -> None:
    one = arena_factory(models_file=models_file, generation_workers=0, live_battles_per_session=10)
    two = arena_factory(models_file=models_file, generation_workers=0, live_battles_per_session=10)
    for i in range(5):
        one.battles.start(f"c{i}", prompt_text=f"star {i}", mode=BattleMode.named, models=["alpha-7b", "gamma-x"])
    claimed: list[str] = []
    barrier = threading.Barrier(8)

    def claim(arena: Arena) -> None:
        barrier.wait()
        while (job := arena.queue.claim()) is not None:
            claimed.append(job.model_id)

    threads = [threading.Thread(target=claim, args=(a,)) for a in (one, two) * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    # The scripted adapter's limit is 2 at once per model, across both processes; nothing was claimed twice.
    assert sorted(claimed) == ["alpha-7b"] * 2 + ["gamma-x"] * 2
    running = [j for j in jobs(one) if j.status == JobStatus.running]
    assert len(running) == 4 and len({j.id for j in running}) == 4


def test_the_queue_is_bounded_and_a_refusal_stores_nothing(
    arena_factory: Callable[..., Arena], models_file: Path
) -> None:
    arena = arena_factory(models_file=models_file, generation_workers=0, generation_queue_max=4)
    pair = ["alpha-7b", "gamma-x"]
    arena.battles.start("a", prompt_text="one", mode=BattleMode.named, models=pair)
    arena.battles.start("a", prompt_text="two", mode=BattleMode.named, models=pair)
    with pytest.raises(Refusal) as busy:
        arena.battles.start("a", prompt_text="three", mode=BattleMode.named, models=pair)
    assert (busy.value.code, busy.value.status) == ("busy", 429)
    with pytest.raises(Refusal) as full:
        arena.battles.start("b", prompt_text="four", mode=BattleMode.named, models=pair)
    assert (full.value.code, full.value.status) == ("queue_full", 503)
    with transaction(arena.factory) as session:
        assert session.scalar(select(func.count(Battle.id))) == 2
    assert len(jobs(arena)) == 4


def test_only_models_that_can_generate_are_drawn_for_typed_prompts(
    arena_factory: Callable[..., Arena], models_file: Path
) -> None:
    arena = arena_factory(models_file=models_file, generation_workers=0, live_battles_per_session=1000)
    arena.pool_videos.fill(models=["alpha-7b", "clips-only"])  # the clips model has stored videos of the suite prompts
    drawn = set()
    for i in range(60):
        view = arena.battles.start("s", prompt_text=f"a red ball number {i}")
        with transaction(arena.factory) as session:
            battle = session.get_one(Battle, view.id)
            drawn |= {battle.left_model_id, battle.right_model_id}
    assert "clips-only" not in drawn and drawn <= {"alpha-7b", "gamma-x", "heavy-1"}
    with pytest.raises(Refusal) as refused:
        arena.battles.start("s", prompt_text="a cat", mode=BattleMode.named, models=["alpha-7b", "clips-only"])
    assert refused.value.code == "not_live" and "clips-only" in refused.value.reason
    with pytest.raises(Refusal) as refused:  # named battles take typed prompts only: never the pool's clips
        arena.battles.start("s", mode=BattleMode.named, models=["alpha-7b", "clips-only"])
    assert refused.value.code == "pool_prompt"
    with pytest.raises(Refusal) as refused:  # nor does the Playground (its clip of a suite prompt is the pool's)
        arena.playground.generate("clips-only", "a red ball rolls left")
    assert refused.value.code == "not_live"


def test_a_model_that_cannot_load_backs_off_and_is_retried_by_the_admin(
    arena_factory: Callable[..., Arena], models_file: Path
) -> None:
    arena = arena_factory(models_file=models_file, model_backoff_s=60)
    pair = ["alpha-7b", "heavy-1"]
    first = settled(arena, arena.battles.start("s1", prompt_text="a fox", mode=BattleMode.named, models=pair), "s1")
    assert first.status == "voided" and "not available" in (first.reason or "")
    adapter, _ = arena.adapters.get("heavy-1")
    assert adapter.loads == 1  # type: ignore[attr-defined]
    state = {s.model_id: s for s in arena.states.all()}["heavy-1"]
    assert "weights are corrupt" in (state.unavailable_reason or "") and state.failures == 1 and state.backing_off
    assert state.retry_at is not None and 50 < (state.retry_at - utcnow()).total_seconds() <= 61
    with pytest.raises(Refusal) as refused:  # not drawn, not chosen while it backs off
        arena.battles.start("s2", prompt_text="a hen", mode=BattleMode.named, models=pair)
    assert refused.value.code == "not_live"
    for i in range(10):
        view = arena.battles.start(f"r{i}", prompt_text=f"a dog {i}")
        with transaction(arena.factory) as session:
            battle = session.get_one(Battle, view.id)
            assert "heavy-1" not in (battle.left_model_id, battle.right_model_id)
    with pytest.raises(Exception, match="not tried again"):  # any direct use fails fast, without loading
        arena.generation.get_or_generate("heavy-1", 1, seed=3)
    assert adapter.loads == 1  # type: ignore[attr-defined]
    arena.states.retry_now("heavy-1")  # the admin's retry: the next job loads again, and the back-off doubles
    again = settled(arena, arena.battles.start("s3", prompt_text="a owl", mode=BattleMode.named, models=pair), "s3")
    assert again.status == "voided" and adapter.loads == 2  # type: ignore[attr-defined]
    state = {s.model_id: s for s in arena.states.all()}["heavy-1"]
    assert state.failures == 2 and state.retry_at is not None
    assert 110 < (state.retry_at - utcnow()).total_seconds() <= 121
