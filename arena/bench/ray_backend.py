"""The Ray backend: each model runs in its own Ray actor (loaded once per worker, one GPU each when the cluster
has GPUs), as many models at once as the cluster has slots. Videos come back to the driver, which stores them
with the same code as the local backend.

Without ``address`` a local Ray is started for the run (and stopped after it) with the settings that work in
tests and small machines; with ``address`` (``ray://host:10001`` or ``auto``) the run joins an existing cluster,
whose workers must have this project installed.
"""

from __future__ import annotations

import os
import pickle
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from adapters.base import VideoAdapter
from adapters.config import ModelCatalog, ModelSpec
from arena.bench.backends import Backend, Job, Outcome, attempt, by_model, skip_all

LOCAL_OBJECT_STORE_BYTES = 256 * 1024**2
POLL_S = 0.5


def actor_options(resources: Mapping[str, float]) -> tuple[dict[str, Any], int]:
    """Resources each model's actor asks for, and how many models can run at once on `resources`."""
    gpus = int(resources.get("GPU", 0))
    if gpus >= 1:
        return {"num_gpus": 1, "num_cpus": 1}, gpus
    return {"num_cpus": 1}, max(1, int(resources.get("CPU", 1)))


class ModelWorker:
    """A Ray actor holding one model. Its kinds registry arrives pickled, so that test-only kinds can be
    imported after the driver's import path is in place."""

    def __init__(self, spec: dict[str, Any], source: str, base_dir: str, kinds: bytes, path: list[str]) -> None:
        sys.path[:0] = [p for p in path if p not in sys.path]
        catalog = ModelCatalog([ModelSpec.model_validate(spec)], source, pickle.loads(kinds), Path(base_dir))
        self.error = ""
        self.adapter: VideoAdapter | None = None
        try:
            self.adapter = catalog.build(spec["id"])
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"

    def generate(self, job: Job) -> Outcome:
        if self.adapter is None:
            return Outcome(job, kind="unavailable", reason=self.error)
        return attempt(self.adapter, job)

    def close(self) -> None:
        if self.adapter is not None:
            self.adapter.close()


class RayBackend(Backend):
    def __init__(self, address: str | None = None, num_cpus: int | None = None) -> None:
        self.address = address
        self.num_cpus = num_cpus

    def _connect(self) -> bool:
        """Connect (or start a local Ray); True when this backend started it and must stop it."""
        import ray

        self._temp_dir: str | None = None
        if ray.is_initialized():
            return False
        quiet: dict[str, Any] = {"logging_level": "ERROR", "log_to_driver": False}
        if self.address:
            ray.init(address=self.address, **quiet)
            return True
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
        self._temp_dir = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Unix sockets live there
        ray.init(
            num_cpus=self.num_cpus or os.cpu_count() or 1,
            include_dashboard=False,
            _temp_dir=self._temp_dir,
            object_store_memory=LOCAL_OBJECT_STORE_BYTES,
            **quiet,
        )
        return True

    def run(self, catalog: ModelCatalog, jobs: Sequence[Job], timeout_s: float | None) -> Iterator[Outcome]:
        import ray

        started = self._connect()
        try:
            yield from self._schedule(ray, catalog, jobs, timeout_s)
        finally:
            if started:
                ray.shutdown()
                if self._temp_dir:  # the local Ray's sockets and logs
                    shutil.rmtree(self._temp_dir, ignore_errors=True)

    def _schedule(
        self, ray: Any, catalog: ModelCatalog, jobs: Sequence[Job], timeout_s: float | None
    ) -> Iterator[Outcome]:
        options, slots = actor_options(ray.cluster_resources())
        remote = ray.remote(ModelWorker).options(**options)
        kinds = pickle.dumps(catalog.kinds)
        waiting = by_model(jobs)
        live: dict[str, tuple[Any, list[Job]]] = {}  # model -> (actor, its jobs not yet submitted)
        flying: dict[Any, tuple[str, Job, float]] = {}  # ref -> (model, job, submitted at)

        def stop(model_id: str) -> None:
            actor, _ = live.pop(model_id)
            ray.kill(actor)

        while waiting or live:
            while waiting and len(live) < slots:
                model_id, model_jobs = waiting.pop(0)
                spec = catalog.get(model_id).model_dump(mode="json")
                actor = remote.remote(spec, catalog.source, str(catalog.base_dir), kinds, list(sys.path))
                live[model_id] = (actor, list(model_jobs))
            for model_id, (actor, pending) in live.items():
                if pending and not any(m == model_id for m, _, _ in flying.values()):
                    job = pending.pop(0)
                    flying[actor.generate.remote(job)] = (model_id, job, time.monotonic())
            ready, _ = ray.wait(list(flying), num_returns=1, timeout=POLL_S)
            for ref in ready:
                model_id, job, _ = flying.pop(ref)
                try:
                    outcome: Outcome = ray.get(ref)
                except Exception as exc:  # the actor died (crash, out of memory) or could not be created
                    outcome = Outcome(job, kind="unavailable", reason=f"Ray worker failed: {type(exc).__name__}: {exc}")
                yield outcome
                if outcome.kind == "unavailable":
                    yield from skip_all(live[model_id][1], "skipped", outcome.reason)
                    live[model_id][1].clear()
                if not live[model_id][1]:
                    stop(model_id)
            if timeout_s is not None:
                now = time.monotonic()
                for ref, (model_id, job, since) in list(flying.items()):
                    if now - since > timeout_s:
                        del flying[ref]
                        yield Outcome(job, kind="timeout", reason=f"no video after {timeout_s:g} s")
                        yield from skip_all(live[model_id][1], "skipped", "the model timed out earlier")
                        stop(model_id)
