"""The prompts where the in-house model loses most, with one lost battle of each to show both clips side by side.

The counts come from the board's rows (arena.services.verdicts.prompt_losses); this module only looks up the
prompts' texts and an example battle per prompt. Clip URLs are signed (arena.services.clips) and given only when
the arena shows named clips (`settings.leaderboard_clips`): a named pool clip would let a voter recognise it in
a later battle, so a public arena keeps them off.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from arena.services.clips import ClipSigner
from arena.services.leaderboard import VoteSnapshot
from db.models import PINNED, Battle, BattleMode, BattleStatus, Prompt, Vote, VoteChoice
from db.session import transaction


def prompt_texts(factory: sessionmaker[Session], ids: Sequence[str | int]) -> dict[str, str]:
    """Prompt id (as text) → prompt text, for the ids given."""
    wanted = {int(i) for i in ids if str(i).isdigit()}
    if not wanted:
        return {}
    with transaction(factory) as session:
        rows = session.execute(select(Prompt.id, Prompt.text).where(Prompt.id.in_(wanted)))
        return {str(pid): text for pid, text in rows}


@dataclass(frozen=True)
class LosingPrompt:
    prompt_id: str
    prompt: str
    wins: int
    losses: int
    ties: int
    rival: str | None  # the winner of the example battle
    in_house_clip: str | None  # signed URLs, only when the arena shows named clips
    rival_clip: str | None


def _lost_battle(session: Session, prompt_id: int, model: str) -> tuple[str, int | None, int | None] | None:
    """(rival, in-house video id, rival video id) of the latest anonymous battle `model` lost on the prompt."""
    query = (
        select(Battle.left_model_id, Battle.right_model_id, Battle.left_video_id, Battle.right_video_id, Vote.choice)
        .join(Vote, Vote.battle_id == Battle.id)
        .where(
            Battle.prompt_id == prompt_id,
            Battle.status == BattleStatus.voted,
            Battle.mode == BattleMode.anonymous,
            Battle.is_gold.is_(False),
            Battle.source != PINNED,
            ((Battle.left_model_id == model) & (Vote.choice == VoteChoice.right))
            | ((Battle.right_model_id == model) & (Vote.choice == VoteChoice.left)),
        )
        .order_by(Vote.created_at.desc(), Vote.id.desc())
        .limit(1)
    )
    row = session.execute(query).first()
    if row is None:
        return None
    left, right, left_video, right_video, _ = row
    return (right, left_video, right_video) if left == model else (left, right_video, left_video)


def losing_prompts(
    factory: sessionmaker[Session],
    snap: VoteSnapshot,
    clips: ClipSigner,
    model: str,
    language: str | None = None,
    category: str | None = None,
    limit: int = 5,
) -> list[LosingPrompt]:
    """The prompts `model` lost most on (board rows, filtered), each with a recent lost battle's clips."""
    losses = snap.prompt_losses(model, language, category, limit)
    texts = prompt_texts(factory, [p.prompt_id for p in losses])
    show = snap.settings.leaderboard_clips
    out = []
    with transaction(factory) as session:
        for p in losses:
            example = _lost_battle(session, int(p.prompt_id), model) if p.prompt_id.isdigit() else None
            rival, mine, theirs = example or (None, None, None)
            out.append(
                LosingPrompt(
                    p.prompt_id,
                    texts.get(p.prompt_id, ""),
                    p.wins,
                    p.losses,
                    p.ties,
                    rival,
                    clips.url(mine) if show and mine is not None else None,
                    clips.url(theirs) if show and theirs is not None else None,
                )
            )
    return out
