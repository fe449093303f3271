"""Metric scores on the board, and their agreement with human votes, on real scores of real videos."""

from __future__ import annotations

import pytest

from arena.services.container import Arena
from db.models import Battle
from db.session import transaction


@pytest.mark.slow
def test_scores_fill_the_board_and_agreement_follows_the_votes(arena: Arena) -> None:
    assert arena.metric_board.summary() == []
    scored = arena.score_pool()
    assert scored == arena.pool_size() and arena.score_pool() == 0  # resumable: nothing left the second time
    assert arena.metric_board.calibrated() is False  # the offline tiny encoder is labelled uncalibrated
    summary = arena.metric_board.summary()
    metrics = {r["metric"] for r in summary}
    assert {"clipsim", "clip_temp", "temporal_flicker", "motion_amount"} <= metrics
    for row in summary:
        assert row["ci"][0] <= row["mean"] <= row["ci"][1] and row["videos"] >= 1
    values = arena.metric_board.values()
    # Votes that always prefer the clip with the higher flicker score: that metric then agrees every time.
    for _ in range(12):
        view = arena.battles.start("s1")
        with transaction(arena.factory) as session:
            battle = session.get_one(Battle, view.id)
            left, right = values[battle.left_video_id], values[battle.right_video_id]
        choice = "left" if left["temporal_flicker"] > right["temporal_flicker"] else "right"
        arena.votes.vote(view.id, "s1", choice)
    agreement = {r["metric"]: r for r in arena.metric_board.agreement()}
    flicker = agreement["temporal_flicker"]
    assert flicker["pairs"] > 0 and flicker["pair_accuracy"] == 1.0
    assert agreement["motion_amount"]["pair_accuracy"] is None  # no direction: not a preference
    assert flicker["models"] == 3 and flicker["spearman_rho"] is not None
    by_category = arena.metric_board.summary(category="count")
    assert by_category and all(r["videos"] <= 3 for r in by_category)
