"""Typed errors raised by adapters. Every one names the model it concerns."""

from __future__ import annotations


class AdapterError(RuntimeError):
    """Base class: something went wrong with one model."""

    def __init__(self, model_id: str, message: str) -> None:
        self.model_id = model_id
        self.reason = message
        super().__init__(f"[{model_id}] {message}")


class OutputContractError(AdapterError):
    """The adapter returned frames that break the output contract (shape, dtype, range, NaN, fps)."""


class AdapterUnavailableError(AdapterError):
    """The model cannot run here (server unreachable, missing package, CUDA-only setting without CUDA)."""


class WeightsNotFoundError(AdapterUnavailableError):
    """The model's weights are not on this machine; ``looked_in`` lists every place searched."""

    def __init__(self, model_id: str, what: str, looked_in: list[str]) -> None:
        self.looked_in = looked_in
        places = "; ".join(looked_in) or "nowhere"
        super().__init__(model_id, f"weights for {what!r} not found. Looked in: {places}")


class GenerationError(AdapterError):
    """Generation itself failed (server error, timeout, pipeline exception, bad bytes)."""


class GenerationTimeoutError(GenerationError):
    """No video within the caller's deadline (the model hangs or is far too slow)."""


class RequestError(AdapterError):
    """The request cannot be served by this model (unsupported language, size beyond limits)."""


class ConfigError(ValueError):
    """A models file (or another config) is invalid; the message names file, entry and field."""
