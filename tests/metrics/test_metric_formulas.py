"""The pure formulas against values computed by hand on tiny explicit inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from metrics import formulas
from metrics.pixel_metrics import farneback_motion

R = 1 / math.sqrt(2)
# f0 = x, f1 = y, f2 = (x + y) / √2: cos(f0,f1) = 0, cos(f1,f2) = cos(f0,f2) = 1/√2
F3 = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])


def test_vbench_middle_indices_by_hand():
    # N=49, K=8: a = [0, 6, 12, 18, 24, 30, 36, 42, 49]; i_k = (a_k + a_{k+1} - 1) // 2
    assert formulas.vbench_middle_indices(49, 8).tolist() == [2, 8, 14, 20, 26, 32, 38, 45]
    assert formulas.vbench_middle_indices(16, 8).tolist() == [0, 2, 4, 6, 8, 10, 12, 14]
    assert formulas.vbench_middle_indices(24, 8).tolist() == [1, 4, 7, 10, 13, 16, 19, 22]
    assert formulas.vbench_middle_indices(3, 8).tolist() == [0, 1, 2]  # K capped at N: never index -1
    assert formulas.vbench_middle_indices(1, 8).tolist() == [0]
    with pytest.raises(ValueError):
        formulas.vbench_middle_indices(0, 8)


def test_clipsim_by_hand():
    text = np.array([2.0, 0.0])  # normalised inside: (1, 0)
    assert formulas.clipsim(F3, text) == pytest.approx((1 + 0 + R) / 3)
    assert formulas.clipsim(F3, text, np.array([0, 2])) == pytest.approx((1 + R) / 2)
    assert formulas.clipsim(F3 * 5, -text) == pytest.approx(-(1 + R) / 3)  # scale-free, sign kept


def test_clip_temp_by_hand():
    assert formulas.clip_temp(F3) == pytest.approx((0 + R) / 2)
    assert formulas.clip_temp(np.array([[1.0, 0.0], [-1.0, 0.0]])) == pytest.approx(-1.0)
    assert formulas.clip_temp(np.array([[0.3, 0.4]])) == 1.0


def test_vbench_consistency_by_hand():
    # t=1: ½[max(0,0) + max(0,0)] = 0;  t=2: ½[1/√2 + 1/√2] = 1/√2  ->  mean = 1/(2√2)
    assert formulas.vbench_consistency(F3) == pytest.approx(R / 2)
    # negative cosines are clipped to 0, unlike CLIP-Temp
    assert formulas.vbench_consistency(np.array([[1.0, 0.0], [-1.0, 0.0]])) == 0.0
    # f0=x, f1=x, f2=y: t=1: ½[1 + 1] = 1; t=2: ½[0 + 0] = 0 -> 0.5
    assert formulas.vbench_consistency(np.array([[1.0, 0], [1.0, 0], [0, 1.0]])) == pytest.approx(0.5)


def test_temporal_flicker_by_hand():
    a = np.zeros((1, 2, 2, 3), np.uint8)
    b = np.full((1, 2, 2, 3), 51, np.uint8)
    assert formulas.temporal_flicker(np.concatenate([a, b])) == pytest.approx((255 - 51) / 255)  # 0.8
    assert formulas.temporal_flicker(np.concatenate([a, a + 255, a])) == pytest.approx(0.0)
    # half the pixels change by 100 in one pair, nothing in the other: mean |diff| = (50 + 0) / 2 = 25
    c = a.copy()
    c[0, 0] = 100
    assert formulas.temporal_flicker(np.concatenate([a, c, c])) == pytest.approx((255 - 25) / 255)


def test_farneback_recovers_a_known_shift():
    rng = np.random.default_rng(0)
    import cv2

    base = cv2.GaussianBlur(rng.integers(0, 255, (160, 200), dtype=np.uint8), (0, 0), 3)
    base = cv2.normalize(base, None, 0, 255, cv2.NORM_MINMAX)
    shifted = np.roll(base, 2, axis=1)  # 2 pixels per frame at a 160-pixel short side
    frames = np.stack([np.repeat(f[..., None], 3, axis=2) for f in (base, shifted)])
    mean, per_pair = farneback_motion(frames, short_side=160)
    assert len(per_pair) == 1
    assert mean == pytest.approx(2.0, abs=0.4)
    # measured at a 80-pixel short side, the same shift is 1 pixel: the unit scales with the working size
    assert farneback_motion(frames, short_side=80)[0] == pytest.approx(1.0, abs=0.3)
