"""Calibrated ratings for battles picked with unequal chances: the unweighted fit's order, the uniform design's
scale; and nothing changes when every design weight is 1."""

from __future__ import annotations

import numpy as np
import pytest

from arena.ratings.battles import BattleRows
from arena.ratings.bt import NAT, calibrate, dilation
from arena.ratings.uncertainty import fit_with_bootstrap, robust_fit

TRUTH = np.linspace(0.0, 700.0, 8)


def world(n: int, chance: np.ndarray, rng: np.random.Generator) -> BattleRows:
    """Pairs drawn with `chance` (over i < j), BT outcomes with 10 % random voters (the scale then depends on
    which pairs are asked); each battle carries the design weight q / π."""
    k = len(TRUTH)
    pi, pj = np.triu_indices(k, 1)
    pick = rng.choice(len(pi), size=n, p=chance)
    a, b = pi[pick], pj[pick]
    p = 1.0 / (1.0 + 10.0 ** ((TRUTH[b] - TRUTH[a]) / 400.0))
    p = 0.05 + 0.9 * p
    winner = np.where(rng.random(n) < p, "model_a", "model_b")
    weight = (1.0 / len(pi)) / chance[pick]
    names = [f"m{i}" for i in range(k)]
    return BattleRows.from_columns(
        [names[i] for i in a], [names[i] for i in b], winner.tolist(), weight, {"design_weight": weight.tolist()}
    )


def slope(ratings: np.ndarray) -> float:
    return float(np.polyfit(TRUTH, ratings, 1)[0])


def test_calibration_gives_the_uniform_designs_scale_and_keeps_the_order() -> None:
    rng = np.random.default_rng(0)
    k = len(TRUTH)
    pi, pj = np.triu_indices(k, 1)
    uniform = np.full(len(pi), 1.0 / len(pi))
    close = np.exp(-np.abs(TRUTH[pi] - TRUTH[pj]) / 100.0)
    close /= close.sum()  # most battles between neighbours, as an adaptive matchmaker asks
    reference = slope(fit_with_bootstrap(world(60000, uniform, rng), 0, rng)[0])
    rows = world(60000, close, rng)
    unweighted = BattleRows(rows.models, rows.a, rows.b, rows.winner, np.ones(len(rows)))
    plain = slope(fit_with_bootstrap(unweighted, 0, rng)[0])
    point, samples = fit_with_bootstrap(rows, 200, rng)
    assert abs(plain - reference) > 0.05  # asking mostly neighbours changes the scale the fit finds
    assert slope(point) == pytest.approx(reference, abs=0.02)  # the calibrated one matches the uniform design's
    assert np.array_equal(np.argsort(point), np.argsort(fit_with_bootstrap(unweighted, 0, rng)[0]))
    lo, hi = np.quantile(samples, [0.025, 0.975], axis=0)
    assert np.all(lo < point) and np.all(point < hi)
    robust = robust_fit(rows)
    np.testing.assert_allclose(robust.rating, point, atol=1e-6)


def test_design_weights_of_one_change_nothing(simulate) -> None:
    rows = simulate(np.array([900.0, 1000.0, 1100.0]), 600, np.random.default_rng(1), tie_rate=0.2)
    extra = {"design_weight": np.ones(len(rows))}
    ones = BattleRows(rows.models, rows.a, rows.b, rows.winner, rows.weight, extra)
    pa, sa = fit_with_bootstrap(rows, 50, np.random.default_rng(2))
    pb, sb = fit_with_bootstrap(ones, 50, np.random.default_rng(2))
    assert np.array_equal(pa, pb) and np.array_equal(sa, sb)
    np.testing.assert_array_equal(robust_fit(rows).cov, robust_fit(ones).cov)


def test_calibration_map_is_the_identity_on_its_own_fit_and_recovers_a_cubic() -> None:
    k = 7
    pi, pj = np.triu_indices(k, 1)
    base = np.linspace(-2.0, 2.0, k)
    s2 = np.mean(base**2)

    def exact(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # expected wins of 1,000 battles a pair
        totals = np.full(len(pi), 1000.0)
        return totals / (1.0 + np.exp(-(theta[pi] - theta[pj]))), totals

    wins, totals = exact(base)
    mapped, slope = calibrate(base, wins, totals, pi, pj, 0.0)
    np.testing.assert_allclose(mapped[0], base, atol=1e-8)
    np.testing.assert_allclose(slope[0], 1.0, atol=1e-8)
    # the weighted battles say the ends sit closer than the unweighted fit put them: the map pulls them in
    truth = 1.1 * base - 0.15 * base**3 / s2
    mapped, slope = calibrate(base, *exact(truth), pi, pj, 0.0)
    np.testing.assert_allclose(mapped[0], truth - truth.mean(), atol=1e-6)
    assert np.all(slope > 0)
    # a best cubic that would reverse the order at the ends: the dilation instead, so the order is kept
    folded = base - 0.5 * base**3 / s2
    mapped, slope = calibrate(base, *exact(folded), pi, pj, 0.0)
    alpha = dilation(base, *exact(folded), pi, pj, 0.0)[0]
    assert alpha > 0 and np.all(np.diff(mapped[0]) > 0) and np.all(slope == alpha)
    np.testing.assert_allclose(mapped[0], alpha * base, atol=1e-9)
    reversed_ = calibrate(base, *exact(-base), pi, pj, 0.0)[0][0]  # even the dilation would reverse it: θ kept
    np.testing.assert_allclose(reversed_, base, atol=1e-12)


def test_robust_intervals_of_the_design_weighted_fit_cover_the_truth() -> None:
    """Half the picks uniform, half favouring neighbours (the matchmaker's mix), Bradley–Terry voters (so the
    uniform design's target is the truth): 95 % sandwich intervals of each rating cover it 93–97 % of the time."""
    rng = np.random.default_rng(4)
    k = len(TRUTH)
    pi, pj = np.triu_indices(k, 1)
    close = np.exp(-np.abs(TRUTH[pi] - TRUTH[pj]) / 150.0)
    chance = 0.5 / len(pi) + 0.5 * close / close.sum()
    truth = TRUTH - TRUTH.mean() + 1000.0
    hits = []
    for _ in range(300):
        pick = rng.choice(len(pi), size=600, p=chance)
        a, b = pi[pick], pj[pick]
        p = 1.0 / (1.0 + np.exp(-(TRUTH[a] - TRUTH[b]) * NAT))
        names = [f"m{i}" for i in range(k)]
        weight = (1.0 / len(pi)) / chance[pick]
        winner = np.where(rng.random(len(pick)) < p, "model_a", "model_b").tolist()
        rows = BattleRows.from_columns(
            [names[i] for i in a], [names[i] for i in b], winner, weight, {"design_weight": weight.tolist()}
        )
        fit = robust_fit(rows)
        order = [fit.models.index(m) for m in names]
        se = np.sqrt(np.diag(fit.cov))[order]
        hits.append(np.abs(fit.rating[order] - truth) <= 1.96 * se)
    assert 0.93 <= np.mean(hits) <= 0.97
