"""Matchmaking: valid picks, the exploration floor, and where the adaptive rule puts votes."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from arena.ratings import BattleRows, Matchmaker, MatchState, pair_gains
from arena.ratings.matchmaking import design_weight

MODELS = ("a", "b", "c", "d")


def _state(rating, sd, votes, pool=None, category_votes=None) -> MatchState:
    pool = pool if pool is not None else {(x, y): ["p1", "p2"] for i, x in enumerate(MODELS) for y in MODELS[i + 1 :]}
    return MatchState(
        MODELS,
        np.array(rating, float),
        np.array(sd, float),
        np.array(votes),
        pool,
        {"p1": "people", "p2": "nature"},
        category_votes or {},
    )


@pytest.mark.parametrize("policy", ["uniform", "adaptive"])
def test_picks_come_from_the_pool(policy) -> None:
    pool = {("a", "b"): ["p1"], ("c", "d"): ["p2"], ("a", "c"): []}
    state = _state([1000, 1010, 1200, 1190], [30] * 4, [50] * 4, pool)
    picks = Matchmaker(policy=policy).choose_many(state, np.random.default_rng(0), 200)
    assert {(p, frozenset((a, b))) for p, a, b, _ in picks} == {("p1", frozenset("ab")), ("p2", frozenset("cd"))}
    assert 60 < sum(a == "a" or a == "c" for _, a, _, _ in picks) < 140  # sides are shuffled
    assert all(w == 1.0 for *_, w in picks)  # uniform, or two pairs the adaptive rule finds equally useful


def test_uniform_is_uniform_over_pairs() -> None:
    state = _state([800, 1000, 1000, 1300], [5, 50, 50, 5], [500] * 4)
    pairs, prob = Matchmaker(policy="uniform").pair_probabilities(state)
    assert len(pairs) == 6 and np.allclose(prob, 1 / 6)


def test_adaptive_prefers_close_uncertain_pairs_but_explores() -> None:
    state = _state([800, 1000, 1005, 1400], [20, 40, 40, 20], [500] * 4)
    pairs, prob = Matchmaker(exploration=0.1, balanced=False).pair_probabilities(state)  # pair-first
    best = pairs[int(np.argmax(prob))]
    assert set(best) == {"b", "c"} and prob.max() > 0.5
    assert prob.min() >= 0.1 / len(pairs) - 1e-12  # the floor


def test_gain_shrinks_as_a_pair_settles() -> None:
    idx = np.array([[1, 2]])
    loose = pair_gains(_state([1000, 1000, 1030, 1000], [60] * 4, [10] * 4), idx)[0]
    tight = pair_gains(_state([1000, 1000, 1030, 1000], [5] * 4, [10] * 4), idx)[0]
    far = pair_gains(_state([1000, 700, 1300, 1000], [60] * 4, [10] * 4), idx)[0]
    assert loose > tight >= 0 and loose > far >= 0


def test_starving_model_is_paired_first() -> None:
    state = _state([1000, 1000, 1000, 1000], [50, 50, 50, 300], [100, 100, 100, 0])
    picks = Matchmaker(min_votes=5, exploration=0.0).choose_many(state, np.random.default_rng(1), 50)
    assert all("d" in (a, b) for _, a, b, _ in picks)
    # the uniform share stays on: other pairs keep a chance (so every pick has a finite design weight)
    pairs, prob = Matchmaker(min_votes=5, exploration=0.2).pair_probabilities(state)
    assert sum(p for pair, p in zip(pairs, prob, strict=True) if "d" in pair) == pytest.approx(0.8 + 0.2 * 3 / 6)


def test_design_weights_recover_the_uniform_counts() -> None:
    """Σ of the design weights of the picks of each pair ≈ what uniform picking would give (q / π per pick)."""
    state = _state([800, 1000, 1005, 1400], [20, 40, 40, 20], [500] * 4)
    picks = Matchmaker(exploration=0.3).choose_many(state, np.random.default_rng(3), 20000)
    weighted = Counter()
    raw = Counter()
    for _, a, b, w in picks:
        weighted[frozenset((a, b))] += w
        raw[frozenset((a, b))] += 1
    assert max(raw.values()) > 3 * min(raw.values())  # adaptive: far from uniform
    for pair in raw:
        assert weighted[pair] == pytest.approx(20000 / 6, rel=0.1)  # the 2^(1/8) grid: within ±4.4 %, plus noise
    with pytest.raises(ValueError):
        design_weight(0.1, 0.0)
    assert design_weight(0.1, 0.1) == 1.0 and design_weight(0.1, 0.05) == 2.0


def test_balanced_feeds_the_least_voted_model_and_keeps_weights_valid() -> None:
    """Model-first picks: the model with the fewest votes anchors most picks (its opponent still ∝ gain), where the
    pooled rule starves the far end model; the chances stay a distribution with the uniform floor."""
    state = _state([700, 1000, 1005, 1010], [20, 40, 40, 40], [100, 130, 130, 130])
    assert Matchmaker().balanced  # the default
    pairs, pooled = Matchmaker(exploration=0.0, balanced=False).pair_probabilities(state)
    pairs, balanced = Matchmaker(exploration=0.0, balanced=True).pair_probabilities(state)
    share_a = [sum(p for pair, p in zip(pairs, prob, strict=True) if "a" in pair) for prob in (pooled, balanced)]
    assert share_a[0] < 0.1 and share_a[1] > 0.8  # deficits 31 : 1 : 1 : 1, a's own pairs plus picks by others
    _, floored = Matchmaker(exploration=0.3, balanced=True).pair_probabilities(state)
    assert floored.sum() == pytest.approx(1.0) and floored.min() >= 0.3 / len(pairs) - 1e-12


def test_prompts_go_to_the_least_voted_category() -> None:
    state = _state([1000] * 4, [50] * 4, [100] * 4, category_votes={"people": 40, "nature": 3})
    picks = Matchmaker(exploration=0.0).choose_many(state, np.random.default_rng(2), 40)
    assert Counter(p.prompt_id for p in picks) == {"p2": 40}
    mixed = Matchmaker(policy="uniform").choose_many(state, np.random.default_rng(2), 200)
    assert 60 < Counter(p.prompt_id for p in mixed)["p1"] < 140


def test_seeded_and_validated() -> None:
    state = _state([1000, 1010, 1020, 1030], [40] * 4, [20] * 4)
    mm = Matchmaker()
    assert mm.choose_many(state, np.random.default_rng(7), 20) == mm.choose_many(state, np.random.default_rng(7), 20)
    # Picks drawn one at a time from chances kept for the snapshot (as the arena's chooser does) are the picks
    # drawn from it at once: keeping them changes no battle.
    pairs, prob = mm.pair_probabilities(state)
    one_by_one = np.random.default_rng(7)
    kept = [mm.draw(state, pairs, prob, one_by_one)[0] for _ in range(20)]
    fresh = np.random.default_rng(7)
    assert kept == [mm.choose(state, fresh) for _ in range(20)]
    with pytest.raises(ValueError, match="policy"):
        Matchmaker(policy="greedy")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="pool"):
        mm.choose(_state([1000] * 4, [40] * 4, [20] * 4, pool={("a", "b"): []}), np.random.default_rng(0))


def test_state_from_rows_includes_unplayed_models(simulate) -> None:
    rows = simulate(np.array([900.0, 1100.0]), 400, np.random.default_rng(0))
    rows = BattleRows(
        rows.models,
        rows.a,
        rows.b,
        rows.winner,
        rows.weight,
        {"category": np.array(["x"] * 300 + [None] * 100, dtype=object)},
    )
    pool = {("m00", "m01"): ["p"], ("m00", "new"): ["p"]}
    state = MatchState.from_rows(rows, pool)
    assert state.models == ("m00", "m01", "new")
    assert state.votes.tolist() == [400, 400, 0] and state.category_votes == {"x": 300}
    assert state.sd[2] > 10 * state.sd[0] and state.rating[1] > state.rating[0]
    assert Matchmaker().choose(state, np.random.default_rng(0))[1:3] in (("m00", "new"), ("new", "m00"))
