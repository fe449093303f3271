"""Properties (hypothesis) of the formulas and of the metrics computed with the tiny random CLIP."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from metrics import formulas
from metrics.pixel_metrics import farneback_motion
from tests.metrics.videos import constant_video, moving_square

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
floats = st.floats(-10, 10, allow_nan=False, width=32)


def feature_arrays(min_rows: int = 1, max_rows: int = 12, dim: int = 6):
    # rows bounded away from zero so that every row has a direction
    return hnp.arrays(np.float64, st.tuples(st.integers(min_rows, max_rows), st.just(dim)), elements=floats).map(
        lambda a: a + np.where(np.linalg.norm(a, axis=1, keepdims=True) < 1e-3, 1.0, 0.0)
    )


@FAST
@given(feature_arrays(max_rows=1), st.integers(1, 20))
def test_identical_frames_are_fully_consistent(row, n):
    feats = np.repeat(row, n, axis=0)
    assert abs(formulas.vbench_consistency(feats) - 1.0) < 1e-9
    assert abs(formulas.clip_temp(feats) - 1.0) < 1e-9


@FAST
@given(feature_arrays(), feature_arrays(max_rows=1))
def test_formulas_stay_in_their_ranges(feats, text):
    assert 0.0 <= formulas.vbench_consistency(feats) <= 1.0 + 1e-12
    assert -1.0 - 1e-12 <= formulas.clip_temp(feats) <= 1.0 + 1e-12
    assert -1.0 - 1e-12 <= formulas.clipsim(feats, text[0]) <= 1.0 + 1e-12


@st.composite
def symmetric_sampling(draw):
    """(N, K) where VBench's sampled set is mirror-symmetric: N <= K, or N = m*K with m odd."""
    k = draw(st.integers(1, 8))
    if draw(st.booleans()):
        return draw(st.integers(1, k)), k
    return k * draw(st.sampled_from([1, 3, 5])), k


@FAST
@given(symmetric_sampling(), st.integers(0, 2**31 - 1))
def test_reversing_frames_leaves_clipsim_unchanged(nk, seed):
    n, k = nk
    rng = np.random.default_rng(seed)
    feats, text = rng.normal(size=(n, 5)), rng.normal(size=5)
    idx = formulas.vbench_middle_indices(n, k)
    forward = formulas.clipsim(feats, text, idx)
    backward = formulas.clipsim(feats[::-1], text, formulas.vbench_middle_indices(n, k))
    assert abs(forward - backward) < 1e-12


def test_vbench_sampling_is_not_mirror_symmetric_for_every_length():
    # Documented quirk of VBench's formula: 49 frames, K=8 samples 2..45, its mirror would be 3..46.
    idx = formulas.vbench_middle_indices(49, 8)
    assert sorted((48 - idx).tolist()) != sorted(idx.tolist())


@FAST
@given(
    st.integers(1, 6),
    st.integers(8, 40),
    st.integers(8, 40),
    st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)),
)
def test_constant_video_has_no_flicker_and_no_motion(n, h, w, colour):
    video = constant_video(n, h, w, colour)
    assert formulas.temporal_flicker(video) == 1.0
    assert farneback_motion(video)[0] == 0.0


@FAST
@given(st.integers(2, 6), st.integers(0, 2**31 - 1))
def test_every_metric_value_is_in_its_documented_range(scorer, n, seed):
    video = np.random.default_rng(seed).integers(0, 256, (n, 24, 32, 3), dtype=np.uint8)
    report = scorer.score_frames(video, fps=8, prompt="a red cube on a table", language="en")
    oks = [r for r in report.results if r.status == "ok"]
    assert {r.metric for r in oks} >= {"clipsim", "clip_temp", "subject_consistency", "temporal_flicker"}
    for r in oks:
        lo, hi = r.range
        assert r.value is not None and lo <= r.value <= hi, (r.metric, r.value, r.range)


def test_identical_frames_give_consistency_one_with_the_real_encoder(scorer):
    report = scorer.score_frames(constant_video(5), fps=8, prompt="blue", language="en").by_name()
    for name in ("subject_consistency", "background_consistency", "clip_temp", "temporal_flicker"):
        assert abs(report[name].value - 1.0) < 1e-5, name
    assert report["motion_amount"].value == 0.0


def test_reversed_video_has_the_same_clipsim_with_the_real_encoder(scorer):
    video = moving_square(frames=8, step=2)  # N = K: every frame is sampled, so the set is mirror-symmetric
    fwd = scorer.score_frames(video, 8, "a white square", "en").by_name()["clipsim"].value
    bwd = scorer.score_frames(video[::-1].copy(), 8, "a white square", "en").by_name()["clipsim"].value
    assert fwd is not None and abs(fwd - bwd) < 1e-5
    # and the video really changes over time (otherwise the check above would be empty)
    assert scorer.score_frames(video, 8).by_name()["motion_amount"].value > 0.5


@FAST
@given(st.integers(1, 9), st.integers(0, 2**31 - 1))
def test_batch_size_does_not_change_features(tiny_encoder, batch, seed):
    video = np.random.default_rng(seed).integers(0, 256, (9, 20, 28, 3), dtype=np.uint8)
    whole = tiny_encoder.encode_images(video, batch_size=9)
    chunked = tiny_encoder.encode_images(video, batch_size=batch)
    assert np.max(np.abs(whole - chunked)) < 1e-5
    # chunking the video itself (features of parts concatenated) gives the same features too
    parts = np.concatenate([tiny_encoder.encode_images(video[:4]), tiny_encoder.encode_images(video[4:])])
    assert np.max(np.abs(whole - parts)) < 1e-5
