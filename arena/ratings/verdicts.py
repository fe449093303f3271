"""Verdicts that keep their error rate: one family of claims, multiplicity control, anytime-valid intervals.

Reused beyond the leaderboard: benchmark comparisons (two runs over many metrics and categories) build the same
`Verdict`s from their own estimates, or feed their p-values to `adjust`.

A claim about one comparison (an estimated difference d̂ with standard error se) is read off a confidence
interval for d at some level 1 − a: "better" when the interval lies above 0, "worse" when below, "equivalent"
when it lies inside (−margin, margin), otherwise "undecided". All three claims are false only when the interval
misses the truth, so the smallest a at which the interval supports a claim (`claim_p`) is a valid p-value for
"this comparison's claim is false". Holm (family-wise) or Benjamini–Hochberg (false discovery rate) over the
family's `claim_p`s gives each comparison its level; the interval shown is the one at that level, so the verdict
and the interval always agree.

`Boundary(tune=None)` is the fixed-sample normal interval (one look). `Boundary(tune=δ)` is the anytime-valid
normal-mixture confidence sequence (Robbins; Howard et al. 2021): with information V = 1/se² and mixing precision
ρ = 1/δ², the interval d̂ ± se · sqrt((1 + r) ln((1 + r)/(r a²))), r = ρ/V = (se/δ)², covers d at every look at
once with probability ≥ 1 − a, so looking after every vote cannot inflate the error. With ρ = 1/δ² the boundary
is tightest (r ≈ 0.12 at a = 0.05) just where a gap of δ becomes detectable. With an estimated se the guarantee
is asymptotic (Waudby-Smith et al. 2021).

Holm over anytime p-values keeps the family-wise error over all looks; BH keeps the false discovery rate at the
look taken. The two tests of one comparison (either direction) share one interval: the error of "better" and
"worse" together is held at a. Holm and BH are ten lines of numpy here (statsmodels' `multipletests` would import
pandas into the CLI); the tests check them against statsmodels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from statistics import NormalDist
from typing import Literal, Protocol

import numpy as np
from typing_extensions import TypedDict  # not typing's: pydantic (the API's schema) needs this one below 3.12

Method = Literal["holm", "bh"]
METHODS: dict[str, str] = {
    "holm": "Holm (chance of any false verdict on the page)",
    "bh": "Benjamini–Hochberg (expected share of false verdicts)",
}
_NORMAL = NormalDist()


class Verdict(StrEnum):
    BETTER = "better"
    WORSE = "worse"
    EQUIVALENT = "equivalent"
    UNDECIDED = "undecided"
    INSUFFICIENT = "insufficient data"


@dataclass(frozen=True, eq=False)
class Adjustment:
    """Per hypothesis: rejected?, the adjusted p-value, and the level it was tested at (its interval's a)."""

    rejected: np.ndarray
    adjusted: np.ndarray
    level: np.ndarray


def adjust(pvalues: Sequence[float] | np.ndarray, alpha: float = 0.05, method: Method = "holm") -> Adjustment:
    """Holm's step-down or Benjamini–Hochberg's step-up over one family of p-values.

    `level[i]` is the per-hypothesis level: Holm's α/(m − i + 1) at the i-th smallest p while rejecting (the
    remaining ones share the level at which the procedure stopped); BH's R·α/m for all (R rejections, at least 1),
    which makes the intervals of the selected ones cover at rate 1 − α (Benjamini & Yekutieli 2005).
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    if not 0.0 < alpha < 1.0:
        raise ValueError("alpha must lie in (0, 1)")
    p = np.asarray(pvalues, dtype=np.float64)
    m = len(p)
    if m == 0:
        return Adjustment(np.zeros(0, bool), np.zeros(0), np.zeros(0))
    if np.any(np.isnan(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError("p-values must lie in [0, 1]")
    order = np.argsort(p, kind="stable")
    ps = p[order]
    rank = np.arange(1, m + 1)
    rejected, adjusted, level = np.zeros(m, bool), np.empty(m), np.empty(m)
    if method == "holm":
        steps = alpha / (m - rank + 1)
        passed = ps <= steps
        k = m if passed.all() else int(np.argmin(passed))  # rejections: the leading run that passes
        rejected[order[:k]] = True
        level[order] = np.where(rank <= k, steps, steps[min(k, m - 1)])
        adjusted[order] = np.minimum(1.0, np.maximum.accumulate((m - rank + 1) * ps))
    else:
        below = np.flatnonzero(ps <= rank * alpha / m)
        k = int(below[-1]) + 1 if len(below) else 0
        rejected[order[:k]] = True
        level[:] = max(k, 1) * alpha / m
        adjusted[order] = np.minimum(1.0, np.minimum.accumulate((m * ps / rank)[::-1])[::-1])
    return Adjustment(rejected, adjusted, level)


@dataclass(frozen=True)
class Boundary:
    """How wide an interval at level 1 − a is: fixed-sample normal (`tune=None`) or the anytime-valid normal
    mixture tuned for gaps of `tune` (same units as the estimates, e.g. 50 rating points)."""

    tune: float | None = None

    def __post_init__(self) -> None:
        if self.tune is not None and not self.tune > 0:
            raise ValueError("tune must be > 0")

    @property
    def anytime(self) -> bool:
        return self.tune is not None

    def z(self, se: float, a: float) -> float:
        """Half-width in standard errors of the interval at level 1 − a."""
        if self.tune is None:
            return _NORMAL.inv_cdf(1.0 - a / 2.0)
        r = (se / self.tune) ** 2
        return math.sqrt((1.0 + r) * math.log((1.0 + r) / (r * a * a)))

    def p_value(self, z: float, se: float) -> float:
        """The smallest a whose interval excludes a value z standard errors from the estimate (z ≥ 0)."""
        if z <= 0:
            return 1.0
        if self.tune is None:
            return min(1.0, math.erfc(z / math.sqrt(2.0)))
        r = (se / self.tune) ** 2
        log_m = 0.5 * math.log(r / (1.0 + r)) + z * z / (2.0 * (1.0 + r))  # the mixture martingale, log
        return min(1.0, math.exp(-log_m))


class Evidence(Protocol):
    """What one comparison knows: an estimate, the interval at any level, and its claim p-value."""

    @property
    def estimate(self) -> float: ...

    def interval(self, a: float) -> tuple[float, float]: ...

    def claim_p(self, margin: float) -> float: ...


@dataclass(frozen=True)
class NormalEvidence:
    """An estimate with a standard error; intervals from `boundary`."""

    estimate: float
    se: float
    boundary: Boundary = Boundary()

    def __post_init__(self) -> None:
        if not (math.isfinite(self.estimate) and math.isfinite(self.se) and self.se > 0):
            raise ValueError("a normal estimate needs a finite value and a standard error > 0")

    def interval(self, a: float) -> tuple[float, float]:
        h = self.se * self.boundary.z(self.se, a)
        return self.estimate - h, self.estimate + h

    def claim_p(self, margin: float) -> float:
        direction = self.boundary.p_value(abs(self.estimate) / self.se, self.se)
        inside = self.boundary.p_value((margin - abs(self.estimate)) / self.se, self.se) if margin > 0 else 1.0
        return min(direction, inside)


class DecisionJSON(TypedDict):
    """A :class:`Decision` as JSON (``interval``: [low, high] at ``level``)."""

    decision: str  # a Verdict's value
    estimate: float | None
    interval: list[float | None]
    level: float | None
    p_value: float | None
    adjusted_p: float | None


@dataclass(frozen=True)
class Decision:
    """One comparison's verdict, its interval at the level it was tested at (`level` = 1 − a), and p-values."""

    verdict: Verdict
    estimate: float | None
    low: float | None
    high: float | None
    level: float | None
    p_value: float | None  # the claim's own p-value (anytime-valid when the boundary is)
    adjusted_p: float | None  # after Holm / BH over the family

    def to_json(self) -> DecisionJSON:
        return DecisionJSON(
            decision=self.verdict.value,
            estimate=self.estimate,
            interval=[self.low, self.high],
            level=self.level,
            p_value=self.p_value,
            adjusted_p=self.adjusted_p,
        )


def read_interval(low: float, high: float, margin: float) -> Verdict:
    if low > 0:
        return Verdict.BETTER
    if high < 0:
        return Verdict.WORSE
    if margin > 0 and -margin < low and high < margin:
        return Verdict.EQUIVALENT
    return Verdict.UNDECIDED


def decide_family(
    items: Sequence[Evidence | None], *, alpha: float = 0.05, method: Method = "holm", margin: float = 0.0
) -> list[Decision]:
    """Verdicts for one family (everything a page shows at once). `None` items are "insufficient data" and are
    not counted in the family; the others get the level Holm / BH gives their claim p-value."""
    live = [i for i, e in enumerate(items) if e is not None]
    claim = [items[i].claim_p(margin) for i in live]  # type: ignore[union-attr]
    adj = adjust(claim, alpha, method)
    out = [Decision(Verdict.INSUFFICIENT, None, None, None, None, None, None) for _ in items]
    for n, i in enumerate(live):
        ev = items[i]
        assert ev is not None
        a = float(adj.level[n])
        low, high = ev.interval(a)
        verdict = read_interval(low, high, margin)
        if not adj.rejected[n]:  # only a rejection may claim (guards float ties at the boundary)
            verdict = Verdict.UNDECIDED
        out[i] = Decision(verdict, ev.estimate, low, high, 1.0 - a, claim[n], float(adj.adjusted[n]))
    return out


def more_observations(se_now: float, n_now: float, se_needed: float) -> float:
    """Observations to add, at the current rate of information per observation, to bring se_now to se_needed."""
    if se_needed <= 0:
        return math.inf
    return max(0.0, n_now * ((se_now / se_needed) ** 2 - 1.0))


def se_for_power(gap: float, a: float, power: float, boundary: Boundary) -> float:
    """The standard error at which a true gap of `gap` is declared with probability `power` at level a (normal
    approximation: the estimate must clear the interval's half-width by z_power standard errors)."""
    z_power = _NORMAL.inv_cdf(power)
    lo, hi = gap * 1e-6, gap
    for _ in range(100):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if mid * (boundary.z(mid, a) + z_power) < gap else (lo, mid)
    return lo
