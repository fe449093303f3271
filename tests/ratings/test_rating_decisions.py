"""Pairwise matrices: win fractions and battle counts."""

from __future__ import annotations

import numpy as np
import pytest

from arena.ratings import (
    BattleRows,
    battle_count_matrix,
    win_fraction_matrix,
)


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
