"""Known defects of the demo generators, each with a strength, applied on top of the ground-truth renderer.

A :class:`Defects` says how strong each defect is; :func:`draw` renders a prompt's scene with them and
returns what was actually drawn (which objects got the wrong colour, which frames jumped), so the truth
behind every demo video is known. Probabilities are drawn per video from its seed: the same seed gives the
same video.
"""

from __future__ import annotations

import dataclasses
import math
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from adapters.shapes.lexicon import COUNTS, MOTIONS, PALETTE, SHAPES, luminance
from adapters.shapes.render import background_rgb, clip_times, render_frames
from adapters.shapes.scene import Scene, SceneObject

OPPOSITE = MappingProxyType(
    {"left": "right", "right": "left", "up": "down", "down": "up", "towards": "away", "away": "towards"}
    | {"pan_left": "pan_right", "pan_right": "pan_left", "tilt_up": "tilt_down", "tilt_down": "tilt_up"}
    | {"zoom_in": "zoom_out", "zoom_out": "zoom_in"}
)


@dataclass(frozen=True)
class Defects:
    """Strength of each defect. Probabilities apply per object group (colour, shape, count, direction) or per
    video (frozen); flicker is a strength in [0, 1], blur a Gaussian sigma as a share of the short side, jumps
    the share of frames taken from another moment of the clip."""

    colour: float = 0.0
    shape: float = 0.0
    count: float = 0.0
    direction: float = 0.0
    frozen: float = 0.0
    flicker: float = 0.0
    blur: float = 0.0
    jumps: float = 0.0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if not (0.0 <= value <= 1.0) or math.isnan(value):
                raise ValueError(f"defect {f.name!r} must be in [0, 1], got {value}")

    def active(self) -> dict[str, float]:
        """The defects with a nonzero strength."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if getattr(self, f.name)}


# The named behaviours of the demo models (models.yaml `behaviour`); explicit strengths override them.
PRESETS: Mapping[str, Defects] = MappingProxyType(
    {
        "faithful": Defects(),
        "ignores_subject": Defects(colour=1.0, shape=1.0),
        "wrong_colour": Defects(colour=0.5),
        "wrong_object": Defects(shape=1.0),
        "wrong_count": Defects(count=1.0),
        "frozen": Defects(frozen=1.0),
        "wrong_direction": Defects(direction=1.0),
        "flicker": Defects(flicker=1.0),
        "blur": Defects(blur=0.012),
        "jumps": Defects(jumps=0.3),
        "mix": Defects(colour=0.25, shape=0.25, direction=0.25, flicker=0.35, blur=0.006),
    }
)


@dataclass(frozen=True)
class Drawn:
    """A demo video and the truth about it: the scene asked for, the scene drawn and the defects realised."""

    frames: np.ndarray
    asked: Scene
    drawn: Scene
    realised: dict[str, Any] = field(default_factory=dict)


def _wrong_colour(obj: SceneObject, scene: Scene, rng: np.random.Generator) -> str:
    """A colour clearly unlike every asked colour and visible on the background (not an anti-aliased blend)."""
    asked = [o.rgb for o in scene.objects]
    bg = background_rgb(scene)
    ok = [
        name
        for name, rgb in PALETTE.items()
        if luminance(rgb) >= 70
        and math.dist(rgb, bg) > 100
        and all(math.dist(rgb, a) > 140 and _blend_distance(a, rgb, bg) > 100 for a in asked)
    ]
    if not ok:  # every colour is near one asked for: take the farthest
        ok = [max(PALETTE, key=lambda n: min(math.dist(PALETTE[n], a) for a in asked))]
    return "grey" if "grey" in ok and rng.random() < 0.5 else str(rng.choice(ok))


def _blend_distance(point: tuple[int, int, int], colour: tuple[int, int, int], bg: tuple[int, int, int]) -> float:
    """Distance from ``point`` to the nearest blend of ``colour`` over ``bg`` (anti-aliased edges)."""
    p, c, b = (np.asarray(v, dtype=np.float64) for v in (point, colour, bg))
    span = c - b
    t = float(np.clip(np.dot(p - b, span) / max(float(np.dot(span, span)), 1e-9), 0.0, 1.0))
    return float(np.linalg.norm(p - (b + t * span)))


def _wrong_motion(motion: str, rng: np.random.Generator) -> str:
    return OPPOSITE.get(motion) or str(rng.choice([m for m in MOTIONS if m not in (motion, "still")]))


def apply(scene: Scene, defects: Defects, seed: int) -> tuple[Scene, dict[str, Any]]:
    """The scene a demo model draws for ``scene`` and which defects were realised (per object group). The draws
    depend on the scene as well as the seed: a pool made with one seed per model still gets a wrong colour (at
    strength p) on about a share p of its prompts, not on all or none of them. Only what is drawn keys them (not the
    prompt's wording or language, nor the parser's sets, whose repr changes with PYTHONHASHSEED from one process to
    the next)."""
    drawn_key = repr((scene.objects, scene.background, scene.camera, scene.relation))
    rng = np.random.default_rng([seed, 2, zlib.crc32(drawn_key.encode())])
    realised: dict[str, Any] = {}
    objects = []
    for obj in scene.objects:
        hits = {name: bool(rng.random() < getattr(defects, name)) for name in ("colour", "shape", "count", "direction")}
        changes: dict[str, Any] = {}
        if hits["colour"]:
            changes["colour"] = _wrong_colour(obj, scene, rng)
        if hits["shape"]:
            changes["shape"] = str(rng.choice([s for s in SHAPES if s != obj.shape]))
        if hits["count"]:
            changes["count"] = int(rng.choice([c for c in COUNTS if c != obj.count]))
        if hits["direction"]:
            changes["motion"] = _wrong_motion(obj.motion, rng)
        for name, hit in hits.items():
            realised.setdefault(name, []).append(hit)
        objects.append(dataclasses.replace(obj, **changes))
    camera: str = scene.camera
    if defects.direction and camera != "static" and rng.random() < defects.direction:
        camera = OPPOSITE[camera]
        realised["camera_direction"] = True
    if rng.random() < defects.frozen:
        objects = [dataclasses.replace(o, motion="still") for o in objects]
        camera = "static"
        realised["frozen"] = True
    drawn = dataclasses.replace(scene, objects=tuple(objects), camera=camera)  # type: ignore[arg-type]
    return drawn, realised


def _jumped_times(num_frames: int, share: float, rng: np.random.Generator) -> tuple[np.ndarray, list[int]]:
    times = clip_times(num_frames)
    k = round(share * (num_frames - 1))
    if k <= 0:
        return times, []
    frames = sorted(int(i) for i in rng.choice(np.arange(1, num_frames), size=k, replace=False))
    for i in frames:  # a jump lands at least a quarter of the clip away
        far = [t for t in times if abs(t - times[i]) >= 0.25] or [float(times[0])]
        times[i] = float(rng.choice(far))
    return times, frames


def _blur(frames: np.ndarray, sigma: float) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    out = gaussian_filter(frames.astype(np.float32), sigma=(0, sigma, sigma, 0), mode="nearest")
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def draw(
    scene: Scene, defects: Defects, *, seed: int = 0, num_frames: int = 16, width: int = 256, height: int = 256
) -> Drawn:
    """Render ``scene`` as a demo model with ``defects`` draws it; the background is always the asked one."""
    if num_frames < 1:
        raise ValueError(f"need at least 1 frame of 2x2, got {num_frames} frames of {width}x{height}")
    drawn, realised = apply(scene, defects, seed)
    times, jumped = _jumped_times(num_frames, defects.jumps, np.random.default_rng([seed, 3]))
    if jumped:
        realised["jumped_frames"] = jumped
    frames = render_frames(
        drawn, times, seed=seed, width=width, height=height, flicker=defects.flicker, background=background_rgb(scene)
    )
    if defects.blur:
        frames = _blur(frames, defects.blur * min(width, height))
        realised["blur_px"] = round(defects.blur * min(width, height), 2)
    if defects.flicker:
        realised["flicker"] = defects.flicker
    return Drawn(frames, scene, drawn, realised)
