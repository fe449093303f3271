"""Pooling over a model's videos (VBench's frame-pair pooling, shares, means) with tested intervals, and the VBench
view: which dimensions, pooled how, normalised how, and what is not computed."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from metrics import pooling, vbench
from metrics.board import MetricRow, summarise
from metrics.pooling import VideoScores


def video(i, model="m", prompt=1, category="c", **scores) -> VideoScores:
    pairs = {k: 9 for k in scores if k.endswith("consistency")}
    return VideoScores(i, model, prompt, category, "en", dict(scores), pairs)


def test_pair_pooling_is_vbenchs_sum_over_all_pairs_not_the_mean_of_videos():
    # video A: 2 pairs at 1.0; video B: 8 pairs at 0.5 -> VBench: (2 * 1 + 8 * 0.5) / 10 = 0.6; per-video mean 0.75
    est = pooling.pooled_pairs([1.0, 0.5], [2, 8])
    assert est.value == pytest.approx(0.6) and est.pairs == 10 and est.videos == 2 and est.pooling == "pairs"
    assert pooling.mean_t([1.0, 0.5]).value == pytest.approx(0.75)
    assert pooling.pooled_pairs([1.0, 0.5], [5, 5]).value == pytest.approx(0.75)  # equal lengths: they agree
    assert pooling.pooled_pairs([0.9, 0.3], [4, 0]).value == pytest.approx(0.9)  # a one-frame video adds no pair
    one = pooling.mean_t([0.4])
    assert (one.value, one.low, one.high) == (0.4, 0.4, 0.4)


def test_pair_pooled_interval_covers_the_pooled_value_95_percent_of_the_time():
    rng = np.random.default_rng(0)
    truth, hits, reps = 0.8, 0, 2000
    for _ in range(reps):
        pairs = rng.integers(4, 60, size=15)  # 15 videos of unequal lengths
        # each video: its own level (video effect) plus the mean of its pairs' noise
        values = truth + rng.normal(0, 0.05, 15) + rng.normal(0, 0.1, 15) / np.sqrt(pairs)
        est = pooling.pooled_pairs(values.tolist(), pairs.tolist())
        hits += est.low <= truth <= est.high
    assert 0.93 <= hits / reps <= 0.97  # measured 0.937 (jackknife; about 0.94 at 15 videos, see metrics.pooling)


def test_share_interval_is_exact_and_covers_at_least_95_percent():
    est = pooling.share_exact([1.0, 0.0, 1.0, 1.0])
    assert est.value == 0.75 and est.pooling == "share"
    assert (round(est.low, 4), round(est.high, 4)) == (0.1941, 0.9937)  # Clopper-Pearson 3/4 at 95 %
    assert pooling.share_exact([0.0] * 5).low == 0.0 and pooling.share_exact([1.0] * 5).high == 1.0
    for n in (5, 40):
        intervals = [pooling.share_exact([1.0] * x + [0.0] * (n - x)) for x in range(n + 1)]
        for p in np.linspace(0.01, 0.99, 25):  # exact coverage: every outcome weighed by its probability
            coverage = sum(stats.binom.pmf(x, n, p) for x, e in enumerate(intervals) if e.low <= p <= e.high)
            assert coverage >= 0.95 - 1e-9, (n, p, coverage)


def test_static_filter_keeps_static_videos_at_most_five_per_prompt():
    videos = [video(i, prompt=1, static_filter=1.0, temporal_flicker=0.9) for i in range(7)]
    videos += [video(10, prompt=2, static_filter=0.0, temporal_flicker=0.2)]
    kept = vbench.static_videos(videos)
    assert [v.video_id for v in kept] == [0, 1, 2, 3, 4]


def board_videos() -> list[VideoScores]:
    out = []
    for i in range(6):
        static = 1.0 if i < 4 else 0.0
        out.append(
            video(
                i,
                model="ours",
                prompt=i,
                subject_consistency=0.9,
                background_consistency=0.95,
                temporal_flicker=0.98 if static else 0.5,  # moving videos flicker more: VBench leaves them out
                static_filter=static,
                dynamic_degree=float(i % 2),
                clipsim=0.3,
            )
        )
    out.append(video(99, model="rival", prompt=1, background_consistency=0.8, clipsim=0.2))
    return out


def test_vbench_view_pools_and_normalises_as_vbench():
    models = {
        "subject_consistency": "dino-vitb16",
        "background_consistency": "tiny-random",
        "static_filter": "raft_large-C_T_V1",
        "dynamic_degree": "raft_large-C_T_V1",
    }
    view = vbench.build_view(board_videos(), {"ours": "Ours"}, models, {"aesthetic": "LAION aesthetic head not found"})
    ours = {d.dimension: d for d in view.models[0].dimensions}
    assert view.models[0].model == "Ours" and set(ours) == {d.key for d in vbench.DIMENSIONS if d.metric}
    sc = ours["subject_consistency"]
    assert sc.status == "computed" and sc.estimate.pooling == "pairs" and sc.estimate.pairs == 54
    assert sc.normalised == pytest.approx((0.9 - 0.1462) / (1 - 0.1462)) and sc.same_models_as_vbench is True
    assert ours["background_consistency"].same_models_as_vbench is False  # tiny CLIP, not ViT-B/32 OpenAI
    flicker = ours["temporal_flickering"]
    assert flicker.estimate.value == pytest.approx(0.98) and flicker.estimate.videos == 4
    assert "4 static of 6 videos" in flicker.note
    dyn = ours["dynamic_degree"]
    assert dyn.estimate.value == 0.5 and dyn.estimate.pooling == "share" and dyn.weight == 0.5
    aesthetic = ours["aesthetic_quality"]
    assert aesthetic.status == "unavailable" and "LAION" in aesthetic.note and aesthetic.estimate is None
    rival = {d.dimension: d for d in view.models[1].dimensions}
    assert rival["temporal_flickering"].status == "unavailable" and "static filter" in rival["temporal_flickering"].note
    assert rival["subject_consistency"].status == "unavailable"
    assert len(view.not_computed) == 11 and {d["dimension"] for d in view.not_computed} >= {"motion_smoothness"}
    assert len(view.normalisation) == 16
    json.dumps(view.to_dict())  # JSON-ready


def test_summary_rows_pool_each_metric_its_own_way():
    rows = summarise(board_videos(), {}, {"subject_consistency": "pairs", "dynamic_degree": "share"})
    by = {(r.model_id, r.metric): r for r in rows}
    assert by[("ours", "subject_consistency")].estimate.pooling == "pairs"
    assert by[("ours", "dynamic_degree")].estimate.pooling == "share"
    assert by[("ours", "clipsim")].estimate.pooling == "mean" and by[("rival", "clipsim")].estimate.videos == 1
    row = MetricRow("ours", "Ours", "c", "clipsim", by[("ours", "clipsim")].estimate).to_dict()
    assert row["mean"] == 0.3 and row["ci"] == [0.3, 0.3] and row["category"] == "c" and row["videos"] == 6
    per_category = summarise(board_videos(), {}, {}, by_category=True)
    assert {r.category for r in per_category} == {"c"}
