"""The pre-generated pool of battle videos: filling it (``arena pool``, the demo's start-up) and reporting it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from adapters.errors import AdapterUnavailableError
from arena.services.generation import GenerationService
from arena.services.pool import PoolStatusRow, pool_status
from arena.services.suites import USER_SUITE
from db.models import Model, Prompt, Video
from db.session import transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PrefillReport:
    jobs: int
    stored: int  # videos of these jobs now in the pool (generated now or before)
    failures: tuple[tuple[str, int, str], ...]  # (model, prompt id, reason)
    skipped_models: tuple[str, ...]  # models that could not run here


class PoolVideos:
    def __init__(self, factory: sessionmaker[Session], generation: GenerationService, default_seeds: int) -> None:
        self.factory = factory
        self.generation = generation
        self.default_seeds = default_seeds

    def count(self) -> int:
        """Every stored video (pool, typed, Playground and benchmark ones)."""
        with transaction(self.factory) as session:
            return int(session.scalar(select(func.count(Video.id))) or 0)

    def status(self) -> list[PoolStatusRow]:
        """Per model: battle-eligible videos and how many suite prompts they cover."""
        with transaction(self.factory) as session:
            return pool_status(session, self.generation.key)

    def fill(
        self,
        models: Iterable[str] | None = None,
        kinds: Iterable[str] = ("demo",),
        limit_prompts: int | None = None,
        seeds: int | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> PrefillReport:
        """Generate the missing pool videos of the given models (default: enabled models of cheap kinds) for
        every suite prompt and its seeds 0..seeds-1 (default ``ARENA_DEFAULT_SEED_COUNT``; each prompt has its own
        seeds, see GenerationService.pool_seed), seed 0 of every prompt first; stored ones are skipped, so a
        stopped run resumes. A model that cannot run here (weights missing, server down) is skipped after its
        first failure."""
        seeds = self.default_seeds if seeds is None else seeds
        with transaction(self.factory) as session:
            query = select(Model.id).where(Model.enabled.is_(True))
            query = query.where(Model.id.in_(list(models))) if models else query.where(Model.kind.in_(list(kinds)))
            model_ids = list(session.scalars(query.order_by(Model.id)))
            prompts = list(session.scalars(select(Prompt).where(Prompt.suite != USER_SUITE).order_by(Prompt.id)))
            prompt_seeds = {p.id: [self.generation.pool_seed(k, p) for k in range(seeds)] for p in prompts}
        prompt_ids = [p.id for p in prompts][:limit_prompts] if limit_prompts else [p.id for p in prompts]
        jobs = [(m, p, prompt_seeds[p][k]) for k in range(seeds) for p in prompt_ids for m in model_ids]
        failures: list[tuple[str, int, str]] = []
        unavailable: set[str] = set()
        stored = 0
        for done, (model_id, prompt_id, seed) in enumerate(jobs, 1):
            if model_id not in unavailable:
                try:
                    self.generation.get_or_generate(model_id, prompt_id, seed=seed)
                    stored += 1
                except AdapterUnavailableError as exc:
                    unavailable.add(model_id)
                    failures.append((model_id, prompt_id, f"unavailable, skipped: {exc.reason}"))
                except Exception as exc:  # one failing generation must not stop the others
                    log.warning("prefill: %s on prompt %s failed: %s", model_id, prompt_id, exc)
                    failures.append((model_id, prompt_id, str(exc)))
            if progress:
                progress(done, len(jobs))
        return PrefillReport(
            jobs=len(jobs), stored=stored, failures=tuple(failures), skipped_models=tuple(sorted(unavailable))
        )
