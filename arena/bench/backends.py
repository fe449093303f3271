"""Where a run's generations execute: in this process (``local``) or as Ray actors (``ray``).

A backend turns jobs into :class:`Outcome`s (a video, or a failure with its kind) and yields them as they
finish; the runner stores every video through the one storage function, whichever backend made it. Both
backends load each model once, run its jobs, and close it; both classify failures with :func:`attempt`.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Literal

from adapters.base import GeneratedVideo, GenerationRequest, VideoAdapter
from adapters.config import ModelCatalog
from adapters.errors import AdapterUnavailableError
from adapters.registry import Registry

FailureKind = Literal["error", "timeout", "unavailable", "skipped"]


@dataclass(frozen=True)
class Job:
    """One generation of a run: a model, a stored prompt, a seed, and the run's request."""

    model_id: str
    prompt_id: int
    language: str
    seed: int
    request: GenerationRequest


@dataclass(frozen=True)
class Outcome:
    job: Job
    video: GeneratedVideo | None = None
    kind: FailureKind | None = None  # set when video is None
    reason: str = ""


def attempt(adapter: VideoAdapter, job: Job) -> Outcome:
    """Run one job; any failure becomes an Outcome naming its kind (never an exception: Ray ships it back)."""
    try:
        return Outcome(job, adapter.generate(job.request, language=job.language))
    except AdapterUnavailableError as exc:
        return Outcome(job, kind="unavailable", reason=exc.reason)
    except Exception as exc:  # one failing generation must not stop the run
        reason = getattr(exc, "reason", None) or f"{type(exc).__name__}: {exc}"
        return Outcome(job, kind="error", reason=str(reason))


class Backend(abc.ABC):
    """Runs jobs, yielding one Outcome per job (in any order). A model that cannot run (unavailable) or that
    timed out gets ``skipped`` outcomes for its remaining jobs."""

    @abc.abstractmethod
    def run(self, catalog: ModelCatalog, jobs: Sequence[Job], timeout_s: float | None) -> Iterator[Outcome]: ...


def by_model(jobs: Sequence[Job]) -> list[tuple[str, list[Job]]]:
    """Jobs grouped by model, models in order of first appearance."""
    order = {m: i for i, m in reversed(list(enumerate(j.model_id for j in jobs)))}
    ordered = sorted(jobs, key=lambda j: order[j.model_id])
    return [(model, list(group)) for model, group in groupby(ordered, key=lambda j: j.model_id)]


def _call(adapter: VideoAdapter, job: Job, timeout_s: float | None) -> Outcome | None:
    """`attempt` with a deadline: None when it did not finish in time (its daemon thread is abandoned)."""
    if timeout_s is None:
        return attempt(adapter, job)
    box: list[Outcome] = []
    worker = threading.Thread(target=lambda: box.append(attempt(adapter, job)), daemon=True)
    worker.start()
    worker.join(timeout_s)
    return box[0] if box else None


class LocalBackend(Backend):
    """One model at a time in this process (loaded on its first job, closed after its last)."""

    def run(self, catalog: ModelCatalog, jobs: Sequence[Job], timeout_s: float | None) -> Iterator[Outcome]:
        for model_id, model_jobs in by_model(jobs):
            try:
                adapter = catalog.build(model_id)
            except Exception as exc:
                yield from skip_all(model_jobs, "unavailable", f"{type(exc).__name__}: {exc}")
                continue
            stuck = False
            try:
                for index, job in enumerate(model_jobs):
                    outcome = _call(adapter, job, timeout_s)
                    if outcome is None:
                        stuck = True
                        yield Outcome(job, kind="timeout", reason=f"no video after {timeout_s:g} s")
                        yield from skip_all(model_jobs[index + 1 :], "skipped", "the model timed out earlier")
                        break
                    yield outcome
                    if outcome.kind == "unavailable":
                        yield from skip_all(model_jobs[index + 1 :], "skipped", outcome.reason)
                        break
            finally:
                if not stuck:  # a timed-out call may still be using the adapter in its thread
                    adapter.close()


def skip_all(jobs: Sequence[Job], kind: FailureKind, reason: str) -> Iterator[Outcome]:
    """The first job gets `kind`, the others `skipped` (one cause, many jobs not run)."""
    for index, job in enumerate(jobs):
        yield Outcome(job, kind=kind if index == 0 else "skipped", reason=reason)


def backends() -> Registry[Backend]:
    """Every backend (Ray is imported only when it is used)."""
    registry: Registry[Backend] = Registry("backend", Backend)
    registry.register("local", LocalBackend)
    registry.register("ray", "arena.bench.ray_backend:RayBackend")
    return registry
