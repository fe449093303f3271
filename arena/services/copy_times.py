"""How long a battle's start takes to answer: the same for every clip of a size.

A copy made on the request (no spare left) costs more for a busy clip than for a still one: x264 works harder (a
256x256x16 copy of the demo's flickering model took 22 ms here, those of the other five 15 ms). A spare taken costs
almost nothing, and which clips still have spares follows how often their models are drawn. Left alone, the time a
battle start takes would name its models. So a pool battle's start answers no sooner than the slow copies of its
two sizes would take, one after the other (a served copy's size depends only on its frames and picture size, which
the client sees anyway; see arena.services.served). The JSON API waits on its event loop, out of the start's turn
and of any thread; the Gradio handler in its worker. The price is latency, not CPU or throughput.

"The slow copies" are the ``rank``-th longest of the last ``window`` encodes of that size (on request or prepared
ahead), so one stalled encode does not hold every battle for long; a start slower than that (the top ~1 % of
encodes, or the very first copies of a size) still takes its own time.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

WINDOW = 256
RANK = 3


class CopyTimes:
    """Encode durations by served-copy size, and the floor a hand-over of each size takes (see above)."""

    def __init__(
        self,
        window: int = WINDOW,
        rank: int = RANK,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.window = window
        self.rank = rank
        self.clock = clock
        self.sleep = sleep
        self._recent: dict[int, deque[float]] = {}
        self._lock = threading.Lock()

    def record(self, size: int, seconds: float) -> None:
        """One copy of ``size`` bytes took ``seconds`` to encode."""
        with self._lock:
            self._recent.setdefault(size, deque(maxlen=self.window)).append(seconds)

    def encoded(self, make: Callable[[], Path]) -> Path:
        """Run ``make`` (an encode that writes a copy and returns its path) and record how long it took."""
        began = self.clock()
        copy = make()
        self.record(copy.stat().st_size, self.clock() - began)
        return copy

    def floor(self, size: int) -> float:
        """The seconds a hand-over of a copy of ``size`` bytes takes at least: the ``rank``-th slowest recent encode
        (of fewer, the fastest; 0 before any)."""
        with self._lock:
            recent = list(self._recent.get(size, ()))
        slowest = heapq.nlargest(self.rank, recent)
        return slowest[-1] if slowest else 0.0

    def remaining(self, until: float | None) -> float:
        """Seconds from now to ``until`` (a ``clock`` reading; None: nothing to wait for), at least 0."""
        return 0.0 if until is None else max(until - self.clock(), 0.0)

    def hold(self, until: float | None) -> float:
        """Sleep until ``until`` (see :meth:`remaining`); returns the seconds slept."""
        wait = self.remaining(until)
        if wait > 0:
            self.sleep(wait)
        return wait
