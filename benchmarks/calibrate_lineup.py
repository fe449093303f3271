"""How often can `arena calibrate --quick` recover its lineup's order? The voter model's odds, simulated outside
the arena (no pool, server or database: minutes, not hours).

For each pool draw, every lineup generator's clip of each quick-run prompt (both languages, 16 frames, the plan's
size) is drawn and looked at as a simulated voter does (adapters.shapes.inspect.judge, arena.simulation.voters.penalty).
Then the quick run's crowd (its voters, careless ones included, uniform pairs, the same `decide`) votes many times over
and Bradley-Terry (arena.ratings.bt) orders the generators. Printed per pool draw: each generator's mean penalty
and the share of simulated runs with Kendall tau >= 0.9 (one adjacent swap of six gives 0.87).

    python benchmarks/calibrate_lineup.py [--pools 3] [--runs 300] [--flicker F] [--shape-error P] [--votes N] [--full]

--flicker, --shape-error and --votes replace the lineup's flicker strength, wrong-object rate and the quick run's
votes per voter (to compare a lineup with another).
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np
import yaml
from scipy.stats import kendalltau

from adapters.demo import defects_for, draw_prompt
from adapters.shapes.defects import Defects
from adapters.shapes.inspect import judge
from arena.ratings.bt import fit_strengths
from arena.simulation.calibrate import LINEUP, Plan
from arena.simulation.voters import decide, penalty

LANGUAGES = ("en", "zh")


def lineup_defects(flicker: float | None, shape_error: float | None) -> list[Defects]:
    out = []
    for g in LINEUP:
        params = dict(g.params)
        if g.id == "demo-flicker" and flicker is not None:
            params["flicker"] = flicker
        if g.id == "demo-wrong-object" and shape_error is not None:
            params["shape_error"] = shape_error
        behaviour = params.pop("behaviour")
        out.append(defects_for(behaviour, **{k.removesuffix("_error"): v for k, v in params.items()}))
    return out


def pool_errors(
    defects: list[Defects], prompts: list[dict[str, str]], draw: int, size: int
) -> list[list[dict[str, float]]]:
    """errors[model][prompt * 2 + language] of one pool draw."""
    clip = {"num_frames": 16, "width": size, "height": size}
    return [
        [
            judge(draw_prompt(p[lang], d, seed=draw * 7919 + 31 * i + m, **clip).frames, p[lang])
            for i, p in enumerate(prompts)
            for lang in LANGUAGES
        ]
        for m, d in enumerate(defects)
    ]


def share_recovered(errors: list[list[dict[str, float]]], plan: Plan, votes: int, runs: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    n, clips = len(errors), len(errors[0])
    pairs = list(itertools.combinations(range(n), 2))
    index = {p: k for k, p in enumerate(pairs)}
    wins, totals = np.zeros((runs, len(pairs))), np.zeros((runs, len(pairs)))
    for r in range(runs):
        for voter in range(plan.crowd.voters):
            for _ in range(votes):
                a, b = sorted(rng.choice(n, 2, replace=False))
                c = int(rng.integers(clips))
                left_first = rng.random() < 0.5
                left, right = (a, b) if left_first else (b, a)
                choice, _ = decide(errors[left][c], errors[right][c], plan.crowd, plan.crowd.is_careless(voter), rng)
                k = index[(int(a), int(b))]
                won = {"tie": 0.5, "left": float(left == a), "right": float(right == a)}[choice]
                wins[r, k] += won
                totals[r, k] += 1
    i, j = (np.array(side) for side in zip(*pairs, strict=True))
    theta = fit_strengths(wins, totals, i, j, n)
    taus = [kendalltau(-np.arange(n), t).statistic for t in theta]
    return float(np.mean(np.array(taus) >= 0.9))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pools", type=int, default=3)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--flicker", type=float)
    parser.add_argument("--shape-error", type=float)
    parser.add_argument("--votes", type=int)
    parser.add_argument("--full", action="store_true", help="the full run's crowd and prompts")
    args = parser.parse_args()
    plan = Plan() if args.full else Plan().quick()
    votes = args.votes or plan.votes_per_voter
    suite = yaml.safe_load(plan.prompts_file.read_text(encoding="utf-8"))["prompts"][: plan.prompts]
    defects = lineup_defects(args.flicker, args.shape_error)
    print(f"lineup {[g.id for g in LINEUP]}; flicker and wrong object: {[d.active() for d in defects[1:3]]}")
    crowd = plan.crowd
    print(f"{'full' if args.full else 'quick'} run: {crowd.voters} voters ({crowd.careless} careless) x {votes} votes")
    for draw in range(args.pools):
        errors = pool_errors(defects, suite, draw, plan.size)
        means = [np.mean([penalty(e) for e in row]) for row in errors]
        share = share_recovered(errors, plan, votes, args.runs, seed=draw)
        print(f"pool draw {draw}: mean penalties {np.round(means, 2).tolist()}; P(tau >= 0.9) = {share:.3f}")


if __name__ == "__main__":
    main()
