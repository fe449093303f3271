"""The leaderboard: FastChat's Bradley–Terry ratings (the default rating, comparable with other arenas) with
bootstrap intervals, behind the identifiability guards (arena.ratings.guards).

Order of work: the minimum-votes gate removes thin models and their battles; each connected component is fitted
on its own (ratings average 1000 within it; the anchor pins its own component) and ranked on its own; a model
whose group is separated gets a one-sided interval (the open end is ±inf); a model with no decisive vote gets no
interval ("insufficient data") and no rank. Rank (FastChat): 1 + the number of models of the same component
whose interval lies entirely above this one's, so models share a rank while their intervals overlap.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from arena.ratings.battles import MODEL_B, BattleRows
from arena.ratings.bt import DEFAULT_PRIOR, INIT_RATING
from arena.ratings.guards import components, gate, one_sided_bound, separation
from arena.ratings.uncertainty import DEFAULT_ROUNDS, design_weighted, fit_with_bootstrap, interval_se


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def interval_text(ci: Sequence[float | None], insufficient: bool = False) -> str:
    """A board interval for people: "lo – hi"; "≥ lo" / "≤ hi" for an open end (a separated model: unbeaten or
    never winning); "insufficient" with none. Every view that prints a rating's interval uses this."""
    low, high = ci
    if insufficient or (low is None and high is None):
        return "insufficient"
    if high is None:
        return f"≥ {low:.0f}"
    if low is None:
        return f"≤ {high:.0f}"
    return f"{low:.0f} – {high:.0f}"


@dataclass(frozen=True)
class BoardEntry:
    model: str
    rating: float
    ci_low: float  # −inf: no lower bound (a separated model), NaN: insufficient data
    ci_high: float  # +inf: no upper bound
    rank: int | None  # None: insufficient data (not ranked)
    votes: int
    wins: int
    losses: int
    ties: int
    win_rate: float  # (wins + ties / 2) / votes
    elo: float
    component: int = 0  # models in different components were never compared
    insufficient: bool = False

    @property
    def interval(self) -> tuple[float | None, float | None]:
        """(low, high) for JSON: None for an open end or no interval."""
        if self.insufficient:
            return None, None
        return _finite(self.ci_low), _finite(self.ci_high)


@dataclass(frozen=True, eq=False)
class Leaderboard:
    """Entries by component, then rating; `samples` is (rounds × len(models)), columns in entry order.
    `hidden`: models left out by the minimum-votes gate (their battles were not fitted)."""

    entries: tuple[BoardEntry, ...]
    samples: np.ndarray
    anchor: str | None = None
    hidden: tuple[str, ...] = ()

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(e.model for e in self.entries)

    @property
    def n_components(self) -> int:
        return len({e.component for e in self.entries})

    def entry(self, model: str) -> BoardEntry:
        for e in self.entries:
            if e.model == model:
                return e
        raise KeyError(f"{model!r} is not on the board; shown: {', '.join(self.models)}")

    def column(self, model: str) -> np.ndarray:
        """Bootstrap ratings of one model (one per round)."""
        self.entry(model)
        return self.samples[:, self.models.index(model)]

    def records(self) -> list[dict[str, object]]:
        return [e.__dict__.copy() for e in self.entries]

    def to_json(self) -> dict[str, dict[str, object]]:
        """The CLI's --json shape: ratings, ci ([low, high], null for an open end or no interval), elo, votes,
        and the component of each model."""
        return {
            "ratings": {e.model: e.rating for e in self.entries},
            "ci": {e.model: list(e.interval) for e in self.entries},
            "elo": {e.model: e.elo for e in self.entries},
            "votes": {e.model: e.votes for e in self.entries},
            "component": {e.model: e.component for e in self.entries},
        }


def fastchat_ranks(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """1 + the number of models whose lower bound is above this model's upper bound."""
    return 1 + (low[None, :] > high[:, None]).sum(axis=1)


def _separated_bounds(rows: BattleRows, point: np.ndarray, side: np.ndarray, a: float) -> dict[int, float]:
    """Model index → its one finite bound at one-sided level a, for models of a separated group."""
    live = (rows.weight > 0) & (rows.battles > 0)
    out = {}
    for s in np.flatnonzero(side != 0).tolist():
        mine = live & ((rows.a == s) | (rows.b == s))
        other = np.where(rows.a[mine] == s, rows.b[mine], rows.a[mine])
        cross = side[other] != side[s]
        offsets = side[s] * (point[s] - point[other[cross]])
        shift = one_sided_bound(offsets, rows.battles[mine][cross].astype(np.float64), a)
        out[s] = point[s] + side[s] * shift
    return out


def _restrict(rows: BattleRows, members: np.ndarray) -> BattleRows:
    """The battles among `members` (model indices), keeping exactly those models in that order."""
    inside = np.zeros(rows.n_models, dtype=bool)
    inside[members] = True
    mask = inside[rows.a] & inside[rows.b]
    remap = np.cumsum(inside) - 1
    return BattleRows(
        tuple(rows.models[i] for i in members.tolist()),
        remap[rows.a[mask]],
        remap[rows.b[mask]],
        rows.winner[mask],
        rows.weight[mask],
        {k: v[mask] for k, v in rows.extra.items()},
        rows.battles[mask],
    )


def leaderboard(
    rows: BattleRows,
    *,
    bootstrap_rounds: int = DEFAULT_ROUNDS,
    seed: int | np.random.Generator = 0,
    anchor: str | None = None,
    anchor_rating: float = INIT_RATING,
    min_votes: int = 0,
    prior: float = DEFAULT_PRIOR,
    level: float = 0.95,
    cluster: str | None = None,
    elo: Mapping[str, float] | None = None,
) -> Leaderboard:
    """Point BT fit, bootstrap intervals (quantiles of the rounds; `cluster` names an extra field such as
    "prompt_id" to resample by), ranks, counts and online Elo, behind the guards of the module docstring.
    `elo`: online Elo per model kept elsewhere (the database stores it vote by vote); default: computed here from
    the rows in order."""
    from arena.ratings.elo import elo_array

    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if anchor is not None:
        rows.index(anchor)
    rows, hidden = gate(rows, min_votes)
    counts = rows.counts()
    elo_now = elo_array(rows) if elo is None else np.array([elo.get(m, INIT_RATING) for m in rows.models])
    comp = components(rows)
    side = separation(rows, comp)
    dec = (rows.weight > 0) & (rows.winner <= MODEL_B)
    n = rows.battles[dec].astype(np.float64)
    decisive = np.bincount(rows.a[dec], n, rows.n_models) + np.bincount(rows.b[dec], n, rows.n_models)
    alpha = (1.0 - level) / 2.0
    entries: list[BoardEntry] = []
    columns: list[np.ndarray] = []
    for c in range(int(comp.max()) + 1 if rows.n_models else 0):
        members = np.flatnonzero(comp == c)
        sub = _restrict(rows, members)
        pin = anchor if anchor in sub.models else None
        point, samples = fit_with_bootstrap(
            sub,
            bootstrap_rounds,
            rng,
            anchor=pin,
            anchor_rating=anchor_rating,
            prior=prior,
            cluster=cluster,
            corrected=True,
        )
        if len(samples) and design_weighted(sub):  # bias-corrected point ± z·sandwich se (what the sim measured)
            half = NormalDist().inv_cdf(1.0 - alpha) * interval_se(sub, anchor=pin, cluster=cluster)
            low, high = point - half, point + half
        elif len(samples):
            low, high = np.quantile(samples, [alpha, 1.0 - alpha], axis=0)
        else:
            low, high = point.copy(), point.copy()
        sub_side = side[members]
        for s, bound in _separated_bounds(sub, point, sub_side, alpha).items():
            low[s], high[s] = (bound, math.inf) if sub_side[s] > 0 else (-math.inf, bound)
        bad = decisive[members] == 0
        if len(samples):
            bad |= (high - low) <= 1e-9
        low[bad] = high[bad] = math.nan
        order = np.argsort(-point, kind="stable")
        ok = order[~bad[order]]
        ranks = dict(zip(ok.tolist(), fastchat_ranks(low[ok], high[ok]).tolist(), strict=True))
        for i in order.tolist():
            g = int(members[i])
            v, w, lo, t = (int(counts[key][g]) for key in ("votes", "wins", "losses", "ties"))
            entries.append(
                BoardEntry(
                    rows.models[g],
                    float(point[i]),
                    float(low[i]),
                    float(high[i]),
                    ranks.get(i),
                    v,
                    w,
                    lo,
                    t,
                    (w + t / 2) / v if v else 0.0,
                    float(elo_now[g]),
                    c,
                    bool(bad[i]),
                )
            )
            columns.append(samples[:, i] if len(samples) else np.zeros(0))
    samples_all = np.stack(columns, axis=1) if columns and bootstrap_rounds > 0 else np.zeros((0, len(entries)))
    return Leaderboard(tuple(entries), samples_all, anchor, hidden)
