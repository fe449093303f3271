"""The generation queue: one row per missing video of a live battle, shared by every app process.

Bounded: at most ``max_queued`` jobs wait in all, and one session waits for at most ``per_session`` live battles.
Fair: a free worker takes, among the jobs whose model has a free slot (``limit_for(model)`` running at most, across
all processes), the oldest job of the client with the fewest jobs running now, so one busy client cannot starve the
others. A claim is a conditional UPDATE (queued -> running while the model's running count is under its limit),
serialised per model by a row lock on Postgres and by the write lock on SQLite: two processes never run more than
the limit nor the same job twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, and_, func, or_, select, update
from sqlalchemy.orm import Session, aliased, sessionmaker

from arena.services.views import Refusal
from db.models import Battle, BattleStatus, GenerationJob, JobStatus, ModelState, utcnow
from db.session import transaction

CLAIM_SCAN = 500  # queued jobs looked at per claim (the oldest)


@dataclass(frozen=True)
class JobSpec:
    model_id: str
    prompt_id: int
    seed: int


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    battle_id: str
    model_id: str
    prompt_id: int
    seed: int


@dataclass(frozen=True)
class QueueInfo:
    """What the voter sees while a live battle waits: never which side is which."""

    position: int  # jobs ahead in the longer of the battle's lines (0: both videos are being made)
    progress: float  # the slower video's share done, 0..1 (so it tells nothing the total wait does not)


@dataclass(frozen=True)
class QueueLine:
    model_id: str
    queued: int
    running: int
    limit: int


class JobQueue:
    def __init__(
        self,
        factory: sessionmaker[Session],
        worker_id: str,
        limit_for: Callable[[str], int],
        *,
        max_queued: int = 256,
        per_session: int = 2,
    ) -> None:
        self.factory = factory
        self.worker_id = worker_id
        self.limit_for = limit_for
        self.max_queued = max_queued
        self.per_session = per_session

    # -- adding -----------------------------------------------------------------------------------------------
    def enqueue(self, session: Session, battle_id: str, owner: str, client: str, jobs: Sequence[JobSpec]) -> None:
        """Add the jobs of a new live battle (in the caller's transaction), or refuse when the queue is full or
        the ``owner`` session already waits for ``per_session`` live battles. ``client`` is the fair-share key (the
        IP hash: many sessions from one address share one turn)."""
        open_battles = session.scalar(
            select(func.count(Battle.id)).where(
                Battle.session_id == owner, Battle.status == BattleStatus.generating, Battle.id != battle_id
            )
        )
        if (open_battles or 0) >= self.per_session:
            raise Refusal(
                "busy", f"you already have {open_battles} live battles being generated; vote on those first", 429
            )
        queued = session.scalar(select(func.count(GenerationJob.id)).where(GenerationJob.status == JobStatus.queued))
        if (queued or 0) + len(jobs) > self.max_queued:
            raise Refusal(
                "queue_full", "the generation queue is full; try again in a minute or pick a suite prompt", 503
            )
        for job in jobs:
            session.add(
                GenerationJob(
                    battle_id=battle_id,
                    model_id=job.model_id,
                    prompt_id=job.prompt_id,
                    seed=job.seed,
                    client=client,
                    status=JobStatus.queued,
                    progress=0.0,
                )
            )

    # -- claiming ---------------------------------------------------------------------------------------------
    def claim(self) -> ClaimedJob | None:
        """The next job for this process (fair, within each model's limit), or None when none may run now."""
        for _ in range(8):  # lost a race for the chosen job: look again
            with transaction(self.factory) as session:
                chosen = self._choose(session)
                if chosen is None:
                    return None
                if self._take(session, chosen):
                    return chosen
        return None

    def _choose(self, session: Session) -> ClaimedJob | None:
        running: dict[str, int] = {}
        by_client: dict[str, int] = {}
        for model_id, client in session.execute(
            select(GenerationJob.model_id, GenerationJob.client).where(GenerationJob.status == JobStatus.running)
        ):
            running[model_id] = running.get(model_id, 0) + 1
            by_client[client] = by_client.get(client, 0) + 1
        waiting = session.execute(
            select(
                GenerationJob.id,
                GenerationJob.battle_id,
                GenerationJob.model_id,
                GenerationJob.prompt_id,
                GenerationJob.seed,
                GenerationJob.client,
            )
            .where(GenerationJob.status == JobStatus.queued)
            .order_by(GenerationJob.created_at, GenerationJob.id)
            .limit(CLAIM_SCAN)
        ).all()
        best: tuple[int, int] | None = None
        chosen = None
        for order, (job_id, battle_id, model_id, prompt_id, seed, client) in enumerate(waiting):
            if running.get(model_id, 0) >= self.limit_for(model_id):
                continue
            rank = (by_client.get(client, 0), order)
            if best is None or rank < best:
                best, chosen = rank, ClaimedJob(job_id, battle_id, model_id, prompt_id, seed)
        return chosen

    def _take(self, session: Session, job: ClaimedJob) -> bool:
        # Postgres: one claimer per model at a time (the count below then sees every committed claim).
        session.execute(select(ModelState.model_id).where(ModelState.model_id == job.model_id).with_for_update())
        other = aliased(GenerationJob)
        busy = (
            select(func.count(other.id))
            .where(other.model_id == job.model_id, other.status == JobStatus.running)
            .scalar_subquery()
        )
        now = utcnow()
        taken = session.execute(
            update(GenerationJob)
            .where(
                GenerationJob.id == job.id,
                GenerationJob.status == JobStatus.queued,
                busy < self.limit_for(job.model_id),
            )
            .values(status=JobStatus.running, worker_id=self.worker_id, started_at=now)
            .execution_options(synchronize_session=False)
        )
        return cast("CursorResult[Any]", taken).rowcount == 1

    # -- running and finishing --------------------------------------------------------------------------------
    def set_progress(self, job_id: int, fraction: float) -> None:
        with transaction(self.factory) as session:
            session.execute(
                update(GenerationJob)
                .where(GenerationJob.id == job_id, GenerationJob.status == JobStatus.running)
                .values(progress=fraction)
            )

    def finish(self, job_id: int, video_id: int) -> None:
        with transaction(self.factory) as session:
            session.execute(
                update(GenerationJob)
                .where(GenerationJob.id == job_id, GenerationJob.status == JobStatus.running)
                .values(status=JobStatus.done, video_id=video_id, progress=1.0, finished_at=utcnow())
            )

    def fail(self, job_id: int, error: str, public: str) -> None:
        with transaction(self.factory) as session:
            session.execute(
                update(GenerationJob)
                .where(GenerationJob.id == job_id, GenerationJob.status.in_((JobStatus.queued, JobStatus.running)))
                .values(status=JobStatus.failed, error=error[:4000], public_error=public, finished_at=utcnow())
            )

    @staticmethod
    def cancel_battle(session: Session, battle_id: str) -> None:
        """The battle is void: its waiting jobs will not run (a running one finishes; its video is kept)."""
        session.execute(
            update(GenerationJob)
            .where(GenerationJob.battle_id == battle_id, GenerationJob.status == JobStatus.queued)
            .values(status=JobStatus.cancelled, finished_at=utcnow())
        )

    @staticmethod
    def fail_orphans(session: Session, alive_workers: set[str], reason: str) -> int:
        """Jobs left running by processes that are not alive (gone, or no longer registered: a process taken as
        gone is forgotten, and one killed before it registered again leaves jobs no row names): failed (their
        battles are then voided). Such a job would otherwise hold its model's slot for good."""
        done = session.execute(
            update(GenerationJob)
            .where(GenerationJob.status == JobStatus.running, GenerationJob.worker_id.not_in(alive_workers))
            .values(status=JobStatus.failed, error=reason, public_error=reason, finished_at=utcnow())
        )
        return int(cast("CursorResult[Any]", done).rowcount or 0)

    # -- reading ----------------------------------------------------------------------------------------------
    @staticmethod
    def info(session: Session, battle_id: str) -> QueueInfo:
        jobs = session.execute(
            select(
                GenerationJob.model_id,
                GenerationJob.status,
                GenerationJob.progress,
                GenerationJob.created_at,
                GenerationJob.id,
            ).where(GenerationJob.battle_id == battle_id)
        ).all()
        position, progress = 0, 1.0
        for model_id, status, fraction, created, job_id in jobs:
            progress = min(progress, 1.0 if status == JobStatus.done else float(fraction or 0.0))
            if status == JobStatus.queued:
                ahead = session.scalar(
                    select(func.count(GenerationJob.id)).where(
                        GenerationJob.model_id == model_id,
                        GenerationJob.status == JobStatus.queued,
                        or_(
                            GenerationJob.created_at < created,
                            and_(GenerationJob.created_at == created, GenerationJob.id < job_id),
                        ),
                    )
                )
                position = max(position, int(ahead or 0) + 1)
        return QueueInfo(position=position, progress=round(progress, 3))

    def lines(self) -> list[QueueLine]:
        """Per model: jobs waiting and running now, and the model's limit (the admin's queue view)."""
        with transaction(self.factory) as session:
            counts = session.execute(
                select(GenerationJob.model_id, GenerationJob.status, func.count(GenerationJob.id))
                .where(GenerationJob.status.in_((JobStatus.queued, JobStatus.running)))
                .group_by(GenerationJob.model_id, GenerationJob.status)
            ).all()
        table: dict[str, dict[JobStatus, int]] = {}
        for model_id, status, n in counts:
            table.setdefault(model_id, {})[status] = int(n)
        return [
            QueueLine(m, c.get(JobStatus.queued, 0), c.get(JobStatus.running, 0), self.limit_for(m))
            for m, c in sorted(table.items())
        ]
