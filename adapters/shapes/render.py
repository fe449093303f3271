"""The ground-truth renderer of the shapes world: a :class:`Scene` drawn at any size, frame count or set of times.

Deterministic per seed: the seed picks the background texture and small jitters of the layout, never what
the scene says. Objects move over clip time t in [0, 1]; the camera (pan, tilt, zoom) moves the whole picture,
background texture included, so a camera move and an object's own motion look different.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from adapters.shapes.draw import draw_shape
from adapters.shapes.lexicon import PALETTE, luminance
from adapters.shapes.scene import Scene, SceneObject

SPEED_FACTOR = MappingProxyType({"slow": 0.5, "normal": 1.0, "fast": 1.6})
DARK_BACKGROUND = (28, 30, 38)
LIGHT_BACKGROUND = (212, 214, 220)
PAN = 0.3  # share of the frame a pan or tilt moves the picture over the clip
ZOOM = 0.4  # a zoom scales the picture by 1 + ZOOM over the clip
_HORIZONTAL = MappingProxyType({"left": -1.0, "right": 1.0})
_VERTICAL = MappingProxyType({"up": -1.0, "down": 1.0})


def background_rgb(scene: Scene) -> tuple[int, int, int]:
    """The named background, else dark slate (light grey when an object is too dark to see on it)."""
    if scene.background is not None:
        return PALETTE[scene.background]
    dark_object = any(luminance(o.rgb) < 70 for o in scene.objects)
    return LIGHT_BACKGROUND if dark_object else DARK_BACKGROUND


def clip_times(num_frames: int) -> np.ndarray:
    """Clip time of each frame of a ``num_frames`` video: 0 for the first, 1 for the last."""
    return np.linspace(0.0, 1.0, num_frames) if num_frames > 1 else np.zeros(1)


@dataclass(frozen=True)
class _Instance:
    """One drawn copy of an object: where its path is anchored and how it moves."""

    obj: SceneObject
    cx: float
    cy: float
    travel: float  # pixels covered by a linear motion over the clip
    room: float  # size of the free cell around (cx, cy), for orbits and bounces
    phase: float


def _split(copies: list[SceneObject]) -> tuple[list[SceneObject], list[SceneObject], list[SceneObject]]:
    horizontal = [o for o in copies if o.motion in _HORIZONTAL]
    vertical = [o for o in copies if o.motion in _VERTICAL]
    others = [o for o in copies if o.motion not in _HORIZONTAL and o.motion not in _VERTICAL]
    return horizontal, vertical, others


def _grid(n: int, width: float, height: float) -> tuple[int, int, float]:
    cols = max(1, math.ceil(math.sqrt(n)))
    rows = max(1, math.ceil(n / cols))
    return cols, rows, min(width / cols, height / rows)


def _radius(copies: list[SceneObject], width: float, height: float) -> float:
    """The largest common radius at which ``copies`` fit their lanes and grid cells in a width x height region,
    sized by the region's area (a half of the frame by its short side alone drew objects ~3.5 px across at 64x64)."""
    horizontal, vertical, others = _split(copies)
    radius = 0.15 * math.sqrt(width * height) / max(1.0, math.sqrt(len(copies)) * 0.8)
    if horizontal:
        radius = min(radius, 0.38 * height / (len(horizontal) + 1))
    if vertical:
        radius = min(radius, 0.38 * width / (len(vertical) + 1))
    if others:
        radius = min(radius, 0.3 * _grid(len(others), width, height)[2])
    return radius


Region = tuple[float, float, float, float]  # x0, y0, width, height


def _place(copies: list[SceneObject], region: Region, radius: float, rng: np.random.Generator) -> list[_Instance]:
    """Left/right movers in horizontal lanes, up/down movers in vertical lanes, the rest on a grid."""
    x0, y0, width, height = region
    horizontal, vertical, others = _split(copies)
    cols, rows, cell = _grid(len(others), width, height)
    jitter = 0.03 * min(width, height)
    out: list[_Instance] = []
    for i, obj in enumerate(horizontal):
        travel = max(0.0, min(width - 2.6 * radius, 0.5 * width * SPEED_FACTOR[obj.speed]))
        cy = y0 + height * (i + 1) / (len(horizontal) + 1) + rng.uniform(-1, 1) * jitter * 0.5
        cx = x0 + width / 2 + rng.uniform(-1, 1) * min(jitter, max(0.0, (width - 2.6 * radius - travel) / 2))
        out.append(_Instance(obj, cx, cy, travel, cell, rng.uniform(0, 2 * math.pi)))
    for i, obj in enumerate(vertical):
        travel = max(0.0, min(height - 2.6 * radius, 0.5 * height * SPEED_FACTOR[obj.speed]))
        cx = x0 + width * (i + 1) / (len(vertical) + 1) + rng.uniform(-1, 1) * jitter * 0.5
        cy = y0 + height / 2 + rng.uniform(-1, 1) * min(jitter, max(0.0, (height - 2.6 * radius - travel) / 2))
        out.append(_Instance(obj, cx, cy, travel, cell, rng.uniform(0, 2 * math.pi)))
    x_pad, y_pad = (width - cols * cell) / 2, (height - rows * cell) / 2
    for i, obj in enumerate(others):
        row, col = divmod(i, cols)
        cx = x0 + x_pad + (col + 0.5) * cell + rng.uniform(-1, 1) * jitter * 0.5
        cy = y0 + y_pad + (row + 0.5) * cell + rng.uniform(-1, 1) * jitter * 0.5
        out.append(_Instance(obj, cx, cy, 0.0, cell, rng.uniform(0, 2 * math.pi)))
    return out


def _halves(scene: Scene, rng: np.random.Generator) -> tuple[str, bool]:
    """How two groups share the frame: (``"left_of"`` or ``"above"``, whether the first group takes the second
    half). A relation says it. Without one the groups still get a half each, so that no object of one hides one of
    the other (sharing the frame, their lanes and grid cells crossed: at a random time a quarter of such 64x64
    frames had objects of the two groups overlapping): side by side unless more objects move up or down than left
    or right (so the lanes of the movers are spread along a half's long side), in a random order."""
    if scene.relation is not None:
        return scene.relation, False
    across = sum(o.count for o in scene.objects if o.motion in _HORIZONTAL)
    along = sum(o.count for o in scene.objects if o.motion in _VERTICAL)
    return ("above" if along > across else "left_of"), bool(rng.random() < 0.5)


def _layout(scene: Scene, width: int, height: int, rng: np.random.Generator) -> tuple[list[_Instance], float]:
    """Place every copy; with two groups or more the first group takes one half of the frame and the others the
    other half (:func:`_halves`). Returns the instances and the common radius."""
    groups = [[o] * o.count for o in scene.objects]
    if len(groups) >= 2:
        split, swapped = _halves(scene, rng)
        w, h = float(width), float(height)
        halves = [(0.0, 0.0, w / 2, h), (w / 2, 0.0, w / 2, h)]
        if split == "above":
            halves = [(0.0, 0.0, w, h / 2), (0.0, h / 2, w, h / 2)]
        if swapped:
            halves.reverse()
        regions = [(halves[0], groups[0]), (halves[1], [c for g in groups[1:] for c in g])]
    else:
        regions = [((0.0, 0.0, float(width), float(height)), [c for g in groups for c in g])]
    radius = max(2.0, min(_radius(copies, r[2], r[3]) for r, copies in regions))
    return [inst for r, copies in regions for inst in _place(copies, r, radius, rng)], radius


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


def camera_at(camera: str, t: float, width: int, height: int) -> tuple[float, float, float]:
    """(dx, dy, zoom) of the camera at clip time t: a world point p is seen at (p - centre - d) * zoom + centre."""
    s = t - 0.5
    if camera == "pan_left":
        return -PAN * width * s, 0.0, 1.0
    if camera == "pan_right":
        return PAN * width * s, 0.0, 1.0
    if camera == "tilt_up":
        return 0.0, -PAN * height * s, 1.0
    if camera == "tilt_down":
        return 0.0, PAN * height * s, 1.0
    if camera == "zoom_in":
        return 0.0, 0.0, 1.0 + ZOOM * t
    if camera == "zoom_out":
        return 0.0, 0.0, 1.0 + ZOOM * (1.0 - t)
    return 0.0, 0.0, 1.0


class _Texture:
    """A seeded background texture over world coordinates (levels added to the background colour): three
    low-frequency waves and a linear gradient, so the camera moving over it can be seen."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.freq = rng.uniform(1.0, 2.5, size=3)
        self.theta = rng.uniform(0, 2 * math.pi, size=3)
        self.phase = rng.uniform(0, 2 * math.pi, size=3)
        self.gradient = rng.uniform(0, 2 * math.pi)

    def levels(self, width: int, height: int, cameras: Sequence[tuple[float, float, float]]) -> np.ndarray:
        """(F, H, W) float32 texture seen by a camera at each (dx, dy, zoom) of ``cameras`` (Python floats, as
        :func:`camera_at` gives them), all views at once: each element computed in the same dtypes as drawing one
        view alone, so equal to it to the bit."""
        dx, dy, zoom = (np.array(c, dtype=np.float32)[:, None] for c in zip(*cameras, strict=True))
        u = ((np.arange(width, dtype=np.float32) + 0.5 - width / 2) / zoom + dx) / width  # (F, W) world x / width
        v = ((np.arange(height, dtype=np.float32) + 0.5 - height / 2) / zoom + dy) / height  # (F, H)
        # each wave's factors as scalars (math.cos of a numpy float64), as one view alone computed them
        waves = zip(self.freq, self.theta, strict=True)
        factors = [(2 * math.pi * f * math.cos(th), 2 * math.pi * f * math.sin(th)) for f, th in waves]
        ka, kb = (np.array(k)[:, None, None] for k in zip(*factors, strict=True))
        a = ka * u + self.phase[:, None, None]  # (3, F, W) in float64, as the scalar factors make it
        b = kb * v  # (3, F, H)
        ca, sa, cb, sb = np.cos(a)[:, :, None, :], np.sin(a)[:, :, None, :], np.cos(b)[..., None], np.sin(b)[..., None]
        out = np.zeros((len(cameras), height, width), dtype=np.float32)
        step = max(1, 2**16 // (3 * height * width))  # views at a time: big frames, one by one (memory-bound else)
        for i in range(0, len(cameras), step):
            part = slice(i, i + step)
            # cos(a + b) = cos a cos b - sin a sin b: outer products
            for wave in 5.0 * (cb[:, part] * ca[:, part] - sb[:, part] * sa[:, part]):
                out[part] += wave  # one wave after another, each sum rounded to float32
        g = self.gradient
        out += 7.0 * (math.cos(g) * 2 * u[:, None, :] + math.sin(g) * 2 * v[:, :, None])
        return out


def render_frames(
    scene: Scene,
    times: Sequence[float] | np.ndarray,
    *,
    seed: int = 0,
    width: int = 256,
    height: int = 256,
    flicker: float = 0.0,
    background: tuple[int, int, int] | None = None,
    rgbs: Mapping[SceneObject, tuple[int, int, int]] | None = None,
) -> np.ndarray:
    """Draw ``scene`` at the clip times ``times`` (each in [0, 1]) as uint8 (len(times), H, W, 3).

    ``flicker`` in [0, 1] adds per-frame brightness and position jitter; ``background`` overrides
    :func:`background_rgb`; ``rgbs`` overrides the colour of some object groups (training augmentation).
    """
    if len(times) < 1 or width < 2 or height < 2:
        raise ValueError(f"need at least 1 frame of 2x2, got {len(times)} frames of {width}x{height}")
    rng = np.random.default_rng(seed)
    colour = np.asarray(background or background_rgb(scene), dtype=np.float32)
    texture = _Texture(rng)
    instances, radius = _layout(scene, width, height, rng)
    shakes = None
    if flicker:  # a flicker-free clip needs no jitter (adding zeros would change no pixel)
        jolt = np.random.default_rng([seed, 1])
        gains = 1.0 + flicker * jolt.uniform(-0.45, 0.35, size=len(times))
        shakes = flicker * 0.04 * min(width, height) * jolt.standard_normal((len(times), len(instances), 2))
    cameras = [camera_at(scene.camera, float(t), width, height) for t in times]
    views = cameras if scene.camera != "static" else cameras[:1]  # a still camera sees one view
    frames = np.empty((len(times), height, width, 3), dtype=np.float32)
    levels = texture.levels(width, height, views)
    for c in range(3):  # one colour at a time: broadcasting over the 3 colours runs inner loops of 3, far slower
        np.add(levels, colour[c], out=frames[..., c])
    # Copies of one object group are drawn in one call, copy after copy and each into every frame
    # (adapters/shapes/draw.py).
    for obj, run in itertools.groupby(enumerate(instances), key=lambda item: item[1].obj):
        xs, ys, rs, angles, frame_of = [], [], [], [], []
        for i, inst in run:
            for f, (t, (dx, dy, zoom)) in enumerate(zip(times, cameras, strict=True)):
                x, y, r, angle = _pose(inst, float(t), radius)
                x, y = (x - width / 2 - dx) * zoom + width / 2, (y - height / 2 - dy) * zoom + height / 2
                if shakes is not None:
                    x, y = x + shakes[f, i, 0], y + shakes[f, i, 1]
                xs.append(x)
                ys.append(y)
                rs.append(r * zoom)
                angles.append(angle)
                frame_of.append(f)
        rgb = np.asarray(rgbs.get(obj, obj.rgb) if rgbs else obj.rgb, dtype=np.float32)
        draw_shape(frames, obj.shape, rgb, xs, ys, rs, angles, obj.motion == "spin", frame_of)
    if flicker:
        frames *= gains[:, None, None, None]
    np.clip(frames, 0, 255, out=frames)
    frames += 0.5
    out = frames.astype(np.uint8)
    return out


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
    """Draw ``scene`` as a ``num_frames`` clip, uint8 (F, H, W, 3) (see :func:`render_frames`)."""
    if num_frames < 1:
        raise ValueError(f"need at least 1 frame of 2x2, got {num_frames} frames of {width}x{height}")
    return render_frames(
        scene, clip_times(num_frames), seed=seed, width=width, height=height, flicker=flicker, background=background
    )
