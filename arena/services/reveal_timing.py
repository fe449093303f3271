"""When an anonymous live battle may be shown: never sooner than the slowest live model usually takes.

A typed-prompt battle is ready when its slower video is made, so the wait alone would tell a client that a slow
model is in the battle (measured: battles with a 1 s model against battles of two fast ones, every one told apart
by its wait). So the battle is held back until ``created_at`` plus the usual time, from request to video, of the
slowest model that made live videos lately (the median of its last ``HISTORY`` live battles), whoever is in it; while it
waits, its progress runs on that same clock rather than on its own jobs. A battle slower than that (a queue under
load) is shown when it is ready. Named battles show their names anyway and are never held.
"""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from arena.services.jobs import JobQueue, QueueInfo
from arena.services.views import aware
from db.models import Battle, BattleMode, BattleStatus

HISTORY = 20  # recent jobs per model the usual time is taken from
LIVE_SOURCES = ("live",)  # anonymous battles whose videos were generated for them


def usual_live_s(session: Session) -> float:
    """The slowest model's median seconds from a live battle's start to its videos being ready (queue, generation
    and the served copies), over its last ``HISTORY`` live battles (named ones too: the same way to the screen)."""
    worst = 0.0
    made = (Battle.source.in_((*LIVE_SOURCES, "named")), Battle.shown_at.is_not(None))
    models = {
        m for pair in session.execute(select(Battle.left_model_id, Battle.right_model_id).where(*made)) for m in pair
    }
    for model_id in sorted(models):
        query = (
            select(Battle.created_at, Battle.shown_at)
            .where(*made, or_(Battle.left_model_id == model_id, Battle.right_model_id == model_id))
            .order_by(Battle.created_at.desc())
            .limit(HISTORY)
        )
        spans = [(shown - start).total_seconds() for start, shown in session.execute(query) if start and shown]
        if spans:
            worst = max(worst, statistics.median(spans))
    return worst


def held_until(session: Session, battle: Battle, now: datetime) -> datetime | None:
    """When an anonymous live battle that is ready may be shown (None: show it now)."""
    if battle.mode != BattleMode.anonymous or battle.source not in LIVE_SOURCES:
        return None
    created = aware(battle.created_at)
    if created is None:
        return None
    until = created + timedelta(seconds=usual_live_s(session))
    return until if until > now else None


def clock_progress(battle: Battle, now: datetime, usual_s: float) -> float:
    """The progress a waiting anonymous live battle shows: its time on the usual clock (never 1 before shown)."""
    created = aware(battle.created_at)
    if created is None or usual_s <= 0:
        return 0.0
    return round(min(0.99, (now - created).total_seconds() / usual_s), 3)


def view_state(session: Session, battle: Battle, now: datetime) -> tuple[str, bool, QueueInfo | None]:
    """(the status a client sees, whether it gets the videos, its queue line) of ``battle`` at ``now``: an anonymous
    live battle held back reads "generating" with progress on the usual clock."""
    live = battle.mode == BattleMode.anonymous and battle.source in LIVE_SOURCES
    if battle.status == BattleStatus.generating:
        queue = JobQueue.info(session, battle.id)
        usual = usual_live_s(session) if live else 0.0
        if usual > 0:  # without a history nothing is held, so the jobs' own progress tells nothing more
            queue = QueueInfo(queue.position, clock_progress(battle, now, usual))
        return battle.status.value, False, queue
    if battle.status == BattleStatus.shown and held_until(session, battle, now) is not None:
        return BattleStatus.generating.value, False, QueueInfo(0, clock_progress(battle, now, usual_live_s(session)))
    return battle.status.value, battle.status in (BattleStatus.shown, BattleStatus.voted), None
