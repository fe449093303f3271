"""Where video files live: content-addressed originals, and per-battle copies under random names."""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from adapters.video_io import content_hash
from arena.services.copy_times import CopyTimes
from arena.services.served import SpareCopies, served_copy

TOKEN_BYTES = 18  # 144 random bits per served file name
DEFAULT_BYTES_PER_PIXEL = 0.12  # every frame of a served copy: this many bytes per pixel (padded)


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity, which a container's cpuset narrows), not the host's."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class EncodeSlots:
    """At most ``slots`` re-encodes at once. A battle's request waiting for a slot goes before the background spares
    filler, which takes one only while no request waits: a request waits for the encodes already running at most,
    never for the filler's next one. Requests among themselves, and the filler's waits, are first come first served.
    """

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._free = slots
        self._lock = threading.Lock()
        self._requests = threading.Condition(self._lock)
        self._background = threading.Condition(self._lock)
        self._waiting = [0, 0]  # requests, background

    @property
    def waiting(self) -> tuple[int, int]:
        """How many (requests, background fills) wait for a slot now."""
        with self._lock:
            return self._waiting[0], self._waiting[1]

    @contextmanager
    def request(self) -> Iterator[None]:
        with self._lock:
            self._wait(self._requests, 0, lambda: self._free > 0)
        try:
            yield
        finally:
            self._release()

    @contextmanager
    def background(self) -> Iterator[None]:
        with self._lock:
            self._wait(self._background, 1, lambda: self._free > 0 and not self._waiting[0])
        try:
            yield
        finally:
            self._release()

    def _wait(self, condition: threading.Condition, which: int, ready: Callable[[], bool]) -> None:
        self._waiting[which] += 1
        try:
            condition.wait_for(ready)
        finally:
            self._waiting[which] -= 1
        self._free -= 1
        if self._free and not self._waiting[0]:
            self._background.notify()  # a slot left and no request waits (a wake-up may have gone to a request)

    def _release(self) -> None:
        with self._lock:
            self._free += 1
            (self._requests if self._waiting[0] else self._background).notify()


class MediaStore:
    """Originals under ``videos/<aa>/<sha256>.mp4``; served copies under ``served/<token>.mp4``, each a fresh
    re-encode (see arena.services.served); copies of pool clips prepared ahead under ``spare/<video id>/``.

    At most ``encoders`` re-encodes run at once (default: one per usable CPU), the rest wait their turn, requests
    before the spares filler (see ``EncodeSlots``): 40 request threads encoding together spent 7.5-9 ms of CPU a
    64x64x8 copy here against 4.4 ms one at a time, and with two at a time 4.7 ms (and less wall time)."""

    def __init__(
        self,
        root: Path,
        bytes_per_pixel: float = DEFAULT_BYTES_PER_PIXEL,
        encoders: int | None = None,
        spares_per_video: int = 0,
    ) -> None:
        self.root = Path(root)
        self.bytes_per_pixel = bytes_per_pixel
        self.spares = SpareCopies(self.root / "spare", bytes_per_pixel, per_video=spares_per_video)
        self.encoding = EncodeSlots(encoders or usable_cpus())
        self.copy_times = CopyTimes()  # every hand-over takes as long as the slow encodes of its size (copy_times.py)

    def save(self, data: bytes) -> tuple[str, str]:
        """Store MP4 bytes; returns (path relative to the root, sha256). Identical bytes share one file."""
        digest = content_hash(data)
        rel = Path("videos") / digest[:2] / f"{digest}.mp4"
        path = self.root / rel
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.name}.{secrets.token_hex(4)}.part")
            tmp.write_bytes(data)
            tmp.replace(path)
        return rel.as_posix(), digest

    def path(self, rel: str) -> Path:
        path = (self.root / rel).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"media path escapes the media folder: {rel!r}")
        return path

    def served_path(self, token: str) -> Path:
        if not token.replace("-", "").replace("_", "").isalnum():
            raise ValueError("bad token")
        return self.root / "served" / f"{token}.mp4"

    def prepare_served(self, rel: str, token: str, video_id: int | None = None) -> Path:
        """A copy of the original that links to nothing, under the token's name: a spare prepared ahead for
        ``video_id`` when there is one, else re-encoded now (its encode time recorded: see :meth:`hand_over_at`)."""
        target = self.served_path(token)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            source = self.path(rel)
            taken = video_id is not None and self.spares.take(video_id, target)
            if video_id is not None:  # noted once taken (or missing), so a refill counts it gone
                self.spares.used(video_id, source)
            if not taken:
                tmp = target.with_name(f"{target.name}.{secrets.token_hex(4)}.part")
                with self.encoding.request():
                    self.copy_times.encoded(
                        partial(served_copy, source, tmp, self.bytes_per_pixel, clips=self.spares.clips)
                    )
                tmp.replace(target)
        return target

    def hand_over_at(self, began: float, sizes: Iterable[int]) -> float:
        """When (a ``copy_times.clock`` reading) copies of ``sizes`` bytes, prepared one after the other from
        ``began`` on, may reach the client: no sooner than the slow encodes of those sizes (copy_times.py)."""
        return began + sum(self.copy_times.floor(size) for size in sizes)

    def fill_spares(self, videos: Iterable[tuple[int, str]], per_video: int) -> int:
        """Prepare copies until each (video id, stored file) has ``per_video`` spares; returns how many were made."""
        return self._fill(((video_id, self.path(rel)) for video_id, rel in videos), per_video)

    def refill_used(self, timeout: float) -> int:
        """Bring the clips this process's battles used since the last call back to their spares (waiting up to
        ``timeout`` seconds for one to be used): counting only those instead of every clip's copies after each
        battle (a pass over 216 clips' folders took ~8 ms of CPU here); returns how many were made."""
        return self._fill(self.spares.used_since(timeout).items(), self.spares.per_video)

    def _fill(self, clips: Iterable[tuple[int, Path]], per_video: int) -> int:
        made = 0
        for video_id, source in clips:
            while self.spares.count(video_id) < per_video:
                with self.encoding.background():
                    self.copy_times.encoded(partial(self.spares.add, video_id, source))
                made += 1
        return made

    def remove_served(self, token: str) -> bool:
        """Delete a battle's served copy (its battle was voided); False when there was none."""
        try:
            self.served_path(token).unlink()
        except FileNotFoundError:
            return False
        return True

    def prune_served(self, max_age_s: float) -> int:
        """Delete per-battle copies older than ``max_age_s`` (by then their battle is voted, void or expired);
        returns how many were removed. Originals are never touched."""
        folder = self.root / "served"
        if not folder.is_dir():
            return 0
        cutoff = time.time() - max_age_s
        removed = 0
        for path in folder.glob("*.mp4"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:  # another process pruned it first
                continue
        return removed
