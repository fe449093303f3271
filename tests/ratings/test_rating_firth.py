"""Firth's bias-reduced Bradley–Terry fit: it is the maximum of the penalised likelihood, it removes the maximum
likelihood's spread of the end models against a known truth, and separated data stays finite."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from arena.ratings.bt import fit_firth, fit_strengths

K = 6
PI, PJ = np.triu_indices(K, 1)
TRUTH = np.linspace(-1.5, 1.5, K)  # natural log-odds: about 520 rating points from bottom to top


def draw(rounds: int, per_pair: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Wins of PI over PJ in `per_pair` Bradley–Terry battles a pair, `rounds` independent arenas."""
    p = 1.0 / (1.0 + np.exp(-(TRUTH[PI] - TRUTH[PJ])))
    wins = rng.binomial(per_pair, p, size=(rounds, len(PI))).astype(np.float64)
    return wins, np.full_like(wins, per_pair)


def penalised(theta: np.ndarray, wins: np.ndarray, totals: np.ndarray) -> float:
    """Log-likelihood + ½ log det of the Fisher information on the centred strengths."""
    d = theta[PI] - theta[PJ]
    p = 1.0 / (1.0 + np.exp(-d))
    info = np.zeros((K, K))
    info[PI, PJ] = info[PJ, PI] = -totals * p * (1 - p)
    info[np.arange(K), np.arange(K)] = -info.sum(axis=1)
    loglik = float((wins * d - totals * np.logaddexp(0.0, d)).sum())
    return loglik + 0.5 * float(np.linalg.slogdet(info + 1.0 / K)[1])


def test_firth_reduces_the_end_models_bias_of_the_maximum_likelihood() -> None:
    rounds = 2000  # 8 battles a pair, 40 a model: the maximum likelihood spreads the ends by ~15 points
    wins, totals = draw(rounds, 8, np.random.default_rng(0))
    for name, fit in (("mle", fit_strengths), ("firth", fit_firth)):
        theta = fit(wins, totals, PI, PJ, K)
        error = theta - theta.mean(axis=1, keepdims=True) - TRUTH
        bias, se = error.mean(axis=0), error.std(axis=0, ddof=1) / np.sqrt(rounds)
        ends = [0, K - 1]
        if name == "mle":
            mle_bias = bias[ends]
            assert mle_bias[0] < -5 * se[0] and mle_bias[1] > 5 * se[-1]  # spread away from the centre
        else:
            assert np.all(np.abs(bias[ends]) < np.abs(mle_bias) / 3)
            assert np.all(np.abs(bias) < 3 * se)  # no bias left that 2,000 arenas can see


def test_firth_maximises_the_penalised_likelihood_in_one_batch() -> None:
    wins, totals = draw(4, 6, np.random.default_rng(1))
    batch = fit_firth(wins, totals, PI, PJ, K, prior=0.0)
    for row, theta in enumerate(batch):
        assert abs(theta.mean()) < 1e-12
        found = minimize(
            lambda t, r=row: -penalised(np.r_[t, -t.sum()], wins[r], totals[r]),
            np.zeros(K - 1),
            method="BFGS",
            options={"gtol": 1e-10},
        ).x
        np.testing.assert_allclose(np.r_[found, -found.sum()], theta, atol=1e-5)
        single = fit_firth(wins[row], totals[row], PI, PJ, K, prior=0.0)[0]
        np.testing.assert_allclose(single, theta, atol=1e-10)


def test_firth_keeps_separated_data_finite_and_ordered() -> None:
    totals = np.full(len(PI), 5.0)
    theta = fit_firth(totals, totals, PI, PJ, K, prior=0.0)[0]  # model i beat every j > i in every battle
    assert np.all(np.isfinite(theta)) and np.all(np.diff(theta) < 0)
    assert theta[0] - theta[-1] < 20.0  # finite: a few log-odds units a step, not the runaway of the plain fit
    runaway = fit_strengths(totals, totals, PI, PJ, K, prior=0.0)[0]
    assert runaway[0] - runaway[-1] > theta[0] - theta[-1]
