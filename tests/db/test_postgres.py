"""The same schema and service flow on a real PostgreSQL server (a throwaway cluster started here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from arena.services.container import Arena
from arena.services.views import Refusal
from tests.arena.conftest import make_settings
from tests.support.scripted import kinds_with_scripted

pytestmark = pytest.mark.postgres


def test_battle_vote_and_board_on_postgres(postgres_url: str, tmp_path: Path) -> None:
    arena = Arena.create(make_settings(tmp_path, database_url=postgres_url), kinds=kinds_with_scripted())
    try:
        arena.pool_videos.fill(models=["alpha-7b", "beta-v2"])
        view = arena.battles.start("s1")
        assert view.status == "shown"
        reveal = arena.votes.vote(view.id, "s1", "left", {"motion": "tie"}, ip="127.0.0.1")
        assert reveal.choice == "left"
        with pytest.raises(Refusal) as again:
            arena.votes.vote(view.id, "s1", "left")
        assert again.value.code == "already_voted"
        board = arena.leaderboard.board()
        assert board["votes"] == 1 and {r["model_id"] for r in board["rows"]} == {"alpha-7b", "beta-v2"}
    finally:
        arena.close()
