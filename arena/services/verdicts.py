"""Verdict views shared by the Leaderboard tab, the JSON API and `arena ratings`: the in-house model against each
rival (overall and per category, language or prompt), any two models, and the prompts where the in-house model
loses most. All go through one function of the decision layer (arena.ratings.comparisons.compare_family), so the
same battles and rules give the same verdicts everywhere. Nothing here reads the database."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any, NotRequired, cast

from typing_extensions import TypedDict  # not typing's: pydantic (the API's schema) needs this one below 3.12

from arena.ratings.comparisons import Comparison, DecisionRules, compare_family, versus_pairs
from arena.ratings.verdicts import METHODS

if TYPE_CHECKING:
    from arena.ratings.battles import BattleRows
    from arena.settings import Settings

# The groups a page can break verdicts down by, and the battle field each reads.
GROUPS: dict[str, str] = {"category": "category", "language": "language", "prompt": "prompt_id"}
_LABEL = {v: k for k, v in GROUPS.items()}


def rules_from(settings: Settings, **overrides: Any) -> DecisionRules:
    """The arena's decision rules (settings), with any of DecisionRules' fields overridden (None: keep)."""
    rules = DecisionRules(
        alpha=settings.decision_alpha,
        method=settings.decision_method,
        margin=settings.equivalence_margin,
        power_gap=settings.power_gap,
        min_votes=settings.min_votes,
    )
    return replace(rules, **{k: v for k, v in overrides.items() if v is not None})


def group_fields(by: Sequence[str] | str | None) -> tuple[str, ...]:
    """Battle fields for the page's "break down by" choice(s): category, language, prompt."""
    names = [by] if isinstance(by, str) else list(by or ())
    unknown = [n for n in names if n not in GROUPS]
    if unknown:
        raise ValueError(f"cannot break verdicts down by {unknown[0]!r}; choose from {', '.join(GROUPS)}")
    return tuple(GROUPS[n] for n in names)


def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else round(x, 1)


class VerdictRowJSON(TypedDict):
    """A :class:`VerdictRow` as the JSON API and ``arena ratings --json`` give it."""

    a: str
    b: str
    group: dict[str, str]
    decision: str  # better, worse, equivalent, undecided or insufficient data
    estimate: float | None  # a's rating minus b's, points
    interval: list[float | None]  # [low, high] at `level`, None for an open end
    level: float | None
    p_value: float | None
    adjusted_p: float | None
    wins: int
    losses: int
    ties: int
    votes: int
    votes_needed: int | None
    too_close: bool
    note: str


class VerdictsJSON(TypedDict):
    """:class:`Verdicts` as JSON, with the sentence of what they promise (and the page's filters and prompt texts
    where the API adds them)."""

    rows: list[VerdictRowJSON]
    method: str
    method_name: str
    alpha: float
    margin: float
    power_gap: float
    family_size: int
    by: list[str]
    hidden: list[str]
    in_house: str | None
    names: dict[str, str]
    power: float
    promise: str
    filters: NotRequired[dict[str, str | None]]
    prompts: NotRequired[dict[str, str]]  # prompt id -> text, when broken down by prompt


@dataclass(frozen=True)
class VerdictRow:
    """One comparison as every surface shows it. `interval`: [low, high] at `level`, None for an open end."""

    a: str
    b: str
    group: dict[str, str]  # {} overall, else e.g. {"category": "motion"} or {"prompt": "12"}
    decision: str
    estimate: float | None
    interval: list[float | None]
    level: float | None
    p_value: float | None
    adjusted_p: float | None
    wins: int
    losses: int
    ties: int
    votes: int
    votes_needed: int | None
    too_close: bool
    note: str

    @classmethod
    def of(cls, c: Comparison) -> VerdictRow:
        d = c.decision
        return cls(
            c.a,
            c.b,
            {_LABEL.get(f, f): v for f, v in c.cell},
            d.verdict.value,
            _finite(d.estimate),
            [_finite(d.low), _finite(d.high)],
            None if d.level is None else round(d.level, 6),
            None if d.p_value is None else float(f"{d.p_value:.4g}"),
            None if d.adjusted_p is None else float(f"{d.adjusted_p:.4g}"),
            c.record.wins,
            c.record.losses,
            c.record.ties,
            c.record.votes,
            c.votes_needed,
            c.too_close,
            c.note,
        )


@dataclass(frozen=True)
class Verdicts:
    """A family of verdicts and what it promises: `method` over `family_size` comparisons at `alpha`."""

    rows: tuple[VerdictRow, ...]
    method: str
    method_name: str
    alpha: float
    margin: float
    power_gap: float
    family_size: int
    by: tuple[str, ...]
    hidden: tuple[str, ...] = ()  # gated out of the overall view (too few votes)
    in_house: str | None = None
    names: Mapping[str, str] = field(default_factory=dict)
    power: float = 0.8  # of the votes-needed plan, against a gap of `power_gap`

    @classmethod
    def empty(cls, rules: DecisionRules, by: tuple[str, ...] = (), in_house: str | None = None) -> Verdicts:
        return cls(
            (), rules.method, METHODS[rules.method], rules.alpha, rules.margin, rules.power_gap, 0, by, (), in_house
        )

    def to_json(self) -> VerdictsJSON:
        out = asdict(self)
        out["names"] = dict(self.names)
        out["by"] = [_LABEL.get(f, f) for f in self.by]
        out["hidden"] = list(self.hidden)
        out["promise"] = promise(self)
        return cast(VerdictsJSON, out)  # asdict gives every field above (rows as VerdictRowJSON)

    def overall(self) -> list[VerdictRow]:
        return [r for r in self.rows if not r.group]


def promise(v: Verdicts) -> str:
    """What the verdicts on the page promise, in one sentence."""
    return (
        f"{METHODS[v.method]} held at {v.alpha:.0%} over the {v.family_size} comparisons shown, at every look "
        f"(anytime-valid intervals); 'equivalent' means within ±{v.margin:g} points."
    )


def verdicts_from_rows(
    rows: BattleRows,
    pairs: Sequence[tuple[str, str]],
    rules: DecisionRules,
    *,
    by: Sequence[str] = (),
    in_house: str | None = None,
    names: Mapping[str, str] | None = None,
) -> Verdicts:
    family = compare_family(rows, pairs, by=by, rules=rules)
    return Verdicts(
        tuple(VerdictRow.of(c) for c in family.comparisons),
        rules.method,
        METHODS[rules.method],
        rules.alpha,
        rules.margin,
        rules.power_gap,
        family.size,
        tuple(by),
        family.hidden.get((), ()),
        in_house,
        dict(names or {}),
        rules.power,
    )


def versus_from_rows(
    rows: BattleRows,
    in_house: str,
    rules: DecisionRules,
    *,
    by: Sequence[str] = (),
    names: Mapping[str, str] | None = None,
) -> Verdicts:
    """The in-house model against every other model in `rows`, overall and per group of `by`."""
    return verdicts_from_rows(rows, versus_pairs(rows, in_house), rules, by=by, in_house=in_house, names=names)


@dataclass(frozen=True)
class PromptLosses:
    """How the in-house model fared on one prompt against all rivals (direct battles)."""

    prompt_id: str
    wins: int
    losses: int
    ties: int

    @property
    def net_losses(self) -> int:
        return self.losses - self.wins


def prompt_losses(rows: BattleRows, in_house: str, limit: int = 5) -> list[PromptLosses]:
    """The prompts where the in-house model lost most (losses − wins, then losses), at most `limit`, only those
    with more losses than wins."""
    import numpy as np

    from arena.ratings.battles import MODEL_A, MODEL_B

    if in_house not in rows.models or "prompt_id" not in rows.extra:
        return []
    me = rows.index(in_house)
    live = (rows.weight > 0) & ((rows.a == me) | (rows.b == me))
    won = np.where(rows.a == me, rows.winner == MODEL_A, rows.winner == MODEL_B)
    lost = np.where(rows.a == me, rows.winner == MODEL_B, rows.winner == MODEL_A)
    tally: dict[str, list[int]] = {}
    n = rows.battles
    for i in np.flatnonzero(live).tolist():
        pid = rows.extra["prompt_id"][i]
        if pid is None:
            continue
        t = tally.setdefault(str(pid), [0, 0, 0])
        t[0 if won[i] else 1 if lost[i] else 2] += int(n[i])
    out = [PromptLosses(p, *t) for p, t in tally.items() if t[1] > t[0]]
    out.sort(key=lambda x: (-x.net_losses, -x.losses, x.prompt_id))
    return out[:limit]
