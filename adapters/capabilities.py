"""What a model accepts: valid frame counts and sizes, languages, limits and defaults.

Requests are snapped to these rules (:func:`adapters.base.resolve_request`), and every change is recorded.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


def _nearest(values: list[int], v: int) -> int:
    return min(values, key=lambda c: (abs(c - v), c))


class FrameRule(BaseModel):
    """Valid frame counts: ``step * k + offset`` within [min, max], or exactly one of ``fixed``."""

    step: int = Field(default=1, ge=1)
    offset: int = 0
    min: int = Field(default=1, ge=1)
    max: int | None = None
    fixed: list[int] | None = None

    def snap(self, n: int) -> int:
        if self.fixed:
            return _nearest(self.fixed, n)
        lo = self.min
        hi = self.max if self.max is not None else max(n, lo) + self.step
        k = round((n - self.offset) / self.step)
        candidates = [self.step * j + self.offset for j in (k - 1, k, k + 1)]
        valid = [c for c in candidates if lo <= c <= hi]
        if not valid:  # n is far outside [lo, hi]: the nearest valid bound
            first = lo + (self.offset - lo) % self.step
            last = hi - (hi - self.offset) % self.step
            return first if n < lo else last
        return min(valid, key=lambda v: (abs(v - n), v))

    def describe(self) -> str:
        if self.fixed:
            return f"one of {self.fixed}"
        form = f"{self.step}k+{self.offset}" if self.step > 1 else "any"
        upper = f"..{self.max}" if self.max else "+"
        return f"{form} in {self.min}{upper}"


class SizeRule(BaseModel):
    """Valid sizes: width and height multiples of ``multiple`` within bounds, or one of ``fixed`` (W, H), or
    each side one of its own list (``widths`` and ``heights``: a VAE that decodes a grid of tiles)."""

    multiple: int = Field(default=2, ge=2)
    min: int = Field(default=16, ge=2)
    max: int = Field(default=4096, ge=2)
    max_pixels: int | None = None
    fixed: list[tuple[int, int]] | None = None
    widths: list[int] | None = None
    heights: list[int] | None = None

    def snap(self, width: int, height: int) -> tuple[int, int]:
        if self.fixed:
            return min(self.fixed, key=lambda wh: (abs(wh[0] - width) + abs(wh[1] - height), wh))
        if self.widths and self.heights:
            return _nearest(self.widths, width), _nearest(self.heights, height)

        m = self.multiple
        lo, hi = max(m, -(-self.min // m) * m), self.max // m * m  # the smallest and largest valid values

        def one(v: int) -> int:
            return max(lo, min(hi, round(v / m) * m))

        w, h = one(width), one(height)
        if self.max_pixels and w * h > self.max_pixels:
            scale = (self.max_pixels / (w * h)) ** 0.5
            w = max(self.multiple, int(w * scale) // self.multiple * self.multiple)
            h = max(self.multiple, int(h * scale) // self.multiple * self.multiple)
        return w, h

    def describe(self) -> str:
        if self.fixed:
            return "one of " + ", ".join(f"{w}x{h}" for w, h in self.fixed)
        if self.widths and self.heights:
            return f"width one of {self.widths}, height one of {self.heights}"
        return f"multiples of {self.multiple} in {self.min}..{self.max}"


class Capabilities(BaseModel):
    """What a model accepts, and its defaults. ``languages`` holds ISO codes or ``"*"`` for any."""

    frames: FrameRule = Field(default_factory=FrameRule)
    size: SizeRule = Field(default_factory=SizeRule)
    languages: list[str] = Field(default_factory=lambda: ["*"])
    default_frames: int = 16
    default_width: int = 256
    default_height: int = 256
    default_fps: float = 8.0
    default_steps: int | None = None
    default_guidance: float | None = None
    max_concurrency: int = 1
    supports_negative_prompt: bool = True

    def speaks(self, language: str | None) -> bool:
        return language is None or "*" in self.languages or language in self.languages
