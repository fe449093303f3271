"""Bradley–Terry: closed forms, ties, separation, recovery, bootstrap coverage, and the scipy baseline."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arena.ratings import BattleRows, bootstrap_ratings, fit_bradley_terry, leaderboard
from arena.ratings.bt import fit_strengths, pair_totals, unique_rows


def _two(wins: int, losses: int, ties: int = 0, bothbad: int = 0) -> BattleRows:
    recs = [{"model_a": "x", "model_b": "y", "winner": "model_a"}] * wins
    recs += [{"model_a": "y", "model_b": "x", "winner": "model_a"}] * losses  # y beats x, x on the right
    recs += [{"model_a": "x", "model_b": "y", "winner": "tie"}] * ties
    recs += [{"model_a": "y", "model_b": "x", "winner": "tie (bothbad)"}] * bothbad
    return BattleRows.from_records(recs)


@given(st.integers(1, 400), st.integers(1, 400))
@settings(max_examples=60, deadline=None)
def test_two_models_closed_form(wins: int, losses: int) -> None:
    r = fit_bradley_terry(_two(wins, losses), prior=0.0)
    assert r["x"] - r["y"] == pytest.approx(400 * math.log10(wins / losses), abs=1e-6)
    assert (r["x"] + r["y"]) / 2 == pytest.approx(1000.0, abs=1e-9)


@given(st.integers(0, 50), st.integers(0, 50), st.integers(0, 50), st.integers(0, 50))
@settings(max_examples=60, deadline=None)
def test_ties_count_half_a_win_each(wins: int, losses: int, ties: int, bothbad: int) -> None:
    t = ties + bothbad
    if wins + t / 2 == 0 or losses + t / 2 == 0:
        return
    r = fit_bradley_terry(_two(wins, losses, ties, bothbad), prior=0.0)
    assert r["x"] - r["y"] == pytest.approx(400 * math.log10((wins + t / 2) / (losses + t / 2)), abs=1e-6)
    # both kinds of tie are the same outcome
    same = fit_bradley_terry(_two(wins, losses, t, 0), prior=0.0)
    assert same["x"] == pytest.approx(r["x"], abs=1e-9)


@pytest.mark.parametrize("prior", [0.01, 0.0])
def test_only_wins_stays_finite(prior: float) -> None:
    rows = BattleRows.from_records(
        [{"model_a": "champ", "model_b": o, "winner": "model_a"} for o in ("p", "q") for _ in range(30)]
        + [{"model_a": "p", "model_b": "q", "winner": w} for w in ("model_a", "model_b", "tie") * 10]
        + [{"model_a": "dud", "model_b": "q", "winner": "model_b"}] * 12
    )
    r = fit_bradley_terry(rows, prior=prior)
    assert all(math.isfinite(v) for v in r.values())
    assert r["champ"] > r["p"] + 200 and r["dud"] < r["q"] - 200
    assert sum(r.values()) / len(r) == pytest.approx(1000.0, abs=1e-6)
    if prior > 0:  # the prior gives a bounded, reproducible answer (the pure MLE has none)
        assert r["champ"] < 3000 and r["dud"] > -1000


def test_prior_moves_well_measured_ratings_by_under_half_a_point(simulate) -> None:
    rows = simulate(np.linspace(800, 1200, 8), 20_000, np.random.default_rng(3), tie_rate=0.1)
    plain, default = fit_bradley_terry(rows, prior=0.0), fit_bradley_terry(rows)
    assert max(abs(plain[m] - default[m]) for m in plain) < 0.5


def test_anchor_pins_a_model_and_keeps_differences(simulate) -> None:
    rows = simulate(np.array([900.0, 1000.0, 1100.0]), 3000, np.random.default_rng(0))
    free, pinned = fit_bradley_terry(rows), fit_bradley_terry(rows, anchor="m00", anchor_rating=1000.0)
    assert pinned["m00"] == 1000.0
    assert pinned["m02"] - pinned["m01"] == pytest.approx(free["m02"] - free["m01"], abs=1e-9)
    with pytest.raises(KeyError, match="nobody"):
        fit_bradley_terry(rows, anchor="nobody")


@given(
    st.lists(
        st.tuples(st.integers(0, 4), st.integers(1, 4), st.sampled_from(["model_a", "model_b", "tie"])),
        min_size=1,
        max_size=60,
    ),
    st.randoms(),
)
@settings(max_examples=50, deadline=None)
def test_invariant_to_row_order_and_side(battles, rnd) -> None:
    recs = [{"model_a": f"m{a}", "model_b": f"m{(a + d) % 5}", "winner": w} for a, d, w in battles]
    flip = {"model_a": "model_b", "model_b": "model_a", "tie": "tie"}
    swapped = [{"model_a": r["model_b"], "model_b": r["model_a"], "winner": flip[r["winner"]]} for r in recs]
    rnd.shuffle(swapped)
    a, b = fit_bradley_terry(BattleRows.from_records(recs)), fit_bradley_terry(BattleRows.from_records(swapped))
    assert a.keys() == b.keys()
    assert all(abs(a[m] - b[m]) < 1e-6 for m in a)


def test_recovers_known_strengths(simulate) -> None:
    truth = np.linspace(700, 1300, 10)
    rows = simulate(truth, 40_000, np.random.default_rng(7), tie_rate=0.15)
    r = fit_bradley_terry(rows)
    est = np.array([r[f"m{i:02d}"] for i in range(10)])
    # ≈ 8,000 votes per model: standard error ≈ 5 points; ties only add information
    assert np.abs(est - (truth - truth.mean() + 1000)).max() < 20


def test_batched_newton_matches_lbfgs_on_random_weights() -> None:
    from scipy.optimize import minimize

    rng = np.random.default_rng(11)
    k, r = 6, 5
    pairs = np.array([(i, j) for i in range(k) for j in range(i + 1, k)])
    tot = rng.integers(1, 60, (r, len(pairs))).astype(float)
    wins = np.round(tot * rng.random((r, len(pairs))) * 2) / 2
    theta = fit_strengths(wins, tot, pairs[:, 0], pairs[:, 1], k, prior=0.0)

    def nll(t, w, n):
        d = t[pairs[:, 0]] - t[pairs[:, 1]]
        return (w * np.logaddexp(0, -d) + (n - w) * np.logaddexp(0, d)).sum() + 0.5 * t.sum() ** 2

    for row in range(r):
        ref = minimize(nll, np.zeros(k), args=(wins[row], tot[row]), method="BFGS", options={"gtol": 1e-10}).x
        assert np.abs(theta[row] - (ref - ref.mean())).max() < 1e-4


def test_unique_rows_group_and_keep_weights() -> None:
    rows = BattleRows.from_records(
        [
            {"model_a": "a", "model_b": "b", "winner": "model_a", "weight": 2.0},
            {"model_a": "b", "model_b": "a", "winner": "model_b"},  # the same outcome seen from the other side
            {"model_a": "a", "model_b": "b", "winner": "tie (bothbad)", "weight": 0.5},
            {"model_a": "a", "model_b": "b", "winner": "tie", "weight": 0.0},  # excluded
        ]
    )
    u = unique_rows(rows)
    assert sorted(zip(u.score.tolist(), u.weight.tolist(), u.count.tolist(), strict=True)) == [
        (0.5, 0.5, 1),
        (1.0, 3.0, 2),
    ]
    wins, tot = pair_totals(u, u.weight)
    assert wins.tolist() == [3.25] and tot.tolist() == [3.5]


def test_bootstrap_is_seeded_and_shaped(simulate) -> None:
    rows = simulate(np.array([950.0, 1000.0, 1050.0, 1100.0]), 2000, np.random.default_rng(1))
    s1 = bootstrap_ratings(rows, 50, np.random.default_rng(5))
    s2 = bootstrap_ratings(rows, 50, np.random.default_rng(5))
    assert s1.shape == (50, 4) and np.array_equal(s1, s2)
    assert np.allclose(s1.mean(axis=1), 1000.0)
    assert not np.array_equal(s1, bootstrap_ratings(rows, 50, np.random.default_rng(6)))


def test_bootstrap_ci_covers_truth_at_about_nominal_rate(simulate) -> None:
    truth = np.array([900.0, 960.0, 1000.0, 1040.0, 1100.0])
    centred = truth - truth.mean() + 1000
    hits, total = 0, 0
    for seed in range(120):
        rng = np.random.default_rng(seed)
        board = leaderboard(simulate(truth, 600, rng, tie_rate=0.1), bootstrap_rounds=100, seed=rng)
        for e in board.entries:
            t = centred[int(e.model[1:])]
            hits += e.ci_low <= t <= e.ci_high
            total += 1
    assert 0.89 <= hits / total <= 0.99, hits / total


def test_leaderboard_ranks_counts_and_json(simulate) -> None:
    rows = simulate(np.array([800.0, 1000.0, 1010.0, 1300.0]), 4000, np.random.default_rng(2), tie_rate=0.2)
    board = leaderboard(rows, bootstrap_rounds=60, seed=1)
    assert board.entries[0].model == "m03" and board.entries[-1].model == "m00"
    assert [e.rank for e in board.entries] == [1, 2, 2, 4]  # m01 and m02, 10 points apart, overlap
    ratings = [e.rating for e in board.entries]
    assert ratings == sorted(ratings, reverse=True)
    e = board.entries[0]
    assert e.votes == e.wins + e.losses + e.ties and e.ci_low <= e.rating <= e.ci_high
    assert e.win_rate == pytest.approx((e.wins + e.ties / 2) / e.votes)
    assert sum(x.votes for x in board.entries) == 2 * len(rows)
    js = board.to_json()
    assert set(js) == {"ratings", "ci", "elo", "votes", "component"} and js["ci"]["m03"] == [e.ci_low, e.ci_high]
    assert board.samples.shape == (60, 4)
    assert np.array_equal(board.column("m00"), board.samples[:, 3])


def test_min_votes_gate_applies_before_the_fit(simulate) -> None:
    """A model hidden by the gate does not move the ratings shown: its battles are not fitted."""
    rows = simulate(np.array([900.0, 1000.0, 1100.0]), 900, np.random.default_rng(4))
    thin = [{"model_a": "new", "model_b": "m00", "winner": "model_a"}] * 3
    recs = [
        {"model_a": rows.models[a], "model_b": rows.models[b], "winner": w}
        for a, b, w in zip(rows.a.tolist(), rows.b.tolist(), ["model_a", "model_b"] * 450, strict=False)
    ]
    few = BattleRows.from_records(recs + thin)
    board = leaderboard(few, bootstrap_rounds=0, min_votes=10)
    assert board.hidden == ("new",) and "new" not in board.models and len(board.entries) == 3
    assert board.entry("m00").votes == sum(1 for r in recs if "m00" in (r["model_a"], r["model_b"]))
    without = leaderboard(BattleRows.from_records(recs), bootstrap_rounds=0)
    for e in without.entries:
        assert board.entry(e.model).rating == pytest.approx(e.rating, abs=1e-9)
    assert all(e.ci_low == e.rating == e.ci_high for e in board.entries)  # no rounds: no interval
    assert len(leaderboard(rows, bootstrap_rounds=0, min_votes=0).entries) == 3


def test_aggregated_rows_give_the_same_board_as_per_vote_rows() -> None:
    """Rows that stand for `count` identical battles (a database GROUP BY) fit, count and rank exactly as the
    per-vote rows they summarise, weights included."""
    import pandas as pd

    from arena.ratings.decisions import battle_count_matrix, win_fraction_matrix

    rng = np.random.default_rng(7)
    n = 3000
    models = np.array(["m0", "m1", "m2", "m3", "m4"])
    a = rng.integers(0, 5, n)
    b = (a + rng.integers(1, 5, n)) % 5
    winner = rng.choice(["model_a", "model_b", "tie", "tie (bothbad)"], n, p=[0.45, 0.35, 0.15, 0.05])
    weight = rng.choice([1.0, 0.25], n, p=[0.9, 0.1])
    df = pd.DataFrame({"model_a": models[a], "model_b": models[b], "winner": winner, "weight": weight})
    per_vote = BattleRows.from_table(df)
    grouped = df.groupby(["model_a", "model_b", "winner", "weight"], as_index=False).size()
    aggregated = BattleRows.from_table(grouped.rename(columns={"size": "count"}))
    assert len(aggregated) <= 160 and aggregated.total == n  # 20 ordered pairs × 4 outcomes × 2 weights
    one = leaderboard(per_vote, bootstrap_rounds=0)
    two = leaderboard(aggregated, bootstrap_rounds=0)
    for e1, e2 in zip(one.entries, two.entries, strict=True):
        assert e1.model == e2.model
        assert abs(e1.rating - e2.rating) < 1e-6
        assert (e1.votes, e1.wins, e1.losses, e1.ties) == (e2.votes, e2.wins, e2.losses, e2.ties)
    pd.testing.assert_frame_equal(battle_count_matrix(per_vote), battle_count_matrix(aggregated, order=None))
    pd.testing.assert_frame_equal(win_fraction_matrix(per_vote), win_fraction_matrix(aggregated))
    assert aggregated.expand().total == n and len(aggregated.expand()) == n
