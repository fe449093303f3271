"""Training and held-out data of the shapes-world CLIP: rendered frame stacks, captions, counterfactual captions.

Everything is drawn from a seeded generator, so a seed gives the same data. Held-out attribute combinations
(:data:`HELD_OUT`: shape-colour pairs) never appear in training scenes; the held-out figures are measured on
scenes made of them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter

from adapters.shapes.captions import describe, random_scene
from adapters.shapes.lexicon import CAMERAS, COLOURS, COUNTS, EN, MOTIONS, PALETTE, SHAPES, ZH, luminance, visible_on
from adapters.shapes.render import background_rgb, render_frames
from adapters.shapes.scene import Scene, SceneObject
from metrics.shapes_clip import SPECIALS, STACK, split_words, stack_indices

# Shape-colour pairs never seen in training (one per shape, plus two): the held-out combinations.
HELD_OUT: frozenset[tuple[str, str]] = frozenset(
    {
        ("circle", "purple"),
        ("square", "orange"),
        ("triangle", "pink"),
        ("star", "green"),
        ("heart", "blue"),
        ("ring", "brown"),
        ("circle", "grey"),
        ("square", "yellow"),
    }
)
ATTRIBUTES = ("shape", "colour", "count", "motion", "direction", "speed", "background", "camera", "relation")
FRAME_COUNTS = (8, 12, 16, 24, 32, 49)
OPPOSITE = {"left": "right", "right": "left", "up": "down", "down": "up", "towards": "away", "away": "towards"}


def is_training_object(obj: SceneObject) -> bool:
    return (obj.shape, obj.colour) not in HELD_OUT


def has_held_out(scene: Scene) -> bool:
    return any((o.shape, o.colour) in HELD_OUT for o in scene.objects)


def build_vocab(seed: int = 0, samples: int = 20_000) -> list[str]:
    """Specials, then every English word and Chinese character of the grammar and of sampled captions, sorted."""
    rng = np.random.default_rng([seed, 99])
    words: set[str] = set()
    for surface in (*EN, *ZH):
        words.update(split_words(surface))
    for _ in range(samples):
        scene = random_scene(rng)
        for language in ("en", "zh"):
            words.update(split_words(describe(scene, language, rng)))
    return [*SPECIALS, *sorted(words)]


def _replace_object(scene: Scene, index: int, **changes: object) -> Scene:
    objects = list(scene.objects)
    objects[index] = dataclasses.replace(objects[index], **changes)  # type: ignore[arg-type]
    return dataclasses.replace(scene, objects=tuple(objects))


def _other(rng: np.random.Generator, options: Iterable[object], current: object) -> object:
    choices = [o for o in options if o != current]
    return choices[int(rng.integers(len(choices)))] if choices else None


def _default_rgb(scene: Scene) -> tuple[int, int, int]:
    return background_rgb(dataclasses.replace(scene, background=None))


def alter(scene: Scene, attribute: str, rng: np.random.Generator) -> Scene | None:
    """``scene`` with one ``attribute`` changed to a clearly different, still drawable value (None: no such change
    makes sense here, e.g. the direction of a spinning object)."""
    i = int(rng.integers(len(scene.objects)))
    obj = scene.objects[i]
    if attribute == "shape":
        return _replace_object(scene, i, shape=_other(rng, SHAPES, obj.shape))
    if attribute == "colour":
        taken = {(o.shape, o.colour) for o in scene.objects}
        ok = [c for c in COLOURS if c != obj.colour and visible_on(c, scene.background) and (obj.shape, c) not in taken]
        ok = [c for c in ok if math.dist(PALETTE[c], PALETTE[obj.colour]) > 60]
        return _replace_object(scene, i, colour=ok[int(rng.integers(len(ok)))]) if ok else None
    if attribute == "count":
        return _replace_object(scene, i, count=_other(rng, COUNTS, obj.count))
    if attribute == "motion":
        return _replace_object(scene, i, motion=_other(rng, MOTIONS, obj.motion), speed="normal")
    if attribute == "direction":
        opposite = OPPOSITE.get(obj.motion)
        return _replace_object(scene, i, motion=opposite) if opposite else None
    if attribute == "speed":
        if obj.motion == "still":
            return None
        return _replace_object(scene, i, speed={"slow": "fast", "fast": "slow"}.get(obj.speed, _pick_speed(rng)))
    if attribute == "background":
        current = PALETTE[scene.background] if scene.background else _default_rgb(scene)
        ok = [
            c
            for c in COLOURS
            if math.dist(PALETTE[c], current) > 100 and all(visible_on(o.colour, c) for o in scene.objects)
        ]
        return dataclasses.replace(scene, background=ok[int(rng.integers(len(ok)))]) if ok else None  # type: ignore[arg-type]
    if attribute == "camera":
        return dataclasses.replace(scene, camera=_other(rng, CAMERAS, scene.camera))  # type: ignore[arg-type]
    if attribute == "relation":
        if scene.relation is None:
            return None
        if rng.random() < 0.5:  # the two groups swap places
            return dataclasses.replace(scene, objects=(scene.objects[1], scene.objects[0], *scene.objects[2:]))
        return dataclasses.replace(scene, relation="above" if scene.relation == "left_of" else "left_of")
    raise ValueError(f"unknown attribute {attribute!r}")


def _pick_speed(rng: np.random.Generator) -> str:
    return "slow" if rng.random() < 0.5 else "fast"


def hard_negative(scene: Scene, rng: np.random.Generator, exclude_held_out: bool = False) -> Scene:
    """A scene one attribute away from ``scene`` (for a hard negative caption); a binding swap for two groups.
    ``exclude_held_out``: never one with a held-out pair (as ever-negative captions they would teach the text tower
    to score those pairs low)."""
    while True:
        changed = _hard_negative(scene, rng)
        if not (exclude_held_out and has_held_out(changed)):
            return changed


def _hard_negative(scene: Scene, rng: np.random.Generator) -> Scene:
    a = scene.objects
    if len(a) == 2 and a[0].colour != a[1].colour and rng.random() < 0.15:  # swap colours between the groups
        swapped = (dataclasses.replace(a[0], colour=a[1].colour), dataclasses.replace(a[1], colour=a[0].colour))
        if swapped[0] != a[1] and swapped[1] != a[0]:
            return dataclasses.replace(scene, objects=swapped)
    while True:
        changed = alter(scene, ATTRIBUTES[int(rng.integers(len(ATTRIBUTES)))], rng)
        if changed is not None and changed != scene:
            return changed


@dataclass(frozen=True)
class Example:
    scene: Scene
    frames: np.ndarray  # uint8 (STACK, size, size, 3)
    recoloured: bool = False  # some group drawn in a random colour: its colour word does not hold
    drawn: tuple[str, ...] = ()  # per group, the colour word nearest to the colour it was drawn in


def nearest_colour(rgb: tuple[int, int, int]) -> str:
    return min(PALETTE, key=lambda c: math.dist(PALETTE[c], rgb))


def random_rgb(scene: Scene, obj: SceneObject, rng: np.random.Generator) -> tuple[int, int, int] | None:
    """A random colour for ``obj`` that shows on the scene's background and whose nearest colour word does not
    make a held-out pair with its shape (so held-out combinations stay unseen); None if none was found."""
    bg = background_rgb(scene)
    for _ in range(20):
        rgb = (int(rng.integers(256)), int(rng.integers(256)), int(rng.integers(256)))
        seen = (obj.shape, nearest_colour(rgb)) not in HELD_OUT
        if seen and math.dist(rgb, bg) > 90 and abs(luminance(rgb) - luminance(bg)) > 10:
            return rgb
    return None


def render_stack(
    scene: Scene,
    seed: int,
    size: int,
    rng: np.random.Generator,
    augment: bool = True,
    rgbs: dict[SceneObject, tuple[int, int, int]] | None = None,
) -> np.ndarray:
    """The ``STACK`` frames the encoder reads around a random frame of a random-length clip of ``scene``."""
    frames = FRAME_COUNTS[int(rng.integers(len(FRAME_COUNTS)))]  # as rng.choice(FRAME_COUNTS) draws it, faster
    idx = stack_indices(frames, int(rng.integers(frames)))
    times = [i / (frames - 1) for i in idx]
    flicker = float(rng.uniform(0.1, 0.4)) if augment and rng.random() < 0.1 else 0.0
    out = render_frames(scene, times, seed=seed, width=size, height=size, flicker=flicker, rgbs=rgbs)
    if augment and rng.random() < 0.1:
        sigma = float(rng.uniform(0.3, 1.2)) * size / 64
        out = np.clip(gaussian_filter(out.astype(np.float32), (0, sigma, sigma, 0)) + 0.5, 0, 255).astype(np.uint8)
    assert out.shape[0] == STACK
    return out


def training_example(rng: np.random.Generator, size: int, recolour: float = 0.0) -> Example:
    """A training scene and its frame stack; with probability ``recolour`` each group is drawn in a random colour
    (:func:`random_rgb`), so that colour says nothing of shape, count or motion."""
    scene = random_scene(rng, allow=is_training_object)
    rgbs: dict[SceneObject, tuple[int, int, int]] = {}
    if recolour > 0:
        for obj in scene.objects:
            rgb = random_rgb(scene, obj, rng) if rng.random() < recolour else None
            if rgb is not None:
                rgbs[obj] = rgb
    frames = render_stack(scene, int(rng.integers(2**31)), size, rng, rgbs=rgbs)
    drawn = tuple(nearest_colour(rgbs[o]) if o in rgbs else o.colour for o in scene.objects)
    return Example(scene, frames, bool(rgbs), drawn)


def single_group_example(rng: np.random.Generator, size: int) -> Example:
    """A training scene of one group and its frame stack (the warm-up, :func:`metrics.training.shapes_clip.train`)."""
    scene = random_scene(rng, max_groups=1, allow=is_training_object)
    return Example(scene, render_stack(scene, int(rng.integers(2**31)), size, rng), False, (scene.objects[0].colour,))


def held_out_scenes(rng: np.random.Generator, n: int) -> list[Scene]:
    """``n`` distinct scenes each with a held-out shape-colour pair (one group in two of three)."""
    scenes: list[Scene] = []
    while len(scenes) < n:
        scene = random_scene(rng)
        if has_held_out(scene) and scene not in scenes:
            scenes.append(scene)
    return scenes
