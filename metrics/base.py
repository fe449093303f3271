"""The one interface every video metric implements, and the result it reports.

A subclass sets its class attributes (name, version, range, needs, ...) and implements
``_compute(ctx) -> Value``. :meth:`VideoMetric.evaluate` turns that into a :class:`MetricResult`;
a metric that cannot run raises :class:`NotSupported` (e.g. a prompt language the text encoder
does not cover) or :class:`Unavailable` (e.g. weights missing), and the result carries the reason.
"""

from __future__ import annotations

import abc
import enum
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    from metrics.features import VideoContext
    from metrics.pooling import Pooling

Status = Literal["ok", "not_supported", "unavailable"]


class Need(enum.Enum):
    """What a metric reads from the per-video context."""

    PIXELS = "pixels"
    IMAGE_FEATURES = "image_features"
    TEXT_FEATURES = "text_features"
    DINO_FEATURES = "dino_features"
    OPTICAL_FLOW = "optical_flow"


@dataclass(frozen=True)
class FeatureModels:
    """What a scorer's metrics read features from (names only, nothing loaded): the configured CLIP encoder id,
    the DINO for subject consistency and the RAFT for VBench's flow rules (labels that key stored scores)."""

    clip: str
    dino: str = "dino-vitb16"
    raft: str = "raft_large-C_T_V1"


@dataclass(frozen=True)
class ModelChoice:
    """Where an optional model's weights are (found by file checks, nothing loaded): ``label`` keys stored scores,
    ``path`` is None when nothing was found, ``vbench`` says whether it is the model VBench itself uses."""

    label: str
    path: Path | None
    looked: tuple[str, ...]
    vbench: bool
    hint: str  # what to do when the weights are missing

    def missing_reason(self) -> str:
        return (
            f"no weights found for {self.label}; looked in {'; '.join(self.looked)}. Nothing is downloaded: {self.hint}"
        )


class NotSupported(Exception):
    """The metric does not apply to this input (e.g. the prompt language is not covered)."""


class Unavailable(Exception):
    """The metric cannot run in this installation (e.g. its weights are not present locally)."""


@dataclass(frozen=True)
class Value:
    """What ``_compute`` returns: a number and small JSON-able details."""

    value: float
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MetricResult:
    """One metric on one video. ``value`` is None unless ``status == "ok"``."""

    metric: str
    version: str
    value: float | None
    status: Status
    higher_is_better: bool | None
    range: tuple[float, float]
    encoder: str | None  # the model the value came from (CLIP, DINO, RAFT); None for pixel metrics
    calibrated: bool  # False when the value came from an uncalibrated (random-weight) encoder
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["range"] = [_json_float(x) for x in self.range]
        return out


def _json_float(x: float) -> float | str:
    return x if math.isfinite(x) else ("inf" if x > 0 else "-inf")


class VideoMetric(abc.ABC):
    """Base class of every metric. Instances are cheap and stateless; heavy state lives in the context."""

    name: ClassVar[str]
    version: ClassVar[str]  # bump when the formula or its inputs change: stored scores are keyed by it
    higher_is_better: ClassVar[bool | None]
    range: ClassVar[tuple[float, float]]
    description: ClassVar[str]
    needs: ClassVar[frozenset[Need]]
    # how a board pools it over a model's videos (metrics.pooling): "mean", "pairs" (VBench's consistency), "share"
    pooling: ClassVar[Pooling] = "mean"

    @property
    def uses_encoder(self) -> bool:
        """Whether it reads the scorer's configured CLIP encoder (which must load before any video is read)."""
        return bool(self.needs & {Need.IMAGE_FEATURES, Need.TEXT_FEATURES})

    def missing_weights(self, hf_cache_dir: str | Path | None = None) -> str | None:
        """Why weights named by this metric's own options are missing (file checks only); None when present."""
        return None

    @abc.abstractmethod
    def _compute(self, ctx: VideoContext) -> Value:
        """The number for one video; raise NotSupported / Unavailable when it cannot be computed."""

    def encoder_for(self, models: FeatureModels) -> tuple[str | None, bool]:
        """(model id, calibrated) this metric's value depends on, given the scorer's feature models: the CLIP
        encoder by default, None for pixel metrics. Stored scores are keyed by it."""
        if not self.uses_encoder:
            return None, True
        from metrics.encoders import get_spec

        return models.clip, get_spec(models.clip).calibrated

    def evaluate(self, ctx: VideoContext) -> MetricResult:
        encoder, calibrated = self.encoder_for(ctx.models)
        common = dict(
            metric=self.name,
            version=self.version,
            higher_is_better=self.higher_is_better,
            range=self.range,
            encoder=encoder,
            calibrated=calibrated,
        )
        try:
            out = self._compute(ctx)
        except NotSupported as exc:
            return MetricResult(value=None, status="not_supported", reason=str(exc), **common)  # type: ignore[arg-type]
        except Unavailable as exc:
            return MetricResult(value=None, status="unavailable", reason=str(exc), **common)  # type: ignore[arg-type]
        lo, hi = self.range
        value = float(out.value)
        if not (lo - 1e-5 <= value <= hi + 1e-5):  # also catches NaN
            raise ValueError(f"metric {self.name} returned {value}, outside its range {self.range}")
        value = min(max(value, lo), hi)  # float32 rounding may step a hair past a bound
        return MetricResult(value=value, status="ok", details=out.details, **common)  # type: ignore[arg-type]
