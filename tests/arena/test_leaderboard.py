"""Leaderboard services on real votes: gold pairs and rater weights, position bias, decisions, matchmaking."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from arena.services.container import Arena
from arena.services.views import Refusal
from db.models import Battle, Prompt
from db.session import transaction

WORKING = ["alpha-7b", "beta-v2", "gamma-x"]


def sides(arena: Arena, battle_id: str) -> tuple[str, str]:
    with transaction(arena.factory) as session:
        battle = session.get_one(Battle, battle_id)
        return battle.left_model_id, battle.right_model_id


def vote_for(arena: Arena, session: str, battle_id: str, model: str) -> None:
    left, _ = sides(arena, battle_id)
    arena.votes.vote(battle_id, session, "left" if left == model else "right")


def test_gold_pairs_score_sessions_and_failing_sessions_are_excluded(arena_factory: Callable[..., Arena]) -> None:
    # uniform pairing: every vote's own weight is 1, so the weights below are the gold policy's alone
    arena = arena_factory(gold_pairs=["alpha-7b>beta-v2"], gold_rate=1.0, gold_policy="exclude", matchmaking="uniform")
    arena.pool_videos.fill(models=WORKING)
    for session, pick in (("careless", "beta-v2"), ("careful", "alpha-7b")):
        for _ in range(3):
            view = arena.battles.start(session)
            with transaction(arena.factory) as db:
                battle = db.get_one(Battle, view.id)
                assert battle.is_gold and battle.source == "gold"
                better_side = "left" if battle.left_model_id == "alpha-7b" else "right"
                assert battle.gold_better == better_side
            vote_for(arena, session, view.id, pick)
    arena.battles.gold_rate = 0.0  # no more extra gold battles; those the matchmaker draws of the pair are checks
    for session, pick in (("careless", "beta-v2"), ("careful", "alpha-7b")):
        for _ in range(4):
            view = arena.battles.start(session)
            left, right = sides(arena, view.id)
            with transaction(arena.factory) as db:
                battle = db.get_one(Battle, view.id)
                assert not battle.is_gold and battle.source == "pool"
                is_pair = {left, right} == {"alpha-7b", "beta-v2"}
                assert battle.gold_better == (("left" if left == "alpha-7b" else "right") if is_pair else None)
            vote_for(arena, session, view.id, pick if pick in (left, right) else left)
    rows = arena.leaderboard.rows()
    assert len(rows) == 8 and not any(r["is_gold"] for r in rows)
    weights = {r["session"]: r["weight"] for r in rows}
    assert weights == {"careless": 0.0, "careful": 1.0}
    raters = arena.leaderboard.raters()
    assert raters["careless"]["gold_accuracy"] == 0.0 and raters["careful"]["gold_accuracy"] == 1.0
    assert raters["careless"]["gold_failed"] and not raters["careful"]["gold_failed"]


def test_position_bias_is_measured(arena: Arena) -> None:
    assert arena.leaderboard.position_bias()["decisive_votes"] == 0
    for _ in range(10):
        view = arena.battles.start("s1")
        arena.votes.vote(view.id, "s1", "left")
    bias = arena.leaderboard.position_bias()
    assert bias["p_left"] == 1.0 and bias["decisive_votes"] == 10
    assert 0.6 < bias["ci"][0] < 1.0 and bias["ci"][1] == 1.0


def test_in_house_versus_rivals_matrices_and_category_boards(arena_factory: Callable[..., Arena]) -> None:
    arena = arena_factory(in_house_model="alpha-7b")
    arena.pool_videos.fill(models=WORKING)
    met: set[str] = set()
    battles = 0
    while battles < 18 or met != {"beta-v2", "gamma-x"}:  # pairs are drawn at random: play until both rivals met it
        assert battles < 200, met
        view = arena.battles.start("s1")
        left, right = sides(arena, view.id)
        winner = "alpha-7b" if "alpha-7b" in (left, right) else left
        met |= {left, right} - {"alpha-7b"} if "alpha-7b" in (left, right) else set()
        vote_for(arena, "s1", view.id, winner)
        battles += 1
    versus = arena.leaderboard.versus()
    assert versus.in_house == "alpha-7b" and versus.names["alpha-7b"] == "Alpha Seven"
    assert {r.b for r in versus.rows} == {"beta-v2", "gamma-x"}
    for row in versus.rows:
        assert row.losses == 0 and row.wins >= 1
        assert row.decision in ("better", "undecided")  # unbeaten: a one-sided verdict
        assert row.interval[1] is None  # an open upper end, never a narrow interval
    by_category = arena.leaderboard.versus(by="category")
    assert {tuple(r.group) for r in by_category.rows} <= {(), ("category",)}
    assert len(by_category.rows) > len(versus.rows) and by_category.family_size >= versus.family_size
    matrices = arena.leaderboard.matrices()
    wins = matrices["win_fraction"]
    assert wins.loc["Alpha Seven", "Beta Two"] == 1.0 and wins.loc["Beta Two", "Alpha Seven"] == 0.0
    assert int(matrices["battle_count"].to_numpy().sum()) == 2 * battles
    with transaction(arena.factory) as session:
        voted = session.execute(
            select(Prompt.category, Prompt.language).join(Battle, Battle.prompt_id == Prompt.id).distinct()
        ).all()
    boards = arena.leaderboard.category_boards("category")
    assert set(boards) == {c for c, _ in voted} and all(boards.values())  # a board per category voted in
    languages = arena.leaderboard.category_boards("language")
    assert set(languages) == {lang for _, lang in voted} and all(languages.values())


def test_adaptive_matchmaking_pairs_a_starving_model_first(arena: Arena) -> None:
    import random

    for _ in range(10):
        view = arena.battles.start("s1", models=["alpha-7b", "beta-v2"])
        arena.votes.vote(view.id, "s1", "left")
    with_gamma = 0
    # half the picks stay uniform (the design weights need it): gamma-x is in a pick with chance 1/2 + 1/2 · 2/3
    for k in range(8):
        view = arena.battles.start("s1", rng=random.Random(k))
        with_gamma += "gamma-x" in sides(arena, view.id)
    assert with_gamma >= 5


def test_any_two_models_can_be_compared(arena: Arena) -> None:
    for k in range(24):  # alpha-7b wins three of every four battles against gamma-x
        view = arena.battles.start("s1", models=["alpha-7b", "gamma-x"])
        vote_for(arena, "s1", view.id, "gamma-x" if k % 4 == 0 else "alpha-7b")
    (result,) = arena.leaderboard.compare("alpha-7b", "gamma-x").rows
    assert (result.wins, result.losses, result.ties) == (18, 6, 0)
    assert result.estimate is not None and result.estimate > 0 and result.decision in ("better", "undecided")
    low, high = result.interval
    assert low is not None and high is not None and low < result.estimate < high
    (flipped,) = arena.leaderboard.compare("gamma-x", "alpha-7b").rows
    assert flipped.estimate == -result.estimate and flipped.p_value == result.p_value
    assert {"better": "worse", "worse": "better"}.get(result.decision, result.decision) == flipped.decision
    for a, b, code in (("alpha-7b", "alpha-7b", "invalid"), ("alpha-7b", "broken-model", "no_votes")):
        with pytest.raises(Refusal) as refused:
            arena.leaderboard.compare(a, b)
        assert refused.value.code == code


def test_matchmaking_rereads_the_votes_only_when_its_snapshot_is_old(arena: Arena) -> None:
    from arena.services.matchmaking import MatchmakingChooser

    cached = MatchmakingChooser(arena.leaderboard, refresh_s=3600)
    fresh = MatchmakingChooser(arena.leaderboard, refresh_s=0)
    first_cached, first_fresh = cached._rows(), fresh._rows()
    view = arena.battles.start("s1")
    arena.votes.vote(view.id, "s1", "left")
    assert cached._rows() is first_cached and len(first_cached) == 0
    assert fresh._rows() is not first_fresh and len(fresh._rows()) == 1


def test_gold_draws_and_language_draws_reuse_the_matchmakers_fit(
    arena_factory: Callable[..., Arena], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The matchmaker fits its state once per snapshot for the whole pool, its gold candidates and each language:
    a gold draw that fitted afresh each time took milliseconds longer than any other start (test_gold_checks.py)."""
    from arena.services.matchmaking import MatchmakingChooser

    arena = arena_factory(gold_pairs=["alpha-7b>beta-v2"], gold_rate=0.5)
    arena.pool_videos.fill(models=WORKING)
    chooser = arena.battles.chooser
    assert isinstance(chooser, MatchmakingChooser)
    fitted: list[int] = []
    real_fit = chooser._fit

    def counted(rows: Any, candidates: Any) -> Any:
        fitted.append(len(candidates))
        return real_fit(rows, candidates)

    monkeypatch.setattr(chooser, "_fit", counted)
    sources = []
    for i in range(24):  # any language, English, Chinese, in turn: each set of candidates is fitted once all the same
        language = (None, "en", "zh")[i % 3]
        view = arena.battles.start(f"s{i}", language=language)
        with transaction(arena.factory) as db:
            sources.append((language, db.get_one(Battle, view.id).source))
    assert {"gold", "pool"} <= {source for language, source in sources if language is None}, sources
    # Once each: the pool's 15 candidates (5 prompts x 3 pairs), its 5 of the gold pair, the 9 of the 3 English
    # prompts, the 6 of the 2 Chinese ones (and their 3 and 2 of the gold pair when a start of theirs drew gold).
    assert len(fitted) == len(set(fitted)) and {15, 5, 9, 6} <= set(fitted) <= {15, 5, 9, 3, 6, 2}, fitted
