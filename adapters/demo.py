"""Procedural demo models: a deterministic numpy renderer of :class:`~adapters.demo_scene.Scene`.

``render_scene`` is the ground-truth renderer of the shapes world; the demo behaviours are known
defects layered on top of it (``ignores_subject`` swaps colour and shape, ``flicker`` jitters
brightness and position frame to frame, ``frozen`` removes all motion). ``render_prompt`` is also
usable as a ``python`` adapter target.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, cast, get_args

import numpy as np
from pydantic import Field

from adapters.base import AdapterParams, Availability, RawVideo, ResolvedRequest, VideoAdapter
from adapters.capabilities import Capabilities, FrameRule, SizeRule
from adapters.demo_scene import PALETTE, SHAPES, Scene, SceneObject, parse_prompt

Behaviour = Literal["faithful", "ignores_subject", "flicker", "frozen"]
BEHAVIOURS: tuple[str, ...] = get_args(Behaviour)
REVISION = "procedural-v1"

SPEED_FACTOR = MappingProxyType({"slow": 0.5, "normal": 1.0, "fast": 1.6})
DARK_BACKGROUND = (28, 30, 38)
LIGHT_BACKGROUND = (212, 214, 220)
_HORIZONTAL = MappingProxyType({"left": -1.0, "right": 1.0})
_VERTICAL = MappingProxyType({"up": -1.0, "down": 1.0})


def _luminance(rgb: tuple[int, int, int]) -> float:
    return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]


def _blend_distance(point: tuple[int, int, int], colour: tuple[int, int, int], bg: tuple[int, int, int]) -> float:
    """Distance from ``point`` to the nearest blend of ``colour`` over ``bg`` (anti-aliased edges)."""
    p, c, b = (np.asarray(v, dtype=np.float64) for v in (point, colour, bg))
    span = c - b
    t = float(np.clip(np.dot(p - b, span) / max(float(np.dot(span, span)), 1e-9), 0.0, 1.0))
    return float(np.linalg.norm(p - (b + t * span)))


def background_rgb(scene: Scene) -> tuple[int, int, int]:
    """The named background, else dark slate (light grey when an object is too dark to see on it)."""
    if scene.background is not None:
        return PALETTE[scene.background]
    dark_object = any(_luminance(o.rgb) < 70 for o in scene.objects)
    return LIGHT_BACKGROUND if dark_object else DARK_BACKGROUND


def apply_behaviour(scene: Scene, behaviour: str, seed: int) -> Scene:
    """The scene a demo model actually draws: the prompt's scene with its known defect applied."""
    if behaviour == "frozen":
        objects = tuple(dataclasses.replace(o, motion="still") for o in scene.objects)
        return dataclasses.replace(scene, objects=objects)
    if behaviour != "ignores_subject":
        return scene
    rng = np.random.default_rng([seed, 2])
    asked = [o.rgb for o in scene.objects]
    background = background_rgb(scene)
    candidates = [
        name
        for name, rgb in PALETTE.items()
        if _luminance(rgb) >= 70
        and math.dist(rgb, background) > 100
        and all(math.dist(rgb, a) > 140 and _blend_distance(a, rgb, background) > 100 for a in asked)
    ]
    if not candidates:  # every colour is near one asked for: take the farthest
        candidates = [max(PALETTE, key=lambda n: min(math.dist(PALETTE[n], a) for a in asked))]
    swapped: list[SceneObject] = []
    for obj in scene.objects:
        colour = "grey" if "grey" in candidates and rng.random() < 0.5 else str(rng.choice(candidates))
        shape = str(rng.choice([s for s in SHAPES if s != obj.shape]))
        swapped.append(dataclasses.replace(obj, colour=colour, shape=shape))  # type: ignore[arg-type]
    return dataclasses.replace(scene, objects=tuple(swapped))


# -- shapes: signed distance (pixels, negative inside) of a shape of "radius" r at offset (x, y) ----------
def _sdf(shape: str, x: np.ndarray, y: np.ndarray, r: float) -> np.ndarray:
    if shape == "circle":
        return np.hypot(x, y) - r
    if shape == "ring":
        return np.abs(np.hypot(x, y) - 0.72 * r) - 0.28 * r
    if shape == "square":
        b = 0.8 * r
        qx, qy = np.abs(x) - b, np.abs(y) - b
        return np.hypot(np.maximum(qx, 0), np.maximum(qy, 0)) + np.minimum(np.maximum(qx, qy), 0)
    if shape == "triangle":  # equilateral, circumradius r, pointing up (image y grows downwards)
        k, a = math.sqrt(3.0), r * math.sqrt(3.0) / 2
        px, py = np.abs(x) - a, -y + a / k
        flip = px + k * py > 0
        px, py = np.where(flip, (px - k * py) / 2, px), np.where(flip, (-k * px - py) / 2, py)
        px = px - np.clip(px, -2 * a, 0)
        return -np.hypot(px, py) * np.sign(py)
    if shape == "star":  # five points, outer radius r
        k1x, k1y = 0.809016994375, -0.587785252292
        px, py = np.abs(x), -y
        for kx, ky in ((k1x, k1y), (-k1x, k1y)):
            d = 2.0 * np.maximum(kx * px + ky * py, 0.0)
            px, py = px - d * kx, py - d * ky
        px, py = np.abs(px), py - r
        bax, bay = 0.45 * -k1y, 0.45 * k1x - 1.0
        h = np.clip((px * bax + py * bay) / (bax * bax + bay * bay), 0.0, r)
        return np.hypot(px - bax * h, py - bay * h) * np.sign(py * bax - px * bay)
    # heart: the unit heart spans y 0..1.1 with its tip at 0; scale it to a height of 2r
    s = 0.55 / r
    px, py = np.abs(x) * s, -y * s + 0.55
    lobe = np.hypot(px - 0.25, py - 0.75) - math.sqrt(2) / 4
    t = 0.5 * np.maximum(px + py, 0.0)
    body = np.sqrt(np.minimum(px * px + (py - 1.0) ** 2, (px - t) ** 2 + (py - t) ** 2)) * np.sign(px - py)
    return np.where(px + py > 1.0, lobe, body) / s


@dataclass(frozen=True)
class _Instance:
    """One drawn copy of an object: where its path is anchored and how it moves."""

    obj: SceneObject
    cx: float
    cy: float
    travel: float  # pixels covered by a linear motion over the clip
    room: float  # size of the free cell around (cx, cy), for orbits and bounces
    phase: float


def _layout(scene: Scene, width: int, height: int, rng: np.random.Generator) -> tuple[list[_Instance], float]:
    """Place every copy: left/right movers in horizontal lanes, up/down movers in vertical lanes, the rest
    on a grid. Returns the instances and the common radius."""
    copies = [o for o in scene.objects for _ in range(o.count)]
    horizontal = [o for o in copies if o.motion in _HORIZONTAL]
    vertical = [o for o in copies if o.motion in _VERTICAL]
    others = [o for o in copies if o.motion not in _HORIZONTAL and o.motion not in _VERTICAL]
    cols = max(1, math.ceil(math.sqrt(len(others))))
    rows = max(1, math.ceil(len(others) / cols))
    cell = min(width / cols, height / rows)
    short = min(width, height)
    radius = 0.15 * short / max(1.0, math.sqrt(len(copies)) * 0.8)
    if horizontal:
        radius = min(radius, 0.38 * height / (len(horizontal) + 1))
    if vertical:
        radius = min(radius, 0.38 * width / (len(vertical) + 1))
    if others:
        radius = min(radius, 0.3 * cell)
    radius = max(radius, 2.0)
    jitter = 0.03 * short
    out: list[_Instance] = []
    for i, obj in enumerate(horizontal):
        travel = min(width - 2.6 * radius, 0.5 * width * SPEED_FACTOR[obj.speed])
        cy = height * (i + 1) / (len(horizontal) + 1) + rng.uniform(-1, 1) * jitter * 0.5
        cx = width / 2 + rng.uniform(-1, 1) * min(jitter, max(0.0, (width - 2.6 * radius - travel) / 2))
        out.append(_Instance(obj, cx, cy, travel, cell, rng.uniform(0, 2 * math.pi)))
    for i, obj in enumerate(vertical):
        travel = min(height - 2.6 * radius, 0.5 * height * SPEED_FACTOR[obj.speed])
        cx = width * (i + 1) / (len(vertical) + 1) + rng.uniform(-1, 1) * jitter * 0.5
        cy = height / 2 + rng.uniform(-1, 1) * min(jitter, max(0.0, (height - 2.6 * radius - travel) / 2))
        out.append(_Instance(obj, cx, cy, travel, cell, rng.uniform(0, 2 * math.pi)))
    x_pad, y_pad = (width - cols * cell) / 2, (height - rows * cell) / 2
    for i, obj in enumerate(others):
        row, col = divmod(i, cols)
        cx = x_pad + (col + 0.5) * cell + rng.uniform(-1, 1) * jitter * 0.5
        cy = y_pad + (row + 0.5) * cell + rng.uniform(-1, 1) * jitter * 0.5
        out.append(_Instance(obj, cx, cy, 0.0, cell, rng.uniform(0, 2 * math.pi)))
    return out, radius


def _pose(inst: _Instance, t: float, radius: float) -> tuple[float, float, float, float]:
    """(x, y, radius, angle) of an instance at clip time t in [0, 1]."""
    motion, speed = inst.obj.motion, SPEED_FACTOR[inst.obj.speed]
    x, y, r, angle = inst.cx, inst.cy, radius, 0.0
    if motion in _HORIZONTAL:
        x += _HORIZONTAL[motion] * inst.travel * (t - 0.5)
    elif motion in _VERTICAL:
        y += _VERTICAL[motion] * inst.travel * (t - 0.5)
    elif motion in ("towards", "away"):
        grow = 0.45 * speed * (t if motion == "towards" else 1.0 - t)
        r = radius * (0.7 + grow)
    elif motion == "spin":
        angle = math.pi * speed * t
    elif motion == "circle":
        orbit, theta = 0.22 * inst.room, inst.phase + 2 * math.pi * 0.75 * speed * t
        x, y = x + orbit * math.cos(theta), y + orbit * math.sin(theta)
    elif motion == "bounce":
        lift = 0.25 * inst.room
        y += lift * (0.5 - abs(math.sin(math.pi * 2 * speed * t)))
    return x, y, r, angle


def _texture(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A subtle seeded background: a low-frequency noise field plus a linear gradient, in levels."""
    coarse = rng.uniform(-1.0, 1.0, size=(5, 5))
    ys, xs = np.linspace(0, 4, height), np.linspace(0, 4, width)
    y0, x0 = np.minimum(ys.astype(int), 3), np.minimum(xs.astype(int), 3)
    wy, wx = (ys - y0)[:, None], (xs - x0)[None, :]
    top = coarse[y0][:, x0] * (1 - wx) + coarse[y0][:, x0 + 1] * wx
    bottom = coarse[y0 + 1][:, x0] * (1 - wx) + coarse[y0 + 1][:, x0 + 1] * wx
    noise = top * (1 - wy) + bottom * wy
    angle = rng.uniform(0, 2 * math.pi)
    gradient = np.cos(angle) * np.linspace(-1, 1, width)[None, :] + np.sin(angle) * np.linspace(-1, 1, height)[:, None]
    return (6.0 * noise + 7.0 * gradient).astype(np.float32)


def _draw(frame: np.ndarray, shape: str, rgb: np.ndarray, x: float, y: float, r: float, angle: float) -> None:
    """Alpha-blend one anti-aliased shape into a float32 (H, W, 3) frame, touching only its bounding box."""
    height, width, _ = frame.shape
    ext = 1.2 * r + 2
    x0, x1 = max(0, int(x - ext)), min(width, int(x + ext) + 1)
    y0, y1 = max(0, int(y - ext)), min(height, int(y + ext) + 1)
    if x0 >= x1 or y0 >= y1:
        return
    dx = np.arange(x0, x1, dtype=np.float32)[None, :] + 0.5 - x
    dy = np.arange(y0, y1, dtype=np.float32)[:, None] + 0.5 - y
    if angle:
        c, s = math.cos(angle), math.sin(angle)
        dx, dy = c * dx + s * dy, -s * dx + c * dy
    alpha = np.clip(0.5 - _sdf(shape, dx, dy, r), 0.0, 1.0)
    if shape in ("circle", "ring") and angle:  # a mark that shows round shapes turning
        mark = np.clip(0.5 - (np.hypot(dx - 0.72 * r, dy) - 0.16 * r), 0.0, 1.0)[..., None]
        colour = rgb * (1 - mark) + rgb * 0.45 * mark
    else:
        colour = rgb
    region = frame[y0:y1, x0:x1]
    a = alpha[..., None]
    region *= 1 - a
    region += a * colour


def render_scene(
    scene: Scene,
    *,
    seed: int = 0,
    num_frames: int = 16,
    width: int = 256,
    height: int = 256,
    flicker: float = 0.0,
    background: tuple[int, int, int] | None = None,
) -> np.ndarray:
    """Draw ``scene`` as uint8 (F, H, W, 3).

    ``flicker`` in [0, 1] adds per-frame brightness and position jitter; ``background`` overrides
    :func:`background_rgb`.
    """
    if num_frames < 1 or width < 2 or height < 2:
        raise ValueError(f"need at least 1 frame of 2x2, got {num_frames} frames of {width}x{height}")
    rng = np.random.default_rng(seed)
    base = np.empty((height, width, 3), dtype=np.float32)
    base[:] = np.asarray(background or background_rgb(scene), dtype=np.float32)
    base += _texture(width, height, rng)[..., None]
    instances, radius = _layout(scene, width, height, rng)
    jolt = np.random.default_rng([seed, 1])
    gains = 1.0 + flicker * jolt.uniform(-0.45, 0.35, size=num_frames)
    shakes = flicker * 0.04 * min(width, height) * jolt.standard_normal((num_frames, len(instances), 2))
    out = np.empty((num_frames, height, width, 3), dtype=np.uint8)
    for f in range(num_frames):
        t = f / (num_frames - 1) if num_frames > 1 else 0.0
        frame = base.copy()
        for i, inst in enumerate(instances):
            x, y, r, angle = _pose(inst, t, radius)
            rgb = np.asarray(inst.obj.rgb, dtype=np.float32)
            _draw(frame, inst.obj.shape, rgb, x + shakes[f, i, 0], y + shakes[f, i, 1], r, angle)
        if flicker:
            frame *= gains[f]
        np.clip(frame, 0, 255, out=frame)
        out[f] = (frame + 0.5).astype(np.uint8)
    return out


def render_prompt(
    prompt: str,
    *,
    seed: int = 0,
    num_frames: int = 16,
    width: int = 256,
    height: int = 256,
    behaviour: str = "faithful",
) -> np.ndarray:
    """Parse ``prompt`` and render it with one demo behaviour: uint8 (F, H, W, 3)."""
    if behaviour not in BEHAVIOURS:
        raise ValueError(f"unknown behaviour {behaviour!r}; expected one of {', '.join(BEHAVIOURS)}")
    asked = parse_prompt(prompt)
    drawn = apply_behaviour(asked, behaviour, seed)
    return render_scene(
        drawn,
        seed=seed,
        num_frames=num_frames,
        width=width,
        height=height,
        flicker=1.0 if behaviour == "flicker" else 0.0,
        background=background_rgb(asked),  # the defects change the subject, never the background
    )


class DemoParams(AdapterParams):
    behaviour: Behaviour = "faithful"
    latency_s: float = Field(default=0.0, ge=0.0, le=600.0, description="Simulated generation time")


class DemoAdapter(VideoAdapter):
    """A procedural model with a known defect: no weights, runs anywhere, deterministic per seed."""

    kind = "demo"
    Params = DemoParams

    @property
    def demo_params(self) -> DemoParams:
        return cast(DemoParams, self.params)

    def capabilities(self) -> Capabilities:
        return Capabilities(
            frames=FrameRule(step=1, min=1, max=128),
            size=SizeRule(multiple=8, min=64, max=1024),
            languages=["*"],
            default_frames=16,
            default_width=256,
            default_height=256,
            default_fps=8.0,
            supports_negative_prompt=False,
        )

    def check(self) -> Availability:
        return Availability(ok=True, detail=f"procedural ({self.demo_params.behaviour}), no weights needed")

    def _generate(self, request: ResolvedRequest) -> RawVideo:
        params = self.demo_params
        frames = render_prompt(
            request.prompt,
            seed=request.seed,
            num_frames=request.num_frames,
            width=request.width,
            height=request.height,
            behaviour=params.behaviour,
        )
        steps = 10 if params.latency_s else 1  # a slow demo model reports its progress as a real one would
        for step in range(1, steps + 1):
            if params.latency_s:
                time.sleep(params.latency_s / steps)
            self.report_progress(step / steps)
        return RawVideo(
            frames=frames,
            layout="FHWC",
            fps=request.fps,
            details={
                "revision": REVISION,
                "device": "cpu",
                "dtype": "uint8",
                "params": {"behaviour": params.behaviour},
                "library_versions": {"numpy": np.__version__},
            },
        )
