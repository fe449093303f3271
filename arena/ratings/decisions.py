"""Decisions from a leaderboard: P(A better than B), votes needed to settle it, in-house vs rivals, matrices,
per-category boards. pandas is imported inside the functions that return DataFrames."""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import numpy as np

from arena.ratings.battles import MODEL_A, MODEL_B, BattleRows
from arena.ratings.board import Leaderboard, leaderboard
from arena.ratings.bt import NAT

if TYPE_CHECKING:
    import pandas as pd


def prob_better(board: Leaderboard, a: str, b: str) -> float:
    """Share of bootstrap rounds in which `a` rates above `b` (equal ratings count half)."""
    if len(board.samples) == 0:
        raise ValueError("the board has no bootstrap rounds: build it with bootstrap_rounds > 0")
    sa, sb = board.column(a), board.column(b)
    return float(np.mean(sa > sb) + 0.5 * np.mean(sa == sb))


def _head_to_head(rows: BattleRows, a: str, b: str) -> np.ndarray:
    """Scores of `a` (1, 0, 0.5) in its direct battles with `b` (rows with weight > 0)."""
    if a not in rows.models or b not in rows.models:
        return np.zeros(0)
    ia, ib = rows.index(a), rows.index(b)
    live = rows.weight > 0
    as_a = live & (rows.a == ia) & (rows.b == ib)
    as_b = live & (rows.a == ib) & (rows.b == ia)
    n = rows.battles
    return np.concatenate([np.repeat(rows.score[as_a], n[as_a]), np.repeat(1.0 - rows.score[as_b], n[as_b])])


def votes_to_settle(board: Leaderboard, rows: BattleRows, a: str, b: str, level: float = 0.95) -> int | None:
    """Further direct a-vs-b votes until P(the leader is better) reaches `level`, or 0 if it already has.

    Normal approximation: the rating difference d is taken as its point estimate, its current variance as the
    bootstrap variance, and each new vote adds Fisher information (p(1−p) · ln10/400)² / Var(score), with
    Var(score) from the pair's past battles (ties make a vote less noisy) or p(1−p) with fewer than 20.
    Votes against third models also help, so this is a conservative count. None when d is exactly 0.
    """
    if not 0.5 < level < 1.0:
        raise ValueError("level must lie in (0.5, 1)")
    p_now = prob_better(board, a, b)
    if max(p_now, 1.0 - p_now) >= level:
        return 0
    d = board.entry(a).rating - board.entry(b).rating
    if d == 0:
        return None
    var_now = float(np.var(board.column(a) - board.column(b), ddof=1)) if len(board.samples) > 1 else math.inf
    z = NormalDist().inv_cdf(level)
    p = 1.0 / (1.0 + 10.0 ** (-d / 400.0))
    scores = _head_to_head(rows, a, b)
    var_y = float(np.mean((scores - p) ** 2)) if len(scores) >= 20 else p * (1.0 - p)
    info_per_vote = (p * (1.0 - p) * NAT) ** 2 / max(var_y, 1e-12)
    info_now = 0.0 if not np.isfinite(var_now) or var_now == 0 else 1.0 / var_now
    need = (z / d) ** 2 - info_now
    return max(0, math.ceil(need / info_per_vote)) if need > 0 else 0


def versus_rows(board: Leaderboard, rows: BattleRows, in_house: str, level: float = 0.95) -> list[dict[str, Any]]:
    """One row per rival on the board (board order): ratings, the difference with its CI, P(in-house better),
    head-to-head record, and votes to settle."""
    home = board.entry(in_house)
    alpha = (1.0 - level) / 2.0
    out = []
    for rival in board.entries:
        if rival.model == in_house:
            continue
        scores = _head_to_head(rows, in_house, rival.model)
        row: dict[str, Any] = {
            "rival": rival.model,
            "rival_rating": rival.rating,
            "in_house_rating": home.rating,
            "diff": home.rating - rival.rating,
            "diff_low": None,
            "diff_high": None,
            "p_in_house_better": None,
            "battles": len(scores),
            "in_house_wins": int(np.sum(scores == 1.0)),
            "rival_wins": int(np.sum(scores == 0.0)),
            "ties": int(np.sum(scores == 0.5)),
            "head_to_head": float(scores.mean()) if len(scores) else None,
            "votes_to_settle": None,
        }
        if len(board.samples):
            diff = board.column(in_house) - board.column(rival.model)
            row["diff_low"], row["diff_high"] = (float(x) for x in np.quantile(diff, [alpha, 1 - alpha]))
            row["p_in_house_better"] = prob_better(board, in_house, rival.model)
            row["votes_to_settle"] = votes_to_settle(board, rows, in_house, rival.model, level)
        out.append(row)
    return out


def compare_models(board: Leaderboard, rows: BattleRows, a: str, b: str, level: float = 0.95) -> dict[str, Any]:
    """Any two models on the board: rating gap with its CI, P(a better), head-to-head, votes to settle."""
    if a == b:
        raise ValueError("compare two different models")
    for m in (a, b):
        board.entry(m)  # KeyError naming the model when it is not on the board
    row = next(r for r in versus_rows(board, rows, a, level) if r["rival"] == b)
    return {
        "a": a,
        "b": b,
        "rating_gap": row["diff"],
        "gap_ci": [row["diff_low"], row["diff_high"]],
        "p_a_better": row["p_in_house_better"],
        "wins": row["in_house_wins"],
        "losses": row["rival_wins"],
        "ties": row["ties"],
        "votes_to_settle": row["votes_to_settle"],
    }


def _pair_tables(rows: BattleRows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(wins[i, j] of row model over column model, decisive battles, all battles), weighted by row weight."""
    k = rows.n_models
    live = rows.weight > 0
    a, b, w, n = rows.a[live], rows.b[live], rows.winner[live], rows.battles[live]
    wt = rows.weight[live] * n
    wins = np.zeros((k, k))
    np.add.at(wins, (a[w == MODEL_A], b[w == MODEL_A]), wt[w == MODEL_A])
    np.add.at(wins, (b[w == MODEL_B], a[w == MODEL_B]), wt[w == MODEL_B])
    count = np.zeros((k, k))
    np.add.at(count, (a, b), n.astype(np.float64))
    return wins, wins + wins.T, count + count.T


def _frame(values: np.ndarray, models: tuple[str, ...], order: Sequence[str] | None) -> pd.DataFrame:
    import pandas as pd

    df = pd.DataFrame(values, index=list(models), columns=list(models))
    df.index.name, df.columns.name = "model", "opponent"
    return df.loc[list(order), list(order)] if order is not None else df


def win_fraction_matrix(rows: BattleRows, order: Sequence[str] | None = None) -> pd.DataFrame:
    """Share of non-tied battles in which the row model beat the column model (either side); NaN if none.

    Default order: by mean win fraction, best first (FastChat's heatmap)."""
    wins, decisive, _ = _pair_tables(rows)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(decisive > 0, wins / decisive, np.nan)
    if order is None:
        means = np.nan_to_num(
            np.nanmean(np.where(np.eye(rows.n_models, dtype=bool), np.nan, frac), axis=1)
            if rows.n_models > 1
            else np.zeros(rows.n_models),
            nan=0.0,
        )
        order = [rows.models[i] for i in np.argsort(-means, kind="stable")]
    return _frame(frac, rows.models, order)


def battle_count_matrix(rows: BattleRows, order: Sequence[str] | None = None) -> pd.DataFrame:
    """Battles between each pair of models (symmetric, ties included)."""
    _, _, count = _pair_tables(rows)
    return _frame(count.astype(np.int64), rows.models, order)


def category_boards(rows: BattleRows, field: str, **board_kwargs: Any) -> dict[str, Leaderboard]:
    """One leaderboard per value of an extra field (e.g. "language", "category"), most battles first.

    Keyword arguments go to `leaderboard` (bootstrap_rounds, seed, anchor, min_votes, prior).
    """
    if field not in rows.extra:
        raise KeyError(f"the battles carry no {field!r} field; they carry: {', '.join(rows.extra) or 'none'}")
    col = rows.extra[field]
    values = [v for v in dict.fromkeys(col.tolist()) if v is not None]
    sizes = {v: int(np.sum(col == v)) for v in values}
    out = {}
    for v in sorted(values, key=lambda x: (-sizes[x], str(x))):
        sub = rows.subset(col == v)
        anchor = board_kwargs.get("anchor")
        kwargs = board_kwargs if anchor is None or anchor in sub.models else {**board_kwargs, "anchor": None}
        out[str(v)] = leaderboard(sub, **kwargs)
    return out
