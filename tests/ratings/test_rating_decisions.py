"""Decisions: P(A > B), votes to settle, in-house vs rivals, matrices, per-category boards."""

from __future__ import annotations

import numpy as np
import pytest

from arena.ratings import (
    BattleRows,
    battle_count_matrix,
    category_boards,
    leaderboard,
    prob_better,
    versus_rows,
    votes_to_settle,
    win_fraction_matrix,
)


def test_prob_better_is_complementary_and_tracks_the_gap(simulate) -> None:
    rows = simulate(np.array([900.0, 1000.0, 1005.0, 1200.0]), 3000, np.random.default_rng(0), tie_rate=0.2)
    board = leaderboard(rows, bootstrap_rounds=200, seed=1)
    assert prob_better(board, "m03", "m00") == 1.0
    p = prob_better(board, "m02", "m01")
    assert 0.05 < p < 0.95 and p + prob_better(board, "m01", "m02") == pytest.approx(1.0)
    with pytest.raises(ValueError, match="bootstrap"):
        prob_better(leaderboard(rows, bootstrap_rounds=0), "m00", "m01")


def test_votes_to_settle(simulate) -> None:
    rows = simulate(np.array([900.0, 1000.0, 1010.0, 1300.0]), 1000, np.random.default_rng(3))
    board = leaderboard(rows, bootstrap_rounds=200, seed=0)
    assert votes_to_settle(board, rows, "m03", "m00") == 0  # already settled
    need = votes_to_settle(board, rows, "m02", "m01")
    assert need is not None and 0 < need < 1_000_000
    stricter = votes_to_settle(board, rows, "m02", "m01", level=0.99)
    assert stricter is not None and stricter > need
    assert votes_to_settle(board, rows, "m01", "m02") == need  # symmetric
    # the normal approximation: the current information plus `need` votes reaches z / gap
    gap = abs(board.entry("m02").rating - board.entry("m01").rating)
    sd = np.std(board.column("m02") - board.column("m01"), ddof=1)
    assert gap / sd < 1.645


def test_versus_rows(simulate) -> None:
    rows = simulate(np.array([900.0, 1000.0, 1100.0]), 1500, np.random.default_rng(5), tie_rate=0.3)
    board = leaderboard(rows, bootstrap_rounds=100, seed=0)
    out = versus_rows(board, rows, "m01")
    assert [r["rival"] for r in out] == ["m02", "m00"]
    for r in out:
        assert r["battles"] == r["in_house_wins"] + r["rival_wins"] + r["ties"] > 0
        assert r["diff_low"] <= r["diff"] <= r["diff_high"]
        assert r["diff"] == pytest.approx(r["in_house_rating"] - r["rival_rating"])
    assert out[0]["p_in_house_better"] < 0.05 and out[1]["p_in_house_better"] > 0.95


def test_matrices_by_hand() -> None:
    rows = BattleRows.from_records(
        [
            {"model_a": "a", "model_b": "b", "winner": "model_a"},
            {"model_a": "b", "model_b": "a", "winner": "model_a"},
            {"model_a": "b", "model_b": "a", "winner": "model_b"},
            {"model_a": "a", "model_b": "b", "winner": "tie"},
            {"model_a": "c", "model_b": "a", "winner": "model_a"},
        ]
    )
    wf = win_fraction_matrix(rows)
    assert wf.loc["a", "b"] == pytest.approx(2 / 3) and wf.loc["b", "a"] == pytest.approx(1 / 3)
    assert wf.loc["c", "a"] == 1.0 and np.isnan(wf.loc["b", "c"])
    assert list(wf.index) == ["c", "a", "b"]  # by mean win fraction
    bc = battle_count_matrix(rows, order=["a", "b", "c"])
    assert bc.to_numpy().tolist() == [[0, 4, 1], [4, 0, 0], [1, 0, 0]]


def test_category_boards(simulate) -> None:
    base = simulate(np.array([900.0, 1000.0, 1100.0]), 900, np.random.default_rng(1))
    cats = np.where(np.arange(len(base)) % 3 == 0, "en", "zh").astype(object)
    cats[:5] = None
    rows = BattleRows(base.models, base.a, base.b, base.winner, base.weight, {"language": cats})
    boards = category_boards(rows, "language", bootstrap_rounds=20, seed=0)
    assert list(boards) == ["zh", "en"]
    assert sum(e.votes for e in boards["en"].entries) == 2 * int(np.sum(cats == "en"))
    with pytest.raises(KeyError, match="category"):
        category_boards(rows, "category")
