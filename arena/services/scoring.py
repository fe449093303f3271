"""Scoring stored videos with the metrics and storing :class:`MetricScore` rows: the one place scores are written.

A video counts as scored when it has a row for every (metric, metric_version, encoder) the scorer
produces, so a run stopped half-way resumes where it stopped, and a new encoder or metric version
scores everything again. Rows for metrics that could not run (not supported / unavailable) are stored
with ``value = None`` and the reason in ``details``; an ``unavailable`` row (weights missing) is retried once
the scorer finds its weights. One transaction per video.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from arena.services.media import MediaStore
from arena.settings import Settings
from db.models import MetricScore, Video
from db.session import transaction
from metrics.scorer import Scorer

log = logging.getLogger(__name__)


class ScoringService:
    def __init__(self, sessions: sessionmaker[Session], media_dir: Path, scorer: Scorer) -> None:
        self.sessions = sessions
        self.media = MediaStore(media_dir)
        self.scorer = scorer
        # The DB column is not nullable: pixel metrics (no encoder) are stored with encoder "".
        self.keys = {(m, v, e or "") for m, v, e in scorer.result_keys()}
        self.missing = scorer.missing_weights()  # metrics whose "unavailable" rows still stand

    @classmethod
    def configured(cls, sessions: sessionmaker[Session], settings: Settings) -> ScoringService:
        """Scoring with the metrics the settings name (encoder and checkpoint, DINO, RAFT): the pool's scores and
        a benchmark run's come from the same scorer."""
        scorer = Scorer(
            encoder=settings.metrics_encoder,
            checkpoint=settings.metrics_checkpoint,
            dino=settings.metrics_dino,
            raft=settings.metrics_raft,
        )
        return cls(sessions, settings.media_dir, scorer)

    def unscored_video_ids(self, run_id: str | None = None) -> list[int]:
        """Videos missing at least one of this scorer's (metric, version, encoder) rows, oldest first."""
        with self.sessions() as session:
            query = select(Video.id).order_by(Video.id)
            if run_id is not None:
                query = query.where(Video.run_id == run_id)
            ids = list(session.scalars(query))
            have: dict[int, set[tuple[str, str, str]]] = defaultdict(set)
            rows = session.execute(
                select(MetricScore.video_id, MetricScore.metric, MetricScore.metric_version, MetricScore.encoder)
            )
            for video_id, metric, version, encoder in rows:
                have[video_id].add((metric, version, encoder))
            retry = [m for m, _, _ in self.keys if m not in self.missing]  # weights present now
            stale = session.execute(
                select(MetricScore.video_id, MetricScore.metric, MetricScore.metric_version, MetricScore.encoder)
                .where(MetricScore.value.is_(None), MetricScore.metric.in_(retry))
                .where(MetricScore.details["status"].as_string() == "unavailable")
            )
            for video_id, metric, version, encoder in stale:
                have[video_id].discard((metric, version, encoder))
        return [i for i in ids if not self.keys <= have[i]]

    def score_video(self, video_id: int) -> str | None:
        """Score one video and store its rows; returns an error message (and stores nothing) on a bad file.

        A missing encoder checkpoint raises :class:`metrics.EncoderNotFound`: no video can be scored then.
        """
        with self.sessions() as session:
            video = session.get(Video, video_id)
            if video is None:
                return "no such video"
            rel, prompt, language = video.file_path, video.prompt.text, video.prompt.language
        try:
            report = self.scorer.score_file(self.media.path(rel), prompt=prompt, language=language)
        except (OSError, ValueError) as exc:  # missing or undecodable file, path outside the media folder
            return f"{rel}: {exc}"
        try:
            with transaction(self.sessions) as session:
                existing = {
                    (s.metric, s.metric_version, s.encoder): s
                    for s in session.scalars(select(MetricScore).where(MetricScore.video_id == video_id))
                }
                for r in report.results:
                    details = {**r.details, "status": r.status, "reason": r.reason, "calibrated": r.calibrated}
                    key = (r.metric, r.version, r.encoder or "")
                    row = existing.get(key)
                    if row is None:
                        session.add(
                            MetricScore(
                                video_id=video_id,
                                metric=r.metric,
                                metric_version=r.version,
                                encoder=key[2],
                                value=r.value,
                                details=details,
                            )
                        )
                    else:  # a partial earlier run: refresh it
                        row.value, row.details = r.value, details
        except IntegrityError:
            return None  # another scorer stored this video's rows at the same moment: it is scored
        return None

    def score_all(
        self, run_id: str | None = None, progress: Callable[[int, int], None] | None = None
    ) -> tuple[int, list[str]]:
        """Score every video lacking a score (of one run, or all), one at a time; returns how many were scored
        and one message per video that could not be (each also logged as a warning). ``progress(done, total)``
        is called after each video. A missing encoder checkpoint raises :class:`metrics.EncoderNotFound`."""
        todo = self.unscored_video_ids(run_id=run_id)
        failures: list[str] = []
        for done, video_id in enumerate(todo, 1):
            error = self.score_video(video_id)
            if error:
                log.warning("scoring video %s failed: %s", video_id, error)
                failures.append(f"video {video_id}: {error}")
            if progress:
                progress(done, len(todo))
        return len(todo) - len(failures), failures
