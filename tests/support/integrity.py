"""After a fuzz run: nothing half-written. Every battle settled, every vote once, every void with a reason, every
stored video's file present, no served copy of a battle that cannot be shown."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from arena.services.container import Arena
from db.models import Battle, BattleStatus, Video, Vote
from db.session import transaction


def wait_settled(arena: Arena, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        with transaction(arena.factory) as session:
            busy = session.scalar(
                select(func.count(Battle.id)).where(Battle.status.in_([BattleStatus.generating, BattleStatus.created]))
            )
        if not busy:
            return
        assert time.monotonic() < deadline, f"{busy} battles still generating after {timeout_s} s"
        time.sleep(0.1)


def check_integrity(arena: Arena) -> dict[str, int]:
    """Assert the invariants; returns battle counts by status."""
    wait_settled(arena)
    with transaction(arena.factory) as session:
        battles = list(session.execute(select(Battle.id, Battle.status, Battle.status_reason)))
        votes = dict(session.execute(select(Vote.battle_id, func.count(Vote.id)).group_by(Vote.battle_id)).all())
        files = list(session.scalars(select(Video.file_path)))
        tokens = {
            (t, s)
            for a, b, s in session.execute(select(Battle.left_token, Battle.right_token, Battle.status))
            for t in (a, b)
        }
    by_status: dict[str, int] = {}
    for battle_id, status, reason in battles:
        by_status[status.value] = by_status.get(status.value, 0) + 1
        assert votes.get(battle_id, 0) == (1 if status == BattleStatus.voted else 0), (battle_id, status)
        if status == BattleStatus.voided:
            assert reason, f"battle {battle_id} voided without a reason"
    assert all(n == 1 for n in votes.values())
    for rel in files:
        assert arena.media.path(rel).is_file(), f"a stored video's file is missing: {rel}"
    for token, status in tokens:
        if status == BattleStatus.voided:
            assert not arena.media.served_path(token).exists(), "a voided battle's copy is still served"
    return by_status
