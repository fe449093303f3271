"""Do the verdicts keep their word? The old rules beside the new ones, by simulation against a known truth.

Old rules (main before issue 9): "settled" when P(better) from a 100-round bootstrap (rows drawn in proportion to
their weights) is ≥ 0.95 in either direction, for each comparison on its own, whenever one looks. New rules
(arena.ratings.comparisons): anytime-valid intervals, Holm over everything the page shows, gate and guards.

Printed, each as a share of simulated analyses (with its binomial standard error):
1. false claims, equal models, 10 rivals, one look after 1,500 votes: the rivals alone, and rivals × (overall,
   3 categories × 2 languages);
2. false claims, two equal models looked at every 5 votes up to 1,000;
3. power: the in-house model 60 points above one of 10 otherwise equal rivals, 3,000 votes, looked at every
   100 votes: the share that declares it better, and the median votes when first declared;
4. coverage of the board's 95 % intervals: weighted rows (30 % down-weighted to 0.25), old bootstrap vs new; and
   with prompt effects (sd 60 points, 30 prompts), battle bootstrap vs prompt-cluster bootstrap, against the
   ratings of prompts in general (`World.target`).

    python benchmarks/decision_errors.py [--analyses 200]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from arena.ratings.battles import BattleRows
from arena.ratings.board import Leaderboard, leaderboard
from arena.ratings.bt import fit_strengths, pair_totals, to_ratings, unique_rows
from arena.ratings.comparisons import DecisionRules, compare_family, versus_pairs
from arena.ratings.simulate import World
from arena.ratings.verdicts import Verdict

CLAIMS = (Verdict.BETTER, Verdict.WORSE)


def old_bootstrap(rows: BattleRows, rounds: int, rng: np.random.Generator) -> np.ndarray:
    """The former bootstrap: rows drawn in proportion to their weights, totals rescaled; (rounds, models)."""
    u = unique_rows(rows)
    point = fit_strengths(*pair_totals(u, u.weight), u.pair_i, u.pair_j, rows.n_models)[0]
    n, total = int(u.count.sum()), u.weight.sum()
    draws = rng.multinomial(n, u.weight / total, size=rounds) * (total / n)
    theta = fit_strengths(*pair_totals(u, draws), u.pair_i, u.pair_j, rows.n_models, theta0=point, tol=1e-6)
    return to_ratings(theta, rows.models)


def old_claims(rows: BattleRows, in_house: str, rng: np.random.Generator) -> dict[str, bool]:
    """Per rival: 'settled' under the old rule (P(better) ≥ 0.95 either way, 100 rounds)."""
    if in_house not in rows.models:
        return {}
    samples = old_bootstrap(rows, 100, rng)
    me = samples[:, rows.index(in_house)]
    out = {}
    for m in rows.models:
        if m != in_house:
            p = float(np.mean(me > samples[:, rows.index(m)]))
            out[m] = max(p, 1 - p) >= 0.95
    return out


def old_cells(rows: BattleRows, in_house: str, rng: np.random.Generator) -> bool:
    """Any old-rule claim over the overall cell and every category × language cell."""
    cells = [np.ones(len(rows), bool)]
    cat, lang = rows.extra["category"], rows.extra["language"]
    for c in sorted(set(cat.tolist())):
        for g in sorted(set(lang.tolist())):
            cells.append((cat == c) & (lang == g))
    return any(any(old_claims(rows.subset(m), in_house, rng).values()) for m in cells)


def share(x: list[bool] | np.ndarray) -> str:
    v = np.asarray(x, dtype=float)
    return f"{v.mean():6.3f} ± {np.sqrt(v.mean() * (1 - v.mean()) / len(v)):.3f}"


def false_claims_one_look(analyses: int) -> None:
    world = World(np.full(11, 1000.0), tie_rate=0.2)
    rules = DecisionRules(min_votes=5)
    old_r, old_c, new_r, new_c = [], [], [], []
    for seed in range(analyses):
        rng = np.random.default_rng(seed)
        rows = world.battles(1500, rng)
        old_r.append(any(old_claims(rows, "m00", rng).values()))
        old_c.append(old_cells(rows, "m00", rng))
        pairs = versus_pairs(rows, "m00")
        new_r.append(any(c.decision.verdict in CLAIMS for c in compare_family(rows, pairs, rules=rules).comparisons))
        fam = compare_family(rows, pairs, by=("category", "language"), rules=rules)
        new_c.append(any(c.decision.verdict in CLAIMS for c in fam.comparisons))
    print("1. false claims, equal models, 10 rivals, one look at 1,500 votes")
    print(f"   rivals only              old {share(old_r)}   new {share(new_r)}")
    print(f"   rivals × 7 views         old {share(old_c)}   new {share(new_c)}")


def false_claims_looking(analyses: int) -> None:
    world = World(np.full(2, 1000.0), tie_rate=0.2)
    rules = DecisionRules(min_votes=5)
    old, new = [], []
    for seed in range(analyses):
        rng = np.random.default_rng(10_000 + seed)
        rows = world.battles(1000, rng)
        order = np.arange(len(rows))
        o = n = False
        for look in range(5, 1001, 5):
            sub = rows.subset(order < look)
            if sub.n_models < 2:
                continue
            o = o or any(old_claims(sub, "m00", rng).values())
            fam = compare_family(sub, [("m00", "m01")], rules=rules)
            n = n or fam.comparisons[0].decision.verdict in CLAIMS
            if o and n:
                break
        old.append(o)
        new.append(n)
    print("2. false claims, two equal models, a look every 5 votes up to 1,000")
    print(f"   any look                 old {share(old)}   new {share(new)}")


def power(analyses: int) -> None:
    ratings = np.full(11, 1000.0)
    ratings[0] = 1060.0  # the in-house model
    ratings[1:] = 1000.0
    world = World(ratings, tie_rate=0.2)
    rules = DecisionRules(min_votes=5)
    found_old, found_new, when_old, when_new, wrong = [], [], [], [], 0
    for seed in range(analyses):
        rng = np.random.default_rng(20_000 + seed)
        rows = world.battles(3000, rng)
        order = np.arange(len(rows))
        first_old = first_new = None
        for look in range(100, 3001, 100):
            sub = rows.subset(order < look)
            if first_old is None and old_claims(sub, "m00", rng).get("m01"):
                first_old = look
            fam = compare_family(sub, [("m00", "m01")], rules=rules)
            verdict = fam.comparisons[0].decision.verdict
            wrong += verdict is Verdict.WORSE
            if first_new is None and verdict is Verdict.BETTER:
                first_new = look
        found_old.append(first_old is not None)
        found_new.append(first_new is not None)
        when_old += [first_old] if first_old else []
        when_new += [first_new] if first_new else []
    print("3. power: in-house 60 points above a rival (10 rivals), 3,000 votes, a look every 100")
    print(f"   declared better          old {share(found_old)}   new {share(found_new)}  (new 'worse': {wrong})")
    med = (f"{np.median(w):.0f}" if w else "–" for w in (when_old, when_new))
    print(f"   median votes to declare  old {next(med):>6s}           new {next(med):>6s}")


def coverage(analyses: int) -> None:
    truth = np.array([900.0, 960.0, 1000.0, 1040.0, 1100.0])
    centred = truth - truth.mean() + 1000.0

    def covered(board: Leaderboard, target: np.ndarray = centred) -> list[bool]:
        t = target[[int(m[1:]) for m in board.models]]
        return [e.ci_low <= x <= e.ci_high for e, x in zip(board.entries, t, strict=True)]

    old: list[bool] = []
    new: list[bool] = []
    battle: list[bool] = []
    cluster: list[bool] = []
    weighted = World(truth, tie_rate=0.1)
    clustered = World(truth, tie_rate=0.1, prompts=30, prompt_sd=60.0)
    general = clustered.target()  # prompts in general: the effects compress the scale a little
    for seed in range(analyses):
        rng = np.random.default_rng(30_000 + seed)
        rows = weighted.battles(600, rng)
        rows = rows.with_weights(np.where(rng.random(len(rows)) < 0.3, 0.25, 1.0))
        low, high = np.quantile(old_bootstrap(rows, 100, rng), [0.025, 0.975], axis=0)
        t = centred[[int(m[1:]) for m in rows.models]]
        old += list((low <= t) & (t <= high))
        new += covered(leaderboard(rows, seed=rng))
        rows = clustered.battles(1500, rng)
        battle += covered(leaderboard(rows, seed=rng), general)
        cluster += covered(leaderboard(rows, seed=rng, cluster="prompt_id"), general)
    print("4. coverage of the board's 95 % intervals (5 models)")
    print(f"   weighted rows            old {share(old)}   new {share(new)}")
    print(f"   prompt effects           battle bootstrap {share(battle)}   prompt-cluster bootstrap {share(cluster)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--analyses", type=int, default=200)
    args = ap.parse_args()
    t0 = time.perf_counter()
    false_claims_one_look(args.analyses)
    false_claims_looking(max(args.analyses // 2, 1))
    power(max(args.analyses // 2, 1))
    coverage(args.analyses)
    print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
