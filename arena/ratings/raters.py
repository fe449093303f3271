"""Raters: position bias, agreement with the consensus, gold pairs and session weights. Pure functions."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, Literal

import numpy as np

from arena.ratings.battles import MODEL_A, MODEL_B, OUTCOMES, BattleRows
from arena.ratings.bt import DEFAULT_PRIOR, fit_ratings

GoldPolicy = Literal["none", "downweight", "exclude"]
GOLD_MIN_VOTES = 3  # gold votes before a rater can fail
GOLD_MIN_ACCURACY = 0.7  # a rater below this gold accuracy fails
DOWNWEIGHT = 0.25  # weight of a failed rater's votes under the "downweight" policy
# Weight classes: a vote's class is the worst gold record of its session and of its client's IP hash.
CLASS_TRUSTED, CLASS_FAILED = 0, 1


def wilson_interval(successes: float, n: float, level: float = 0.95) -> tuple[float, float]:
    if n <= 0:
        return 0.0, 1.0
    z = NormalDist().inv_cdf(0.5 + level / 2.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def position_bias(records: Iterable[Mapping[str, Any]], level: float = 0.95) -> tuple[float, float, float]:
    """P(the left clip wins) among decisive votes, with a Wilson interval. `left_won`: True, False, or None
    (a tie, left out). With no decisive vote: (0.5, 0.0, 1.0)."""
    flags = [r["left_won"] for r in records if r.get("left_won") is not None]
    n, left = len(flags), sum(bool(f) for f in flags)
    if n == 0:
        return 0.5, 0.0, 1.0
    low, high = wilson_interval(left, n, level)
    return left / n, low, high


def _agreement_terms(rows: BattleRows, prior: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: decisive?, agrees with the consensus (the BT fit on all rows; 0.5 on a tie of ratings), and the
    share an ideal BT voter would agree (max(p, 1 − p))."""
    ratings = fit_ratings(rows, prior=prior)
    diff = ratings[rows.a] - ratings[rows.b]
    p_a = 1.0 / (1.0 + 10.0 ** (-diff / 400.0))
    decisive = (rows.winner == MODEL_A) | (rows.winner == MODEL_B)
    agrees = np.where(diff == 0, 0.5, np.where(rows.winner == MODEL_A, diff > 0, diff < 0))
    return decisive, agrees, np.maximum(p_a, 1.0 - p_a)


def session_agreement(
    rows: BattleRows, *, field: str = "session", prior: float = DEFAULT_PRIOR
) -> dict[str, dict[str, float]]:
    """Per session, on its decisive votes: the share agreeing with the consensus (the model the BT fit on all
    rows rates higher), and the share expected from an ideal BT voter (mean of max(p, 1−p)).

    The consensus includes the session's own votes (no leave-one-out), which flatters sessions with many votes
    a little. Sessions whose agreement sits well below `expected` vote against the crowd.
    """
    if field not in rows.extra:
        raise KeyError(f"the battles carry no {field!r} field")
    decisive, agrees, ideal = _agreement_terms(rows, prior)
    out: dict[str, dict[str, float]] = {}
    sessions = rows.extra[field]
    n = rows.battles
    for s in dict.fromkeys(sessions[decisive & (n > 0)].tolist()):
        m = decisive & (sessions == s)
        out[str(s)] = {
            "votes": int(n[m].sum()),
            "agreement": float(np.average(agrees[m], weights=n[m])),
            "expected": float(np.average(ideal[m], weights=n[m])),
        }
    return out


def overall_agreement(rows: BattleRows, *, prior: float = DEFAULT_PRIOR) -> tuple[float, float, int]:
    """(agreement, expected, decisive votes) over every decisive vote: the vote-weighted mean of
    `session_agreement` over the sessions, from aggregated rows (no per-session rows needed)."""
    decisive, agrees, ideal = _agreement_terms(rows, prior)
    n = np.where(decisive, rows.battles, 0)
    total = int(n.sum())
    if not total:
        return 0.0, 0.0, 0
    return float(np.average(agrees, weights=n)), float(np.average(ideal, weights=n)), total


@dataclass(frozen=True)
class GoldScore:
    votes: int
    correct: float
    accuracy: float
    low: float  # Wilson bounds on the accuracy
    high: float


def score_gold(
    votes: Iterable[Mapping[str, Any]],
    answers: Mapping[str, str],
    *,
    session_key: str = "session",
    gold_key: str = "gold_id",
) -> dict[str, GoldScore]:
    """Score each session on gold pairs: votes `{session, gold_id, winner}`, answers `{gold_id: winner}` with
    winners in the battle vocabulary. An exact match scores 1; any tie against a decisive answer (or a decisive
    vote against a tie answer) scores 0.5; the wrong side scores 0. Votes on unknown gold ids are ignored."""
    tally: dict[str, list[float]] = {}
    for v in votes:
        answer = answers.get(v.get(gold_key))  # type: ignore[arg-type]
        if answer is None:
            continue
        tally.setdefault(str(v[session_key]), []).append(gold_credit(v["winner"], answer))
    out = {}
    for session, credits in tally.items():
        n, c = len(credits), float(sum(credits))
        out[session] = GoldScore(n, c, c / n, *wilson_interval(c, n))
    return out


def gold_credit(said: str, answer: str) -> float:
    """Credit of one gold vote (battle vocabulary): 1 for the answer, 0.5 for a tie against a decisive answer (or
    a decisive vote against a tie answer), 0 for the wrong side."""
    s, w = OUTCOMES[said], OUTCOMES[answer]
    tie_said, tie_want = s not in (MODEL_A, MODEL_B), w not in (MODEL_A, MODEL_B)
    return 1.0 if s == w or (tie_said and tie_want) else 0.5 if tie_said or tie_want else 0.0


def weight_class(gold_votes: int, credit: float) -> int:
    """The class a gold record earns: failed with ≥ GOLD_MIN_VOTES gold votes below GOLD_MIN_ACCURACY."""
    failed = gold_votes >= GOLD_MIN_VOTES and credit / gold_votes < GOLD_MIN_ACCURACY
    return CLASS_FAILED if failed else CLASS_TRUSTED


def class_weights(mode: GoldPolicy) -> np.ndarray:
    """Weight of a vote per weight class under a gold policy: trusted 1; failed 1, `DOWNWEIGHT` or 0."""
    if mode not in ("none", "downweight", "exclude"):
        raise ValueError(f"unknown mode {mode!r}")
    return np.array([1.0, {"none": 1.0, "downweight": DOWNWEIGHT, "exclude": 0.0}[mode]])


def session_weights(
    scores: Mapping[str, GoldScore],
    *,
    mode: GoldPolicy = "exclude",
    min_accuracy: float = GOLD_MIN_ACCURACY,
    min_gold: int = GOLD_MIN_VOTES,
    downweight: float = DOWNWEIGHT,
) -> dict[str, float]:
    """Weight per scored session: 1, or for a session that fails (≥ `min_gold` gold votes and accuracy below
    `min_accuracy`) 0 ("exclude") or `downweight` ("downweight"). Unscored sessions are absent: weight 1."""
    if mode not in ("none", "downweight", "exclude"):
        raise ValueError(f"unknown mode {mode!r}")
    fail = 0.0 if mode == "exclude" else downweight if mode == "downweight" else 1.0
    return {s: fail if g.votes >= min_gold and g.accuracy < min_accuracy else 1.0 for s, g in scores.items()}


def weight_rows(rows: BattleRows, weights: Mapping[str, float], *, field: str = "session") -> BattleRows:
    """Multiply each row's weight by its session's weight (1 for sessions not in `weights`)."""
    if field not in rows.extra:
        raise KeyError(f"the battles carry no {field!r} field")
    factor = np.fromiter(
        (weights.get(str(s), 1.0) if s is not None else 1.0 for s in rows.extra[field]), np.float64, len(rows)
    )
    return rows.with_weights(rows.weight * factor)
