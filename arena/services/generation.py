"""Generating videos and storing them with full provenance; the one place generations are written.

Generations are keyed by (model, prompt, seed, settings) so that asking twice reuses the stored video,
and a benchmark run (or a Ray task calling :func:`store_generation`) can resume where it stopped.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from adapters.base import MAX_SEED, GeneratedVideo, GenerationRequest, ProgressCallback, VideoAdapter
from adapters.config import ModelCatalog
from adapters.errors import AdapterUnavailableError, GenerationTimeoutError
from adapters.video_io import encode_mp4
from arena.services.media import MediaStore
from arena.services.model_state import ModelStates
from db.models import Prompt, Video
from db.session import transaction


@dataclass(frozen=True)
class ArenaGenerationSettings:
    """The identical settings every model gets in the arena (each adapter snaps them to its rules)."""

    num_frames: int = 16
    width: int = 256
    height: int = 256
    fps: float = 8.0  # one playback rate for every model: a family's own default rate would give it away
    steps: int | None = None
    guidance: float | None = None

    def request(self, prompt: str, seed: int) -> GenerationRequest:
        return GenerationRequest(
            prompt=prompt,
            seed=seed,
            num_frames=self.num_frames,
            width=self.width,
            height=self.height,
            fps=self.fps,
            steps=self.steps,
            guidance=self.guidance,
        )


PLAYGROUND_RUN = "playground"  # run id of Playground videos: never served in a battle
NAMED_RUN = "named"  # run id of named-battle videos: never in an anonymous battle
NAMED_RUNS = (PLAYGROUND_RUN, NAMED_RUN)  # videos shown with their model's name: kept apart from the pool


def settings_key(request: GenerationRequest) -> str:
    """Hash of everything in a request except the prompt and the seed."""
    payload = request.model_dump(exclude={"prompt", "seed"}, mode="json")
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]


def frames_hash(frames: np.ndarray) -> str:
    """sha256 of uint8 frames (F, H, W, 3) and their shape: equal exactly when two generations drew the same."""
    digest = hashlib.sha256(str(tuple(frames.shape)).encode())
    digest.update(memoryview(frames.tobytes()))
    return digest.hexdigest()


def find_generation(session: Session, model_id: str, prompt_id: int, seed: int, key: str) -> Video | None:
    return session.scalar(
        select(Video).where(
            Video.model_id == model_id,
            Video.prompt_id == prompt_id,
            Video.seed == seed,
            Video.settings_key == key,
        )
    )


def store_generation(
    session: Session,
    media: MediaStore,
    *,
    model_id: str,
    prompt_id: int,
    request: GenerationRequest,
    video: GeneratedVideo,
    run_id: str | None = None,
) -> Video:
    """Encode, store the file and insert the Video row (idempotent on the generation key)."""
    rel, digest = media.save(encode_mp4(video.frames, video.fps))
    key = settings_key(request)
    seed = request.seed if request.seed is not None else video.seed
    existing = find_generation(session, model_id, prompt_id, seed, key)
    if existing is not None:
        return existing
    row = Video(
        model_id=model_id,
        prompt_id=prompt_id,
        seed=seed,
        settings_key=key,
        request=request.model_dump(mode="json"),
        # The frames' own hash: the MP4 bytes (content_hash) of the same frames can differ between encodes.
        provenance=video.provenance.model_dump(mode="json") | {"frames_sha256": frames_hash(video.frames)},
        content_hash=digest,
        file_path=rel,
        num_frames=video.num_frames,
        width=video.size[0],
        height=video.size[1],
        fps=video.fps,
        latency_s=video.provenance.latency_s,
        run_id=run_id,
    )
    session.add(row)
    session.flush()
    return row


class AdapterPool:
    """Loaded adapters of this process, each behind its own concurrency limit (``max_concurrency``). A generation
    that gives no video within ``timeout_s`` fails (its thread runs on and frees the model's slot when it ends)."""

    def __init__(self, catalog: ModelCatalog, timeout_s: float | None = None) -> None:
        self.catalog = catalog
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        self._adapters: dict[str, VideoAdapter] = {}
        self._limits: dict[str, threading.BoundedSemaphore] = {}
        self._max: dict[str, int] = {}
        self._max_failed: dict[str, float] = {}  # model -> when its adapter last could not be built
        self._waiting: dict[str, int] = {}

    def get(self, model_id: str) -> tuple[VideoAdapter, threading.BoundedSemaphore]:
        with self._lock:
            if model_id in self._adapters:
                return self._adapters[model_id], self._limits[model_id]
        # Outside the lock: capabilities() may ask a server, and a failure here must leave nothing half-stored.
        adapter = self.catalog.build(model_id)
        limit = threading.BoundedSemaphore(max(1, adapter.capabilities().max_concurrency))
        with self._lock:
            kept = self._adapters.setdefault(model_id, adapter)  # another thread may have built it meanwhile
            self._limits.setdefault(model_id, limit)
            limit = self._limits[model_id]
        if kept is not adapter:
            adapter.close()
        return kept, limit

    def max_concurrency(self, model_id: str, retry_after_s: float = 60.0) -> int:
        """The model's own limit on generations at once (its capabilities); 1 while its adapter cannot be built
        (asked again after ``retry_after_s``: a server that is down is not asked on every call)."""
        with self._lock:
            if model_id in self._max:
                return self._max[model_id]
            if time.monotonic() - self._max_failed.get(model_id, -retry_after_s) < retry_after_s:
                return 1
        try:
            adapter, _ = self.get(model_id)
            limit = max(1, adapter.capabilities().max_concurrency)
        except Exception:
            with self._lock:
                self._max_failed[model_id] = time.monotonic()
            return 1
        with self._lock:
            self._max[model_id] = limit
        return limit

    def waiting(self, model_id: str) -> int:
        """How many generations of this model wait for a free slot in this process."""
        with self._lock:
            return self._waiting.get(model_id, 0)

    def run(
        self,
        model_id: str,
        request: GenerationRequest,
        language: str | None,
        progress: ProgressCallback | None = None,
    ) -> GeneratedVideo:
        adapter, limit = self.get(model_id)
        deadline = None if self.timeout_s is None else time.monotonic() + self.timeout_s
        with self._lock:
            self._waiting[model_id] = self._waiting.get(model_id, 0) + 1
        try:
            acquired = limit.acquire(timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))
        finally:
            with self._lock:
                self._waiting[model_id] -= 1
        if not acquired:
            raise GenerationTimeoutError(model_id, f"no free slot within {self.timeout_s:g} s (earlier ones hang)")
        if deadline is None:
            try:
                return adapter.generate(request, language=language, progress=progress)
            finally:
                limit.release()
        return self._run_with_deadline(adapter, limit, request, language, progress, deadline)

    def _run_with_deadline(
        self,
        adapter: VideoAdapter,
        limit: threading.BoundedSemaphore,
        request: GenerationRequest,
        language: str | None,
        progress: ProgressCallback | None,
        deadline: float,
    ) -> GeneratedVideo:
        result: list[GeneratedVideo] = []
        errors: list[BaseException] = []
        done = threading.Event()

        def work() -> None:
            try:
                result.append(adapter.generate(request, language=language, progress=progress))
            except BaseException as exc:  # handed to the caller below
                errors.append(exc)
            finally:
                limit.release()
                done.set()

        threading.Thread(target=work, name=f"generate-{adapter.model_id}", daemon=True).start()
        if not done.wait(max(0.0, deadline - time.monotonic())):
            raise GenerationTimeoutError(
                adapter.model_id, f"no video within {self.timeout_s:g} s (it hangs or is slow)"
            )
        if errors:
            raise errors[0]
        return result[0]

    def close(self) -> None:
        with self._lock:
            for adapter in self._adapters.values():
                adapter.close()
            self._adapters.clear()


class GenerationService:
    def __init__(
        self,
        factory: sessionmaker[Session],
        media: MediaStore,
        pool: AdapterPool,
        settings: ArenaGenerationSettings,
        secret: str = "",
        states: ModelStates | None = None,
    ) -> None:
        self.factory = factory
        self.states = states or ModelStates(factory)
        self.media = media
        self.pool = pool
        self.settings = settings
        self._seed_key = hashlib.sha256(f"seeds:{secret}".encode()).digest()
        self.key = settings_key(settings.request("-", 0))  # the arena's settings: every battle video has it

    def pool_seed(self, k: int, prompt: Prompt | None = None) -> int:
        """The k-th seed of ``prompt``'s pool clips: fixed for this arena (so fills resume) but derived from the
        server secret (an HMAC of the prompt's suite, key, language and k), so nobody can regenerate a pool clip in
        the Playground, and one seed found would give one prompt's k-th clips, not the pool. Spans every seed the
        adapters accept. Without a prompt: the k-th seed shared by all prompts (benchmark runs, which pair runs
        on the same seeds)."""
        if prompt is None:  # unchanged, so benchmark runs made before keep their seeds
            digest = hmac.new(self._seed_key, str(k).encode(), hashlib.sha256).digest()
            return int.from_bytes(digest[:4], "big") % (2**31 - 1)
        name = f"{prompt.suite}\x1f{prompt.key}\x1f{prompt.language}\x1f{k}"
        digest = hmac.new(self._seed_key, name.encode(), hashlib.sha256).digest()
        return int.from_bytes(digest[:8], "big") % (MAX_SEED + 1)

    def get_or_generate(
        self,
        model_id: str,
        prompt_id: int,
        seed: int = 0,
        progress: ProgressCallback | None = None,
        run_id: str | None = None,
    ) -> int:
        """The id of the video of (model, prompt, seed, arena settings), generating it if needed.

        A model that cannot load is marked unavailable and not tried again until its back-off has passed (the
        error says so); a success clears the mark."""
        with transaction(self.factory) as session:
            prompt = session.get(Prompt, prompt_id)
            if prompt is None:
                raise KeyError(f"no prompt {prompt_id}")
            text, language = prompt.text, prompt.language
        request = self.settings.request(text, seed)
        key = settings_key(request)
        with transaction(self.factory) as session:
            existing = find_generation(session, model_id, prompt_id, seed, key)
            if existing is not None:
                return existing.id
        self.states.check(model_id)
        try:
            video = self.pool.run(model_id, request, language, progress)
        except AdapterUnavailableError as exc:
            self.states.failed(model_id, exc.reason)
            raise
        self.states.succeeded(model_id)
        try:
            with transaction(self.factory) as session:
                return store_generation(
                    session,
                    self.media,
                    model_id=model_id,
                    prompt_id=prompt_id,
                    request=request,
                    video=video,
                    run_id=run_id,
                ).id
        except IntegrityError:  # another process stored the same generation first
            with transaction(self.factory) as session:
                existing = find_generation(session, model_id, prompt_id, seed, key)
                assert existing is not None
                return existing.id
