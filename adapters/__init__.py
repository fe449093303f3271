"""Every video generator behind one interface (:class:`adapters.base.VideoAdapter`)."""

from adapters.base import (
    AdapterParams,
    Availability,
    GeneratedVideo,
    GenerationRequest,
    Provenance,
    RawVideo,
    ResolvedRequest,
    VideoAdapter,
)
from adapters.capabilities import Capabilities, FrameRule, SizeRule
from adapters.errors import (
    AdapterError,
    AdapterUnavailableError,
    ConfigError,
    GenerationError,
    OutputContractError,
    RequestError,
    WeightsNotFoundError,
)

__all__ = [
    "AdapterError",
    "AdapterParams",
    "AdapterUnavailableError",
    "Availability",
    "Capabilities",
    "ConfigError",
    "FrameRule",
    "GeneratedVideo",
    "GenerationError",
    "GenerationRequest",
    "OutputContractError",
    "Provenance",
    "RawVideo",
    "RequestError",
    "ResolvedRequest",
    "SizeRule",
    "VideoAdapter",
    "WeightsNotFoundError",
]
