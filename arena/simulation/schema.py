"""The calibration report's parts, as `arena calibrate --json` prints them ("kendall_tau" at the top level)."""

from __future__ import annotations

from typing import TypedDict


class RecoveredRow(TypedDict):
    """A generator on the simulated board, best first, beside its rank in the built-in order."""

    model: str
    rating: float
    ci: list[float]  # 95 % bootstrap interval [low, high]
    votes: int
    built_rank: int | None


class PairVerdict(TypedDict):
    better: str  # built better
    worse: str
    verdict: str  # better | worse | equivalent | undecided | insufficient data (of `better` against `worse`)
    right: bool  # the verdict says the generator built better is better
    wrong: bool  # it says the reverse (or that they are equivalent)


class VerdictTally(TypedDict):
    pairs: list[PairVerdict]
    right: int
    wrong: int
    undecided: int
    family: str  # how the pairs were decided together


class MetricSummary(TypedDict):
    per_model: dict[str, dict[str, float]]  # model -> metric -> pooled value
    lowest: dict[str, str]  # metric -> the model it ranks last (for the metrics whose last model is built in)


class PositionBias(TypedDict):
    p_left: float  # P(the left clip wins) among the crowd's decisive votes
    ci: list[float]  # Wilson 95 % interval
    detected: bool  # the interval leaves out 0.5
    injected: float  # the bias the crowd was built with


class GoldChecks(TypedDict):
    """Sessions the gold-pair checks flagged, by what the simulation built them as."""

    careless_flagged: int
    careless: int
    careful_flagged: int
    careful: int
    left_leaning_flagged: int
    left_leaning: int
    gold_votes_per_session: dict[str, int]


class CrowdVotes(TypedDict):
    cast: int
    refused: dict[str, int]  # refusal code -> how many
    seconds: float


class CalibrationJSON(TypedDict):
    kendall_tau: float
    passed: bool
    checks: dict[str, bool]
    built_in_order: list[str]
    recovered_order: list[str]
    board: list[RecoveredRow]
    verdicts: VerdictTally
    metrics: MetricSummary
    position_bias: dict[str, PositionBias]  # crowd label -> its bias
    gold: GoldChecks
    votes: dict[str, CrowdVotes]  # crowd label -> its votes
    matchmaking: str
