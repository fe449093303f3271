"""The one rule of which stored videos a battle may serve, which of them a client gets, and the pool's coverage."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any, TypedDict

from sqlalchemy import ColumnElement, bindparam, func, or_, select
from sqlalchemy.orm import Session

from arena.services.generation import NAMED_RUNS
from arena.services.suites import USER_SUITE
from db.models import Battle, BattleMode, Model, Prompt, Video


def battle_eligible(arena_key: str) -> tuple[ColumnElement[bool], ...]:
    """Conditions on a Video for a battle to serve it: made with the arena's own request (`arena_key`, its
    settings_key), never a Playground or a named-battle video (named battles take typed prompts and their own
    generations). (Battles of suite prompts also need a suite prompt.)"""
    return (Video.settings_key == arena_key, or_(Video.run_id.is_(None), Video.run_id.not_in(NAMED_RUNS)))


def _revealed_query(*who: ColumnElement[bool]) -> Any:
    t = Battle.__table__.c
    reveals = (t.prompt_id == bindparam("prompt"), t.mode == BattleMode.anonymous, t.revealed_at.is_not(None))
    query = select(t.left_video_id, t.right_video_id, func.count()).where(or_(*who), *reveals)
    return query.group_by(t.left_video_id, t.right_video_id)  # counted per pair of clips in SQL, not per battle


# Built once (immutable statements, values bound per call): built per start they cost more than they ran.
_REVEALED_TO_SESSION = _revealed_query(Battle.__table__.c.session_id == bindparam("sid"))
_REVEALED_TO_CLIENT = _revealed_query(
    Battle.__table__.c.session_id == bindparam("sid"), Battle.__table__.c.ip_hash == bindparam("ip")
)


def revealed_to(session: Session, prompt_id: int, session_id: str, ip_hash: str | None) -> Counter[int]:
    """How often each clip of the prompt was revealed (named) to this session or this IP hash."""
    query = _REVEALED_TO_SESSION if ip_hash is None else _REVEALED_TO_CLIENT
    seen: Counter[int] = Counter()
    for left, right, times in session.execute(query, {"prompt": prompt_id, "sid": session_id, "ip": ip_hash}):
        for video_id in (left, right):
            if video_id is not None:
                seen[video_id] += times
    return seen


def pick_clip(ids: list[int], revealed: Counter[int], rng: random.Random) -> int | None:
    """One of a model's clips for a battle: at random among those revealed least often to this client (clips it
    never saw named first), so a client's map of revealed clips names none of its battles while others remain."""
    if not ids:
        return None
    fewest = min(revealed[i] for i in ids)
    return rng.choice(sorted(i for i in ids if revealed[i] == fewest))


class PoolStatusRow(TypedDict):
    """A model's battle-eligible videos and how many of the ``suite_prompts`` they cover."""

    model: str
    kind: str
    enabled: bool
    videos: int
    prompts: int
    suite_prompts: int


def pool_status(session: Session, arena_key: str) -> list[PoolStatusRow]:
    """Per model: battle-eligible videos and how many of the suite prompts they cover (typed, Playground and
    benchmark videos of other settings are not counted, so coverage never exceeds 100 %)."""
    total = int(session.scalar(select(func.count(Prompt.id)).where(Prompt.suite != USER_SUITE)) or 0)
    eligible = (
        select(Video.model_id, func.count(Video.id).label("videos"), func.count(Video.prompt_id.distinct()).label("n"))
        .join(Prompt, Prompt.id == Video.prompt_id)
        .where(Prompt.suite != USER_SUITE, *battle_eligible(arena_key))
        .group_by(Video.model_id)
        .subquery()
    )
    query = (
        select(Model.id, Model.kind, Model.enabled, eligible.c.videos, eligible.c.n)
        .outerjoin(eligible, eligible.c.model_id == Model.id)
        .order_by(Model.id)
    )
    return [
        PoolStatusRow(model=m, kind=k, enabled=e, videos=n or 0, prompts=p or 0, suite_prompts=total)
        for m, k, e, n, p in session.execute(query)
    ]
