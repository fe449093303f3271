"""How per-video scores become one number per model, with a 95 % interval (pure: no models, no database).

* ``mean``: the mean over videos, Student-t interval (videos are the independent units);
* ``pairs``: VBench's consistency pooling, Σ over every frame pair of every video / number of pairs
  (= Σ_i pairs_i · v_i / Σ_i pairs_i): a ratio estimator, with a leave-one-video-out jackknife standard error and
  a t interval on videos - 1 degrees of freedom (closer to 95 % with few videos than the delta method: 0.945 vs
  0.940 at 15 videos, 0.938 vs 0.929 at 5, in a simulation with unequal lengths);
* ``share``: the share of videos with a yes (dynamic degree, static filter), Clopper-Pearson (exact) interval:
  it covers at least 95 % whatever the share (Wilson's dips to ~93 % at 40 videos).

With one video the interval is the point itself (nothing to estimate a spread from).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, NotRequired

from typing_extensions import TypedDict  # not typing's: pydantic (the API's schema) needs this one below 3.12

Pooling = Literal["mean", "pairs", "share"]


class EstimateJSON(TypedDict):
    value: float
    ci: list[float]  # [low, high], 95 %
    videos: int
    pooling: Pooling
    pairs: NotRequired[int]  # frame pairs pooled (VBench's consistency pooling)


@dataclass(frozen=True)
class Estimate:
    """One pooled value and its 95 % interval over ``videos`` videos (``pairs``: frame pairs pooled)."""

    value: float
    low: float
    high: float
    videos: int
    pooling: Pooling
    pairs: int | None = None

    def to_dict(self, digits: int = 4) -> EstimateJSON:
        out = EstimateJSON(
            value=round(self.value, digits),
            ci=[round(self.low, digits), round(self.high, digits)],
            videos=self.videos,
            pooling=self.pooling,
        )
        if self.pairs is not None:
            out["pairs"] = self.pairs
        return out


def _t95(df: int) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.975, df))


def mean_t(values: Sequence[float]) -> Estimate:
    """Mean over videos with a t interval."""
    n = len(values)
    if n == 0:
        raise ValueError("no values to pool")
    mean = math.fsum(values) / n
    if n < 2:
        return Estimate(mean, mean, mean, n, "mean")
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    half = _t95(n - 1) * sd / math.sqrt(n)
    return Estimate(mean, mean - half, mean + half, n, "mean")


def pooled_pairs(values: Sequence[float], pairs: Sequence[int]) -> Estimate:
    """VBench's pooling of per-pair terms: ``Σ pairs_i · values_i / Σ pairs_i`` (videos without pairs add none)."""
    kept = [(v, p) for v, p in zip(values, pairs, strict=True) if p > 0]
    k = len(kept)
    total = sum(p for _, p in kept)
    if k == 0:
        raise ValueError("no frame pairs to pool")
    weighted = math.fsum(v * p for v, p in kept)
    ratio = weighted / total
    if k < 2:
        return Estimate(ratio, ratio, ratio, k, "pairs", total)
    loo = [(weighted - v * p) / (total - p) for v, p in kept]  # the ratio without each video in turn
    centre = math.fsum(loo) / k
    variance = (k - 1) / k * math.fsum((r - centre) ** 2 for r in loo)
    half = _t95(k - 1) * math.sqrt(variance)
    return Estimate(ratio, ratio - half, ratio + half, k, "pairs", total)


def share_exact(flags: Sequence[float]) -> Estimate:
    """Share of yes (1.0) among videos, Clopper-Pearson 95 % interval."""
    from scipy import stats

    n = len(flags)
    if n == 0:
        raise ValueError("no values to pool")
    x = round(math.fsum(flags))
    low = float(stats.beta.ppf(0.025, x, n - x + 1)) if x > 0 else 0.0
    high = float(stats.beta.ppf(0.975, x + 1, n - x)) if x < n else 1.0
    return Estimate(x / n, low, high, n, "share")


def pool(pooling: Pooling, values: Sequence[float], pairs: Sequence[int] | None = None) -> Estimate:
    if pooling == "pairs":
        if pairs is None:
            raise ValueError("pair pooling needs the pair counts")
        return pooled_pairs(values, pairs)
    return share_exact(values) if pooling == "share" else mean_t(values)


@dataclass(frozen=True)
class VideoScores:
    """One video's stored values, and what a board groups and pools it by."""

    video_id: int
    model_id: str
    prompt_id: int
    category: str
    language: str
    scores: dict[str, float]
    pairs: dict[str, int]  # frame pairs behind each pair-pooled value


def pool_videos(videos: Sequence[VideoScores], metric: str, pooling: Pooling) -> Estimate | None:
    """Pool one metric over the videos that have it (None when none has)."""
    have = [v for v in videos if metric in v.scores]
    if not have:
        return None
    values = [v.scores[metric] for v in have]
    if pooling == "pairs":
        with_pairs = [v for v in have if metric in v.pairs]
        if len(with_pairs) < len(have):  # a row without its pair count cannot be pooled as VBench pools
            return mean_t(values)
        if sum(v.pairs[metric] for v in have) == 0:
            return None
        return pooled_pairs(values, [v.pairs[metric] for v in have])
    return pool(pooling, values)
