"""`arena bench run`: every (model, prompt, seed) of a suite under one request, stored, scored, resumable.

A run's plan (suite prompts, models, seeds, request) has a key; a run of the same plan that did not finish
(killed, crashed) is resumed instead of started again, and only generations not yet stored are made. Videos
are stored with :func:`store_generation` whichever backend made them; made with the arena's own request they
join the battle pool at once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from adapters.errors import ConfigError
from arena.bench.backends import Backend, Job, Outcome, backends
from arena.bench.schema import FailureJSON, RunSummaryJSON, failure_json
from arena.services.container import Arena
from arena.services.generation import ArenaGenerationSettings, settings_key, store_generation
from arena.services.suites import sync_suite
from arena.suites import Suite, resolve_suite
from db.models import Prompt, Run, RunFailure, RunStatus, Video, utcnow
from db.session import transaction

log = logging.getLogger(__name__)

Language = Literal["en", "zh", "both"]


@dataclass(frozen=True)
class RunOptions:
    suite: str  # a built-in suite name or a prompt file
    models: Sequence[str]
    seeds: Sequence[int] = (0,)  # seed indices: the k-th seed of the arena's pool
    language: Language = "both"
    num_frames: int | None = None  # overrides of the arena's request (None: the arena's value)
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    categories: Sequence[str] = ()
    limit: int | None = None  # only the first N prompts of the suite (after the category filter)
    suite_format: str | None = None
    backend: str = "local"
    ray_address: str | None = None
    timeout_s: float | None = None
    score: bool = True


@dataclass
class Progress:
    jobs: int
    generated: int = 0
    skipped: int = 0
    failed: int = 0

    @property
    def done(self) -> int:
        return self.generated + self.skipped + self.failed


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    resumed: bool
    status: str
    jobs: int
    generated: int
    skipped: int  # already stored before this invocation
    failed: int
    scored: int
    failures: list[FailureJSON] = field(default_factory=list)
    error: str | None = None

    def to_json(self) -> RunSummaryJSON:
        return RunSummaryJSON(
            run_id=self.run_id,
            resumed=self.resumed,
            status=self.status,
            jobs=self.jobs,
            generated=self.generated,
            skipped=self.skipped,
            failed=self.failed,
            scored=self.scored,
            failures=self.failures,
            error=self.error,
        )


def _new_run_id() -> str:
    return f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


class BenchRunner:
    def __init__(self, arena: Arena, backend: Backend | None = None) -> None:
        self.arena = arena
        self.backend = backend

    # -- the plan ----------------------------------------------------------------------------------------
    def _suite(self, options: RunOptions) -> Suite:
        suite = resolve_suite(options.suite, options.suite_format)
        return suite.select(list(options.categories), options.limit)

    def _request_settings(self, options: RunOptions) -> ArenaGenerationSettings:
        base = self.arena.generation.settings
        overrides = {
            name: value
            for name in ("num_frames", "width", "height", "fps")
            if (value := getattr(options, name)) is not None
        }
        return dataclasses.replace(base, **overrides)

    def _check_models(self, models: Sequence[str]) -> list[str]:
        known = {s.id for s in self.arena.catalog.specs}
        unknown = [m for m in models if m not in known]
        if unknown or not models:
            raise ConfigError(
                f"unknown model(s): {', '.join(unknown) or '(none given)'}; known: {', '.join(sorted(known))}"
            )
        return list(dict.fromkeys(models))

    def plan(self, options: RunOptions) -> tuple[Run, list[Job], bool]:
        """The run (new, or the unfinished run of the same plan) and all of its jobs; True when resumed."""
        models = self._check_models(options.models)
        suite = self._suite(options)
        languages: list[str] = ["en", "zh"] if options.language == "both" else [options.language]
        request = self._request_settings(options)
        seeds = [self.arena.generation.pool_seed(k) for k in options.seeds]
        with transaction(self.arena.factory) as session:
            sync_suite(session, suite)
            rows = session.scalars(
                select(Prompt).where(
                    Prompt.suite == suite.suite,
                    Prompt.key.in_([p.id for p in suite.prompts]),
                    Prompt.language.in_(languages),
                )
            ).all()
        order = {p.id: i for i, p in enumerate(suite.prompts)}
        prompts = sorted(rows, key=lambda p: (order[p.key], languages.index(p.language)))
        if not prompts:
            raise ConfigError(f"suite {suite.suite!r} has no prompt in {options.language}")
        key = settings_key(request.request("-", 0))
        plan = {"suite": suite.suite, "models": models, "seeds": seeds, "prompts": [p.id for p in prompts], "key": key}
        plan_key = hashlib.sha256(json.dumps(plan, sort_keys=True).encode()).hexdigest()
        jobs = [
            Job(model_id, p.id, p.language, seed, request.request(p.text, seed))
            for model_id in models
            for p in prompts
            for seed in seeds
        ]
        with transaction(self.arena.factory) as session:
            run = session.scalars(
                select(Run)
                .where(Run.plan_key == plan_key, Run.status != RunStatus.finished)
                .order_by(Run.created_at.desc())
            ).first()
            resumed = run is not None
            if run is None:
                run = Run(
                    id=_new_run_id(),
                    plan_key=plan_key,
                    suite=suite.suite,
                    language=options.language,
                    models=models,
                    seeds=seeds,
                    prompt_ids=[p.id for p in prompts],
                    settings=request.request("-", 0).model_dump(mode="json", exclude={"prompt", "seed"}),
                    settings_key=key,
                    backend=options.backend,
                    status=RunStatus.running,
                    counts={"jobs": len(jobs)},
                    config={"seed_indices": list(options.seeds), "suite_ref": options.suite},
                )
                session.add(run)
            else:  # a fresh attempt: earlier failures are retried and recorded again if they recur
                for failure in run.failures:
                    session.delete(failure)
                run.status, run.backend = RunStatus.running, options.backend
        return run, jobs, resumed

    # -- running -----------------------------------------------------------------------------------------
    def _stored(self, run: Run) -> set[tuple[str, int, int]]:
        with transaction(self.arena.factory) as session:
            query = select(Video.model_id, Video.prompt_id, Video.seed).where(
                Video.settings_key == run.settings_key,
                Video.model_id.in_(run.models),
                Video.prompt_id.in_(run.prompt_ids),
                Video.seed.in_(run.seeds),
            )
            return {(m, p, s) for m, p, s in session.execute(query)}

    def _record(self, run_id: str, outcome: Outcome, progress: Progress) -> None:
        """Store a video (or a failure) and the run's counts in one transaction."""
        job = outcome.job
        with transaction(self.arena.factory) as session:
            if outcome.video is not None:
                try:
                    with session.begin_nested():
                        store_generation(
                            session,
                            self.arena.media,
                            model_id=job.model_id,
                            prompt_id=job.prompt_id,
                            request=job.request,
                            video=outcome.video,
                            run_id=run_id,
                        )
                    progress.generated += 1
                except IntegrityError:  # another process stored this generation meanwhile
                    progress.skipped += 1
            else:
                progress.failed += 1
                if outcome.kind != "skipped":  # one row per cause; skipped jobs are counted, not listed
                    session.add(
                        RunFailure(
                            run_id=run_id,
                            model_id=job.model_id,
                            prompt_id=job.prompt_id,
                            seed=job.seed,
                            kind=outcome.kind or "error",
                            reason=outcome.reason[:4000],
                        )
                    )
            run = session.get_one(Run, run_id)
            run.counts = {**run.counts, "generated": run.counts.get("generated", 0) + (outcome.video is not None)}

    def run(self, options: RunOptions, progress: Callable[[Progress], None] | None = None) -> RunSummary:
        run, jobs, resumed = self.plan(options)
        stored = self._stored(run)
        todo = [j for j in jobs if (j.model_id, j.prompt_id, j.seed) not in stored]
        state = Progress(jobs=len(jobs), skipped=len(jobs) - len(todo))
        if progress:
            progress(state)
        backend = self.backend or self._backend(options)
        for outcome in backend.run(self.arena.catalog, todo, options.timeout_s):
            self._record(run.id, outcome, state)
            if progress:
                progress(state)
        scored, status, error = 0, RunStatus.finished, None
        if options.score:
            try:
                scored = self._score(run.id)
            except FileNotFoundError as exc:  # the metrics encoder's weights are missing: nothing can be scored
                status, error = RunStatus.failed, f"scoring failed: {exc}"
        with transaction(self.arena.factory) as session:
            row = session.get_one(Run, run.id)
            failures = [failure_json(f) for f in row.failures]
            row.counts = {
                **row.counts,
                "jobs": len(jobs),
                "stored": len(self._stored(row)),
                "failed": state.failed,
            }
            row.config = {**row.config, "snapped": self._snapped(session, row), "error": error}
            row.status = status
            row.finished_at = utcnow() if status == RunStatus.finished else None
        return RunSummary(
            run_id=run.id,
            resumed=resumed,
            status=status.value,
            jobs=len(jobs),
            generated=state.generated,
            skipped=state.skipped,
            failed=state.failed,
            scored=scored,
            failures=failures,
            error=error,
        )

    def _backend(self, options: RunOptions) -> Backend:
        cls = backends().get(options.backend)
        if options.backend == "ray":
            return cls(address=options.ray_address)  # type: ignore[call-arg]
        return cls()

    @staticmethod
    def _snapped(session: Session, run: Run) -> dict[str, dict[str, list[object]]]:
        """Per model: the request values its rules changed (asked, used), as recorded in its videos."""
        query = select(Video.model_id, Video.provenance).where(
            Video.settings_key == run.settings_key, Video.model_id.in_(run.models), Video.prompt_id.in_(run.prompt_ids)
        )
        snapped: dict[str, dict[str, list[object]]] = {}
        for model_id, provenance in session.execute(query):
            snapped.setdefault(model_id, {}).update(provenance.get("adjustments") or {})
        return snapped

    def _score(self, run_id: str) -> int:
        """Score the run's unscored videos with the arena's metrics (encoder, DINO and RAFT as configured)."""
        from arena.bench.results import run_video_ids
        from arena.services.scoring import ScoringService

        service = ScoringService.configured(self.arena.factory, self.arena.settings)
        wanted = set(run_video_ids(self.arena.factory, run_id))
        todo = [v for v in service.unscored_video_ids() if v in wanted]
        errors = [e for e in (service.score_video(v) for v in todo) if e]
        for error in errors:
            log.warning("run %s: scoring failed: %s", run_id, error)
        return len(todo) - len(errors)
