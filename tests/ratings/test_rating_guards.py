"""Identifiability guards, each on its edge case: the gate before the fit, components, separation, one vote, all
ties, and the boards and verdicts built on them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from arena.ratings import BattleRows, leaderboard
from arena.ratings.comparisons import DecisionRules, compare_family
from arena.ratings.guards import components, gate, one_sided_bound, separation
from arena.ratings.verdicts import Verdict


def rows_of(*battles: tuple[str, str, str, int]) -> BattleRows:
    recs = [{"model_a": a, "model_b": b, "winner": w} for a, b, w, n in battles for _ in range(n)]
    return BattleRows.from_records(recs)


def test_gate_removes_thin_models_with_their_battles_until_stable() -> None:
    rows = rows_of(
        ("a", "b", "model_a", 20),
        ("a", "b", "model_b", 20),
        ("c", "a", "model_a", 3),
        ("d", "c", "model_a", 4),  # d has 4 votes, c has 7 until d's battles go, then 3
    )
    kept, hidden = gate(rows, 5)
    assert hidden == ("c", "d") and kept.models == ("a", "b") and kept.total == 40
    assert gate(rows, 4)[1] == ()
    # the shown ratings are those of a fit without the hidden models
    board = leaderboard(rows, bootstrap_rounds=0, min_votes=5)
    assert board.hidden == ("c", "d") and board.entry("a").rating == pytest.approx(1000.0)


def test_components_are_fitted_and_ranked_apart() -> None:
    rows = rows_of(
        ("a", "b", "model_a", 30),
        ("a", "b", "model_b", 10),
        ("x", "y", "model_a", 5),
        ("x", "y", "model_b", 15),
    )
    assert components(rows).tolist() == [0, 0, 1, 1]
    board = leaderboard(rows, bootstrap_rounds=200, seed=0)
    assert board.n_components == 2
    by_model = {e.model: e for e in board.entries}
    assert by_model["a"].component == by_model["b"].component == 0
    assert by_model["a"].rank == 1 and by_model["y"].rank == 1  # each component has its own ranks
    for group in (("a", "b"), ("x", "y")):
        assert np.mean([by_model[m].rating for m in group]) == pytest.approx(1000.0)
    family = compare_family(rows, [("a", "x"), ("a", "b")], rules=DecisionRules(min_votes=0, cluster=None))
    never, fine = family.comparisons
    assert never.decision.verdict is Verdict.INSUFFICIENT and "never compared" in never.note
    assert never.decision.low is None and fine.decision.verdict is not Verdict.INSUFFICIENT


def test_separation_gives_one_sided_bounds() -> None:
    rows = rows_of(
        ("top", "a", "model_a", 12),
        ("top", "b", "model_a", 8),
        ("a", "b", "model_a", 20),
        ("a", "b", "model_b", 15),
        ("a", "b", "tie", 5),
        ("low", "b", "model_b", 10),
    )
    side = dict(zip(rows.models, separation(rows).tolist(), strict=True))
    assert side == {"a": 0, "b": 0, "low": -1, "top": 1}
    board = leaderboard(rows, bootstrap_rounds=200, seed=0)
    top, low = board.entry("top"), board.entry("low")
    assert top.ci_high == math.inf and math.isfinite(top.ci_low) and top.interval[1] is None
    assert low.ci_low == -math.inf and math.isfinite(low.ci_high)
    assert top.rank == 1
    # a tie against the group removes the separation
    tied = rows_of(
        ("top", "a", "model_a", 12), ("top", "a", "tie", 1), ("a", "b", "model_a", 5), ("a", "b", "model_b", 5)
    )
    assert separation(tied).tolist() == [0, 0, 0]


def test_one_sided_bound_is_the_probability_of_the_record() -> None:
    # 10 straight wins against one opponent level with us: P(all won | shift x) = σ(x)^10 = 0.025
    x = one_sided_bound(np.array([0.0]), np.array([10.0]), 0.025)
    q = 0.025 ** (1 / 10)
    assert x == pytest.approx(400 * math.log10(q / (1 - q)), abs=1e-6)
    assert one_sided_bound(np.array([0.0]), np.array([0.0]), 0.025) == -math.inf


def test_one_vote_and_all_ties_are_not_verdicts() -> None:
    rules = DecisionRules(min_votes=0, cluster=None)
    one = compare_family(rows_of(("a", "b", "model_a", 1)), [("a", "b")], rules=rules).comparisons[0]
    assert one.decision.verdict is Verdict.UNDECIDED  # one win: P ≤ 2^0 = 1, no claim
    assert one.decision.high is not None and one.decision.high == math.inf
    five = compare_family(rows_of(("a", "b", "model_a", 8)), [("a", "b")], rules=rules).comparisons[0]
    assert five.decision.verdict is Verdict.BETTER and five.decision.low is not None and five.decision.low > 0
    ties = rows_of(("a", "b", "tie", 40))
    board = leaderboard(ties, bootstrap_rounds=100, seed=0)
    assert all(e.insufficient and e.rank is None and e.interval == (None, None) for e in board.entries)
    tie_verdict = compare_family(ties, [("a", "b")], rules=rules).comparisons[0]
    assert tie_verdict.decision.verdict is not Verdict.BETTER and tie_verdict.decision.low != tie_verdict.decision.high


def test_min_votes_gate_applies_in_comparisons() -> None:
    rows = rows_of(("a", "b", "model_a", 30), ("a", "b", "model_b", 25), ("new", "a", "model_a", 4))
    fam = compare_family(rows, [("a", "b"), ("a", "new")], rules=DecisionRules(min_votes=5, cluster=None))
    ab, anew = fam.comparisons
    assert anew.decision.verdict is Verdict.INSUFFICIENT and "fewer than 5 votes" in anew.note
    assert fam.hidden[()] == ("new",)
    without = rows.subset(np.arange(len(rows)) < 55)
    alone = compare_family(without, [("a", "b")], rules=DecisionRules(min_votes=5, cluster=None))
    assert ab.decision.estimate == pytest.approx(alone.comparisons[0].decision.estimate)
