"""Style control and Davidson's tie model, each against a simulated truth."""

from __future__ import annotations

import numpy as np
import pytest

from arena.ratings.battles import BattleRows
from arena.ratings.bt import fit_bradley_terry
from arena.ratings.davidson import davidson
from arena.ratings.style import style_control


def test_style_control_removes_a_clip_length_effect() -> None:
    """Three equally good models; m2 makes clips twice as long and voters favour longer clips: the plain rating
    puts m2 ahead, the style-controlled one does not, and the duration effect is found."""
    rng = np.random.default_rng(0)
    n, k = 12000, 3
    a = rng.integers(0, k, n)
    b = (a + rng.integers(1, k, n)) % k
    frames = np.array([48, 48, 96])[[a, b]] + rng.integers(-8, 9, (2, n))
    fps = np.full((2, n), 16.0)
    z = (frames[0] - frames[1]) / (frames[0] + frames[1])  # normalised duration difference
    left = 0.1  # a small pull of the left clip
    p = 1.0 / (1.0 + np.exp(-(1.5 * z + left)))
    winner = np.where(rng.random(n) < p, "model_a", "model_b")
    extra = {
        "duration_a": (frames[0] / fps[0]).tolist(),
        "duration_b": (frames[1] / fps[1]).tolist(),
        "fps_a": fps[0].tolist(),
        "fps_b": fps[1].tolist(),
        **{f"{f}_{s}": [v] * n for s in "ab" for f, v in (("pixels", 65536.0), ("aspect", 1.0))},
    }
    rows = BattleRows.from_columns([f"m{i}" for i in a], [f"m{i}" for i in b], winner.tolist(), None, extra)
    fit = style_control(rows)
    assert fit.plain[2] - fit.plain[0] > 30  # style looks like quality
    assert abs(fit.controlled[2] - fit.controlled[0]) < 15 and abs(fit.controlled[1] - fit.controlled[0]) < 15
    per_point = 400.0 / np.log(10.0)
    assert fit.coefficients["duration"] == pytest.approx(1.5 * per_point, rel=0.25)
    assert fit.coefficients["left"] == pytest.approx(0.1 * per_point, abs=3 * fit.se["left"])
    assert fit.battles == n
    with pytest.raises(KeyError, match="style control"):
        style_control(BattleRows.from_columns(["a"], ["b"], ["model_a"]))


def test_davidson_recovers_tie_strengths_and_uncompressed_ratings() -> None:
    rng = np.random.default_rng(1)
    truth = np.array([-150.0, 0.0, 150.0])
    n, k, nu_tie, nu_bad = 20000, 3, 0.8, 0.3
    a = rng.integers(0, k, n)
    b = (a + rng.integers(1, k, n)) % k
    d = (truth[a] - truth[b]) * np.log(10.0) / 800.0
    den = 2 * np.cosh(d) + nu_tie + nu_bad
    cum = np.cumsum(np.stack([np.exp(d), np.exp(-d), np.full(n, nu_tie), np.full(n, nu_bad)]) / den, axis=0)
    u = rng.random(n)
    winner = np.array(["model_a", "model_b", "tie", "tie (bothbad)"])[(u[None, :] > cum).sum(axis=0)]
    rows = BattleRows.from_columns([f"m{i}" for i in a], [f"m{i}" for i in b], winner.tolist())
    fit = davidson(rows)
    assert fit.nu_tie == pytest.approx(nu_tie, rel=0.08) and fit.nu_bad == pytest.approx(nu_bad, rel=0.12)
    centred = truth - truth.mean() + 1000.0
    assert np.all(np.abs(fit.ratings - centred) < 3 * fit.se + 1.0)
    half = fit_bradley_terry(rows)
    assert half["m2"] - half["m0"] < 0.8 * (fit.ratings[2] - fit.ratings[0])  # ties as half compress the scale
    bad = winner == "tie (bothbad)"
    assert fit.bothbad_share[0] == pytest.approx(((a == 0) | (b == 0))[bad].sum() / ((a == 0) | (b == 0)).sum())
    assert np.all((fit.bothbad_ci[:, 0] <= fit.bothbad_share) & (fit.bothbad_share <= fit.bothbad_ci[:, 1]))
