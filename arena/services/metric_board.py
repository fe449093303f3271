"""Automatic scores on the board: per-model values with 95 % CIs (pooled as each metric says: VBench's consistency
over every frame pair), VBench's view of them, and how far each metric agrees with humans.

Agreement is measured on the arena's own votes: for anonymous, non-gold battles where both videos have a
score, the share of decisive votes (ties and "both bad" excluded) where the metric prefers the video the
human preferred; and the Spearman correlation of per-model metric means with the Bradley–Terry ratings.
"""

from __future__ import annotations

import math
import warnings
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, sessionmaker
from typing_extensions import TypedDict  # not typing's: pydantic (the API's schema) needs this one below 3.12

from arena.services.leaderboard import LeaderboardService
from arena.services.suites import USER_SUITE
from db.models import MetricScore, Prompt, Video
from db.session import transaction
from metrics.board import MetricReport, MetricRowJSON, build_report, metric_poolings, summarise
from metrics.pooling import VideoScores
from metrics.vbench import VBenchView, build_view

SKIPPED = frozenset({"facts"})  # descriptive, not a quality score
ScoredVideo = VideoScores  # one pool video's values (one version per metric) and what the board groups it by


class AgreementRow(TypedDict):
    """How far one metric agrees with the human votes (None: not measurable, e.g. under 3 models in common)."""

    metric: str
    higher_is_better: bool | None
    pairs: int  # decisive votes whose two clips both have a differing value
    pair_accuracy: float | None  # share of those where the metric prefers the voted clip
    spearman_rho: float | None  # of the models' metric means against their Bradley-Terry ratings
    spearman_p: float | None
    models: int


class MetricBoardJSON(TypedDict):
    """``GET /api/metrics``: the pool's metric rows (of the filters), each metric's agreement with the votes."""

    encoder: str
    calibrated: bool
    filters: dict[str, str | None]
    rows: list[MetricRowJSON]
    agreement: list[AgreementRow]


def _direction() -> dict[str, bool | None]:
    """higher_is_better of every registered metric (class attributes only: nothing heavy is imported)."""
    from metrics.registry import build_registry

    registry = build_registry()
    return {name: registry.get(name).higher_is_better for name in registry.names()}


def _required_encoders(encoder: str) -> dict[str, str | None]:
    """metric -> the encoder its rows must carry ("" for pixel metrics, the configured CLIP for CLIP metrics), or
    None for metrics on their own model (DINO, RAFT, the aesthetic CLIP): the newest model stored is read."""
    from metrics.base import FeatureModels
    from metrics.registry import build_registry

    registry, models = build_registry(), FeatureModels(encoder)
    out: dict[str, str | None] = {}
    for name in registry.names():
        used = registry.get(name)().encoder_for(models)[0]
        out[name] = "" if used is None else used if used == encoder else None
    return out


@dataclass(frozen=True)
class BoardRead:
    """What one read of the scores gives: the videos, and per metric which (version, model) was read."""

    videos: dict[int, VideoScores]
    chosen: dict[str, tuple[str, str]]  # metric -> (metric_version, encoder)
    reasons: dict[str, str]  # metric -> why its newest rows have no value (weights missing ...)


class MetricBoardService:
    """Scores of pool videos only (suite prompts: never the typed prompts of the playground or custom battles,
    which anyone can add), one (metric_version, model) per metric: the latest stored, so a re-scored metric is never
    averaged with its older version. CLIP metrics read the configured encoder; pixel metrics have none; metrics on
    their own model (DINO, RAFT, the aesthetic CLIP) read the newest model stored.

    Each view reads the scores once: pass the :meth:`read` result to :meth:`summary`, :meth:`agreement` and
    :meth:`vbench`. Pair-pooled metrics (VBench's consistency) pool every frame pair of a model's videos.
    """

    def __init__(self, factory: sessionmaker[Session], leaderboard: LeaderboardService, encoder: str) -> None:
        self.factory = factory
        self.leaderboard = leaderboard
        self.encoder = encoder

    def _choose(self, session: Session) -> dict[str, tuple[int, str, str]]:
        """metric -> (newest row id, version, encoder) among the rows the board may read."""
        required = _required_encoders(self.encoder)
        latest: dict[str, tuple[int, str, str]] = {}
        groups = select(
            MetricScore.metric, MetricScore.metric_version, MetricScore.encoder, func.max(MetricScore.id)
        ).group_by(MetricScore.metric, MetricScore.metric_version, MetricScore.encoder)
        for metric, version, encoder, newest in session.execute(groups):
            need = required.get(metric, "")
            if metric in SKIPPED or (need is not None and encoder != need):
                continue
            if newest > latest.get(metric, (-1, "", ""))[0]:
                latest[metric] = (newest, version, encoder)
        return latest

    def read_all(self, run_id: str | None = None, video_ids: Collection[int] | None = None) -> BoardRead:
        """Pool videos (of one run, or these ids) with their values, pair counts and the reasons for no value."""
        with transaction(self.factory) as session:
            latest = self._choose(session)
            chosen = {m: (v, e) for m, (_, v, e) in latest.items()}
            if not chosen:
                return BoardRead({}, {}, {})
            picked = or_(
                *[
                    and_(MetricScore.metric == m, MetricScore.metric_version == v, MetricScore.encoder == e)
                    for m, (v, e) in chosen.items()
                ]
            )
            query = (
                select(
                    Video.id,
                    Video.model_id,
                    Video.prompt_id,
                    Prompt.category,
                    Prompt.language,
                    MetricScore.metric,
                    MetricScore.value,
                    MetricScore.details["pairs"].as_integer(),
                )
                .join(Video, Video.id == MetricScore.video_id)
                .join(Prompt, Prompt.id == Video.prompt_id)
                .where(picked, MetricScore.value.is_not(None), Prompt.suite != USER_SUITE)
            )
            if run_id is not None:
                query = query.where(Video.run_id == run_id)
            if video_ids is not None:
                query = query.where(Video.id.in_(list(video_ids)))
            out: dict[int, VideoScores] = {}
            for video_id, model_id, prompt_id, category, language, metric, value, pairs in session.execute(query):
                video = out.get(video_id)
                if video is None:
                    video = out[video_id] = VideoScores(video_id, model_id, prompt_id, category, language, {}, {})
                video.scores[metric] = float(value)
                if pairs is not None:
                    video.pairs[metric] = int(pairs)
            newest_empty = (
                select(func.max(MetricScore.id)).where(picked, MetricScore.value.is_(None)).group_by(MetricScore.metric)
            )
            reasons = {
                metric: str(reason)
                for metric, reason in session.execute(
                    select(MetricScore.metric, MetricScore.details["reason"].as_string()).where(
                        MetricScore.id.in_(newest_empty)
                    )
                )
                if reason
            }
        return BoardRead(out, chosen, reasons)

    def read(self) -> dict[int, VideoScores]:
        """pool video id -> its model, prompt, category and language, {metric: value} and pair counts."""
        return self.read_all().videos

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

    def _names(self) -> dict[str, str]:
        return {m: info["display_name"] for m, info in self.leaderboard.models().items()}

    def summary(
        self,
        category: str | None = None,
        language: str | None = None,
        videos: dict[int, VideoScores] | None = None,
        names: dict[str, str] | None = None,
    ) -> list[MetricRowJSON]:
        """Per model and metric: the pooled value ("mean": pair-pooled for VBench's consistency, the share of yes
        for dynamic degree / static filter, else the mean), its 95 % CI, videos (and frame pairs); of `videos`
        (default: read now), `names`: display names (default: read now)."""
        videos = self.read() if videos is None else videos
        names = self._names() if names is None else names
        kept = [
            v
            for v in videos.values()
            if (not category or v.category == category) and (not language or v.language == language)
        ]
        return [row.to_dict() for row in summarise(kept, names, metric_poolings())]

    def vbench(
        self,
        category: str | None = None,
        board: BoardRead | None = None,
        names: dict[str, str] | None = None,
    ) -> VBenchView:
        """VBench's dimensions per model, raw (pooled as VBench pools) and normalised as its leaderboard."""
        board = self.read_all() if board is None else board
        kept = [v for v in board.videos.values() if not category or v.category == category]
        models = {m: e for m, (_, e) in board.chosen.items()}
        return build_view(kept, self._names() if names is None else names, models, board.reasons)

    def report(self, run_id: str | None = None, video_ids: Collection[int] | None = None) -> MetricReport:
        """Metrics of these videos (a run, ids, or the whole pool): per model and per model and prompt category
        with 95 % intervals, and the VBench view. ``.to_dict()`` is JSON-ready."""
        board = self.read_all(run_id=run_id, video_ids=video_ids)
        models = {m: e for m, (_, e) in board.chosen.items()}
        videos = list(board.videos.values())
        return build_report(videos, self._names(), self.encoder, self.calibrated(), models, board.reasons)

    def agreement(self, videos: dict[int, ScoredVideo] | None = None) -> list[AgreementRow]:
        """Per metric: pair accuracy against human votes, and Spearman ρ of model means with BT ratings (of
        `videos`, default: read now)."""
        from scipy import stats

        videos = self.read() if videos is None else videos
        values = self.values(videos)
        direction = _direction()
        snap = self.leaderboard.snapshot()
        pairs = snap.audited().video_pairs()  # decisive votes grouped by the clips shown (no row per vote)
        board = {r["model_id"]: r["rating"] for r in snap.board(min_votes=0, bootstrap_rounds=0)["rows"]}
        names = {m: info["display_name"] for m, info in snap.models().items()}
        means: dict[str, dict[str, float]] = defaultdict(dict)
        for row in self.summary(videos=videos, names=names):
            means[row["metric"]][row["model_id"]] = row["mean"]
        out = []
        for metric in sorted({m for scores in values.values() for m in scores}):
            higher = direction.get(metric)
            agree = compared = 0
            if higher is not None:
                for left_id, right_id, choice, n in pairs:
                    left = values.get(left_id, {}).get(metric)
                    right = values.get(right_id, {}).get(metric)
                    if left is None or right is None or left == right:
                        continue
                    compared += n
                    agree += n * (((left > right) == higher) == (choice == "left"))
            common = sorted(set(means[metric]) & set(board))
            rho = p_value = None
            if len(common) >= 3:
                with warnings.catch_warnings():  # constant inputs give NaN, reported as None below
                    warnings.simplefilter("ignore", stats.ConstantInputWarning)
                    result = stats.spearmanr([means[metric][m] for m in common], [board[m] for m in common])
                if not math.isnan(result.statistic):
                    rho, p_value = round(float(result.statistic), 4), round(float(result.pvalue), 4)
            out.append(
                AgreementRow(
                    metric=metric,
                    higher_is_better=higher,
                    pairs=compared,
                    pair_accuracy=round(agree / compared, 4) if compared else None,
                    spearman_rho=rho,
                    spearman_p=p_value,
                    models=len(common),
                )
            )
        return out
