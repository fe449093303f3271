"""The board's estimator for adaptively picked battles: the calibrated fit less its bootstrap bias, computed from
the rounds the intervals already draw. On a small arena paired by the matchmaker (its defaults) from the current
fit, with known truth, the corrected end models sit closer to the truth than the calibrated ones."""

from __future__ import annotations

import numpy as np
import pytest

from arena.ratings.battles import BattleRows
from arena.ratings.bt import fisher_sd
from arena.ratings.matchmaking import Matchmaker, MatchState
from arena.ratings.uncertainty import bias_corrected, fit_with_bootstrap

TRUTH = np.linspace(-600.0, 600.0, 5)  # a wide spread and few votes: the fit pushes the ends out
NAMES = tuple(f"m{i}" for i in range(len(TRUTH)))


def adaptive_arena(seed: int, votes: int = 300, refresh: int = 30) -> BattleRows:
    """Battles picked by the default matchmaker from the fit of the battles so far; BT outcomes of TRUTH."""
    rng = np.random.default_rng(seed)
    pool = {(a, b): ["p"] for i, a in enumerate(NAMES) for b in NAMES[i + 1 :]}
    a: list[str] = []
    b: list[str] = []
    win: list[str] = []
    w: list[float] = []
    picker = Matchmaker()
    for _ in range(votes // refresh):
        if a:
            rows = BattleRows.from_columns(a, b, win)
            rating, sd = fisher_sd(rows)
            fitted = dict(zip(rows.models, zip(rating, sd, strict=True), strict=True))
            counts = rows.counts()["votes"]
            done = dict(zip(rows.models, counts, strict=True))
        else:
            fitted, done = {}, {}
        rating = np.array([fitted.get(m, (1000.0, 350.0))[0] for m in NAMES])
        sd = np.array([fitted.get(m, (1000.0, 350.0))[1] for m in NAMES])
        state = MatchState(NAMES, rating, sd, np.array([done.get(m, 0) for m in NAMES]), pool)
        for pick in picker.choose_many(state, rng, refresh):
            i, j = NAMES.index(pick.model_a), NAMES.index(pick.model_b)
            p = 1.0 / (1.0 + 10.0 ** ((TRUTH[j] - TRUTH[i]) / 400.0))
            a.append(pick.model_a)
            b.append(pick.model_b)
            win.append("model_a" if rng.random() < p else "model_b")
            w.append(pick.weight)
    return BattleRows.from_columns(a, b, win, np.array(w), {"design_weight": w})


def test_bias_corrected_is_two_point_less_the_rounds_mean() -> None:
    point, samples = np.array([1.0, 3.0]), np.array([[0.0, 4.0], [1.0, 5.0]])
    np.testing.assert_allclose(bias_corrected(point, samples), [1.5, 1.5])


def test_the_correction_shrinks_the_end_models_bias_of_an_adaptive_design() -> None:
    calibrated, corrected = [], []
    for seed in range(150):
        rows = adaptive_arena(seed)
        assert not np.allclose(rows.extra["design_weight"].astype(float), 1.0)
        ends = [rows.index(NAMES[0]), rows.index(NAMES[-1])]
        truth = 1000.0 + TRUTH[[int(m[1:]) for m in rows.models]]
        plain, samples = fit_with_bootstrap(rows, 100, np.random.default_rng(seed))
        fixed = bias_corrected(plain, samples)
        if seed < 3:  # what the board gets: the same rounds, no extra fit, the rounds moved with the point
            board, shifted = fit_with_bootstrap(rows, 100, np.random.default_rng(seed), corrected=True)
            np.testing.assert_allclose(board, fixed)
            np.testing.assert_allclose(shifted - board, samples - plain)
        calibrated.append((plain - truth)[ends])
        corrected.append((fixed - truth)[ends])
    before, after = np.mean(calibrated, axis=0), np.mean(corrected, axis=0)
    assert before[0] < -20.0 and before[1] > 20.0  # the calibrated ends sit far out (measured: -40 / +41, se ~9)
    assert np.abs(after).sum() < 0.5 * np.abs(before).sum()  # measured: +9 / -7


def test_the_board_reports_the_corrected_point_with_sandwich_intervals() -> None:
    from statistics import NormalDist

    from arena.ratings.board import leaderboard
    from arena.ratings.uncertainty import interval_se

    rows = adaptive_arena(0)
    board = leaderboard(rows, bootstrap_rounds=100, seed=1)
    fixed, _ = fit_with_bootstrap(rows, 100, np.random.default_rng(1), corrected=True)
    half = NormalDist().inv_cdf(0.975) * interval_se(rows)
    for e in board.entries:
        i = rows.index(e.model)
        assert e.rating == pytest.approx(fixed[i]) and e.ci_low == pytest.approx(fixed[i] - half[i])
        assert e.ci_high == pytest.approx(fixed[i] + half[i])
