"""The one interface every video generator sits behind, and its output contract.

A subclass implements ``_generate(resolved) -> RawVideo``. The public :meth:`VideoAdapter.generate`
snaps the request to the model's capabilities, times the call, converts the frames from the
library's layout and checks the output contract, so every adapter returns the same thing:
a :class:`GeneratedVideo` with uint8 frames of shape (F, H, W, 3).
"""

from __future__ import annotations

import abc
import logging
import platform
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from adapters.capabilities import Capabilities
from adapters.contract import Layout, check_fps, to_uint8_frames
from adapters.errors import (
    AdapterError,
    AdapterUnavailableError,
    GenerationError,
    OutputContractError,
    RequestError,
)

MAX_SEED = 2**31 - 1

ProgressCallback = Callable[[float], None]  # the share of one generation done, 0..1

log = logging.getLogger(__name__)


class GenerationRequest(BaseModel):
    """What a caller asks for. ``None`` means "the model's default"."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    prompt: str = Field(min_length=1, max_length=4000)
    negative_prompt: str | None = None
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED)
    num_frames: int | None = Field(default=None, ge=1, le=2000)
    width: int | None = Field(default=None, ge=8, le=8192)
    height: int | None = Field(default=None, ge=8, le=8192)
    fps: float | None = Field(default=None, gt=0, le=240)
    steps: int | None = Field(default=None, ge=1, le=1000)
    guidance: float | None = Field(default=None, ge=0, le=100)
    extra: dict[str, Any] = Field(default_factory=dict)


class ResolvedRequest(BaseModel):
    """A request after snapping to the model's rules: every value concrete, every change recorded."""

    model_config = ConfigDict(frozen=True)

    prompt: str
    negative_prompt: str | None
    seed: int
    num_frames: int
    width: int
    height: int
    fps: float
    steps: int | None
    guidance: float | None
    extra: dict[str, Any] = Field(default_factory=dict)
    # field -> [asked, used] for every value the rules changed
    adjustments: dict[str, list[Any]] = Field(default_factory=dict)


class Provenance(BaseModel):
    """Everything needed to say how a video was made."""

    adapter_kind: str
    model_id: str
    revision: str | None = None
    weights_hash: str | None = None
    params: dict[str, Any]
    adjustments: dict[str, list[Any]] = Field(default_factory=dict)
    device: str = "cpu"
    dtype: str | None = None
    latency_s: float
    peak_memory_bytes: int | None = None
    memory_kind: str | None = None  # "cuda" (peak allocated) or "process_rss" (process high-water mark)
    library_versions: dict[str, str] = Field(default_factory=dict)
    host: str = Field(default_factory=platform.node)


@dataclass(frozen=True)
class RawVideo:
    """What ``_generate`` returns: frames in a named layout, float in [0, 1] or uint8."""

    frames: Any
    layout: Layout = "FHWC"
    fps: float | None = None
    details: dict[str, Any] = field(default_factory=dict)  # provenance extras: revision, device, dtype, ...


@dataclass(frozen=True)
class GeneratedVideo:
    """The output contract: uint8 frames (F, H, W, 3), fps, the seed used, and provenance."""

    frames: np.ndarray
    fps: float
    seed: int
    provenance: Provenance

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)."""
        return int(self.frames.shape[2]), int(self.frames.shape[1])


class AdapterParams(BaseModel):
    """Per-model settings from the models file. Subclasses add their own fields; unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


class Availability(BaseModel):
    """Whether a model can run on this machine, and why not."""

    ok: bool
    detail: str


def resolve_request(
    request: GenerationRequest, caps: Capabilities, rng: random.Random | None = None
) -> ResolvedRequest:
    """Snap a request to ``caps``: fill defaults, snap frames and size, pick a seed; record every change."""
    adjustments: dict[str, list[Any]] = {}
    frames_asked = request.num_frames if request.num_frames is not None else caps.default_frames
    frames = caps.frames.snap(frames_asked)
    if request.num_frames is not None and frames != request.num_frames:
        adjustments["num_frames"] = [request.num_frames, frames]
    w_asked = request.width if request.width is not None else caps.default_width
    h_asked = request.height if request.height is not None else caps.default_height
    width, height = caps.size.snap(w_asked, h_asked)
    if request.width is not None and width != request.width:
        adjustments["width"] = [request.width, width]
    if request.height is not None and height != request.height:
        adjustments["height"] = [request.height, height]
    seed = request.seed if request.seed is not None else (rng or random.SystemRandom()).randint(0, MAX_SEED)
    return ResolvedRequest(
        prompt=request.prompt,
        negative_prompt=request.negative_prompt if caps.supports_negative_prompt else None,
        seed=seed,
        num_frames=frames,
        width=width,
        height=height,
        fps=request.fps if request.fps is not None else caps.default_fps,
        steps=request.steps if request.steps is not None else caps.default_steps,
        guidance=request.guidance if request.guidance is not None else caps.default_guidance,
        extra=dict(request.extra),
        adjustments=adjustments,
    )


class VideoAdapter(abc.ABC):
    """Base class of every video generator. Subclasses implement :meth:`_generate`.

    ``load`` and ``close`` default to no-ops; ``check`` says whether the model can run here.
    """

    kind: ClassVar[str] = "abstract"
    Params: ClassVar[type[AdapterParams]] = AdapterParams
    # Can it make a video for any prompt? False for kinds that only hold clips of known prompts: those are never
    # drawn for typed prompts.
    live: ClassVar[bool] = True

    def __init__(self, model_id: str, params: AdapterParams | None = None, base_dir: Path | None = None) -> None:
        self.model_id = model_id
        self.params = params if params is not None else self.Params()
        self.base_dir = base_dir or Path.cwd()  # relative paths in params are relative to the models file
        self._loaded = False
        self._load_lock = threading.Lock()  # concurrent first calls load the weights once
        self._progress = threading.local()  # the progress callback of the generation running in this thread

    @classmethod
    def from_config(cls, model_id: str, params: dict[str, Any], base_dir: Path | None = None) -> VideoAdapter:
        """Build from a models-file entry; raises pydantic's ValidationError on bad params."""
        return cls(model_id, cls.Params.model_validate(params), base_dir=base_dir)

    def resolve_path(self, path: str | Path) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self.base_dir / p)

    # -- lifecycle -------------------------------------------------------------------------------
    def load(self) -> None:
        """Load weights or open connections. Called once, lazily, by :meth:`generate`."""

    def close(self) -> None:
        """Release memory and connections."""

    def check(self) -> Availability:
        """Can this model run here? Must be cheap and never download anything."""
        return Availability(ok=True, detail="ready")

    @abc.abstractmethod
    def capabilities(self) -> Capabilities:
        """Valid frame counts and sizes, languages, limits and defaults."""

    @abc.abstractmethod
    def _generate(self, request: ResolvedRequest) -> RawVideo:
        """Make one video for an already-resolved request."""

    # -- the one public entry point ------------------------------------------------------------------
    def resolve(self, request: GenerationRequest, language: str | None = None) -> ResolvedRequest:
        caps = self.capabilities()
        if not caps.speaks(language):
            raise RequestError(
                self.model_id,
                f"prompts in {language!r} are not supported (speaks {', '.join(caps.languages)})",
            )
        return resolve_request(request, caps)

    def report_progress(self, fraction: float) -> None:
        """Subclasses call this during ``_generate`` (e.g. once per denoising step) with the share done, 0..1.
        It reaches the ``progress`` callback given to :meth:`generate`; a failing callback never fails a video."""
        callback: ProgressCallback | None = getattr(self._progress, "callback", None)
        if callback is None:
            return
        try:
            callback(min(1.0, max(0.0, float(fraction))))
        except Exception:
            log.exception("%s: progress callback failed (ignored)", self.model_id)

    def generate(
        self, request: GenerationRequest, language: str | None = None, progress: ProgressCallback | None = None
    ) -> GeneratedVideo:
        resolved = self.resolve(request, language)
        if not self._loaded:
            with self._load_lock:
                if not self._loaded:
                    try:
                        self.load()
                    except AdapterUnavailableError:
                        raise
                    except Exception as exc:  # any load failure means "cannot run here" (callers back off)
                        why = exc.reason if isinstance(exc, AdapterError) else f"{type(exc).__name__}: {exc}"
                        raise AdapterUnavailableError(self.model_id, f"could not load: {why}") from exc
                    self._loaded = True
        probe = _MemoryProbe()
        start = time.perf_counter()
        self._progress.callback = progress
        try:
            raw = self._generate(resolved)
        except AdapterError:
            raise
        except Exception as exc:  # any failure inside a model becomes a typed error naming the model
            raise GenerationError(self.model_id, f"{type(exc).__name__}: {exc}") from exc
        finally:
            self._progress.callback = None
        latency = time.perf_counter() - start
        return self.finish(raw, resolved, latency, probe)

    def finish(
        self, raw: RawVideo, resolved: ResolvedRequest, latency: float, probe: _MemoryProbe | None = None
    ) -> GeneratedVideo:
        """Validate ``raw`` against the contract and attach provenance (the single check for all adapters)."""
        if not isinstance(raw, RawVideo):
            raise OutputContractError(self.model_id, f"_generate returned {type(raw).__name__}, expected RawVideo")
        frames = to_uint8_frames(raw.frames, raw.layout, self.model_id)
        fps = check_fps(raw.fps if raw.fps is not None else resolved.fps, self.model_id)
        details = dict(raw.details)
        memory = probe.peak() if probe else (None, None)
        provenance = Provenance(
            adapter_kind=self.kind,
            model_id=self.model_id,
            revision=details.pop("revision", None),
            weights_hash=details.pop("weights_hash", None),
            params=resolved.model_dump(exclude={"adjustments"}) | details.pop("params", {}),
            adjustments=resolved.adjustments,
            device=details.pop("device", "cpu"),
            dtype=details.pop("dtype", None),
            latency_s=round(latency, 6),
            peak_memory_bytes=memory[0],
            memory_kind=memory[1],
            library_versions=details.pop("library_versions", {}),
        )
        return GeneratedVideo(frames=frames, fps=fps, seed=resolved.seed, provenance=provenance)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.model_id!r})"


class _MemoryProbe:
    """Peak memory during one call: CUDA peak allocation when torch is loaded with CUDA, else process RSS."""

    def __init__(self) -> None:
        import sys

        torch = sys.modules.get("torch")  # never import torch just to measure
        self._torch = torch if torch is not None and torch.cuda.is_available() else None
        if self._torch is not None:
            self._torch.cuda.reset_peak_memory_stats()

    def peak(self) -> tuple[int | None, str | None]:
        if self._torch is not None:
            return int(self._torch.cuda.max_memory_allocated()), "cuda"
        try:
            import resource

            return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024, "process_rss"
        except (ImportError, OSError):
            return None, None
