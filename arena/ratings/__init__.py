"""The rating engine: pure functions over numpy arrays, no I/O and no UI (see the submodules' docstrings)."""

from arena.ratings.battles import OUTCOMES, BattleRows
from arena.ratings.board import BoardEntry, Leaderboard, leaderboard
from arena.ratings.bt import DEFAULT_PRIOR, fisher_sd, fit_bradley_terry, fit_ratings
from arena.ratings.decisions import (
    battle_count_matrix,
    win_fraction_matrix,
)
from arena.ratings.elo import compute_elo
from arena.ratings.matchmaking import Matchmaker, MatchState, pair_gains
from arena.ratings.raters import (
    GoldScore,
    position_bias,
    score_gold,
    session_agreement,
    session_weights,
    weight_rows,
)
from arena.ratings.uncertainty import bootstrap_ratings, robust_fit
from arena.ratings.verdicts import (
    Boundary,
    Decision,
    NormalEvidence,
    Verdict,
    adjust,
    decide_family,
)

__all__ = [
    "DEFAULT_PRIOR",
    "OUTCOMES",
    "BattleRows",
    "BoardEntry",
    "Boundary",
    "Decision",
    "GoldScore",
    "Leaderboard",
    "MatchState",
    "Matchmaker",
    "NormalEvidence",
    "Verdict",
    "adjust",
    "battle_count_matrix",
    "bootstrap_ratings",
    "compute_elo",
    "decide_family",
    "fisher_sd",
    "fit_bradley_terry",
    "fit_ratings",
    "leaderboard",
    "pair_gains",
    "position_bias",
    "robust_fit",
    "score_gold",
    "session_agreement",
    "session_weights",
    "weight_rows",
    "win_fraction_matrix",
]
