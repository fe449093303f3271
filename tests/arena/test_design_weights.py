"""Matchmaking's design weights: stored with each battle, carried into the board rows, and migration 0007 keeps
the battles and votes of an existing database (weight 1 for the old ones)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select

from arena.services.container import Arena
from db.models import Battle, Vote
from db.session import downgrade, transaction, upgrade

WORKING = ["alpha-7b", "beta-v2", "gamma-x"]


def test_adaptive_picks_store_their_weight_and_the_board_uses_it(arena_factory: Callable[..., Arena]) -> None:
    arena = arena_factory(matchmaking="adaptive")
    arena.pool_videos.fill(models=WORKING)
    for k in range(30):
        view = arena.battles.start("s1")
        arena.votes.vote(view.id, "s1", "left" if k % 3 else "right")
    with transaction(arena.factory) as session:
        weights = {b.id: b.design_weight for b in session.scalars(select(Battle))}
    # the uniform share (half the picks by default) bounds the weight by 2, up to the 2^(1/8) grid's rounding
    assert all(0.0 < w <= 2 * 2 ** (1 / 16) for w in weights.values())
    assert len(set(weights.values())) > 1  # adaptive picks are not all equally likely
    rows = {r["battle_id"]: r["weight"] for r in arena.leaderboard.rows()}
    assert rows == {b: weights[b] for b in rows}  # vote weight 1 × design weight

    uniform = arena_factory(matchmaking="uniform")
    view = uniform.battles.start("s2")
    with transaction(uniform.factory) as session:
        assert session.get_one(Battle, view.id).design_weight == 1.0


def test_migration_0007_keeps_battles_and_votes(arena: Arena) -> None:
    for _ in range(4):
        view = arena.battles.start("s1")
        arena.votes.vote(view.id, "s1", "left")
    url = arena.settings.database_url
    arena.engine.dispose()
    downgrade(url, "0006_runs")  # the revision before 0007
    upgrade(url)
    with transaction(arena.factory) as session:
        assert session.scalar(select(func.count(Vote.id))) == 4
        assert {b.design_weight for b in session.scalars(select(Battle))} == {1.0}
    assert arena.leaderboard.board()["votes"] == 4
