"""Rules that keep battles blind and fair: no Playground video in a battle, one settings key, pool seeds nobody
can guess, language filtering, refused prompt ids and lengths, a per-install secret."""

from __future__ import annotations

import stat
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from arena.services.container import Arena
from arena.services.generation import PLAYGROUND_RUN, ArenaGenerationSettings, GenerationService
from arena.services.suites import USER_SUITE
from arena.services.views import BattleMode, BattleView, Refusal
from db.models import Battle, Prompt, Video, utcnow
from db.session import transaction
from tests.support.waiting import settled


def battle_videos(arena: Arena, battle_id: str) -> list[Video]:
    with transaction(arena.factory) as session:
        battle = session.get_one(Battle, battle_id)
        return [session.get_one(Video, v) for v in (battle.left_video_id, battle.right_video_id) if v is not None]


def test_a_playground_video_is_never_served_in_a_battle(arena: Arena) -> None:
    text = "a purple star flies up"
    shown = arena.playground.generate("alpha-7b", text, seed=5)
    for _ in range(6):
        view = arena.battles.start("s1", prompt_text=text, mode=BattleMode.named, models=["alpha-7b", "beta-v2"])
        view = settled(arena, view, "s1")
        assert view.status == "shown"
        assert shown["video_id"] not in {v.id for v in battle_videos(arena, view.id)}
    with transaction(arena.factory) as session:
        playground = session.get_one(Video, int(shown["video_id"]))
        assert playground.run_id == PLAYGROUND_RUN


def test_battles_only_pair_videos_made_with_the_arena_settings(arena: Arena) -> None:
    other = GenerationService(arena.factory, arena.media, arena.adapters, ArenaGenerationSettings(num_frames=5))
    odd = {other.get_or_generate(m, 1, seed=arena.generation.pool_seed(0)) for m in ("alpha-7b", "beta-v2")}
    for _ in range(20):
        view = arena.battles.start("s1", prompt_id=1)
        videos = battle_videos(arena, view.id)
        assert not odd & {v.id for v in videos}
        assert {v.settings_key for v in videos} == {arena.generation.key}


def test_pool_seeds_come_from_the_secret(arena_factory: Callable[..., Arena], tmp_path: Path) -> None:
    one = arena_factory(secret="first secret")
    seeds = [one.generation.pool_seed(k) for k in range(3)]
    assert len(set(seeds)) == 3 and 0 not in seeds
    assert seeds == [one.generation.pool_seed(k) for k in range(3)]  # stable: fills resume
    two = arena_factory(secret="second secret", database_url=f"sqlite:///{tmp_path / 'b.db'}")
    assert [two.generation.pool_seed(k) for k in range(3)] != seeds


def test_language_narrows_the_suite_prompts(arena: Arena) -> None:
    for _ in range(8):
        view = arena.battles.start("s1", language="zh")
        assert view.language == "zh"


def test_typed_prompts_of_others_cannot_be_started_by_id_and_prompts_have_a_length_limit(arena: Arena) -> None:
    arena.battles.start("s1", prompt_text="my private idea of a cat")
    with transaction(arena.factory) as session:
        typed_id = session.scalars(select(Prompt.id).where(Prompt.suite == USER_SUITE)).first()
    with pytest.raises(Refusal) as refused:
        arena.battles.start("s2", prompt_id=typed_id)
    assert refused.value.code == "unknown_prompt"
    with pytest.raises(Refusal) as too_long:
        arena.battles.start("s1", prompt_text="x" * 1001)
    assert too_long.value.status == 400
    with pytest.raises(Refusal):
        arena.playground.generate("alpha-7b", "   ")


def test_the_playground_refuses_disabled_models_and_obeys_live_generation(
    arena_factory: Callable[..., Arena],
) -> None:
    arena = arena_factory(live_generation=False)
    with pytest.raises(Refusal) as refused:
        arena.playground.generate("alpha-7b", "a cat")
    assert refused.value.code == "live_disabled"
    live = arena_factory()
    with pytest.raises(Refusal) as unknown:
        live.playground.generate("no-such-model", "a cat")
    assert unknown.value.status == 400


def test_an_unset_secret_becomes_a_private_random_one_kept_for_restarts(arena_factory: Callable[..., Arena]) -> None:
    first = arena_factory(secret="change-me")
    second = arena_factory(secret="change-me")
    assert first.settings.secret != "change-me" and first.settings.secret == second.settings.secret
    secret_file = first.settings.media_dir.parent / "secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600


def test_votes_sooner_than_the_viewing_time_are_refused(arena_factory: Callable[..., Arena]) -> None:
    arena = arena_factory(min_view_s=30.0)
    arena.pool_videos.fill(models=["alpha-7b", "beta-v2"])
    view = arena.battles.start("s1")

    def too_early() -> None:
        with pytest.raises(Refusal) as refused:
            arena.votes.vote(view.id, "s1", "left")
        assert refused.value.code == "too_early" and refused.value.status == 425

    with transaction(arena.factory) as session:  # shown long ago, but never fetched: the clock has not started
        battle = session.get_one(Battle, view.id)
        battle.shown_at = battle.shown_at - timedelta(seconds=300)
        left_token, right_token = battle.left_token, battle.right_token
    too_early()
    assert arena.battles.video_for_token(left_token) is not None
    too_early()  # one video received is not both
    assert arena.battles.video_for_token(right_token) is not None
    assert arena.battles.video_for_token(right_token) is not None  # a second fetch does not restart the clock
    too_early()  # both just received
    with transaction(arena.factory) as session:  # the refusals stored nothing; 31 s after delivery the vote counts
        battle = session.get_one(Battle, view.id)
        assert battle.vote is None and battle.left_fetched_at is not None
        battle.left_fetched_at -= timedelta(seconds=31)
        battle.right_fetched_at = battle.left_fetched_at
    assert arena.votes.vote(view.id, "s1", "left").choice == "left"


def battles_watched_together(arena_factory: Callable[..., Arena], count: int = 4) -> tuple[Arena, list[BattleView]]:
    """An arena with a 30 s viewing time and ``count`` battles of session "s1" whose videos were all fetched 31 s
    ago: the batching attack's set-up (open several battles, fetch every video, wait once)."""
    arena = arena_factory(min_view_s=30.0)
    arena.pool_videos.fill(models=["alpha-7b", "beta-v2"])
    views = [arena.battles.start("s1") for _ in range(count)]
    with transaction(arena.factory) as session:
        for view in views:
            battle = session.get_one(Battle, view.id)
            battle.left_fetched_at = battle.right_fetched_at = utcnow() - timedelta(seconds=31)
    return arena, views


def test_battles_opened_together_are_watched_one_at_a_time(arena_factory: Callable[..., Arena]) -> None:
    """The batching attack on the viewing time: open several battles, fetch every video, wait once, vote on all.
    The clock counting from each battle's delivery alone accepted all 4 votes after one wait; counting also from
    the session's last vote, one is accepted per viewing time. Simulated voters (server-issued) are exempt."""
    from arena.settings import Settings

    assert Settings(_env_file=None).min_view_s > 0  # type: ignore[call-arg]  # on by default (it was 0)
    arena, views = battles_watched_together(arena_factory)
    outcomes = []
    for view in views:
        try:
            outcomes.append(arena.votes.vote(view.id, "s1", "left").choice)
        except Refusal as refused:
            outcomes.append(refused.code)
    assert outcomes == ["left", "too_early", "too_early", "too_early"]
    with transaction(arena.factory) as session:  # 31 s after the first vote, the next one counts
        first = session.get_one(Battle, views[0].id)
        assert first.voted_at is not None
        first.voted_at -= timedelta(seconds=31)
    assert arena.votes.vote(views[1].id, "s1", "left").choice == "left"
    simulated = arena.battles.start("sim")
    with transaction(arena.factory) as session:
        battle = session.get_one(Battle, simulated.id)
        battle.left_fetched_at = battle.right_fetched_at = utcnow()
    assert arena.votes.vote(simulated.id, "sim", "tie", simulated=True).choice == "tie"
