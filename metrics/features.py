"""Per-video inputs shared by every metric: frames decoded once, CLIP features computed once.

:class:`VideoContext` is what a metric reads. Image features are encoded lazily, all frames in batches,
on first use, and kept for every other metric of the same video; they are also looked up in (and
written to) a :class:`FeatureCache` keyed by (video hash, encoder cache id). Text features come from a
per-prompt cache owned by the same provider.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

import numpy as np

from metrics.base import NotSupported

if TYPE_CHECKING:
    from metrics.encoders import ClipEncoder

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


@dataclass
class FeatureProvider:
    """Encoders (loaded on first use) and the caches of one scorer."""

    load: Callable[[str], ClipEncoder]  # encoder id -> loaded encoder
    cache: FeatureCache
    batch_size: int = 32
    texts: LRU[tuple[str, str], np.ndarray] = field(default_factory=lambda: LRU(1024))
    stats: dict[str, int] = field(default_factory=lambda: {"image_encodes": 0, "text_encodes": 0})

    def image_features(self, encoder_id: str, video_hash: str | None, frames: np.ndarray) -> np.ndarray:
        """Features of every frame; cached across calls only for videos with a hash."""
        encoder = self.load(encoder_id)
        hit = self.cache.get(video_hash, encoder.cache_id) if video_hash else None
        if hit is not None and len(hit) == len(frames):
            return hit
        feats = encoder.encode_images(frames, batch_size=self.batch_size)
        self.stats["image_encodes"] += 1
        if video_hash:
            self.cache.put(video_hash, encoder.cache_id, feats)
        return feats

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
    encoder_id: str
    provider: FeatureProvider
    _image: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def encoder(self) -> ClipEncoder:
        return self.provider.load(self.encoder_id)

    def image_features(self, encoder_id: str | None = None) -> np.ndarray:
        """(F, D) unit vectors for every frame, from the configured encoder unless another is named."""
        eid = encoder_id or self.encoder_id
        if eid not in self._image:
            self._image[eid] = self.provider.image_features(eid, self.video_hash, self.frames)
        return self._image[eid]

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
