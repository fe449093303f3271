"""Automatic scores on the board: per-model means with 95 % CIs, and how far each metric agrees with humans.

Agreement is measured on the arena's own votes: for anonymous, non-gold battles where both videos have a
score, the share of decisive votes (ties and "both bad" excluded) where the metric prefers the video the
human preferred; and the Spearman correlation of per-model metric means with the Bradley–Terry ratings.
"""

from __future__ import annotations

import math
import warnings
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from arena.services.leaderboard import LeaderboardService
from arena.services.suites import USER_SUITE
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


@dataclass(frozen=True)
class ScoredVideo:
    """One pool video's scores (one metric_version per metric) and what the summary groups it by."""

    model_id: str
    category: str
    language: str
    scores: dict[str, float]


class MetricBoardService:
    """Scores of pool videos only (suite prompts: never the typed prompts of the playground or custom battles,
    which anyone can add), for the configured encoder (pixel metrics have none), one metric_version per metric:
    the latest stored, so a re-scored metric is never averaged with its older version.

    Each view reads the scores once: pass the :meth:`read` result to :meth:`summary` and :meth:`agreement`.
    """

    def __init__(self, factory: sessionmaker[Session], leaderboard: LeaderboardService, encoder: str) -> None:
        self.factory = factory
        self.leaderboard = leaderboard
        self.encoder = encoder

    def read(self) -> dict[int, ScoredVideo]:
        """pool video id -> its model, prompt category and language, and {metric: value}."""
        encoders = [self.encoder, ""]
        with transaction(self.factory) as session:
            latest: dict[str, tuple[int, str]] = {}  # metric -> (newest row id, its version)
            versions = (
                select(MetricScore.metric, MetricScore.metric_version, func.max(MetricScore.id))
                .where(MetricScore.encoder.in_(encoders))
                .group_by(MetricScore.metric, MetricScore.metric_version)
            )
            for metric, version, newest in session.execute(versions):
                if metric not in SKIPPED and newest > latest.get(metric, (-1, ""))[0]:
                    latest[metric] = (newest, version)
            query = (
                select(
                    Video.id,
                    Video.model_id,
                    Prompt.category,
                    Prompt.language,
                    MetricScore.metric,
                    MetricScore.metric_version,
                    MetricScore.value,
                )
                .join(Video, Video.id == MetricScore.video_id)
                .join(Prompt, Prompt.id == Video.prompt_id)
                .where(
                    MetricScore.encoder.in_(encoders),
                    MetricScore.value.is_not(None),
                    Prompt.suite != USER_SUITE,
                )
            )
            out: dict[int, ScoredVideo] = {}
            for video_id, model_id, category, language, metric, version, value in session.execute(query):
                if value is not None and metric in latest and version == latest[metric][1]:
                    video = out.get(video_id)
                    if video is None:
                        video = out[video_id] = ScoredVideo(model_id, category, language, {})
                    video.scores[metric] = float(value)
        return out

    def values(self, videos: dict[int, ScoredVideo] | None = None) -> dict[int, dict[str, float]]:
        """pool video id -> {metric: value} (of `videos`, default: read now)."""
        videos = self.read() if videos is None else videos
        return {video_id: video.scores for video_id, video in videos.items()}

    def calibrated(self) -> bool:
        with transaction(self.factory) as session:
            flags = session.scalars(
                select(MetricScore.details).where(MetricScore.encoder == self.encoder).limit(1)
            ).all()
        return bool(flags and flags[0].get("calibrated"))

    def summary(
        self,
        category: str | None = None,
        language: str | None = None,
        videos: dict[int, ScoredVideo] | None = None,
        names: dict[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        """Per model and metric: mean, 95 % CI (t interval over videos), number of videos (of `videos`, default:
        read now; `names`: display names, default: read now)."""
        videos = self.read() if videos is None else videos
        if names is None:
            names = {m: info["display_name"] for m, info in self.leaderboard.models().items()}
        grouped: dict[tuple[str, str], list[float]] = defaultdict(list)
        for video in videos.values():
            if (category and video.category != category) or (language and video.language != language):
                continue
            for metric, value in video.scores.items():
                grouped[(video.model_id, metric)].append(value)
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

    def agreement(self, videos: dict[int, ScoredVideo] | None = None) -> list[dict[str, Any]]:
        """Per metric: pair accuracy against human votes, and Spearman ρ of model means with BT ratings (of
        `videos`, default: read now)."""
        from scipy import stats

        videos = self.read() if videos is None else videos
        values = self.values(videos)
        direction = _direction()
        snap = self.leaderboard.snapshot()
        votes = [v for v in snap.rows() if v["choice"] in ("left", "right")]
        board = {r["model_id"]: r["rating"] for r in snap.board(min_votes=0, bootstrap_rounds=0)["rows"]}
        names = {m: info["display_name"] for m, info in snap.models().items()}
        means: dict[str, dict[str, float]] = defaultdict(dict)
        for row in self.summary(videos=videos, names=names):
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
