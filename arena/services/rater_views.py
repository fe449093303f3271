"""The raters and the screen side, from a snapshot's counted rows and its audit reads (arena.services.vote_rows)."""

from __future__ import annotations

from typing import NotRequired

import numpy as np
from typing_extensions import TypedDict  # not typing's: pydantic (the API's schema) needs this one below 3.12

from arena.ratings import BattleRows, session_agreement
from arena.ratings.battles import MODEL_A, MODEL_B
from arena.ratings.raters import overall_agreement, wilson_interval
from arena.services.vote_rows import SnapshotAudit


class PositionBias(TypedDict):
    p_left: float  # P(the left video wins) among decisive votes (0.5 when there are none)
    ci: list[float]  # its 95 % Wilson interval
    decisive_votes: int


def position_bias(rows: BattleRows) -> PositionBias:
    """P(the left video wins) among the decisive votes of `rows`, with a 95 % Wilson interval."""
    left = int(rows.battles[rows.winner == MODEL_A].sum())
    decisive = left + int(rows.battles[rows.winner == MODEL_B].sum())
    p, low, high = (left / decisive, *wilson_interval(left, decisive)) if decisive else (0.5, 0.0, 1.0)
    return {"p_left": round(p, 4), "ci": [round(low, 4), round(high, 4)], "decisive_votes": decisive}


class RaterSummary(TypedDict):
    sessions: int  # sessions that voted
    gold: int  # sessions that answered gold checks
    failed: int  # sessions that failed them
    agreement: float  # share of decisive votes agreeing with the consensus
    expected: float  # the share ideal voters would reach
    decisive: int  # decisive votes


def rater_summary(rows: BattleRows, audit: SnapshotAudit) -> RaterSummary:
    """The raters in one line, with no per-vote read: sessions that voted, gold-checked and failed ones (the
    raters table), and the agreement of the decisive votes with the consensus beside what ideal voters would
    reach (the counted rows, every vote weighing one: the vote-weighted mean of :func:`rater_table`'s)."""
    agreement, expected, decisive = (
        overall_agreement(rows.with_weights(np.ones(len(rows)))) if len(rows) else (0.0, 0.0, 0)
    )
    counts = audit.rater_counts()
    return {
        "sessions": counts["sessions"],
        "gold": counts["gold"],
        "failed": counts["failed"],
        "agreement": agreement,
        "expected": expected,
        "decisive": decisive,
    }


class RaterRow(TypedDict):
    """One session as a rater: its decisive board votes against the consensus (absent when it has none) and its
    gold-pair record."""

    votes: NotRequired[int]
    agreement: NotRequired[float]  # share of its decisive votes agreeing with the consensus
    expected: NotRequired[float]  # the share an ideal voter would reach on the same pairs
    gold_votes: int
    gold_accuracy: float | None
    gold_failed: bool


def rater_table(audit: SnapshotAudit) -> dict[str, RaterRow]:
    """Per session: votes, agreement with the consensus, and gold-pair accuracy (reads votes per session)."""
    gold, failed, records = audit.raters()
    columns = {k: [r[k] for r in records] for k in ("session", "model_a", "model_b", "winner", "count")}
    agreement = session_agreement(BattleRows.from_table(columns, keep=("session",))) if records else {}
    table: dict[str, RaterRow] = {}
    for s in sorted(set(agreement) | set(gold)):
        row = RaterRow(
            gold_votes=gold[s].votes if s in gold else 0,
            gold_accuracy=round(gold[s].accuracy, 4) if s in gold else None,
            gold_failed=s in failed,
        )
        if s in agreement:
            mine = agreement[s]
            row["votes"], row["agreement"], row["expected"] = int(mine["votes"]), mine["agreement"], mine["expected"]
        table[s] = row
    return table
