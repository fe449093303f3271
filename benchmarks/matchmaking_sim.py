"""Does adaptive matchmaking save votes without biasing the ratings? Uniform pairs against the adaptive sampler
(arena.ratings.matchmaking, its defaults), whose battles are fitted four ways: unweighted, weighted by their
design weights (inverse probability), the same weighted with Firth's bias-reduced likelihood
(arena.ratings.bt.fit_firth), and calibrated (the unweighted fit mapped by the increasing cubic that best fits
the weighted battles: what the board does, arena.ratings.uncertainty). Uniform pairs are fitted as the board fits
them (FastChat's maximum likelihood) and, for reference, with Firth's fit. Measured, not adopted: the weighted
Firth fit restricted to the unweighted fit's order (the order keeps the savings, the values the uniform design's
scale), computed after the last vote only (its votes to τ are the unweighted fit's; its coverage uses the weighted
Firth fit's sandwich). The board's estimator: the calibrated estimate less its bootstrap bias (200 rounds
resampling battles with their weights, after the last vote), computed by the board's own code
(arena.ratings.uncertainty.fit_with_bootstrap with corrected=True; coverage of ± 1.96 × its interval_se).

20 models of known strength in three profiles: evenly spaced over 600 points, a crowded top (six models within
50 points above a spread), one dominant model (650 points over a spread of 500). Simulated voters: Bradley–Terry
outcomes with ties (τ = 0.3 · 2 min(p, 1 − p)) and 10 % random voters. Shared outcomes: the n-th battle of a pair
has the same outcome under every policy (one random stream per seed and pair), so differences come from the
pairing alone. Every `--refresh` votes the ratings are refitted (the snapshot the service caches) and each policy
picks the next battles from it.

Reported per profile and policy, over seeds: votes until Kendall τ against the truth stays ≥ 0.9 (median, and the
ratio to uniform); the slope of fitted on true ratings; the bias of the top and bottom models against the target;
and the coverage of 95 % sandwich intervals. The target is what the uniform design estimates: the BT fit to every
pair's expected score with equal pair weights (the random voters compress the scale; asking mostly close pairs
changes how much, which is why unweighted adaptive ratings drift even with no adaptive bias at all).
The matchmaker picks from the unweighted fit (its state), whichever estimator is reported. Its default is
`balanced` (adaptive picks model-first: a model drawn ∝ its vote deficit, then its opponent ∝ gain, so end models
get about as many battles as the rest); `--unbalanced` measures pair-first picks (balanced=False).
Seeds and profiles run in `--jobs` worker processes.

    python benchmarks/matchmaking_sim.py [--seeds 60] [--max-votes 3000] [--refresh 20] [--unbalanced] [--jobs 2]
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

import numpy as np

from arena.ratings.battles import MODEL_A, MODEL_B, BattleRows
from arena.ratings.battles import TIE as TIE_CODE
from arena.ratings.bt import DEFAULT_PRIOR, INIT_RATING, NAT, calibrate, fit_firth, fit_strengths
from arena.ratings.matchmaking import Matchmaker, MatchState
from arena.ratings.uncertainty import fit_with_bootstrap, interval_se

N_MODELS, TIE, NOISE = 20, 0.3, 0.1
ESTIMATORS = ("unweighted", "weighted", "weighted Firth", "calibrated")
UNIFORM = ("unweighted", "Firth")


def profiles() -> dict[str, np.ndarray]:
    even = np.linspace(-300.0, 300.0, N_MODELS)
    crowded = np.concatenate([300.0 - 10.0 * np.arange(6), np.linspace(-300.0, 200.0, N_MODELS - 6)])
    dominant = np.concatenate([[650.0], np.linspace(-250.0, 250.0, N_MODELS - 1)])
    return {"evenly spaced": even, "crowded top": crowded, "one dominant": dominant}


def kendall_tau(x: np.ndarray, y: np.ndarray) -> float:
    sx, sy = np.sign(x[:, None] - x[None, :]), np.sign(y[:, None] - y[None, :])
    iu = np.triu_indices(len(x), 1)
    return float((sx[iu] * sy[iu]).sum() / len(iu[0]))


def expected_score(truth: np.ndarray, noise: float) -> np.ndarray:
    p = 1.0 / (1.0 + 10.0 ** ((truth[None, :] - truth[:, None]) / 400.0))
    return noise * 0.5 + (1.0 - noise) * p  # ties keep the mean at p


def target(truth: np.ndarray, noise: float) -> np.ndarray:
    """Ratings the uniform design converges to (centred): the BT fit to the expected scores, pairs weighted equally."""
    pi, pj = np.triu_indices(len(truth), 1)
    theta = fit_strengths(expected_score(truth, noise)[pi, pj], np.ones(len(pi)), pi, pj, len(truth), prior=0.0)[0]
    return theta / NAT


class Outcomes:
    """The c-th battle of pair (i, j), i < j, has the same outcome in every run with this seed."""

    def __init__(self, truth: np.ndarray, seed: int, noise: float) -> None:
        self.truth, self.seed, self.noise = truth, seed, noise
        self.streams: dict[tuple[int, int], np.random.Generator] = {}

    def score(self, i: int, j: int) -> float:
        """Score of i (i < j): 1, 0 or 0.5."""
        rng = self.streams.setdefault((i, j), np.random.default_rng([self.seed, i, j]))
        noisy, pick, tie, win = rng.random(4)
        if noisy < self.noise:
            return (1.0, 0.0, 0.5)[int(pick * 3)]
        p = 1.0 / (1.0 + 10.0 ** ((self.truth[j] - self.truth[i]) / 400.0))
        tau = TIE * 2.0 * min(p, 1.0 - p)
        if tie < tau:
            return 0.5
        return 1.0 if win < (p - tau / 2.0) / (1.0 - tau) else 0.0


class Tables:
    """Weighted pair sums for the fit and its sandwich covariance (i < j)."""

    def __init__(self, k: int) -> None:
        self.w, self.ws, self.w2, self.w2s, self.w2s2 = (np.zeros((k, k)) for _ in range(5))

    def add(self, i: int, j: int, s: float, w: float) -> None:
        self.w[i, j] += w
        self.ws[i, j] += w * s
        self.w2[i, j] += w * w
        self.w2s[i, j] += w * w * s
        self.w2s2[i, j] += w * w * s * s

    def calibrate(self, theta: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """θ mapped by the engine's calibration to these (weighted) battles, and the covariance mapped with it."""
        k = len(theta)
        pi, pj = np.triu_indices(k, 1)
        mapped, slope = calibrate(theta, self.ws[pi, pj], self.w[pi, pj], pi, pj, DEFAULT_PRIOR)
        jac = (np.eye(k) - 1.0 / k) @ np.diag(slope[0])
        return mapped[0], jac @ cov @ jac.T

    def ordered(self, order_by: np.ndarray, start: np.ndarray) -> np.ndarray:
        """Firth's fit to these battles restricted to the order of `order_by` (θ ascending along it: a base and
        non-negative steps, L-BFGS-B), started from the unrestricted `start`; centred."""
        from scipy.optimize import minimize

        k = len(order_by)
        pi, pj = np.triu_indices(k, 1)
        wins, tot, rank = self.ws[pi, pj], self.w[pi, pj], np.argsort(order_by)

        def theta_of(x: np.ndarray) -> np.ndarray:
            theta = np.zeros(k)
            theta[rank] = x[0] + np.r_[0.0, np.cumsum(x[1:])]
            return theta

        def loss(x: np.ndarray) -> tuple[float, np.ndarray]:
            theta = theta_of(x)
            d = theta[pi] - theta[pj]
            p = 0.5 * (1.0 + np.tanh(0.5 * d))
            c = tot * p * (1.0 - p)
            info = np.zeros((k, k))
            info[pi, pj] = info[pj, pi] = -c
            info[np.arange(k), np.arange(k)] = -info.sum(axis=1)
            inv = np.linalg.inv(info + 1.0 / k)
            value = (wins * d - tot * np.logaddexp(0.0, d)).sum() - 0.5 * DEFAULT_PRIOR * (theta**2).sum()
            value += 0.5 * np.linalg.slogdet(info + 1.0 / k)[1]
            r = wins - tot * p + c * (inv[pi, pi] + inv[pj, pj] - 2.0 * inv[pi, pj]) * (0.5 - p)
            grad = (np.bincount(pi, r, k) - np.bincount(pj, r, k) - DEFAULT_PRIOR * theta)[rank]
            tail = np.cumsum(grad[::-1])[::-1]  # a step raises every model above it
            return -float(value), -np.r_[grad.sum(), tail[1:]]

        x0 = np.r_[start[rank][0], np.maximum(np.diff(start[rank]), 0.0)]
        bounds = [(None, None)] + [(0.0, None)] * (k - 1)
        theta = theta_of(minimize(loss, x0, jac=True, method="L-BFGS-B", bounds=bounds).x)
        return theta - theta.mean()

    def fit(self, theta0: np.ndarray, firth: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """θ (Firth's fit or the MAP), the Fisher sd (matchmaking) and the sandwich covariance (natural, centred)."""
        k = len(theta0)
        pi, pj = np.triu_indices(k, 1)
        theta = (fit_firth if firth else fit_strengths)(
            self.ws[pi, pj], self.w[pi, pj], pi, pj, k, prior=DEFAULT_PRIOR, theta0=theta0
        )[0]
        p = 1.0 / (1.0 + np.exp(-(theta[pi] - theta[pj])))

        def laplacian(c: np.ndarray) -> np.ndarray:
            m = np.zeros((k, k))
            m[pi, pj] = m[pj, pi] = -c
            m[np.arange(k), np.arange(k)] = -m.sum(axis=1)
            return m

        h = laplacian(self.w[pi, pj] * p * (1 - p)) + DEFAULT_PRIOR * np.eye(k)
        meat = laplacian(self.w2s2[pi, pj] - 2 * p * self.w2s[pi, pj] + p * p * self.w2[pi, pj])
        proj = np.eye(k) - 1.0 / k
        h_inv = np.linalg.inv(h)
        fisher = proj @ h_inv @ proj
        return theta, np.sqrt(np.clip(np.diag(fisher), 0, None)), proj @ h_inv @ meat @ h_inv @ proj


def _report(theta: np.ndarray, cov: np.ndarray, truth: np.ndarray, noise: float) -> dict[str, float]:
    fitted, goal = theta / NAT, target(truth, noise)
    se = np.sqrt(np.clip(np.diag(cov), 0, None)) / NAT
    top, bottom = int(np.argmax(truth)), int(np.argmin(truth))
    return {
        "slope": float(np.polyfit(truth - truth.mean(), fitted, 1)[0]),
        "top": float(fitted[top] - goal[top]),
        "bottom": float(fitted[bottom] - goal[bottom]),
        "covered": float(np.mean(np.abs(fitted - goal) <= 1.96 * se)),
    }


def run(
    truth: np.ndarray, policy: str, seed: int, max_votes: int, refresh: int, noise: float, design: dict[str, float]
) -> dict[str, dict[str, float]]:
    """One simulated arena; for the adaptive policy every estimator is computed from the same battles."""
    rng = np.random.default_rng([seed, 99])
    outcomes = Outcomes(truth, seed, noise)
    k = len(truth)
    models = tuple(f"m{i:02d}" for i in range(k))
    pool = {(models[i], models[j]): ["p"] for i in range(k) for j in range(i + 1, k)}
    index = {m: i for i, m in enumerate(models)}
    picker = Matchmaker(policy="uniform" if policy == "uniform" else "adaptive")
    picker = replace(
        picker,
        exploration=design.get("exploration", picker.exploration),
        sharpness=design.get("sharpness", picker.sharpness),
        balanced=bool(design.get("balanced", picker.balanced)),
    )
    plain, weighted = Tables(k), Tables(k)
    log: list[tuple[int, int, float, float]] = []  # every battle: i, j, score of i, design weight
    votes = np.zeros(k, dtype=np.int64)
    thetas = {name: np.zeros(k) for name in ESTIMATORS + UNIFORM}
    sd = np.full(k, 1.0 / np.sqrt(DEFAULT_PRIOR))
    last_bad = dict.fromkeys(ESTIMATORS + UNIFORM, 0)
    covs: dict[str, np.ndarray] = {}
    for done in range(0, max_votes, refresh):
        state = MatchState(models, INIT_RATING + thetas["unweighted"] / NAT, sd / NAT, votes.copy(), pool)
        for _, ma, mb, w in picker.choose_many(state, rng, refresh):
            a, b = index[ma], index[mb]
            i, j = min(a, b), max(a, b)
            s = outcomes.score(i, j)
            plain.add(i, j, s, 1.0)
            log.append((i, j, s, w))
            weighted.add(i, j, s, w)
            votes[a] += 1
            votes[b] += 1
        names = UNIFORM if policy == "uniform" else ESTIMATORS
        for name in names:
            if name == "calibrated":  # the unweighted fit, mapped to fit the weighted (uniform-design) battles
                thetas[name], covs[name] = weighted.calibrate(thetas["unweighted"], covs["unweighted"])
            else:
                tables = plain if name in ("unweighted", "Firth") else weighted
                thetas[name], sd_, covs[name] = tables.fit(thetas[name], firth="Firth" in name)
                sd = sd_ if name == "unweighted" else sd
            if kendall_tau(thetas[name], truth) < 0.9:
                last_bad[name] = done + refresh
    if policy != "uniform":  # at the end only; its order is the unweighted fit's (ties broken by it)
        names = (*names, "order-restricted Firth")
        thetas[names[-1]] = weighted.ordered(thetas["unweighted"], thetas["weighted Firth"])
        covs[names[-1]], last_bad[names[-1]] = covs["weighted Firth"], last_bad["unweighted"]
        names = (*names, "calibrated, bootstrap-corrected")
        thetas[names[-1]], covs[names[-1]] = bias_corrected(np.array(log), seed)
        last_bad[names[-1]] = last_bad["unweighted"]
    out = {}
    for name in names:
        settled = last_bad[name] + refresh if last_bad[name] < max_votes else max_votes + 1
        out[name] = {"settled": float(settled), **_report(thetas[name], covs[name], truth, noise)}
    return out


def bias_corrected(log: np.ndarray, seed: int, rounds: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """The board's estimate of these battles (arena.ratings.uncertainty: the calibrated fit less its bootstrap bias,
    `rounds` rounds resampling battles with their weights) and the covariance of its intervals, natural units."""
    k = N_MODELS
    rows = BattleRows(
        tuple(f"m{i:02d}" for i in range(k)),
        log[:, 0].astype(np.int64),
        log[:, 1].astype(np.int64),
        np.select([log[:, 2] == 1.0, log[:, 2] == 0.0], [MODEL_A, MODEL_B], TIE_CODE),
        log[:, 3].copy(),
        {"design_weight": log[:, 3].copy()},
    )
    point = fit_with_bootstrap(rows, rounds, np.random.default_rng([seed, 7]), corrected=True)[0]
    se = interval_se(rows)
    return (point - point.mean()) * NAT, np.diag((se * NAT) ** 2)


def _mean_se(x: np.ndarray) -> str:
    return f"{x.mean():+.1f}±{x.std(ddof=1) / np.sqrt(len(x)):.1f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=60)
    ap.add_argument("--max-votes", type=int, default=3000)
    ap.add_argument("--refresh", type=int, default=20, help="votes between refits of the snapshot")
    ap.add_argument("--noise", type=float, default=NOISE, help="share of random voters")
    ap.add_argument("--exploration", type=float, default=None, help="the matchmaker's uniform share")
    ap.add_argument("--sharpness", type=float, default=None, help="adaptive pairs are drawn ∝ gain ** sharpness")
    ap.add_argument("--profiles", nargs="*", default=None, help="only these truth profiles")
    ap.add_argument("--unbalanced", action="store_true", help="adaptive picks pair-first (balanced=False)")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes")
    args = ap.parse_args()
    t0 = time.perf_counter()
    print(
        f"{N_MODELS} models; ties τ = {TIE}·2min(p,1−p); {args.noise:.0%} random voters; {args.seeds} seeds "
        f"with shared outcomes; {args.max_votes} votes, refit every {args.refresh}"
    )
    design = {k: v for k, v in (("exploration", args.exploration), ("sharpness", args.sharpness)) if v is not None}
    if args.unbalanced:
        design["balanced"] = 0.0
    chosen = {n: t for n, t in profiles().items() if not args.profiles or n.split()[0] in args.profiles}
    tasks = [(n, p, s) for n in chosen for p in ("uniform", "adaptive") for s in range(args.seeds)]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        done = pool.map(
            run,
            [chosen[n] for n, _, _ in tasks],
            [p for _, p, _ in tasks],
            [s for _, _, s in tasks],
            *([v] * len(tasks) for v in (args.max_votes, args.refresh, args.noise, design)),
            chunksize=4,
        )
        runs = dict(zip(tasks, done, strict=True))
    for name in chosen:
        print(f"\n{name}")
        print(
            f"  {'policy':42s} {'votes to τ≥0.9':>15s} {'÷ uniform':>9s} {'slope':>6s} {'top bias':>9s} "
            f"{'bottom bias':>11s} {'coverage':>8s}"
        )
        seeds = range(args.seeds)
        results = {"uniform": [runs[name, "uniform", s]["unweighted"] for s in seeds]}
        results["uniform, Firth"] = [runs[name, "uniform", s]["Firth"] for s in seeds]
        for est in (*ESTIMATORS, "order-restricted Firth", "calibrated, bootstrap-corrected"):
            results[f"adaptive, {est}"] = [runs[name, "adaptive", s][est] for s in seeds]
        base = np.median([r["settled"] for r in results["uniform"]])
        for policy, res in results.items():
            col = {key: np.array([r[key] for r in res]) for key in res[0]}
            med = np.median(col["settled"])
            never = int((col["settled"] > args.max_votes).sum())
            print(
                f"  {policy:42s} {med:>9.0f}{f' ({never}>)' if never else '':>6s} {med / base:>9.2f} "
                f"{col['slope'].mean():>6.3f} {_mean_se(col['top']):>9s} {_mean_se(col['bottom']):>11s} "
                f"{col['covered'].mean():>8.3f}"
            )
    print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
