"""`arena calibrate`: can the arena recover an order we built in? A smoke run of the demo generators end to end.

1. A throwaway arena (its own database and media folder) with a lineup of demo generators whose defects are
   set so that their quality has a known order (:data:`LINEUP`, best first), the demo prompt suite, gold pairs.
2. The pool is generated and scored with the metrics (the configured encoder: the shapes-world CLIP).
3. A real server on 127.0.0.1 serves the JSON API; simulated voters (server-issued simulated sessions, some
   careless) vote through it, then a second crowd that prefers the left clip.
4. The report: (a) Kendall τ of the simulated board's order against the built-in one and whether the pairwise
   verdicts are right; (b) text alignment, flicker, motion amount and direction per generator; (c) position bias
   of each crowd; (d) which sessions the gold-pair checks flag.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import yaml

from arena.settings import ROOT, Settings
from arena.simulation.schema import (
    CalibrationJSON,
    CrowdVotes,
    GoldChecks,
    MetricSummary,
    PositionBias,
    RecoveredRow,
    VerdictTally,
)
from arena.simulation.voters import Population


@dataclass(frozen=True)
class Generator:
    id: str
    name: str
    params: dict[str, Any]


# Best first: each defect costs the simulated voters more than the one above it (arena.simulation.voters' penalty
# of what they see, mean over the quick run's 10 prompts in both languages, four pool draws of
# benchmarks/calibrate_lineup.py: 0.36-0.42, 0.64-0.71, 0.96-1.40, 1.61-1.75, 2.51-2.59, 3.63-3.82; the last adds
# stillness). Flicker 0.25 and a wrong object on 70 % of prompts (the defects are drawn per scene) space the middle
# three more evenly than flicker 0.5 and a wrong object every time did (penalties 1.0-1.1, 1.3-1.6, 1.6-1.75): with
# 60 votes a voter a quick run recovers the order (tau >= 0.9) in 0.80-0.99 of simulated runs, the former lineup
# with 40 votes in 0.75-0.95. The spread comes from the pool drawn (which wrong shape, on which prompts).
LINEUP: tuple[Generator, ...] = (
    Generator("demo-faithful", "Prism", {"behaviour": "faithful"}),
    Generator("demo-flicker", "Strobe", {"behaviour": "flicker", "flicker": 0.25}),
    Generator("demo-wrong-object", "Morph", {"behaviour": "wrong_object", "shape_error": 0.7}),
    Generator("demo-wrong-colour", "Hue", {"behaviour": "wrong_colour", "colour_error": 1.0}),
    Generator("demo-colourblind", "Umbra", {"behaviour": "ignores_subject"}),
    Generator("demo-frozen", "Still", {"behaviour": "ignores_subject", "frozen": 1.0}),  # and never moves
)
CROWD = Population(voters=12, careless=3, label="crowd")
LEFT_LEANING = Population(voters=4, careless=0, position_bias=0.4, label="left-leaning crowd")
QUICK_VOTES, QUICK_BIASED_VOTES = 150, 60  # a voter's votes in the quick run (benchmarks/calibrate_lineup.py)
GOLD_PAIRS = ("demo-faithful>demo-frozen", "demo-faithful>demo-colourblind")


@dataclass(frozen=True)
class Plan:
    lineup: tuple[Generator, ...] = LINEUP
    crowd: Population = CROWD
    votes_per_voter: int = 50
    biased: Population = LEFT_LEANING
    biased_votes_per_voter: int = 40
    gold_rate: float = 0.2
    prompts_file: Path = ROOT / "arena" / "suites" / "data" / "demo.yaml"
    prompts: int | None = None  # the first N prompts of the suite (None: all)
    encoder: str = "shapes-clip"
    seed: int = 0
    # Uniform: every pair gets votes. The adaptive matchmaker spends most votes on the closest pair (measured on
    # a quick run: 169 and 170 votes for the two weakest generators, 20-29 for the middle ones), which leaves the
    # middle of the order to chance; `--matchmaking adaptive` calibrates the arena's default instead.
    matchmaking: Literal["adaptive", "uniform"] = "uniform"
    size: int = 256  # clips are size x size

    def quick(self) -> Plan:
        """A smaller run (the test suite's): fewer voters and prompts, 128x128 clips (a vote costs a third of the
        CPU: serving two fresh copies and looking at them), more votes a voter."""
        return replace(
            self,
            crowd=Population(voters=10, careless=2, label="crowd"),
            votes_per_voter=QUICK_VOTES,
            biased=Population(voters=3, careless=0, position_bias=0.4, label="left-leaning crowd"),
            biased_votes_per_voter=QUICK_BIASED_VOTES,
            prompts=10,
            size=128,
        )


@dataclass
class Report:
    kendall_tau: float
    built_in_order: list[str]
    recovered_order: list[str]
    board: list[RecoveredRow]
    verdicts: VerdictTally
    metrics: MetricSummary
    position_bias: dict[str, PositionBias]
    gold: GoldChecks
    votes: dict[str, CrowdVotes]
    checks: dict[str, bool] = field(default_factory=dict)
    matchmaking: str = "uniform"

    @property
    def passed(self) -> bool:
        return all(self.checks.values())

    def to_json(self) -> CalibrationJSON:
        return CalibrationJSON(
            kendall_tau=self.kendall_tau,
            passed=self.passed,
            checks=self.checks,
            built_in_order=self.built_in_order,
            recovered_order=self.recovered_order,
            board=self.board,
            verdicts=self.verdicts,
            metrics=self.metrics,
            position_bias=self.position_bias,
            gold=self.gold,
            votes=self.votes,
            matchmaking=self.matchmaking,
        )


def _write_config(plan: Plan, folder: Path) -> Settings:
    models = [
        {"id": g.id, "display_name": f"{g.name} (demo)", "organisation": "Calibration", "licence": "MIT"}
        | {"kind": "demo", "params": g.params, "in_house": i == 0}
        for i, g in enumerate(plan.lineup)
    ]
    (folder / "models.yaml").write_text(yaml.safe_dump({"models": models}, sort_keys=False), encoding="utf-8")
    suite = yaml.safe_load(plan.prompts_file.read_text(encoding="utf-8"))
    if plan.prompts:
        suite["prompts"] = suite["prompts"][: plan.prompts]
    (folder / "prompts.yaml").write_text(yaml.safe_dump(suite, allow_unicode=True), encoding="utf-8")
    present = {g.id for g in plan.lineup}
    gold = [p for p in GOLD_PAIRS if set(p.split(">")) <= present]
    return Settings(
        database_url=f"sqlite:///{folder / 'arena.db'}",
        media_dir=folder / "media",
        models_file=folder / "models.yaml",
        prompts_file=folder / "prompts.yaml",
        secret=f"calibrate-{plan.seed}",  # a throwaway arena: the same pool seeds run after run
        min_votes=0,
        bootstrap_rounds=100,
        gold_pairs=gold,
        gold_rate=plan.gold_rate,
        metrics_encoder=plan.encoder,
        pool_prefill=False,
        score_on_start=False,
        matchmaking=plan.matchmaking,
        matchmaking_refresh_s=0.0,
        default_width=plan.size,
        default_height=plan.size,
    )


@contextmanager
def _workdir(path: Path | None) -> Iterator[Path]:
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    folder = Path(tempfile.mkdtemp(prefix="arena-calibrate-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def calibrate(
    plan: Plan = Plan(), workdir: Path | None = None, progress: Callable[[str], None] | None = None
) -> Report:
    """Run the whole calibration (see the module docstring); ``workdir`` keeps its files (default: a temp dir)."""
    from arena.services.container import Arena
    from arena.services.scoring import ScoringService
    from arena.simulation.client import cast_votes
    from arena.simulation.report import build_report
    from arena.simulation.serve import serve_api

    say = progress or (lambda _: None)
    with _workdir(workdir) as folder:
        arena = Arena.create(_write_config(plan, folder))
        try:
            say("generating the pool")
            arena.pool_videos.fill(models=[g.id for g in plan.lineup])
            say("scoring the pool")
            ScoringService.configured(arena.factory, arena.settings).score_all()
            results = {}
            with serve_api(arena) as base_url:
                for i, (crowd, votes) in enumerate(
                    ((plan.crowd, plan.votes_per_voter), (plan.biased, plan.biased_votes_per_voter))
                ):
                    say(f"{crowd.label}: {crowd.voters} voters x {votes} votes")
                    sessions = [arena.gate.signer.issue_simulated(crowd.label) for _ in range(crowd.voters)]
                    results[crowd.label] = cast_votes(base_url, sessions, crowd, votes, seed=plan.seed + i)
            say("reading the boards")
            return build_report(arena, plan, results)
        finally:
            arena.close()
