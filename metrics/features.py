"""Per-video inputs shared by every metric: frames decoded once, each kind of feature computed once.

:class:`VideoContext` is what a metric reads. Image features (CLIP with open_clip's transform, CLIP with VBench's
transform, DINO) are encoded lazily, all frames in batches, on first use, and kept for every other metric of the
same video; they are also looked up in (and written to) a :class:`FeatureCache` keyed by (video hash, extractor
cache id). RAFT flow statistics are computed once per frame pair and video. Text features come from a per-prompt
cache owned by the same provider.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

import numpy as np

from metrics.base import FeatureModels, NotSupported, Unavailable

if TYPE_CHECKING:
    from metrics.dino import DinoEncoder
    from metrics.encoders import ClipEncoder
    from metrics.flow import RaftFlow

K = TypeVar("K")
V = TypeVar("V")


def frames_hash(frames: np.ndarray) -> str:
    """A content hash for frames held in memory (files use the sha256 of their bytes instead).

    Costs ~65 ms for 49 frames of 480x720 on one core: pass it only where a cache hit is likely."""
    h = hashlib.sha256(f"{frames.shape}|{frames.dtype}".encode())
    h.update(np.ascontiguousarray(frames).data)
    return h.hexdigest()


class LRU(Generic[K, V]):
    """A small least-recently-used map (an instance, owned by whoever needs it: no module state)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._data: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        if key not in self._data:
            return None
        self._data.move_to_end(key)
        return self._data[key]

    def put(self, key: K, value: V) -> None:
        if self.capacity <= 0:
            return
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.capacity:
            self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data


class FeatureCache:
    """Image features by (video hash, encoder cache id): an in-memory LRU, plus ``<dir>/<encoder>/<hash>.npy``."""

    def __init__(self, capacity: int = 64, directory: str | Path | None = None) -> None:
        self.memory: LRU[tuple[str, str], np.ndarray] = LRU(capacity)
        self.directory = Path(directory) if directory is not None else None

    def _file(self, video_hash: str, encoder_key: str) -> Path | None:
        if self.directory is None:
            return None
        return self.directory / encoder_key / f"{video_hash}.npy"

    def get(self, video_hash: str, encoder_key: str) -> np.ndarray | None:
        key = (video_hash, encoder_key)
        hit = self.memory.get(key)
        if hit is not None:
            return hit
        path = self._file(video_hash, encoder_key)
        if path is not None and path.is_file():
            try:
                hit = np.load(path, allow_pickle=False)
            except (OSError, ValueError):  # a torn or foreign file: recompute and overwrite it
                return None
            self.memory.put(key, hit)
            return hit
        return None

    def put(self, video_hash: str, encoder_key: str, features: np.ndarray) -> None:
        self.memory.put((video_hash, encoder_key), features)
        path = self._file(video_hash, encoder_key)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.{secrets.token_hex(4)}.tmp.npy")
        np.save(tmp, features, allow_pickle=False)
        os.replace(tmp, path)  # atomic: concurrent scorers never read a half-written file


class ImageFeatureExtractor(Protocol):
    """Anything that turns uint8 (N, H, W, 3) frames into (N, D) features; ``cache_id`` names model + transform."""

    cache_id: str

    def encode_images(self, frames: np.ndarray, batch_size: int = 32) -> np.ndarray: ...


def _no_model() -> object:
    raise Unavailable("this scorer has no such model")


@dataclass
class FeatureProvider:
    """Models (loaded on first use) and the caches of one scorer. ``load_dino`` / ``load_raft`` raise
    :class:`Unavailable` when their weights are missing."""

    load: Callable[[str], ClipEncoder]  # encoder id -> loaded encoder
    cache: FeatureCache
    batch_size: int = 32
    load_dino: Callable[[], DinoEncoder] = _no_model  # type: ignore[assignment]
    load_raft: Callable[[], RaftFlow] = _no_model  # type: ignore[assignment]
    texts: LRU[tuple[str, str], np.ndarray] = field(default_factory=lambda: LRU(1024))
    stats: dict[str, int] = field(default_factory=lambda: {"image_encodes": 0, "text_encodes": 0, "flow_pairs": 0})

    def features(self, extractor: ImageFeatureExtractor, video_hash: str | None, frames: np.ndarray) -> np.ndarray:
        """Features of every frame; cached across calls only for videos with a hash."""
        hit = self.cache.get(video_hash, extractor.cache_id) if video_hash else None
        if hit is not None and len(hit) == len(frames):
            return hit
        feats = extractor.encode_images(frames, batch_size=self.batch_size)
        self.stats["image_encodes"] += 1
        if video_hash:
            self.cache.put(video_hash, extractor.cache_id, feats)
        return feats

    def image_features(self, encoder_id: str, video_hash: str | None, frames: np.ndarray) -> np.ndarray:
        """CLIP features of every frame with the encoder's own (open_clip) transform."""
        return self.features(self.load(encoder_id), video_hash, frames)

    def text_feature(self, encoder_id: str, prompt: str) -> np.ndarray:
        encoder = self.load(encoder_id)
        key = (encoder.cache_id, prompt)
        hit = self.texts.get(key)
        if hit is None:
            hit = encoder.encode_texts([prompt])[0]
            self.stats["text_encodes"] += 1
            self.texts.put(key, hit)
        return hit


@dataclass
class VideoContext:
    """Everything metrics read about one video. Features are computed on first access, then shared."""

    frames: np.ndarray  # uint8 (F, H, W, 3) RGB
    fps: float
    video_hash: str | None  # content hash: the feature-cache key (None: features are not kept across calls)
    prompt: str | None
    language: str
    provider: FeatureProvider
    models: FeatureModels  # models.clip is the configured CLIP encoder
    _image: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    _flows: dict[tuple[int, int], np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def encoder_id(self) -> str:
        return self.models.clip

    @property
    def encoder(self) -> ClipEncoder:
        return self.provider.load(self.encoder_id)

    def image_features(self, encoder_id: str | None = None) -> np.ndarray:
        """(F, D) unit vectors for every frame, from the configured encoder unless another is named."""
        eid = encoder_id or self.encoder_id
        if eid not in self._image:
            self._image[eid] = self.provider.image_features(eid, self.video_hash, self.frames)
        return self._image[eid]

    def vbench_clip_features(self, encoder_id: str | None = None) -> np.ndarray:
        """(F, D) CLIP unit vectors through VBench's ``clip_transform`` (no antialias, its rounding and crop)."""
        from metrics.preprocess import VBenchClipFeatures

        eid = encoder_id or self.encoder_id
        key = f"vbench-clip|{eid}"
        if key not in self._image:
            extractor = VBenchClipFeatures(self.provider.load(eid))
            self._image[key] = self.provider.features(extractor, self.video_hash, self.frames)
        return self._image[key]

    def dino_features(self) -> np.ndarray:
        """(F, D) DINO CLS unit vectors through VBench's ``dino_transform``; Unavailable without DINO weights."""
        if "dino" not in self._image:
            self._image["dino"] = self.provider.features(self.provider.load_dino(), self.video_hash, self.frames)
        return self._image["dino"]

    def flow_magnitudes(self, first: int, second: int) -> tuple[np.ndarray, int]:
        """RAFT flow from frame ``first`` to ``second``: its largest magnitudes (largest first, the top
        :data:`metrics.flow.KEEP_FRACTION`) and the padded frame's pixel count. Each pair is computed once."""
        from metrics.flow import pad_to_8, top_magnitudes

        if (first, second) not in self._flows:
            flow = self.provider.load_raft().flow(self.frames[first], self.frames[second])
            self.provider.stats["flow_pairs"] += 1
            self._flows[(first, second)] = top_magnitudes(flow)
        left, right, top, bottom = pad_to_8(*self.frames.shape[1:3])
        pixels = (self.frames.shape[1] + top + bottom) * (self.frames.shape[2] + left + right)
        return self._flows[(first, second)], pixels

    def text_feature(self) -> np.ndarray:
        """The prompt's (D,) unit vector; NotSupported without a prompt or in an uncovered language."""
        from metrics.encoders import get_spec

        spec = get_spec(self.encoder_id)
        if not self.prompt:
            raise NotSupported("no prompt given")
        if self.language not in spec.languages:
            covered = ", ".join(sorted(spec.languages)) if len(spec.languages) <= 8 else "its languages"
            raise NotSupported(
                f"prompt language {self.language!r} is not supported by the text encoder {spec.id!r} (covers {covered})"
            )
        return self.provider.text_feature(self.encoder_id, self.prompt)
