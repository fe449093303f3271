"""The battle pool as one in-memory snapshot, re-read only when the pool changes.

A pool battle start needs every (prompt, model pair) both of whose enabled models have a battle-eligible clip, the
clips of the drawn pair, their files and content hashes. None of that changes from one start to the next, so it is
read once per pool state instead of in four queries per start. Each start checks a fingerprint of everything the
snapshot is read from, in one small query (see ``PoolSnapshots.fingerprint``), and re-reads the pool when it
differs: a clip added, replaced under its id or deleted, a model enabled or disabled, or a prompt re-categorised by a
suite reload, in this process or another, is seen by the very next start here.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import Integer, String, cast, func, literal, select, union_all
from sqlalchemy.orm import Session

from arena.services.pairs import Candidate
from arena.services.pool import battle_eligible
from arena.services.suites import USER_SUITE
from db.models import Model, Prompt, Video

Fingerprint = frozenset[tuple[str, str | None, int, int]]


def _fingerprint_query() -> Any:
    """Each part read from an index: the enabled models; per prompt category its number of prompts and the sum of
    their ids (a prompt moved between categories changes two sums); the videos' number, largest id and newest
    ``created_at`` (a row deleted and inserted again under its id is the newest)."""
    zero = literal(0, Integer)
    model, prompt, video = Model.__table__.c, Prompt.__table__.c, Video.__table__.c
    models = select(literal("model", String), model.id, zero, zero).where(model.enabled.is_(True))
    categories = select(literal("category", String), prompt.category, func.count(prompt.id), func.sum(prompt.id))
    videos = select(
        literal("videos", String),
        cast(select(func.max(video.created_at)).scalar_subquery(), String),
        select(func.count(video.id)).scalar_subquery(),
        select(func.coalesce(func.max(video.id), 0)).scalar_subquery(),
    )
    return union_all(models, categories.group_by(prompt.category), videos)


# Built once (an immutable statement): built per start, it cost more than it ran.
_FINGERPRINT = _fingerprint_query()


@dataclass(frozen=True)
class Clip:
    id: int
    file_path: str  # relative to the media folder
    content_hash: str


@dataclass(frozen=True)
class PoolSnapshot:
    """The enabled models, and per (suite prompt, enabled model) its battle-eligible clips in id order."""

    enabled: tuple[str, ...]
    clips: dict[tuple[int, str], tuple[Clip, ...]]
    candidates: tuple[Candidate, ...]  # every pair of every prompt, in one order (a seeded draw replays)

    def select(
        self, prompt_id: int | None = None, models: Sequence[str] | None = None, language: str | None = None
    ) -> Sequence[Candidate]:
        """The candidates of one prompt, of the pair ``models`` and/or of a language (all, or all of a language:
        the same tuple each time, so a chooser may keep what it derived from it)."""
        if prompt_id is None and not models:
            return self.by_language.get(language, ()) if language else self.candidates
        pair = set(models) if models else None
        return [
            c
            for c in self.candidates
            if (prompt_id is None or c.prompt_id == prompt_id)
            and (pair is None or {c.model_a, c.model_b} <= pair)
            and (not language or c.language == language)
        ]

    @cached_property
    def by_language(self) -> dict[str, tuple[Candidate, ...]]:
        """The candidates of each prompt language, in the order of ``candidates``."""
        languages: dict[str, list[Candidate]] = defaultdict(list)
        for c in self.candidates:
            languages[c.language].append(c)
        return {language: tuple(found) for language, found in languages.items()}

    def clip_ids(self, model_id: str, prompt_id: int) -> list[int]:
        return [c.id for c in self.clips.get((prompt_id, model_id), ())]

    def clip(self, model_id: str, prompt_id: int, video_id: int) -> Clip:
        return next(c for c in self.clips[(prompt_id, model_id)] if c.id == video_id)


class PoolSnapshots:
    """The current :class:`PoolSnapshot` of one arena (its generation settings ``arena_key``), per process."""

    def __init__(self, arena_key: str) -> None:
        self.arena_key = arena_key
        self._lock = threading.Lock()
        self._current: tuple[Fingerprint, PoolSnapshot] | None = None

    @staticmethod
    def fingerprint(session: Session) -> Fingerprint:
        """One query (:data:`_FINGERPRINT`)."""
        return frozenset((str(k), v, int(n), int(m)) for k, v, n, m in session.execute(_FINGERPRINT))

    def get(self, session: Session) -> PoolSnapshot:
        key = self.fingerprint(session)
        with self._lock:
            if self._current is not None and self._current[0] == key:
                return self._current[1]
        snapshot = self._read(session, tuple(sorted(str(name) for kind, name, _, _ in key if kind == "model")))
        with self._lock:
            self._current = (key, snapshot)
        return snapshot

    def _read(self, session: Session, enabled: tuple[str, ...]) -> PoolSnapshot:
        query = (
            select(Video.id, Video.prompt_id, Video.model_id, Video.file_path, Video.content_hash)
            .add_columns(Prompt.category, Prompt.language)
            .join(Prompt, Prompt.id == Video.prompt_id)
            .where(Video.model_id.in_(enabled), Prompt.suite != USER_SUITE, *battle_eligible(self.arena_key))
            .order_by(Video.id)
        )
        clips: dict[tuple[int, str], list[Clip]] = defaultdict(list)
        meta: dict[int, tuple[str, str]] = {}
        for vid, pid, mid, path, digest, category, language in session.execute(query):
            clips[(pid, mid)].append(Clip(vid, path, digest))
            meta[pid] = (category, language)
        by_prompt: dict[int, list[str]] = defaultdict(list)
        for pid, mid in clips:
            by_prompt[pid].append(mid)
        candidates = []
        for pid in sorted(by_prompt):
            mids = sorted(by_prompt[pid])
            candidates += [Candidate(pid, a, b, *meta[pid]) for i, a in enumerate(mids) for b in mids[i + 1 :]]
        return PoolSnapshot(enabled, {k: tuple(v) for k, v in clips.items()}, tuple(candidates))
