"""The verdict layer: Holm / BH equal statsmodels', the anytime boundary keeps its error under continuous looking,
and verdicts are read off the interval at the level the family gives them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from arena.ratings.verdicts import (
    Boundary,
    NormalEvidence,
    Verdict,
    adjust,
    decide_family,
    more_observations,
    se_for_power,
)


@pytest.mark.parametrize(("method", "theirs"), [("holm", "holm"), ("bh", "fdr_bh")])
def test_adjust_equals_statsmodels(method: str, theirs: str) -> None:
    rng = np.random.default_rng(0)
    for m in (1, 2, 5, 17, 60):
        for _ in range(8):
            p = np.where(rng.random(m) < 0.3, rng.random(m) * 0.01, rng.random(m))
            p[rng.random(m) < 0.1] = p[0]  # ties
            mine = adjust(p, 0.05, method)  # type: ignore[arg-type]
            rej, adj, _, _ = multipletests(p, 0.05, theirs)
            assert np.array_equal(mine.rejected, rej)
            np.testing.assert_allclose(mine.adjusted, adj, rtol=1e-12)
            # a hypothesis is rejected exactly when its p-value is within the level it was tested at
            assert np.array_equal(mine.rejected, p <= mine.level)


def test_adjust_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="method"):
        adjust([0.1], method="bonf")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="p-values"):
        adjust([0.1, 1.5])
    assert len(adjust([]).rejected) == 0


def test_anytime_boundary_matches_the_reference_and_inverts() -> None:
    # §9 of the reference: at α = 0.05 the z threshold is 3.04 at r = 0.1, 3.27 at r = 0.01, 3.66 at r = 1
    b = Boundary(tune=1.0)
    for r, z in ((0.1, 3.04), (0.01, 3.27), (1.0, 3.66)):
        assert b.z(math.sqrt(r), 0.05) == pytest.approx(z, abs=0.005)
    for bound in (Boundary(), Boundary(tune=50.0)):
        for se in (3.0, 20.0, 80.0):
            for a in (0.05, 0.001):
                assert bound.p_value(bound.z(se, a), se) == pytest.approx(a, rel=1e-9)
    assert Boundary().z(1.0, 0.05) == pytest.approx(1.959964, abs=1e-6)
    with pytest.raises(ValueError):
        Boundary(tune=0.0)


def test_looking_after_every_observation_keeps_the_error() -> None:
    """Equal means, a look after each of 1,000 observations: the fixed-sample 95 % test declares a difference in
    most paths, the anytime boundary in at most 5 % (3,000 paths)."""
    rng = np.random.default_rng(1)
    paths, steps = 3000, 1000
    x = rng.standard_normal((paths, steps))
    n = np.arange(1, steps + 1)
    est = np.cumsum(x, axis=1) / n  # running mean, true value 0
    se = 1.0 / np.sqrt(n)
    fixed, anytime = Boundary(), Boundary(tune=0.2)
    z_fixed = fixed.z(1.0, 0.05)
    z_any = np.array([anytime.z(s, 0.05) for s in se])
    fixed_rate = np.mean((np.abs(est) / se >= z_fixed).any(axis=1))
    any_rate = np.mean((np.abs(est) / se >= z_any).any(axis=1))
    assert fixed_rate > 0.3
    assert any_rate <= 0.05
    # and it still finds a real difference (0.3 sd) within the 1,000 observations nearly always
    found = ((np.abs(est + 0.3) / se) >= z_any).any(axis=1).mean()
    assert found > 0.95


def test_decide_family_reads_the_interval_at_its_level() -> None:
    b = Boundary()
    items = [
        NormalEvidence(60.0, 10.0, b),  # far above 0
        NormalEvidence(-45.0, 10.0, b),  # far below
        NormalEvidence(2.0, 4.0, b),  # inside ±20
        NormalEvidence(15.0, 10.0, b),  # neither
        None,
    ]
    out = decide_family(items, alpha=0.05, method="holm", margin=20.0)
    assert [d.verdict for d in out] == [
        Verdict.BETTER,
        Verdict.WORSE,
        Verdict.EQUIVALENT,
        Verdict.UNDECIDED,
        Verdict.INSUFFICIENT,
    ]
    for d in out[:4]:
        assert d.low is not None and d.high is not None and d.level is not None
        assert d.low < d.estimate < d.high and 0.95 <= d.level < 1.0
    # the strongest claim is tested at α / 4 (four testable items), the undecided one at the level Holm stopped
    assert out[0].level == pytest.approx(1 - 0.05 / 4)
    assert out[3].level == pytest.approx(1 - 0.05 / 1)
    # without a margin nothing is "equivalent"
    assert decide_family(items[2:3], margin=0.0)[0].verdict == Verdict.UNDECIDED


def test_power_plan_reaches_its_power() -> None:
    """At the planned standard error a true gap is declared in about 80 % of simulated estimates."""
    rng = np.random.default_rng(2)
    for bound in (Boundary(), Boundary(tune=50.0)):
        se = se_for_power(50.0, 0.05, 0.8, bound)
        est = 50.0 + se * rng.standard_normal(20000)
        declared = np.mean(est - se * bound.z(se, 0.05) > 0)
        assert declared == pytest.approx(0.8, abs=0.01)
    assert more_observations(10.0, 100, 5.0) == pytest.approx(300.0)
    assert more_observations(4.0, 100, 5.0) == 0.0
