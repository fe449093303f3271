"""The tallies' facts of a batch of new votes on battles without clips (imports), from the batch's own columns.

:mod:`arena.services.tallies` counts a live vote from one SQL read of its stored facts (`vote_facts`); a batch of
imported votes would be read back the same way, a join over six tables for every vote, which was the largest
part of an import. Here the same facts come from the columns the import is writing: the count key (`COUNT_KEY`:
simulated, prompt, models, weight, weight class, clip shapes: 0, imported battles have no clips), the choice,
the prompt's language and category. :func:`on_board` is the Python twin of `tallies._on_board`; the two
must agree, which the tests check against a recount by SQL (`check_tallies`) on random imports with every
case (named battles, gold checks, pinned prompts, excluded sessions and addresses, simulated voters).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import compress, repeat
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from arena.ratings.raters import CLASS_TRUSTED
from arena.services.rater_records import Voters, chunks
from db.models import COUNT_KEY, PINNED, BattleMode, BoardExclusion, ExclusionKind, Prompt

_NO_SHAPE = (0,) * (len(COUNT_KEY) - 6)  # both clips' frames, width, height, fps: unknown
Classes = Mapping[tuple[str, str], int]  # ("session" | "ip", key) → weight class


@dataclass(frozen=True)
class NewVotes:
    """A batch of voted battles without clips, status voted, as columns in the order they are inserted."""

    modes: Sequence[str]
    sources: Sequence[str]
    is_gold: Sequence[bool]
    prompt_ids: Sequence[int]
    left_models: Sequence[str]
    right_models: Sequence[str]
    choices: Sequence[str]
    weights: Sequence[float]
    simulated: Sequence[bool]
    voters: Voters  # their sessions, IP hashes and gold-pair credits

    def facts(self, session: Session, classes: Classes) -> list[tuple[Any, ...]]:
        """One row per board vote, in order, shaped like `tallies.vote_facts(*count_keys(), choice, language,
        category)`; `classes`: the weight class of every voter of the batch after the batch."""
        if not self.prompt_ids:
            return []
        prompts = _prompts(session, set(self.prompt_ids))
        by_session = {key: c for (kind, key), c in classes.items() if kind == "session"}
        by_ip: dict[str | None, int] = {key: c for (kind, key), c in classes.items() if kind == "ip"}
        klass = [CLASS_TRUSTED] * len(self.prompt_ids)
        if any(c != CLASS_TRUSTED for c in classes.values()):  # else every vote is trusted: nothing to look up
            voters = zip(self.voters.session_ids, self.voters.ip_hashes, strict=True)
            klass = [max(by_session.get(s, CLASS_TRUSTED), by_ip.get(i, CLASS_TRUSTED)) for s, i in voters]
        language, category = zip(*(prompts[p] for p in self.prompt_ids), strict=True)
        key = (self.simulated, self.prompt_ids, self.left_models, self.right_models, self.weights, klass)
        shapes = [repeat(0, len(klass)) for _ in _NO_SHAPE]
        rows = zip(*key, *shapes, self.choices, language, category, strict=True)
        return list(compress(rows, on_board(self, _excluded(session))))


def on_board(votes: NewVotes, excluded: tuple[set[str], set[str]]) -> list[bool]:
    """Whether the board counts each vote (see `tallies._on_board`): anonymous, not a gold check, not on a pinned
    prompt, from no excluded session or IP hash (`excluded`)."""
    sessions, ips = excluded
    anonymous = BattleMode.anonymous.value
    columns = (votes.modes, votes.sources, votes.is_gold, votes.voters.session_ids, votes.voters.ip_hashes)
    return [
        mode == anonymous and not gold and source != PINNED and s not in sessions and i not in ips
        for mode, source, gold, s, i in zip(*columns, strict=True)
    ]


def _excluded(session: Session) -> tuple[set[str], set[str]]:
    """The excluded sessions and IP hashes (the admin's few)."""
    out: tuple[set[str], set[str]] = (set(), set())
    for kind, value in session.execute(select(BoardExclusion.kind, BoardExclusion.value)):
        out[0 if kind == ExclusionKind.session else 1].add(value)
    return out


def _prompts(session: Session, ids: set[int]) -> dict[int, tuple[str, str]]:
    """Prompt id → (language, category)."""
    out: dict[int, tuple[str, str]] = {}
    for chunk in chunks(sorted(ids)):
        query = select(Prompt.id, Prompt.language, Prompt.category).where(Prompt.id.in_(chunk))
        out |= {int(i): (language, category) for i, language, category in session.execute(query)}
    return out
