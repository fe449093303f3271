"""Raters: position bias, agreement, gold pairs, session weights."""

from __future__ import annotations

import numpy as np
import pytest

from arena.ratings import (
    BattleRows,
    fit_bradley_terry,
    position_bias,
    score_gold,
    session_agreement,
    session_weights,
    weight_rows,
)
from arena.ratings.raters import wilson_interval


def test_position_bias_with_wilson_interval() -> None:
    recs = [{"left_won": True}] * 60 + [{"left_won": False}] * 40 + [{"left_won": None}] * 30
    p, low, high = position_bias(recs)
    assert p == 0.6
    assert low == pytest.approx(0.5020, abs=1e-3) and high == pytest.approx(0.6906, abs=1e-3)
    assert position_bias([{"left_won": None}]) == (0.5, 0.0, 1.0)


def test_wilson_covers_at_about_nominal_rate() -> None:
    rng = np.random.default_rng(0)
    hits = sum(lo <= 0.3 <= hi for lo, hi in (wilson_interval(rng.binomial(80, 0.3), 80) for _ in range(2000)))
    assert 0.93 <= hits / 2000 <= 0.97


def test_gold_scores_and_session_weights() -> None:
    answers = {"g1": "model_a", "g2": "model_b", "g3": "tie"}
    votes = (
        [{"session": "good", "gold_id": g, "winner": answers[g]} for g in ("g1", "g2", "g3")]
        + [
            {"session": "bad", "gold_id": "g1", "winner": "model_b"},
            {"session": "bad", "gold_id": "g2", "winner": "tie"},
            {"session": "bad", "gold_id": "g3", "winner": "model_a"},
            {"session": "bad", "gold_id": "unknown", "winner": "model_a"},
        ]
        + [{"session": "new", "gold_id": "g1", "winner": "model_b"}]
    )
    scores = score_gold(votes, answers)
    assert scores["good"].accuracy == 1.0 and scores["bad"].votes == 3
    assert scores["bad"].correct == 1.0  # 0 + 0.5 + 0.5
    assert scores["bad"].low < scores["bad"].accuracy < scores["bad"].high
    assert session_weights(scores) == {"good": 1.0, "bad": 0.0, "new": 1.0}  # "new": too few gold votes
    assert session_weights(scores, mode="downweight")["bad"] == 0.25
    assert set(session_weights(scores, mode="none").values()) == {1.0}


def test_excluding_a_contrarian_session_restores_the_ratings() -> None:
    honest = [{"model_a": "x", "model_b": "y", "winner": "model_a", "session": f"h{i % 5}"} for i in range(100)]
    honest += [{"model_a": "y", "model_b": "x", "winner": "model_a", "session": "h0"} for _ in range(20)]
    troll = [{"model_a": "x", "model_b": "y", "winner": "model_b", "session": "troll"} for _ in range(40)]
    rows = BattleRows.from_records(honest + troll)
    agreement = session_agreement(rows)
    assert agreement["troll"]["agreement"] < 0.5 < agreement["h1"]["agreement"]
    cleaned = weight_rows(rows, {"troll": 0.0})
    r_clean, r_honest = fit_bradley_terry(cleaned), fit_bradley_terry(BattleRows.from_records(honest))
    assert r_clean == pytest.approx(r_honest)
    assert fit_bradley_terry(rows)["x"] < r_clean["x"]
