"""The calibration report: what the arena recovered from simulated votes, against what was built in."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from arena.simulation.schema import (
    CrowdVotes,
    GoldChecks,
    MetricSummary,
    PairVerdict,
    PositionBias,
    RecoveredRow,
    VerdictTally,
)

if TYPE_CHECKING:
    from arena.services.container import Arena
    from arena.services.vote_rows import VotedBattleRow
    from arena.simulation.calibrate import Plan, Report
    from arena.simulation.client import SimulationResult

MIN_TAU = 0.9
# motion_direction's guarantees by construction: a still clip scores about 0 (measured 0.012 for the frozen model's
# H.264 clips in a quick run), a faithful one well above it (0.965). Its rank among the others is not guaranteed: a
# model moving against its prompt scores below a frozen one.
STILL_DIRECTION = 0.05
FAITHFUL_DIRECTION = 0.5


def kendall_tau(built: list[str], recovered: list[str]) -> float:
    """Kendall's τ between two orders of the same models (1: the same order)."""
    from scipy.stats import kendalltau

    shared = [m for m in built if m in recovered]
    if len(shared) < 2:
        return float("nan")
    tau = kendalltau(range(len(shared)), [recovered.index(m) for m in shared]).statistic
    return float(tau)


def _verdicts(board: Any, built: list[str]) -> VerdictTally:
    """Every pair of generators on the board, decided as one Holm family at 5 %: right when the verdict says the
    generator built better is better, wrong when it says the reverse."""
    from arena.ratings.verdicts import Evidence, NormalEvidence, Verdict, decide_family

    pairs = [(a, b) for a, b in itertools.combinations(built, 2) if a in board.models and b in board.models]
    evidence: list[NormalEvidence | None] = []
    for a, b in pairs:
        diff = board.column(a) - board.column(b)
        estimate = board.entry(a).rating - board.entry(b).rating
        se = float(np.std(diff, ddof=1)) if len(diff) > 1 else 0.0
        evidence.append(NormalEvidence(estimate, se) if se > 0 else None)
    decisions = decide_family(cast(list[Evidence | None], evidence), alpha=0.05, method="holm")
    rows = []
    for (a, b), d in zip(pairs, decisions, strict=True):
        right = d.verdict == Verdict.BETTER
        wrong = d.verdict in (Verdict.WORSE, Verdict.EQUIVALENT)
        rows.append(PairVerdict(better=a, worse=b, verdict=d.verdict.value, right=right, wrong=wrong))
    return VerdictTally(
        pairs=rows,
        right=sum(r["right"] for r in rows),
        wrong=sum(r["wrong"] for r in rows),
        undecided=sum(not r["right"] and not r["wrong"] for r in rows),
        family="Holm, 5 %",
    )


def _metric_means(arena: Arena) -> dict[str, dict[str, float]]:
    """model id -> {metric: pooled value} over the pool (text alignment, flicker, motion amount and direction)."""
    names = {m: info["display_name"] for m, info in arena.leaderboard.models().items()}
    out: dict[str, dict[str, float]] = {}
    for row in arena.metric_board.summary(names=names):
        out.setdefault(row["model_id"], {})[row["metric"]] = float(row["mean"])
    return out


def _metric_checks(means: dict[str, dict[str, float]], lineup: list[str]) -> tuple[MetricSummary, dict[str, bool]]:
    def value(model: str, metric: str) -> float | None:
        return means.get(model, {}).get(metric)

    faithful = lineup[0]
    out = MetricSummary(per_model=means, lowest={})
    checks: dict[str, bool] = {}
    for rival in ("demo-wrong-colour", "demo-wrong-object"):
        a, b = value(faithful, "clipsim"), value(rival, "clipsim")
        if a is not None and b is not None:
            checks[f"text alignment: {faithful} above {rival}"] = a > b
    lasts = {"temporal_flicker": "demo-flicker", "motion_amount": "demo-frozen"}
    for metric, model in lasts.items():
        present = {m: value(m, metric) for m in lineup if value(m, metric) is not None}
        if model in present:
            lowest = min(present, key=lambda m: present[m])  # type: ignore[arg-type,return-value]
            out["lowest"][metric] = lowest
            checks[f"{metric}: {model} last"] = lowest == model
    still, moving = value("demo-frozen", "motion_direction"), value(faithful, "motion_direction")
    if still is not None:
        checks[f"motion_direction: demo-frozen near 0 (|mean| < {STILL_DIRECTION})"] = abs(still) < STILL_DIRECTION
    if moving is not None:
        checks[f"motion_direction: {faithful} above {FAITHFUL_DIRECTION}"] = moving > FAITHFUL_DIRECTION
    return out, checks


def _position_bias(votes: list[VotedBattleRow], sessions: set[str], injected: float) -> PositionBias:
    from arena.ratings import position_bias

    flags = [{"left_won": {"left": True, "right": False}.get(v["choice"])} for v in votes if v["session"] in sessions]
    p, low, high = position_bias(flags)
    detected = not low <= 0.5 <= high
    return PositionBias(p_left=round(p, 4), ci=[round(low, 4), round(high, 4)], detected=detected, injected=injected)


def build_report(arena: Arena, plan: Plan, results: dict[str, SimulationResult]) -> Report:
    from arena.simulation.calibrate import Report

    built = [g.id for g in plan.lineup]
    snapshot = arena.leaderboard.snapshot(max_age_s=0.0, simulated=True)  # the simulated board
    _, board = snapshot.fit(bootstrap_rounds=100)
    vote_rows = snapshot.rows()
    recovered = [e.model for e in board.entries]
    tau = kendall_tau(built, recovered)
    verdicts = _verdicts(board, built)
    metrics, checks = _metric_checks(_metric_means(arena), built)
    crowd, biased = results[plan.crowd.label], results[plan.biased.label]
    bias = {
        plan.crowd.label: _position_bias(vote_rows, set(crowd.sessions), plan.crowd.position_bias),
        plan.biased.label: _position_bias(vote_rows, set(biased.sessions), plan.biased.position_bias),
    }
    raters = snapshot.raters()
    flagged = {s for s, r in raters.items() if r.get("gold_failed")}
    careless = crowd.careless_sessions | biased.careless_sessions
    careful = set(crowd.sessions) - careless  # the left-leaning crowd skips looking on purpose: reported apart
    leaning = set(biased.sessions) - careless
    gold = GoldChecks(
        careless_flagged=len(careless & flagged),
        careless=len(careless),
        careful_flagged=len(careful & flagged),
        careful=len(careful),
        left_leaning_flagged=len(leaning & flagged),
        left_leaning=len(leaning),
        gold_votes_per_session={
            s: raters[s]["gold_votes"] if s in raters else 0 for s in sorted(careless | careful | leaning)
        },
    )
    checks |= {
        f"Kendall tau >= {MIN_TAU}": tau >= MIN_TAU,
        "no wrong verdict": verdicts["wrong"] == 0,
        "position bias detected when injected": bias[plan.biased.label]["detected"],
        "no position bias detected when absent": not bias[plan.crowd.label]["detected"],
        "gold checks flag the careless voters": gold["careless_flagged"] * 3 >= gold["careless"] * 2,
        "gold checks spare the careful voters": gold["careful_flagged"] == 0,
    }
    votes = {
        label: CrowdVotes(cast=r.votes, refused=dict(r.refused), seconds=round(r.seconds, 1))
        for label, r in results.items()
    }
    rows = [
        RecoveredRow(
            model=e.model,
            rating=round(e.rating, 1),
            ci=[round(e.ci_low, 1), round(e.ci_high, 1)],
            votes=int(e.votes),
            built_rank=built.index(e.model) + 1 if e.model in built else None,
        )
        for e in board.entries
    ]
    return Report(tau, built, recovered, rows, verdicts, metrics, bias, gold, votes, checks, plan.matchmaking)


def render(report: Report) -> str:
    """The recovery table and the checks, as text."""
    lines = [
        f"Kendall tau (recovered vs built-in order): {report.kendall_tau:.3f}  ({report.matchmaking} matchmaking)",
        "",
    ]
    lines.append(f"{'rank':>4}  {'model':<20} {'built':>5}  {'rating':>7}  {'95 % CI':>15}  {'votes':>5}")
    for i, row in enumerate(report.board, 1):
        ci = f"[{row['ci'][0]:.0f}, {row['ci'][1]:.0f}]"
        lines.append(
            f"{i:>4}  {row['model']:<20} {row['built_rank']!s:>5}  {row['rating']:>7.1f}  {ci:>15}  {row['votes']:>5}"
        )
    v = report.verdicts
    lines += ["", f"verdicts ({v['family']}): {v['right']} right, {v['wrong']} wrong, {v['undecided']} undecided"]
    for label, b in report.position_bias.items():
        lines.append(f"position bias, {label} (injected {b['injected']}): P(left) {b['p_left']:.3f} CI {b['ci']}")
    g = report.gold
    lines.append(
        f"gold checks: {g['careless_flagged']}/{g['careless']} careless voters flagged, "
        f"{g['careful_flagged']}/{g['careful']} careful voters flagged, "
        f"{g['left_leaning_flagged']}/{g['left_leaning']} left-leaning voters flagged"
    )
    for name, ok in report.checks.items():
        lines.append(f"  [{'ok' if ok else 'FAIL'}] {name}")
    return "\n".join(lines)
