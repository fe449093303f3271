"""Live battles after their start: voiding (jobs cancelled, served copies deleted) and settling once their jobs end.

A live battle is shown only when both videos exist, so the moment it turns "shown" says nothing about which
model was faster; one failed job voids it with a public reason that names a side, never a model or a raw error.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from adapters.errors import (
    AdapterError,
    AdapterUnavailableError,
    GenerationTimeoutError,
    OutputContractError,
    RequestError,
)
from arena.services.generation import NAMED_RUN
from arena.services.jobs import JobQueue
from arena.services.media import MediaStore
from arena.services.open_battles import OPEN_STATUSES
from arena.services.views import Refusal
from db.models import Battle, BattleMode, BattleStatus, GenerationJob, JobStatus, Video, utcnow
from db.session import transaction

log = logging.getLogger(__name__)

_PUBLIC_FAILURE = (
    (GenerationTimeoutError, "the model took too long"),
    (AdapterUnavailableError, "the model is not available right now"),
    (OutputContractError, "the model returned an invalid video"),
    (RequestError, "the model cannot make this request"),
)


def public_failure(exc: BaseException) -> str:
    """The kind of failure a voter may be told (the raw error can name models, paths or hosts: logs only)."""
    return next((text for cls, text in _PUBLIC_FAILURE if isinstance(exc, cls)), "generation failed")


def void_reason(side: str, kind: str) -> str:
    return f"Video {side} could not be generated ({kind}), so this battle is void."


def side_of(exc: AdapterError, left: str, right: str) -> str:
    return "A" if exc.model_id == left else "B" if exc.model_id == right else "?"


def live_pair(live: Sequence[str], rng: random.Random, models: Sequence[str] | None) -> tuple[str, str]:
    """Two models for a battle generated now, among ``live`` (models that can make any prompt and are not backing
    off after a load failure; clips-only models never are): the chosen ``models``, else two at random."""
    if models:
        cannot = [m for m in models if m not in live]
        if cannot:
            raise Refusal("not_live", f"cannot generate new videos now: {', '.join(cannot)}", 409)
        return models[0], models[1]
    if len(live) < 2:
        raise Refusal("no_live_models", "fewer than two models can generate videos right now", 503)
    a, b = rng.sample(list(live), 2)
    return a, b


def void_battle(
    factory: sessionmaker[Session],
    media: MediaStore,
    battle_id: str,
    reason: str,
    only: Sequence[BattleStatus] = OPEN_STATUSES,
) -> bool:
    """Void a battle that is still in one of the ``only`` statuses: waiting jobs cancelled, served copies deleted.
    False when it was not (any more). One conditional UPDATE: a battle shown or voted meanwhile (by another thread
    or process, whose write this one may have waited for) is left as it is, never overwritten."""
    with transaction(factory) as session:
        tokens = session.execute(
            update(Battle)
            .where(Battle.id == battle_id, Battle.status.in_(only))
            .values(status=BattleStatus.voided, status_reason=reason)
            .returning(Battle.left_token, Battle.right_token)
            .execution_options(synchronize_session=False)
        ).first()
        if tokens is None:
            return False
        JobQueue.cancel_battle(session, battle_id)
    for token in tokens:
        media.remove_served(token)
    return True


class LiveBattles:
    def __init__(self, factory: sessionmaker[Session], media: MediaStore) -> None:
        self.factory = factory
        self.media = media

    def run_id(self, battle_id: str) -> str | None:
        """The run a battle's new videos are stored under: named battles keep their own, apart from the pool."""
        with transaction(self.factory) as session:
            mode = session.scalar(select(Battle.mode).where(Battle.id == battle_id))
        return NAMED_RUN if mode == BattleMode.named else None

    def settle(self, battle_id: str) -> str | None:
        """After a job of the battle ended: void it if a job failed, show it once every job is done.
        Returns the battle's status afterwards (None: unknown battle)."""
        with transaction(self.factory) as session:
            battle = session.get(Battle, battle_id)
            if battle is None:
                return None
            if battle.status != BattleStatus.generating:
                return battle.status.value
            jobs = list(session.scalars(select(GenerationJob).where(GenerationJob.battle_id == battle_id)))
            failed = next((j for j in jobs if j.status in (JobStatus.failed, JobStatus.cancelled)), None)
            pending = any(j.status in (JobStatus.queued, JobStatus.running) for j in jobs)
            reason = None
            if failed is not None:
                side = "A" if failed.model_id == battle.left_model_id else "B"
                reason = void_reason(side, failed.public_error or "generation failed")
            elif pending:
                return battle.status.value
            else:
                made = {j.model_id: j.video_id for j in jobs}
                left = battle.left_video_id or made.get(battle.left_model_id)
                right = battle.right_video_id or made.get(battle.right_model_id)
                if left is None or right is None:
                    reason = "The videos of this battle were not made; this battle is void."
                else:
                    files = {
                        t: session.get_one(Video, v).file_path
                        for t, v in ((battle.left_token, left), (battle.right_token, right))
                    }
        if reason is not None:
            void_battle(self.factory, self.media, battle_id, reason)
            return BattleStatus.voided.value
        try:  # file work outside any transaction: a write lock is never held while copying
            for token, rel in files.items():
                self.media.prepare_served(rel, token)
        except (OSError, ValueError) as exc:
            log.exception("battle %s: preparing its videos failed", battle_id)
            why = f"The videos could not be prepared ({type(exc).__name__}); this battle is void."
            void_battle(self.factory, self.media, battle_id, why)
            return BattleStatus.voided.value
        with transaction(self.factory) as session:
            session.execute(
                update(Battle)
                .where(Battle.id == battle_id, Battle.status == BattleStatus.generating)
                .values(left_video_id=left, right_video_id=right, status=BattleStatus.shown, shown_at=utcnow())
            )
            return session.get_one(Battle, battle_id).status.value
