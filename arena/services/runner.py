"""This process's generation workers: threads that claim jobs from the shared queue and run them, and a
housekeeping thread that beats the process's heartbeat and sweeps up after crashed processes.

Nothing here holds a request: a typed-prompt battle is queued by its request and made here, so health checks,
media and votes never wait behind a generation.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from adapters.base import ProgressCallback
from adapters.errors import AdapterError
from arena.services.generation import GenerationService
from arena.services.jobs import ClaimedJob, JobQueue
from arena.services.live import LiveBattles, public_failure
from arena.services.processes import ProcessRegistry

log = logging.getLogger(__name__)


class JobRunner:
    def __init__(
        self,
        queue: JobQueue,
        generation: GenerationService,
        live: LiveBattles,
        registry: ProcessRegistry,
        sweep: Callable[[bool], object],
        *,
        threads: int = 2,
        poll_s: float = 0.5,
        heartbeat_s: float = 5.0,
        sweep_s: float = 30.0,
        progress_every_s: float = 0.5,
    ) -> None:
        self.queue = queue
        self.generation = generation
        self.live = live
        self.registry = registry
        self.sweep = sweep
        self.threads = threads
        self.poll_s = poll_s
        self.heartbeat_s = heartbeat_s
        self.sweep_s = sweep_s
        self.progress_every_s = progress_every_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []

    # -- lifecycle --------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Register this process, sweep once (a restart cleans up at once), then start the threads."""
        if self._workers:
            return
        self.registry.register()
        self._sweep(starting=True)
        for i in range(self.threads):
            self._spawn(self._work, f"arena-generate-{i}")
        self._spawn(self._housekeeping, "arena-housekeeping")

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._workers.append(thread)

    def wake(self) -> None:
        """A job was queued in this process: look now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout_s: float = 10.0) -> None:
        if not self._workers:
            return
        self._stop.set()
        self._wake.set()
        deadline = time.monotonic() + timeout_s
        for thread in self._workers:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._workers.clear()
        try:
            self.registry.unregister()
        except Exception:  # the database may already be gone at shutdown
            log.exception("unregistering this process failed")

    # -- the loops --------------------------------------------------------------------------------------------
    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                ran = self.run_one()
            except Exception:  # a database hiccup must not kill the worker
                log.exception("generation worker: claiming a job failed")
                ran = False
            if not ran:
                self._wake.wait(self.poll_s)
                self._wake.clear()

    def _housekeeping(self) -> None:
        next_sweep = time.monotonic() + self.sweep_s
        while not self._stop.wait(self.heartbeat_s):
            try:
                self.registry.beat()
            except Exception:
                log.exception("heartbeat failed")
            if time.monotonic() >= next_sweep:
                next_sweep = time.monotonic() + self.sweep_s
                self._sweep()

    def _sweep(self, starting: bool = False) -> None:
        try:
            self.sweep(starting)
        except Exception:
            log.exception("crash sweep failed")

    # -- one job ----------------------------------------------------------------------------------------------
    def run_one(self) -> bool:
        """Claim and run one job in the calling thread; False when none may run now."""
        job = self.queue.claim()
        if job is None:
            return False
        self._run(job)
        return True

    def drain(self, timeout_s: float = 60.0) -> int:
        """Run jobs in the calling thread until none is left that may run (tests, scripts); returns how many."""
        done, deadline = 0, time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.run_one():
            done += 1
        return done

    def _progress(self, job: ClaimedJob) -> ProgressCallback:
        last = [0.0]

        def report(fraction: float) -> None:
            now = time.monotonic()
            if fraction >= 1.0 or now - last[0] >= self.progress_every_s:
                last[0] = now
                self.queue.set_progress(job.id, fraction)

        return report

    def _run(self, job: ClaimedJob) -> None:
        try:
            video_id = self.generation.get_or_generate(
                job.model_id,
                job.prompt_id,
                job.seed,
                progress=self._progress(job),
                run_id=self.live.run_id(job.battle_id),
            )
        except AdapterError as exc:
            log.warning("job %s (%s) failed: %s", job.id, job.model_id, exc)
            self.queue.fail(job.id, str(exc), public_failure(exc))
        except Exception as exc:
            log.exception("job %s (%s) failed", job.id, job.model_id)
            self.queue.fail(job.id, f"{type(exc).__name__}: {exc}", public_failure(exc))
        else:
            self.queue.finish(job.id, video_id)
        self.live.settle(job.battle_id)
