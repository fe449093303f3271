"""Identifiability guards: what the battles can and cannot say before any rating is shown.

* `gate`: models with fewer than `min_votes` votes are removed *with their battles* before the fit (repeated until
  every model left has enough), so a hidden model cannot move the ratings that are shown.
* `components`: models linked by battles; ratings in different components were never compared and are not ranked
  against each other.
* `separation`: in the directed graph "i scored against j" (a win, or a tie both ways), a group of models that no
  outsider ever scored against has no finite maximum-likelihood rating: it gets a lower bound only (`+1`), and a
  group that never scored against an outsider an upper bound only (`−1`). `one_sided_bound` computes the bound
  from the probability of the one-sided record itself.
"""

from __future__ import annotations

import math

import numpy as np

from arena.ratings.battles import MODEL_A, MODEL_B, BattleRows
from arena.ratings.bt import NAT


def gate(rows: BattleRows, min_votes: int) -> tuple[BattleRows, tuple[str, ...]]:
    """(rows among models with ≥ min_votes votes, the models removed), votes counted after each removal."""
    hidden: list[str] = []
    while min_votes > 0 and rows.n_models:
        votes = rows.counts()["votes"]
        low = votes < min_votes
        if not low.any():
            break
        hidden += [m for m, bad in zip(rows.models, low, strict=True) if bad]
        keep = ~(low[rows.a] | low[rows.b])
        rows = rows.subset(keep)
    return rows, tuple(sorted(hidden))


def _live(rows: BattleRows) -> np.ndarray:
    return (rows.weight > 0) & (rows.battles > 0)


def _reach(adjacent: np.ndarray) -> np.ndarray:
    """Reachability (reflexive, transitive closure) of a boolean adjacency matrix by repeated squaring."""
    r = adjacent | np.eye(len(adjacent), dtype=bool)
    while True:
        nxt = (r.astype(np.int32) @ r.astype(np.int32)) > 0
        if np.array_equal(nxt, r):
            return r
        r = nxt


def _labels(same: np.ndarray) -> np.ndarray:
    """Labels 0.. in order of first member, from an equivalence matrix."""
    first = np.argmax(same, axis=1)  # the lowest index in each class
    _, labels = np.unique(first, return_inverse=True)
    return labels


def components(rows: BattleRows) -> np.ndarray:
    """Component label per model (0 = the one with the most votes, then by size, then first model)."""
    k = rows.n_models
    if k == 0:
        return np.zeros(0, np.int64)
    live = _live(rows)
    adj = np.zeros((k, k), dtype=bool)
    adj[rows.a[live], rows.b[live]] = True
    labels = _labels(_reach(adj | adj.T))
    size = np.bincount(labels, rows.counts()["votes"], minlength=labels.max() + 1)
    order = np.lexsort((np.arange(len(size)), -size))
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[labels]


def separation(rows: BattleRows, comp: np.ndarray | None = None) -> np.ndarray:
    """Per model: +1 in a group no outsider (of its component) ever scored against, −1 in a group that never
    scored against an outsider, 0 otherwise (a component with a single model: 0)."""
    k = rows.n_models
    live = _live(rows)
    a, b, w = rows.a[live], rows.b[live], rows.winner[live]
    scored = np.zeros((k, k), dtype=bool)  # scored[x, y]: x won against y, or they tied
    scored[a[w != MODEL_B], b[w != MODEL_B]] = True
    scored[b[w != MODEL_A], a[w != MODEL_A]] = True
    reach = _reach(scored)
    group = reach & reach.T  # strongly connected groups
    comp = components(rows) if comp is None else comp
    same_comp = comp[:, None] == comp[None, :]
    outsider = same_comp & ~group  # outsider[x, y]: y is in x's component but not x's group
    beaten_by_outsider = (scored.T & outsider).any(axis=1)  # some outsider scored against x
    beats_outsider = (scored & outsider).any(axis=1)
    # a group is separated when none of its members is scored against (or scores) across its boundary
    top = ~((group.astype(np.int32) @ beaten_by_outsider.astype(np.int32)) > 0) & outsider.any(axis=1)
    bottom = ~((group.astype(np.int32) @ beats_outsider.astype(np.int32)) > 0) & outsider.any(axis=1)
    return np.where(top, 1, np.where(bottom, -1, 0)).astype(np.int64)


def one_sided_bound(offsets: np.ndarray, counts: np.ndarray, a: float) -> float:
    """The shift x (rating points) below which winning every one of `counts[j]` battles against opponents rated
    `offsets[j]` below has probability < a: P(all won | x) = Π σ(NAT (offsets + x))^counts = a. The record only
    gets rarer as it grows, so the bound holds at every look."""
    target = math.log(a)

    def log_p(x: float) -> float:
        return float(-(counts * np.logaddexp(0.0, -NAT * (offsets + x))).sum())

    lo, hi = -4000.0, 4000.0
    if log_p(lo) > target:
        return -math.inf
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if log_p(mid) > target else (mid, hi)
    return 0.5 * (lo + hi)
