"""Battles and votes through the service layer, on a real SQLite file."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from arena.services.container import Arena
from arena.services.views import Refusal
from db.models import Battle, BattleMode, Prompt, Video, Vote, utcnow
from db.session import transaction
from tests.support.waiting import settled


def vote_count(arena: Arena) -> int:
    with transaction(arena.factory) as session:
        return int(session.scalar(select(func.count(Vote.id))) or 0)


def test_pool_battle_has_two_distinct_models_and_random_placement(arena: Arena) -> None:
    placements: Counter[tuple[str, str]] = Counter()
    for _ in range(40):
        view = arena.battles.start("s1")
        assert view.status == "shown" and view.left_url and view.right_url
        assert view.left_url != view.right_url
        with transaction(arena.factory) as session:
            battle = session.get_one(Battle, view.id)
            assert battle.left_model_id != battle.right_model_id
            assert battle.source == "pool"
            placements[(battle.left_model_id, battle.right_model_id)] += 1
    # Each unordered pair appears in both orders over 40 battles (chance of failing ~1e-5 per pair).
    assert len(placements) >= 4
    assert any((b, a) in placements for a, b in placements)


def test_vote_is_stored_once_and_reveals_names(arena: Arena) -> None:
    view = arena.battles.start("s1")
    reveal = arena.votes.vote(view.id, "s1", "left", {"motion": "right"}, ip="10.1.2.3")
    assert reveal.choice == "left" and reveal.left.display_name and reveal.right.display_name
    assert reveal.left.settings["num_frames"] == 16
    with pytest.raises(Refusal) as again:
        arena.votes.vote(view.id, "s1", "right")
    assert again.value.code == "already_voted" and again.value.status == 409
    with transaction(arena.factory) as session:
        vote = session.scalars(select(Vote)).one()
        assert vote.choice.value == "left" and vote.aspects == {"motion": "right"}
        assert vote.ip_hash and "10.1.2.3" not in vote.ip_hash and len(vote.ip_hash) == 64
        assert vote.seconds_to_vote is not None and vote.seconds_to_vote >= 0


@pytest.mark.parametrize(
    ("setup", "code", "status"),
    [
        ("unknown", "unknown_battle", 404),
        ("other_session", "wrong_session", 403),
        ("voided", "voided", 409),
        ("expired", "expired", 410),
        ("revealed", "revealed", 409),
        ("bad_choice", "invalid_choice", 422),
        ("bad_aspect", "invalid_aspects", 422),
    ],
)
def test_refused_votes_store_nothing(arena: Arena, setup: str, code: str, status: int) -> None:
    view = arena.battles.start("s1")
    battle_id, session_id, choice, aspects = view.id, "s1", "left", None
    if setup == "unknown":
        battle_id = "no-such-battle"
    elif setup == "other_session":
        session_id = "s2"
    elif setup == "voided":
        arena.battles.void(view.id, "withdrawn by a moderator")
    elif setup == "expired":
        with transaction(arena.factory) as session:
            session.execute(
                update(Battle)
                .where(Battle.id == view.id)
                .values(shown_at=utcnow() - timedelta(seconds=arena.settings.battle_ttl_s + 5))
            )
    elif setup == "revealed":
        with transaction(arena.factory) as session:
            session.execute(update(Battle).where(Battle.id == view.id).values(revealed_at=utcnow()))
    elif setup == "bad_choice":
        choice = "A"
    elif setup == "bad_aspect":
        aspects = {"smell": "left"}
    with pytest.raises(Refusal) as refused:
        arena.votes.vote(battle_id, session_id, choice, aspects)
    assert (refused.value.code, refused.value.status) == (code, status)
    assert refused.value.reason
    assert vote_count(arena) == 0
    if setup == "expired":
        assert arena.battles.get(view.id, "s1").status == "expired"


def test_names_are_not_revealed_before_the_vote(arena: Arena) -> None:
    view = arena.battles.start("s1")
    with pytest.raises(Refusal) as refused:
        arena.votes.reveal(view.id, "s1")
    assert refused.value.code == "not_voted"


def test_racing_votes_store_exactly_one(arena_factory: Callable[..., Arena], arena: Arena) -> None:
    """Eight threads and two Arena instances (as two app processes) on one SQLite file vote on one battle."""
    other = arena_factory()
    view = arena.battles.start("s1")
    outcomes: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def cast(instance: Arena, choice: str) -> None:
        barrier.wait()
        try:
            instance.votes.vote(view.id, "s1", choice)
            result = "stored"
        except Refusal as exc:
            result = exc.code
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=cast, args=((arena, other)[i % 2], ("left", "right")[i % 2])) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["already_voted"] * 7 + ["stored"]
    assert vote_count(arena) == 1


def test_failing_model_voids_the_battle_and_says_why(arena: Arena) -> None:
    view = arena.battles.start("s1", prompt_text="a green frog jumps", models=["alpha-7b", "broken-model"])
    view = settled(arena, view, "s1")
    assert view.status == "voided"
    assert view.left_url is None and view.right_url is None
    # The client learns which side failed and how, never the raw error (it can name models, paths or hosts).
    assert view.reason and "could not be generated (generation failed)" in view.reason
    assert "memory" not in view.reason and "broken-model" not in view.reason
    with pytest.raises(Refusal) as refused:
        arena.votes.vote(view.id, "s1", "left")
    assert refused.value.code == "voided"
    reveal = arena.votes.reveal(view.id, "s1")  # after a void the names may be shown
    assert {reveal.left.model_id, reveal.right.model_id} == {"alpha-7b", "broken-model"}


def test_live_prompt_generates_both_videos_and_detects_chinese(arena: Arena) -> None:
    view = arena.battles.start("s1", prompt_text="一只紫色的星星向上飞", models=["alpha-7b", "gamma-x"])
    assert view.status == "generating" and view.left_url is None and view.right_url is None
    view = settled(arena, view, "s1")
    assert view.status == "shown" and view.language == "zh" and view.left_url and view.right_url
    with transaction(arena.factory) as session:
        battle = session.get_one(Battle, view.id)
        assert battle.source == "live" and battle.left_video_id and battle.right_video_id


def test_named_battle_shows_names_and_its_votes_stay_off_the_anonymous_board(arena: Arena) -> None:
    view = arena.battles.start("s1", prompt_text="a cat", mode=BattleMode.named, models=["alpha-7b", "gamma-x"])
    assert {view.left_name, view.right_name} == {"Alpha Seven", "Gamma Ex"}
    assert view.status == "generating"  # named battles show their own generations, never pool clips
    settled(arena, view, "s1")
    arena.votes.vote(view.id, "s1", "tie")
    assert arena.leaderboard.board()["votes"] == 0


def test_named_battle_needs_two_distinct_enabled_models(arena: Arena) -> None:
    for models in (["alpha-7b", "alpha-7b"], ["alpha-7b"], ["alpha-7b", "nope"]):
        with pytest.raises(Refusal) as refused:
            arena.battles.start("s1", mode=BattleMode.named, models=models)
        assert refused.value.status == 400


def test_generation_is_keyed_and_reused(arena: Arena) -> None:
    before = arena.pool_videos.count()
    with transaction(arena.factory) as session:
        pool_seed = arena.generation.pool_seed(0, session.get_one(Prompt, 1))
    assert pool_seed != 0  # derived from the server secret: a Playground user cannot guess it
    first = arena.generation.get_or_generate("alpha-7b", 1, seed=pool_seed)
    assert arena.generation.get_or_generate("alpha-7b", 1, seed=pool_seed) == first
    assert arena.pool_videos.count() == before
    third = arena.generation.get_or_generate("alpha-7b", 1, seed=7)
    assert third != first and arena.pool_videos.count() == before + 1
    with transaction(arena.factory) as session:
        video = session.get_one(Video, third)
        assert video.seed == 7 and video.provenance["model_id"] == "alpha-7b"
        assert video.provenance["params"]["seed"] == 7 and video.provenance["latency_s"] >= 0
        assert arena.media.path(video.file_path).name == f"{video.content_hash}.mp4"


def test_leaderboard_moves_with_votes(arena: Arena) -> None:
    assert arena.leaderboard.board()["rows"] == []
    for _ in range(12):
        view = arena.battles.start("s1")
        with transaction(arena.factory) as session:
            battle = session.get_one(Battle, view.id)
            # alpha always wins; otherwise the left one
            choice = (
                "left"
                if battle.left_model_id == "alpha-7b"
                else "right"
                if battle.right_model_id == "alpha-7b"
                else "tie"
            )
        arena.votes.vote(view.id, "s1", choice)
    board = arena.leaderboard.board()
    assert board["votes"] == 12
    assert board["rows"][0]["model_id"] == "alpha-7b"
    top = board["rows"][0]
    low, high = top["ci"]  # an unbeaten model has an open upper end
    assert (low is None or low <= top["rating"]) and (high is None or top["rating"] <= high)
    zh = arena.leaderboard.board(language="zh")
    assert zh["votes"] + arena.leaderboard.board(language="en")["votes"] == 12


def test_live_generation_obeys_the_per_model_concurrency_limit(arena_factory: Callable[..., Arena]) -> None:
    """Six live battles at once on one slow model, six workers: never more than its max_concurrency (2) run."""
    arena = arena_factory(generation_workers=6)
    slow_spec = arena.catalog.get("gamma-x")
    adapter, _ = arena.adapters.get(slow_spec.id)
    adapter.params = adapter.Params.model_validate({**slow_spec.params, "delay_s": 0.3})  # type: ignore[attr-defined]
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def battle(i: int) -> None:
        barrier.wait()
        try:
            view = arena.battles.start(f"s{i}", prompt_text=f"a green box number {i}", models=["alpha-7b", "gamma-x"])
            assert settled(arena, view, f"s{i}").status == "shown"
        except BaseException as exc:  # collected, asserted below
            errors.append(exc)

    threads = [threading.Thread(target=battle, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert adapter.peak == adapter.capabilities().max_concurrency == 2  # type: ignore[attr-defined]
    assert arena.adapters.waiting("gamma-x") == 0


def test_served_copies_are_pruned_after_the_battle_ttl(arena: Arena) -> None:
    old = arena.battles.start("s1")
    fresh = arena.battles.start("s1")
    tokens = {v.id: [u.rsplit("/", 1)[1].removesuffix(".mp4") for u in (v.left_url, v.right_url)] for v in (old, fresh)}
    stale = time.time() - arena.settings.battle_ttl_s - 60
    for token in tokens[old.id]:
        os.utime(arena.media.served_path(token), (stale, stale))
    assert arena.media.prune_served(arena.settings.battle_ttl_s) == 2
    assert all(arena.battles.video_for_token(t) is None for t in tokens[old.id])
    assert all(arena.battles.video_for_token(t) for t in tokens[fresh.id])
    with transaction(arena.factory) as session:  # originals stay
        assert all(arena.media.path(v.file_path).exists() for v in session.scalars(select(Video)))
