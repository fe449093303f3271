"""The Scorer: decodes a video once, shares its features across metrics, owns the encoders and caches."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from adapters.language import guess_language
from metrics.base import FeatureModels, MetricResult, ModelChoice, Need, Unavailable, VideoMetric
from metrics.dino import DinoEncoder
from metrics.encoders import get_spec, normalize_language
from metrics.features import FeatureCache, FeatureProvider, VideoContext
from metrics.flow import RaftFlow
from metrics.registry import build_registry

if TYPE_CHECKING:
    from adapters.registry import Registry
    from metrics.encoders import ClipEncoder

T = TypeVar("T")

UNCALIBRATED_WARNING = (
    "WARNING: encoder {encoder!r} has random, untrained weights: its CLIP metrics are reproducible but "
    "uncalibrated (they say nothing about quality)."
)
SCOPE_NOTE = "NOTE: encoder {encoder!r} is {scope}: on other video its CLIP metrics mean nothing."


@dataclass(frozen=True)
class VideoReport:
    """Every metric for one video."""

    video_hash: str | None  # sha256 of the file (or the hash the caller passed); None for anonymous frames
    encoder: str
    calibrated: bool  # False when any result came from an uncalibrated encoder
    scope: str | None  # what the encoder is calibrated for, when that is narrow (e.g. the shapes world only)
    prompt: str | None
    language: str
    language_guessed: bool
    results: list[MetricResult] = field(default_factory=list)

    def by_name(self) -> dict[str, MetricResult]:
        return {r.metric: r for r in self.results}

    def to_dict(self) -> dict[str, Any]:
        return {
            "video_hash": self.video_hash,
            "encoder": self.encoder,
            "calibrated": self.calibrated,
            "scope": self.scope,
            "prompt": self.prompt,
            "language": self.language,
            "language_guessed": self.language_guessed,
            "metrics": [r.to_dict() for r in self.results],
        }


class Scorer:
    """Computes metrics for videos, sharing one image-feature pass per (video, encoder) across metrics.

    ``encoder``/``checkpoint`` pick the CLIP (a known id from :data:`metrics.encoders.ENCODERS`);
    ``device="auto"`` uses CUDA when torch sees it. Features are cached in memory (``cache_size`` videos,
    LRU) and, with ``cache_dir``, as ``.npy`` files. ``metric_options`` passes keyword arguments to metric
    constructors, e.g. ``{"aesthetic": {"head": "/path/sa_0_4_vit_l_14_linear.pth"}}``. ``dino`` picks the DINO of
    subject consistency (``"auto"``: the first of :data:`metrics.dino.DINO_MODELS` in the HF cache, or an id, or a
    folder); ``raft`` a torchvision RAFT state-dict file (default: raft_large C_T_V1 in torch hub's cache). Both
    also take an already-built :class:`metrics.dino.DinoEncoder` / :class:`metrics.flow.RaftFlow` to share.
    Metrics whose DINO / RAFT weights are missing report ``unavailable`` with the reason.
    """

    def __init__(
        self,
        encoder: str = "shapes-clip",
        checkpoint: str | Path | None = None,
        device: str = "auto",
        batch_size: int = 32,
        cache_size: int = 64,
        cache_dir: str | Path | None = None,
        metrics: Sequence[str] | None = None,
        metric_options: Mapping[str, Mapping[str, Any]] | None = None,
        registry: Registry[VideoMetric] | None = None,
        hf_cache_dir: str | Path | None = None,
        loaded: Sequence[ClipEncoder] = (),
        dino: str | Path | DinoEncoder = "auto",
        raft: str | Path | RaftFlow | None = None,
    ) -> None:
        self.spec = get_spec(encoder)  # unknown ids fail here, before any video is read
        self.encoder_id = encoder
        self.checkpoint = checkpoint
        self.device = device
        self.hf_cache_dir = hf_cache_dir
        self._encoders: dict[str, ClipEncoder] = {e.id: e for e in loaded}  # already-built models to share
        self._failures: dict[str, Exception] = {}
        self.provider = FeatureProvider(
            self.load_encoder, FeatureCache(cache_size, cache_dir), batch_size, self.load_dino, self.load_raft
        )
        registry = registry or build_registry()
        names = list(metrics) if metrics is not None else registry.names()
        options = metric_options or {}
        self.metrics: list[VideoMetric] = [registry.get(n)(**options.get(n, {})) for n in names]
        needs = frozenset().union(*(m.needs for m in self.metrics))
        self.dino_choice: ModelChoice | None = None
        self.raft_choice: ModelChoice | None = None
        self._dino: DinoEncoder | None = None
        self._raft: RaftFlow | None = None
        models = FeatureModels(encoder)
        if Need.DINO_FEATURES in needs:  # file checks only: nothing is loaded until a video needs it
            from metrics.dino import choose_dino

            if isinstance(dino, str | Path):
                self.dino_choice = choose_dino(str(dino), hf_cache_dir)
                models = replace(models, dino=self.dino_choice.label)
            else:
                self._dino = dino
                models = replace(models, dino=dino.label)
        if Need.OPTICAL_FLOW in needs:
            from metrics.flow import choose_raft

            if raft is None or isinstance(raft, str | Path):
                self.raft_choice = choose_raft(raft)
                models = replace(models, raft=self.raft_choice.label)
            else:
                self._raft = raft
                models = replace(models, raft=raft.label)
        self.models = models

    @property
    def calibrated(self) -> bool:
        return self.spec.calibrated

    @property
    def scope_note(self) -> str | None:
        """A note to print beside the scores when the encoder is calibrated for a narrow world only."""
        return SCOPE_NOTE.format(encoder=self.encoder_id, scope=self.spec.scope) if self.spec.scope else None

    @property
    def needs_encoder(self) -> bool:
        return any(m.uses_encoder for m in self.metrics)

    def result_keys(self) -> list[tuple[str, str, str | None]]:
        """(metric, version, encoder) of every result this scorer produces: what "already scored" means."""
        return [(m.name, m.version, m.encoder_for(self.models)[0]) for m in self.metrics]

    def missing_weights(self) -> dict[str, str]:
        """metric -> why it cannot run here for lack of weights (file checks only, nothing loaded)."""
        out: dict[str, str] = {}
        for m in self.metrics:
            reason = m.missing_weights(self.hf_cache_dir)
            for need, loaded, choice in (
                (Need.DINO_FEATURES, self._dino, self.dino_choice),
                (Need.OPTICAL_FLOW, self._raft, self.raft_choice),
            ):
                if need in m.needs and loaded is None and choice is not None and choice.path is None:
                    reason = choice.missing_reason()
            if reason:
                out[m.name] = reason
        return out

    def load_encoder(self, encoder_id: str | None = None) -> ClipEncoder:
        """The loaded encoder (once per scorer); the checkpoint setting applies to the configured one only."""
        from metrics.encoders import load_encoder

        eid = encoder_id or self.encoder_id
        if eid in self._failures:
            raise self._failures[eid]
        if eid not in self._encoders:
            checkpoint = self.checkpoint if eid == self.encoder_id else None
            try:
                self._encoders[eid] = load_encoder(eid, checkpoint, self.device, self.hf_cache_dir)
            except FileNotFoundError as exc:  # remember: don't search the disk again for every video
                self._failures[eid] = exc
                raise
        return self._encoders[eid]

    def load_dino(self) -> DinoEncoder:
        """The DINO of subject consistency, loaded once; :class:`Unavailable` (remembered) without weights."""
        from metrics.dino import load_dino

        if self._dino is None:
            self._dino = self._load_once("DINO", self.dino_choice, load_dino)
        return self._dino

    def load_raft(self) -> RaftFlow:
        """The RAFT of dynamic degree and the static filter, loaded once; :class:`Unavailable` without weights."""
        from metrics.flow import load_raft

        if self._raft is None:
            self._raft = self._load_once("RAFT", self.raft_choice, load_raft)
        return self._raft

    def _load_once(self, what: str, choice: ModelChoice | None, load: Callable[[ModelChoice, str], T]) -> T:
        key = f"<{what}>"
        if choice is None:
            raise Unavailable(f"this scorer computes no {what} metric")
        if key in self._failures:
            raise self._failures[key]
        try:
            return load(choice, self.device)
        except Unavailable as exc:  # remember: don't search the disk again for every video
            self._failures[key] = exc
            raise

    def context(
        self,
        frames: np.ndarray,
        fps: float,
        prompt: str | None = None,
        language: str | None = None,
        video_hash: str | None = None,
    ) -> VideoContext:
        if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) == 0:
            raise ValueError(f"expected uint8 frames (F, H, W, 3) with F >= 1, got {frames.dtype} {frames.shape}")
        lang = normalize_language(language) if language else guess_language(prompt or "")
        return VideoContext(
            frames=frames,
            fps=float(fps),
            video_hash=video_hash,
            prompt=prompt,
            language=lang,
            provider=self.provider,
            models=self.models,
        )

    def score_frames(
        self,
        frames: np.ndarray,
        fps: float,
        prompt: str | None = None,
        language: str | None = None,
        video_hash: str | None = None,
    ) -> VideoReport:
        """Every configured metric on uint8 (F, H, W, 3) frames.

        Pass ``video_hash`` (e.g. :func:`metrics.features.frames_hash` or a stored content hash) to reuse
        features across calls; without it features are shared between this call's metrics only.
        """
        ctx = self.context(frames, fps, prompt, language, video_hash)
        if self.needs_encoder:
            self.load_encoder()  # a missing checkpoint fails here, naming where it looked
        results = [m.evaluate(ctx) for m in self.metrics]
        return VideoReport(
            video_hash=ctx.video_hash,
            encoder=self.encoder_id,
            calibrated=all(r.calibrated for r in results),
            scope=self.spec.scope,
            prompt=prompt,
            language=ctx.language,
            language_guessed=language is None,
            results=results,
        )

    def score_file(self, path: str | Path, prompt: str | None = None, language: str | None = None) -> VideoReport:
        """Read the file once, decode it, then :meth:`score_frames` (features cached by the file's sha256, the
        same key as ``Video.content_hash``)."""
        from adapters.video_io import content_hash, decode_mp4

        if self.needs_encoder:
            self.load_encoder()  # fail before decoding
        data = Path(path).read_bytes()
        frames, fps = decode_mp4(data)
        return self.score_frames(frames, fps, prompt, language, video_hash=content_hash(data))
