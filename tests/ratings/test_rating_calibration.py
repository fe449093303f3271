"""Calibration by simulation against a known truth: the promises the verdicts and intervals print.

* Equal models, 10 rivals, verdicts per category × language looked at every 60 votes; two equal models looked at
  every 5 votes: false claims in at most 5 % of analyses.
* 95 % bootstrap intervals of the board (weighted rows, 1,000 rounds) cover the truth 93–97 % of the time; with
  prompt effects the prompt-cluster intervals cover the ratings of prompts in general.
* A real gap is found, and the anytime intervals cover the truth at least 95 % of the time.
* The votes-needed plan gives about the power it promises.
"""

from __future__ import annotations

import numpy as np

from arena.ratings import leaderboard
from arena.ratings.comparisons import DecisionRules, compare_family, versus_pairs
from arena.ratings.simulate import World
from arena.ratings.uncertainty import robust_fit
from arena.ratings.verdicts import Verdict

CLAIMS = (Verdict.BETTER, Verdict.WORSE)


def test_equal_models_looked_at_often_give_few_false_claims() -> None:
    world = World(np.full(11, 1000.0), tie_rate=0.2, prompt_sd=40.0)
    rules = DecisionRules(min_votes=5)
    analyses, votes, every = 40, 1200, 60
    false = 0
    for seed in range(analyses):
        rows = world.battles(votes, np.random.default_rng(seed))
        pairs = versus_pairs(rows, "m00")
        order = np.arange(votes)
        for look in range(every, votes + 1, every):
            fam = compare_family(rows.subset(order < look), pairs, by=("category", "language"), rules=rules)
            assert fam.size <= 10 * 7  # 10 rivals × (overall + 3 categories × 2 languages)
            if any(c.decision.verdict in CLAIMS for c in fam.comparisons):
                false += 1
                break
    assert false <= 0.05 * analyses, f"{false} of {analyses} analyses made a false claim"


def test_two_equal_models_looked_at_every_5_votes_give_few_false_claims() -> None:
    """The Bradley–Terry verdict itself (prompt effects, ties, the one-sided record of an early unbeaten run)
    looked at after every 5 votes up to 600: a claim in at most 5 % of analyses (before issue 9: 40 % at every
    5 votes to 1,000). Measured: 0 of these 40 analyses; 15 of 40 with the fixed-sample interval (anytime=False)."""
    world = World(np.full(2, 1000.0), tie_rate=0.2, prompt_sd=40.0)
    rules = DecisionRules(min_votes=5)
    analyses, votes = 40, 600
    false = 0
    for seed in range(analyses):
        rows = world.battles(votes, np.random.default_rng(50_000 + seed))
        order = np.arange(votes)
        for look in range(5, votes + 1, 5):
            sub = rows.subset(order < look)
            if (
                sub.n_models == 2
                and compare_family(sub, [("m00", "m01")], rules=rules).comparisons[0].decision.verdict in CLAIMS
            ):
                false += 1
                break
    assert false <= 0.05 * analyses, f"{false} of {analyses} analyses made a false claim"


def test_board_intervals_cover_the_truth_at_the_stated_rate() -> None:
    """Weighted rows (30 % of battles down-weighted to 0.25, as failed gold checks do): the bootstrap resamples
    battles and keeps their weights."""
    truth = np.array([900.0, 960.0, 1000.0, 1040.0, 1100.0])
    centred = truth - truth.mean() + 1000.0
    world = World(truth, tie_rate=0.1)
    hits = total = 0
    for seed in range(300):
        rng = np.random.default_rng(seed)
        rows = world.battles(600, rng)
        rows = rows.with_weights(np.where(rng.random(len(rows)) < 0.3, 0.25, 1.0))
        board = leaderboard(rows, seed=rng)  # the default 1,000 rounds
        for e in board.entries:
            t = centred[int(e.model[1:])]
            hits += e.ci_low <= t <= e.ci_high
            total += 1
    assert 0.93 <= hits / total <= 0.97, hits / total


def test_prompt_cluster_intervals_speak_for_prompts_in_general() -> None:
    """Prompt effects (sd 60 points, 30 prompts per arena), checked against the ratings of prompts in general
    (`World.target`): the board's prompt-cluster bootstrap and the verdicts' cluster-robust gap intervals cover at
    about the stated rate (measured 0.928 of 600 and 0.942 of 480); the battle bootstrap and the model-based
    standard error, which take the 30 prompts asked for all there are, under-cover (0.863 and 0.883)."""
    world = World(np.array([900.0, 960.0, 1000.0, 1040.0, 1100.0]), tie_rate=0.1, prompts=30, prompt_sd=60.0)
    target = world.target()
    hits = {"battle": 0, "cluster": 0, "robust": 0, "model": 0}
    for seed in range(120):
        rng = np.random.default_rng(80_000 + seed)
        rows = world.battles(1500, rng)
        for name, cluster in (("battle", None), ("cluster", "prompt_id")):
            board = leaderboard(rows, seed=rng, cluster=cluster)
            hits[name] += sum(e.ci_low <= target[int(e.model[1:])] <= e.ci_high for e in board.entries)
        fit = robust_fit(rows, cluster="prompt_id")
        for j in range(1, 5):
            gap, se, se_model = fit.gap(rows.index("m00"), rows.index(f"m0{j}"))
            miss = abs(gap - (target[0] - target[j]))
            hits["robust"] += miss <= 1.96 * max(se, se_model)  # the verdicts' standard error (model-based floor)
            hits["model"] += miss <= 1.96 * se_model
    battle, cluster, robust, model = (
        hits["battle"] / 600,
        hits["cluster"] / 600,
        hits["robust"] / 480,
        hits["model"] / 480,
    )
    assert cluster >= 0.91 and robust >= 0.92, (cluster, robust)
    assert battle <= cluster - 0.03 and model <= robust - 0.03, (battle, model)


def test_a_real_gap_is_found_and_anytime_intervals_cover() -> None:
    """The in-house model 100 points above one rival (the rest level with it), 3,000 votes: 'better' against that
    rival in most analyses, no false claim against the others, and every interval covers the true gap."""
    ratings = np.full(6, 1000.0)
    ratings[0], ratings[1] = 1050.0, 950.0  # m00 (in-house) − m01 = 100 points; m00 − others = 50
    world = World(ratings, tie_rate=0.2)
    found = wrong = covered = total = 0
    for seed in range(30):
        rows = world.battles(3000, np.random.default_rng(seed))
        fam = compare_family(rows, versus_pairs(rows, "m00"), rules=DecisionRules(min_votes=5))
        for c in fam.comparisons:
            gap = ratings[0] - ratings[int(c.b[1:])]
            low, high = c.decision.low, c.decision.high
            assert low is not None and high is not None
            covered += low <= gap <= high
            total += 1
            if c.b == "m01":
                found += c.decision.verdict is Verdict.BETTER
            wrong += c.decision.verdict is Verdict.WORSE
    assert found >= 0.8 * 30, found
    assert wrong == 0 and covered / total >= 0.95


def test_the_votes_needed_plan_reaches_its_power() -> None:
    """'About N more votes for 80 % power against a 50-point gap': with a true 50-point gap, an undecided pair at
    200 votes, and a fresh arena of 200 + N votes, the verdict is 'better' in about 80 % of cases (measured: 0.855
    of 173; the plan is slightly conservative). Never "0 votes needed" while undecided."""
    world = World(np.array([1050.0, 1000.0]), tie_rate=0.2, prompt_sd=20.0)
    rules = DecisionRules(min_votes=5)
    found = []
    for seed in range(200):
        rng = np.random.default_rng(70_000 + seed)
        now = compare_family(world.battles(200, rng), [("m00", "m01")], rules=rules).comparisons[0]
        if now.decision.verdict is not Verdict.UNDECIDED:
            continue
        assert now.votes_needed is not None and now.votes_needed > 0
        later = compare_family(world.battles(200 + now.votes_needed, rng), [("m00", "m01")], rules=rules)
        found.append(later.comparisons[0].decision.verdict is Verdict.BETTER)
    assert len(found) >= 150
    assert 0.75 <= np.mean(found) <= 0.92, np.mean(found)
