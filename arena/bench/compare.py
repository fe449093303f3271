"""Two runs of one suite compared pair by pair: for each model pair (A's model -> B's model), metric and category
(and all prompts together), the mean paired difference B − A over prompts with its interval and a verdict.

Pairs are matched on (prompt, language, seed); each prompt's differences are averaged first, so prompts are the
unit (a t interval over prompts). Every verdict on the page belongs to one family: Holm (or Benjamini–Hochberg)
over all model pairs × metrics × categories, through the decision layer of `arena.ratings.verdicts`, so the chance
of any false "better"/"worse" on the page stays at alpha. The interval shown is the one at the level each
comparison was tested at, so it agrees with its verdict.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from adapters.errors import ConfigError
from arena.bench.results import ALL, RunData, RunVideo
from arena.bench.schema import CellJSON, ComparisonJSON, PublicComparisonJSON, WorstPromptJSON
from arena.ratings.verdicts import Decision, Evidence, Method, Verdict, decide_family

WORST_PROMPTS = 5


@dataclass(frozen=True)
class PairedT:
    """A mean of per-prompt differences: t intervals with n − 1 degrees of freedom (the `Evidence` protocol)."""

    estimate: float
    se: float
    df: int

    def interval(self, a: float) -> tuple[float, float]:
        from scipy import stats

        half = self.se * float(stats.t.ppf(1 - a / 2, self.df))
        return self.estimate - half, self.estimate + half

    def claim_p(self, margin: float) -> float:
        from scipy import stats

        direction = float(2 * stats.t.sf(abs(self.estimate) / self.se, self.df))
        if margin <= 0:
            return min(1.0, direction)
        inside = float(2 * stats.t.sf((margin - abs(self.estimate)) / self.se, self.df))
        return min(1.0, direction, inside)


@dataclass(frozen=True)
class Cell:
    model_a: str
    model_b: str
    metric: str
    category: str
    prompts: int
    verdict: str  # better | worse | higher | lower | no difference shown | identical | insufficient data
    decision: Decision

    def to_json(self) -> CellJSON:
        return CellJSON(
            model_a=self.model_a,
            model_b=self.model_b,
            metric=self.metric,
            category=self.category,
            prompts=self.prompts,
            verdict=self.verdict,
            **self.decision.to_json(),
        )


@dataclass(frozen=True)
class WorstPrompt:
    model_a: str
    model_b: str
    key: str
    category: str
    text: str
    score: float  # mean standardised change over metrics with a direction (negative: worse)
    diffs: dict[str, float]
    video_a: RunVideo
    video_b: RunVideo

    def to_json(self) -> WorstPromptJSON:
        return WorstPromptJSON(
            model_a=self.model_a,
            model_b=self.model_b,
            key=self.key,
            category=self.category,
            text=self.text,
            score=round(self.score, 4),
            diffs={m: round(d, 6) for m, d in self.diffs.items()},
            video_a=self.video_a.id,
            video_b=self.video_b.id,
        )


@dataclass(frozen=True)
class Comparison:
    run_a: str
    run_b: str
    pairs: list[tuple[str, str]]
    alpha: float
    method: str
    units: int  # matched (prompt, language, seed) units
    cells: list[Cell]
    worst: list[WorstPrompt]

    def claims(self) -> list[Cell]:
        return [c for c in self.cells if c.verdict in ("better", "worse", "higher", "lower")]

    def public(self) -> PublicComparisonJSON:
        """The comparison without its per-prompt rows (those stay in the operator's report)."""
        return PublicComparisonJSON(
            run_a=self.run_a,
            run_b=self.run_b,
            pairs=[list(p) for p in self.pairs],
            alpha=self.alpha,
            method=self.method,
            family_size=sum(c.decision.p_value is not None for c in self.cells),
            units=self.units,
            cells=[c.to_json() for c in self.cells],
        )

    def to_json(self) -> ComparisonJSON:
        return ComparisonJSON(**self.public(), worst_prompts=[w.to_json() for w in self.worst])

    def to_text(self, media_root: Path | None = None) -> str:
        """A plain-text summary; clip paths are under `media_root` when given."""

        def clip(rel: str) -> str:
            return str(media_root / rel) if media_root else rel

        lines = [
            f"{self.run_b} vs {self.run_a}: {self.units} matched videos per pair; verdicts keep the chance of any "
            f"false verdict below {self.alpha:g} over {sum(c.decision.p_value is not None for c in self.cells)} "
            f"comparisons ({self.method})"
        ]
        for cell in self.cells:
            if cell.category != ALL and cell.verdict not in ("better", "worse", "higher", "lower"):
                continue  # per-category rows only when they claim something
            d = cell.decision
            span = f"[{d.low:+.4f}, {d.high:+.4f}]" if d.low is not None and d.high is not None else "-"
            estimate = f"{d.estimate:+.4f}" if d.estimate is not None else "-"
            lines.append(
                f"  {cell.model_a} -> {cell.model_b}  {cell.metric:<24} {cell.category:<16} "
                f"{estimate:>9} {span:<22} {cell.verdict}"
            )
        if self.worst:
            lines.append("prompts that got most worse:")
            for w in self.worst:
                lines.append(f"  {w.score:+.2f}  {w.key} ({w.category}): {w.text}")
                lines.append(f"         A: {clip(w.video_a.file_path)}")
                lines.append(f"         B: {clip(w.video_b.file_path)}")
        return "\n".join(lines)


def parse_pairs(specs: list[str], run_a: RunData) -> list[tuple[str, str]] | None:
    """`A_MODEL=B_MODEL` options into pairs (None: the default pairing)."""
    pairs = []
    for spec in specs:
        a, sep, b = spec.partition("=")
        if not sep or not a or not b:
            raise ConfigError(f"--pair must look like A_MODEL=B_MODEL, got {spec!r}")
        if a not in run_a.models:
            raise ConfigError(f"{a!r} is not a model of run {run_a.id}")
        pairs.append((a, b))
    return pairs or None


def default_pairs(a: RunData, b: RunData) -> list[tuple[str, str]]:
    """The same model ids in both runs; else, with one model each, those two."""
    common = [m for m in a.models if m in b.models]
    if common:
        return [(m, m) for m in common]
    if len(a.models) == 1 and len(b.models) == 1:
        return [(a.models[0], b.models[0])]
    raise ConfigError("the runs share no model: say which to compare with --pair A_MODEL=B_MODEL")


def _verdict(decision: Decision, higher_is_better: bool | None) -> str:
    if decision.verdict in (Verdict.BETTER, Verdict.WORSE):
        up = decision.verdict == Verdict.BETTER
        if higher_is_better is None:
            return "higher" if up else "lower"
        return "better" if up == higher_is_better else "worse"
    if decision.verdict == Verdict.UNDECIDED:
        return "no difference shown"
    return decision.verdict.value


def _prompt_diffs(a: list[RunVideo], b: list[RunVideo], metric: str) -> dict[str, float]:
    """prompt key -> mean over its matched (language, seed) units of score_b − score_a."""
    left = {v.unit: v.scores[metric] for v in a if metric in v.scores}
    grouped: dict[str, list[float]] = defaultdict(list)
    for video in b:
        if metric in video.scores and video.unit in left:
            grouped[video.key].append(video.scores[metric] - left[video.unit])
    return {key: statistics.fmean(values) for key, values in grouped.items()}


def paired_evidence(diffs: list[float]) -> PairedT | None:
    if len(diffs) < 2:
        return None
    se = statistics.stdev(diffs) / math.sqrt(len(diffs))
    mean = statistics.fmean(diffs)
    if se == 0:
        return None  # all prompts changed by exactly the same amount (identical clips: none)
    return PairedT(mean, se, len(diffs) - 1)


def compare_runs(
    a: RunData,
    b: RunData,
    pairs: list[tuple[str, str]] | None = None,
    alpha: float = 0.05,
    method: Method = "holm",
    worst: int = WORST_PROMPTS,
) -> Comparison:
    """Compare run `b` with run `a` (the baseline). Both must be runs of the same suite and seeds."""
    if a.suite != b.suite:
        raise ConfigError(f"run {a.id} is of suite {a.suite!r} and run {b.id} of {b.suite!r}: not comparable")
    if sorted(a.seeds) != sorted(b.seeds):
        raise ConfigError(f"runs {a.id} and {b.id} used different seeds: pairs need the same seeds")
    pairs = pairs or default_pairs(a, b)
    for model_a, model_b in pairs:
        if model_a not in a.models or model_b not in b.models:
            raise ConfigError(f"{model_a} must be a model of run {a.id} and {model_b} of run {b.id}")
    metrics = [m for m in a.metrics if m in b.metrics]
    categories = [ALL, *[c for c in b.categories if c in a.categories]]
    keys: list[tuple[str, str, str, str]] = []
    items: list[PairedT | None] = []
    counts: list[int] = []
    identical: list[bool] = []
    units = 0
    for model_a, model_b in pairs:
        units = max(units, len({v.unit for v in a.of(model_a)} & {v.unit for v in b.of(model_b)}))
        for metric in metrics:
            for category in categories:
                diffs = list(_prompt_diffs(a.of(model_a, category), b.of(model_b, category), metric).values())
                keys.append((model_a, model_b, metric, category))
                items.append(paired_evidence(diffs))
                counts.append(len(diffs))
                identical.append(len(diffs) >= 2 and all(d == 0 for d in diffs))
    decisions = decide_family(cast(list[Evidence | None], items), alpha=alpha, method=method)
    cells = [
        Cell(*key, prompts=n, verdict="identical" if same else _verdict(d, b.directions.get(key[2])), decision=d)
        for key, n, same, d in zip(keys, counts, identical, decisions, strict=True)
    ]
    worst_prompts = [w for ma, mb in pairs for w in _worst(a, b, ma, mb, metrics)]
    worst_prompts.sort(key=lambda w: w.score)
    return Comparison(a.id, b.id, pairs, alpha, method, units, cells, worst_prompts[:worst])


def _worst(a: RunData, b: RunData, model_a: str, model_b: str, metrics: list[str]) -> list[WorstPrompt]:
    """Prompts ranked by their mean standardised change over the metrics that have a direction."""
    scored: dict[str, list[float]] = defaultdict(list)
    per_prompt: dict[str, dict[str, float]] = defaultdict(dict)
    for metric in metrics:
        direction = b.directions.get(metric)
        diffs = _prompt_diffs(a.of(model_a), b.of(model_b), metric)
        if direction is None or len(diffs) < 2 or statistics.pstdev(diffs.values()) == 0:
            continue
        spread = statistics.pstdev(diffs.values())
        for key, diff in diffs.items():
            scored[key].append((diff if direction else -diff) / spread)
            per_prompt[key][metric] = diff
    clips_a = {v.unit: v for v in a.of(model_a)}
    out = []
    for key, zs in scored.items():
        score = statistics.fmean(zs)
        pair = next(((clips_a[v.unit], v) for v in b.of(model_b) if v.key == key and v.unit in clips_a), None)
        if score < 0 and pair is not None:
            out.append(
                WorstPrompt(model_a, model_b, key, pair[1].category, pair[1].text, score, per_prompt[key], *pair)
            )
    return out
