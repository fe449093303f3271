"""What the admin can see and do (the admin tab and the admin API both call this; authentication is theirs):
switch models on and off, retry a model that failed to load, void battles, keep sessions or IP hashes off the
board, watch the generation queue, rate-limit refusals and suspicious sessions, export the votes, and run the
integrity check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from arena.services.admin_auth import AdminAuth
from arena.services.export import export_votes
from arena.services.jobs import JobQueue
from arena.services.limits import LimitHit, RateLimiter
from arena.services.live import void_battle
from arena.services.media import MediaStore
from arena.services.model_state import ModelStates
from arena.services.recovery import IntegrityReport, Recovery
from arena.services.suspicious import SuspiciousSession, Thresholds, suspicious_sessions
from arena.services.tallies import Tallies
from arena.services.views import Refusal, aware
from db.models import (
    Battle,
    BattleStatus,
    BoardExclusion,
    ExclusionKind,
    GenerationJob,
    JobStatus,
    Model,
    Vote,
)
from db.session import transaction


@dataclass(frozen=True)
class ModelRow:
    id: str
    display_name: str
    kind: str
    enabled: bool
    admin_enabled: bool | None  # None: as the models file says
    unavailable_reason: str | None
    failures: int
    retry_at: datetime | None
    queued: int
    running: int
    limit: int


@dataclass(frozen=True)
class Exclusion:
    kind: str
    value: str
    reason: str
    created_at: datetime
    votes: int  # stored votes it keeps off the board


@dataclass(frozen=True)
class WaitingJob:
    job_id: int
    battle_id: str
    model_id: str
    status: str
    progress: float
    client: str  # the fair-share key (an IP hash, else the session)
    waited_s: float


class AdminService:
    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        auth: AdminAuth,
        states: ModelStates,
        queue: JobQueue,
        media: MediaStore,
        tallies: Tallies,
        limiter: RateLimiter,
        recovery: Recovery,
        thresholds: Thresholds | None = None,
    ) -> None:
        self.factory = factory
        self.auth = auth
        self.states = states
        self.queue = queue
        self.media = media
        self.tallies = tallies
        self.limiter = limiter
        self.recovery = recovery
        self.thresholds = thresholds or Thresholds()

    # -- models -----------------------------------------------------------------------------------------------
    def models(self) -> list[ModelRow]:
        lines = {line.model_id: line for line in self.queue.lines()}
        with transaction(self.factory) as session:
            names = dict(session.execute(select(Model.id, Model.display_name)).all())
            kinds = dict(session.execute(select(Model.id, Model.kind)).all())
        return [
            ModelRow(
                a.model_id,
                names.get(a.model_id, a.model_id),
                kinds.get(a.model_id, "?"),
                a.enabled,
                a.admin_enabled,
                a.unavailable_reason,
                a.failures,
                a.retry_at,
                lines[a.model_id].queued if a.model_id in lines else 0,
                lines[a.model_id].running if a.model_id in lines else 0,
                self.queue.limit_for(a.model_id),
            )
            for a in self.states.all()
        ]

    def set_enabled(self, model_id: str, enabled: bool | None) -> None:
        try:
            self.states.set_enabled(model_id, enabled)
        except KeyError as exc:
            raise Refusal("unknown_model", "no such model", 404) from exc

    def retry(self, model_id: str) -> None:
        if model_id not in {r.id for r in self.models()}:
            raise Refusal("unknown_model", "no such model", 404)
        self.states.retry_now(model_id)

    # -- battles ----------------------------------------------------------------------------------------------
    def void(self, battle_id: str, reason: str) -> str:
        """Void a battle: an open one (its jobs cancelled, copies deleted), or a voted one (its vote kept, taken
        off the board). Returns the battle's status afterwards."""
        why = f"Voided by the admin: {reason.strip() or 'no reason given'}"
        tokens: tuple[str, ...] = ()
        with transaction(self.factory) as session:
            battle = session.get(Battle, battle_id, with_for_update=True)
            if battle is None:
                raise Refusal("unknown_battle", "no such battle", 404)
            if battle.status == BattleStatus.voted:
                self.tallies.withdraw(
                    session, [v for v in session.scalars(select(Vote.id).where(Vote.battle_id == battle_id))]
                )
                closed = session.execute(  # only if still voted (another admin's void: rolled back, withdraw too)
                    update(Battle)
                    .where(Battle.id == battle_id, Battle.status == BattleStatus.voted)
                    .values(status=BattleStatus.voided, status_reason=why)
                    .execution_options(synchronize_session=False)
                )
                if not getattr(closed, "rowcount", 0):
                    raise Refusal("closed", "this battle is already voided", 409)
                tokens = (battle.left_token, battle.right_token)
            elif battle.status in (BattleStatus.voided, BattleStatus.expired):
                raise Refusal("closed", f"this battle is already {battle.status.value}", 409)
        for token in tokens:
            self.media.remove_served(token)
        if not tokens and not void_battle(self.factory, self.media, battle_id, why):  # voted or closed meanwhile
            return self.void(battle_id, reason)
        return BattleStatus.voided.value

    # -- the board's exclusions -------------------------------------------------------------------------------
    @staticmethod
    def _votes_of(session: Session, kind: ExclusionKind, value: str) -> list[int]:
        column = Vote.session_id if kind == ExclusionKind.session else Vote.ip_hash
        return list(session.scalars(select(Vote.id).where(column == value)))

    def exclude(self, kind: str, value: str, reason: str = "") -> int:
        """Keep a session's or an IP hash's votes off the board (they stay stored); returns how many it has."""
        which = _kind(kind)
        with transaction(self.factory) as session:
            self.tallies.lock(session)  # first: no vote of theirs is counted between the read below and the row
            if session.scalar(
                select(BoardExclusion.id).where(BoardExclusion.kind == which, BoardExclusion.value == value)
            ):
                return len(self._votes_of(session, which, value))
            votes = self._votes_of(session, which, value)
            self.tallies.withdraw(session, votes)  # while they are still on the board
            session.add(BoardExclusion(kind=which, value=value, reason=reason.strip()[:500]))
            return len(votes)

    def include(self, kind: str, value: str) -> int:
        """Lift an exclusion: the votes count again (unless another exclusion still holds them)."""
        which = _kind(kind)
        with transaction(self.factory) as session:
            self.tallies.lock(session)
            gone = session.execute(
                delete(BoardExclusion).where(BoardExclusion.kind == which, BoardExclusion.value == value)
            )
            if not getattr(gone, "rowcount", 0):
                raise Refusal("unknown_exclusion", "no such exclusion", 404)
            votes = self._votes_of(session, which, value)
            self.tallies.restore(session, votes)
            return len(votes)

    def exclusions(self) -> list[Exclusion]:
        with transaction(self.factory) as session:
            out = []
            for row in session.scalars(select(BoardExclusion).order_by(BoardExclusion.created_at.desc())):
                column = Vote.session_id if row.kind == ExclusionKind.session else Vote.ip_hash
                votes = session.scalar(select(func.count(Vote.id)).where(column == row.value)) or 0
                out.append(Exclusion(row.kind.value, row.value, row.reason, aware(row.created_at), int(votes)))
            return out

    # -- watching ---------------------------------------------------------------------------------------------
    def waiting_jobs(self, limit: int = 200) -> list[WaitingJob]:
        from db.models import utcnow

        now = utcnow()
        with transaction(self.factory) as session:
            rows = session.scalars(
                select(GenerationJob)
                .where(GenerationJob.status.in_((JobStatus.queued, JobStatus.running)))
                .order_by(GenerationJob.created_at, GenerationJob.id)
                .limit(limit)
            )
            return [
                WaitingJob(
                    j.id,
                    j.battle_id,
                    j.model_id,
                    j.status.value,
                    round(j.progress, 3),
                    j.client[:16],
                    round((now - aware(j.created_at)).total_seconds(), 1),
                )
                for j in rows
            ]

    def rate_limit_hits(self) -> list[LimitHit]:
        return self.limiter.hits()

    def suspicious(self) -> list[SuspiciousSession]:
        with transaction(self.factory) as session:
            return suspicious_sessions(session, self.thresholds)

    def integrity(self) -> IntegrityReport:
        return self.recovery.check()

    def export(self, path: Path, *, simulated: bool = False) -> int:
        """Every voted battle (named ones too) as JSONL at ``path``; returns the rows."""
        return export_votes(self.factory, path, "jsonl", include_named=True, include_simulated=simulated)


def _kind(kind: str) -> ExclusionKind:
    try:
        return ExclusionKind(kind)
    except ValueError as exc:
        raise Refusal("invalid", "kind must be 'session' or 'ip_hash'", 422) from exc
