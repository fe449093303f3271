"""The data types of the family table's loading recipes, and what a checkpoint's configs select.

A :class:`Checkpoint` is what a pipeline's configs say (each component's class and config values), read from
a weights folder (JSON files only, no torch) or from a loaded pipeline. A family's :class:`Version` entries
match it (CogVideoX 1.5, Sana-Video 720p, LTX-Video 0.9.1+, Wan 2.2 TI2V-5B) and override the family's rules,
defaults and call defaults. :class:`TileGrid` is Allegro's tiled VAE decode: only sizes on its grid are covered.
No torch or diffusers import here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from adapters.capabilities import FrameRule, SizeRule

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def frozen(**kwargs: Any) -> Mapping[str, Any]:
    """A read-only mapping for the family table (no shared mutable state)."""
    return MappingProxyType(kwargs)


@dataclass(frozen=True)
class Checkpoint:
    """The class and config of each component of one pipeline (what decides its version and rules)."""

    classes: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    configs: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: _EMPTY)

    @classmethod
    def from_folder(cls, folder: Path) -> Checkpoint:
        """Read ``model_index.json`` and each component's config file; unreadable parts are left out."""
        try:
            index = json.loads((folder / "model_index.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return cls()
        classes: dict[str, str] = {}
        configs: dict[str, Mapping[str, Any]] = {}
        for name, spec in index.items():
            if name.startswith("_") or not isinstance(spec, list) or len(spec) != 2 or spec[1] is None:
                continue
            classes[name] = str(spec[1])
            for file in ("config.json", "scheduler_config.json"):
                try:
                    configs[name] = json.loads((folder / name / file).read_text(encoding="utf-8"))
                    break
                except (OSError, json.JSONDecodeError):
                    continue
        return cls(MappingProxyType(classes), MappingProxyType(configs))

    @classmethod
    def from_pipeline(cls, pipe: Any) -> Checkpoint:
        """The same view of an already-built pipeline (diffusers components carry a ``config`` mapping)."""
        classes: dict[str, str] = {}
        configs: dict[str, Mapping[str, Any]] = {}
        for name, component in getattr(pipe, "components", {}).items():
            if component is None:
                continue
            classes[name] = type(component).__name__
            config = getattr(component, "config", None)
            if isinstance(config, Mapping):
                configs[name] = dict(config)
        return cls(MappingProxyType(classes), MappingProxyType(configs))

    def value(self, component: str, key: str, default: Any = None) -> Any:
        return self.configs.get(component, {}).get(key, default)


@dataclass(frozen=True)
class When:
    """A fact about a checkpoint: a component's class (``key=None``) or one of its config values."""

    component: str
    key: str | None
    equals: Any

    def matches(self, checkpoint: Checkpoint) -> bool:
        if self.key is None:
            return checkpoint.classes.get(self.component) == self.equals
        value = checkpoint.value(self.component, self.key)
        return bool(value == self.equals or (isinstance(value, list) and tuple(value) == self.equals))

    def describe(self) -> str:
        what = "class" if self.key is None else f"config {self.key}"
        return f"{self.component} {what} == {self.equals!r}"


@dataclass(frozen=True)
class Version:
    """A checkpoint of the family that needs other rules, defaults or call arguments than the table's."""

    name: str
    when: When
    frames: FrameRule | None = None
    size: SizeRule | None = None
    default_frames: int | None = None
    default_width: int | None = None
    default_height: int | None = None
    default_fps: float | None = None
    call_defaults: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    note: str = ""


@dataclass(frozen=True)
class SchedulerSwap:
    """Replace the checkpoint's scheduler, as the family's documented recipe does: ``class_name`` built
    ``from_config`` of the checkpoint's own scheduler with ``config`` on top."""

    class_name: str
    config: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)


class TileGrid(BaseModel):
    """Allegro's tiled VAE decode: tiles of (frames, height, width) pixels that overlap by the given amounts.

    The decoder writes only whole tiles, so a side is covered only when it equals ``size + k * (size - overlap)``;
    anything else is left grey (a constant 0.5). Requests are snapped onto this grid. The overlap is at most half
    a tile (the blend ramps of three tiles would otherwise meet). Defaults: diffusers' AutoencoderKLAllegro with
    ``sample_size`` 320.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    frames: int = Field(default=24, ge=1)
    height: int = Field(default=320, ge=1)
    width: int = Field(default=320, ge=1)
    overlap_frames: int = Field(default=8, ge=0)
    overlap_height: int = Field(default=120, ge=0)
    overlap_width: int = Field(default=80, ge=0)

    @model_validator(mode="after")
    def _overlap_at_most_half(self) -> TileGrid:
        for side in ("frames", "height", "width"):
            size, overlap = getattr(self, side), getattr(self, f"overlap_{side}")
            if 2 * overlap > size:
                raise ValueError(f"overlap_{side} ({overlap}) must be at most half the tile ({size})")
        return self

    @classmethod
    def from_vae_config(cls, config: Mapping[str, Any]) -> TileGrid:
        """The grid diffusers builds from the VAE's config (its kernel and stride are fixed in code)."""
        size = int(config.get("sample_size", 320))
        return cls(height=size, width=size)

    @classmethod
    def from_kernel(cls, kernel: tuple[int, int, int], stride: tuple[int, int, int]) -> TileGrid:
        """The grid of a live AutoencoderKLAllegro (its ``kernel`` and ``stride`` attributes)."""
        (frames, height, width), (sf, sh, sw) = kernel, stride
        return cls(
            frames=frames, height=height, width=width,
            overlap_frames=frames - sf, overlap_height=height - sh, overlap_width=width - sw,
        )  # fmt: skip

    def kernel(self) -> tuple[int, int, int]:
        return self.frames, self.height, self.width

    def stride(self) -> tuple[int, int, int]:
        return (
            self.frames - self.overlap_frames,
            self.height - self.overlap_height,
            self.width - self.overlap_width,
        )

    def values(self, side: str, upper: int, multiple: int = 1) -> list[int]:
        """Every covered length of ``side`` up to ``upper`` that is also a multiple of ``multiple``."""
        size = getattr(self, side)
        step = size - getattr(self, f"overlap_{side}")
        covered = range(size, upper + 1, step) if step > 0 else range(size, size + 1)
        return [v for v in covered if v % multiple == 0]

    def frame_rule(self, upper: int) -> FrameRule:
        values = self.values("frames", max(upper, self.frames))
        return (
            FrameRule(fixed=values)
            if len(values) == 1
            else FrameRule(
                step=values[1] - values[0], offset=values[0] % (values[1] - values[0]), min=values[0], max=values[-1]
            )
        )

    def size_rule(self, upper: int, multiple: int) -> SizeRule:
        widths = self.values("width", max(upper, self.width), multiple) or [self.width]
        heights = self.values("height", max(upper, self.height), multiple) or [self.height]
        low = min(widths[0], heights[0])
        return SizeRule(widths=widths, heights=heights, multiple=max(2, multiple), min=low, max=max(upper, low))
