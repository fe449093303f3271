"""Automatic scores on the board: per-model means with 95 % CIs, and how far each metric agrees with humans.

Agreement is measured on the arena's own votes: for anonymous, non-gold battles where both videos have a
score, the share of decisive votes (ties and "both bad" excluded) where the metric prefers the video the
human preferred; and the Spearman correlation of per-model metric means with the Bradley–Terry ratings.
"""

from __future__ import annotations

import math
import warnings
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from arena.services.leaderboard import LeaderboardService
from db.models import MetricScore, Prompt, Video
from db.session import transaction

SKIPPED = frozenset({"facts"})  # descriptive, not a quality score


def _direction() -> dict[str, bool | None]:
    """higher_is_better of every registered metric (class attributes only: nothing heavy is imported)."""
    from metrics.registry import build_registry

    registry = build_registry()
    return {name: registry.get(name).higher_is_better for name in registry.names()}


def _mean_ci(values: list[float]) -> tuple[float, float, float]:
    from scipy import stats

    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, mean, mean
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    return mean, mean - half, mean + half


class MetricBoardService:
    def __init__(self, factory: sessionmaker[Session], leaderboard: LeaderboardService, encoder: str) -> None:
        self.factory = factory
        self.leaderboard = leaderboard
        self.encoder = encoder

    def values(self) -> dict[int, dict[str, float]]:
        """video id -> {metric: value} for the configured encoder (pixel metrics have no encoder)."""
        out: dict[int, dict[str, float]] = defaultdict(dict)
        with transaction(self.factory) as session:
            query = select(MetricScore).where(
                MetricScore.encoder.in_([self.encoder, ""]), MetricScore.value.is_not(None)
            )
            for score in session.scalars(query):
                if score.metric not in SKIPPED:
                    out[score.video_id][score.metric] = float(score.value)  # type: ignore[arg-type]
        return out

    def calibrated(self) -> bool:
        with transaction(self.factory) as session:
            flags = session.scalars(
                select(MetricScore.details).where(MetricScore.encoder == self.encoder).limit(1)
            ).all()
        return bool(flags and flags[0].get("calibrated"))

    def summary(self, category: str | None = None, language: str | None = None) -> list[dict[str, Any]]:
        """Per model and metric: mean, 95 % CI (t interval over videos), number of videos."""
        values = self.values()
        names = {m: info["display_name"] for m, info in self.leaderboard.models().items()}
        grouped: dict[tuple[str, str], list[float]] = defaultdict(list)
        with transaction(self.factory) as session:
            query = select(Video.id, Video.model_id).join(Prompt, Prompt.id == Video.prompt_id)
            if category:
                query = query.where(Prompt.category == category)
            if language:
                query = query.where(Prompt.language == language)
            for video_id, model_id in session.execute(query):
                for metric, value in values.get(video_id, {}).items():
                    grouped[(model_id, metric)].append(value)
        rows = []
        for (model_id, metric), vals in sorted(grouped.items()):
            mean, low, high = _mean_ci(vals)
            rows.append(
                {
                    "model_id": model_id,
                    "model": names.get(model_id, model_id),
                    "metric": metric,
                    "mean": round(mean, 4),
                    "ci": [round(low, 4), round(high, 4)],
                    "videos": len(vals),
                }
            )
        return rows

    def agreement(self) -> list[dict[str, Any]]:
        """Per metric: pair accuracy against human votes, and Spearman ρ of model means with BT ratings."""
        from scipy import stats

        values = self.values()
        direction = _direction()
        snap = self.leaderboard.snapshot()
        votes = [v for v in snap.rows() if v["choice"] in ("left", "right")]
        board = {r["model_id"]: r["rating"] for r in snap.board(min_votes=0, bootstrap_rounds=0)["rows"]}
        means: dict[str, dict[str, float]] = defaultdict(dict)
        for row in self.summary():
            means[row["metric"]][row["model_id"]] = row["mean"]
        out = []
        for metric in sorted({m for scores in values.values() for m in scores}):
            higher = direction.get(metric)
            agree = pairs = 0
            if higher is not None:
                for vote in votes:
                    left = values.get(vote["left_video_id"], {}).get(metric)
                    right = values.get(vote["right_video_id"], {}).get(metric)
                    if left is None or right is None or left == right:
                        continue
                    prefers_left = (left > right) == higher
                    pairs += 1
                    agree += prefers_left == (vote["choice"] == "left")
            common = sorted(set(means[metric]) & set(board))
            rho = p_value = None
            if len(common) >= 3:
                with warnings.catch_warnings():  # constant inputs give NaN, reported as None below
                    warnings.simplefilter("ignore", stats.ConstantInputWarning)
                    result = stats.spearmanr([means[metric][m] for m in common], [board[m] for m in common])
                if not math.isnan(result.statistic):
                    rho, p_value = round(float(result.statistic), 4), round(float(result.pvalue), 4)
            out.append(
                {
                    "metric": metric,
                    "higher_is_better": higher,
                    "pairs": pairs,
                    "pair_accuracy": round(agree / pairs, 4) if pairs else None,
                    "spearman_rho": rho,
                    "spearman_p": p_value,
                    "models": len(common),
                }
            )
        return out
