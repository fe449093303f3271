"""Pairwise matrices of the battles (win fractions, battle counts), as FastChat's heatmaps. Verdicts live in
arena.ratings.comparisons. pandas is imported inside the functions that return DataFrames."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from arena.ratings.battles import MODEL_A, MODEL_B, BattleRows

if TYPE_CHECKING:
    import pandas as pd


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
        off_diagonal = np.where(np.eye(rows.n_models, dtype=bool), np.nan, frac)
        known = (~np.isnan(off_diagonal)).sum(axis=1)  # a model with no decisive battle ranks as 0
        means = np.nansum(off_diagonal, axis=1) / np.maximum(known, 1)
        order = [rows.models[i] for i in np.argsort(-means, kind="stable")]
    return _frame(frac, rows.models, order)


def battle_count_matrix(rows: BattleRows, order: Sequence[str] | None = None) -> pd.DataFrame:
    """Battles between each pair of models (symmetric, ties included)."""
    _, _, count = _pair_tables(rows)
    return _frame(count.astype(np.int64), rows.models, order)
