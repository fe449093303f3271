"""Group commit for votes: one thread of each app process writes its votes, as many per transaction as are waiting.

A request hands its vote to :meth:`VoteWriter.vote` (on the event loop) or :meth:`VoteWriter.vote_sync` (on a
thread) and gets its outcome only after the transaction holding it has committed, so an acknowledged vote is
stored; a crash before the commit answers nobody. While one batch is written the next gathers, so a busy arena
writes many votes per commit and a quiet one writes each at once (no waiting for company). The batch is checked
and stored by :meth:`arena.services.votes.VoteService.vote_many`: every vote keeps its own answer.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import suppress
from dataclasses import dataclass

from arena.services.views import Reveal
from arena.services.votes import Outcome, VoteRequest, VoteService

log = logging.getLogger(__name__)

MAX_BATCH = 256


@dataclass
class _Pending:
    request: VoteRequest
    settle: Callable[[Outcome], None]  # called on the writer thread with the vote's outcome
    loop: asyncio.AbstractEventLoop | None = None  # settled on this loop instead (one wake-up per batch and loop)


class VoteWriter:
    def __init__(self, votes: VoteService, max_batch: int = MAX_BATCH) -> None:
        self.votes = votes
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    async def vote(self, request: VoteRequest) -> Reveal:
        """Store the vote (or refuse it: raises the Refusal) without holding a thread while it waits."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        self._submit(_Pending(request, future.set_result, loop))
        return _unwrap(await future)

    def vote_sync(self, request: VoteRequest) -> Reveal:
        """:meth:`vote` for a caller on a thread (it blocks until the vote's batch has committed)."""
        future: Future[Outcome] = Future()
        self._submit(_Pending(request, future.set_result))
        return _unwrap(future.result())

    def close(self) -> None:
        """Write what is queued, then stop the thread."""
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is not None:
            self._queue.put(None)
            thread.join()

    def _submit(self, pending: _Pending) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("the vote writer is closed")
            if self._thread is None:  # started on first use: an arena that never takes a vote has no thread
                self._thread = threading.Thread(target=self._run, name="arena-votes", daemon=True)
                self._thread.start()
        self._queue.put(pending)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            self._write(batch)

    def _write(self, batch: list[_Pending]) -> None:
        try:
            outcomes = self.votes.vote_many([pending.request for pending in batch])
        except Exception as exc:  # (vote_many answers each vote; this is a bug, never a silent loss)
            log.exception("writing a batch of %d votes failed", len(batch))
            outcomes = [exc] * len(batch)
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[Callable[[Outcome], None], Outcome]]] = defaultdict(list)
        for pending, outcome in zip(batch, outcomes, strict=True):
            if pending.loop is None:
                pending.settle(outcome)
            else:
                by_loop[pending.loop].append((pending.settle, outcome))
        for loop, settled in by_loop.items():
            with suppress(RuntimeError):  # (a closed loop: nobody waits for these answers any more)
                loop.call_soon_threadsafe(_settle_all, settled)


def _settle_all(settled: list[tuple[Callable[[Outcome], None], Outcome]]) -> None:
    for settle, outcome in settled:
        with suppress(asyncio.InvalidStateError):  # (a request cancelled as its client left: the vote stands)
            settle(outcome)


def _unwrap(outcome: Outcome) -> Reveal:
    if isinstance(outcome, Exception):
        raise outcome
    return outcome
