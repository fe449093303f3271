"""The registry of adapter kinds: each kind is registered here, once, as a lazy ``module:Class`` string."""

from __future__ import annotations

from adapters.base import VideoAdapter
from adapters.registry import Registry


def adapter_kinds() -> Registry[VideoAdapter]:
    """A fresh registry of the built-in adapter kinds (no heavy imports until a kind is resolved)."""
    registry: Registry[VideoAdapter] = Registry("adapter kind", VideoAdapter)
    registry.register("demo", "adapters.demo:DemoAdapter")
    registry.register("diffusers", "adapters.diffusers_adapter:DiffusersAdapter")
    registry.register("http", "adapters.http_adapter:HTTPAdapter")
    registry.register("python", "adapters.python_adapter:PythonAdapter")
    registry.register("imported_clips", "adapters.imported_clips:ImportedClipsAdapter")
    return registry
