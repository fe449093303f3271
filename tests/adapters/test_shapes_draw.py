"""The renderer draws each object group into every frame of a clip at once (all its copies in one call) and the
background texture of every view at once; these tests hold it to the bit against drawing one frame, one copy and
one view at a time (the renderer the shipped tiny CLIP was trained on), so its training data cannot drift."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.shapes import PALETTE
from adapters.shapes.captions import _COUNT_CDF, _SPEED_CDF, _weighted, random_scene
from adapters.shapes.draw import draw_shape, sdf
from adapters.shapes.render import _layout, _pose, _Texture, background_rgb, camera_at, clip_times, render_frames
from adapters.shapes.scene import Scene, SceneObject
from metrics.shapes_clip import stack_indices
from metrics.training.shapes_data import FRAME_COUNTS, render_stack

SHAPES = ("circle", "ring", "square", "triangle", "star", "heart")


def _draw_one(
    frame: np.ndarray, shape: str, rgb: np.ndarray, x: float, y: float, r: float, angle: float, mark: bool
) -> None:
    """One shape into one frame, as the renderer drew it before it drew whole clips."""
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
    alpha = np.clip(0.5 - sdf(shape, dx, dy, r), 0.0, 1.0)
    if mark and shape in ("circle", "ring"):
        dot = np.clip(0.5 - (np.hypot(dx - 0.72 * r, dy) - 0.16 * r), 0.0, 1.0)[..., None]
        colour = rgb * (1 - dot) + rgb * 0.45 * dot
    else:
        colour = rgb
    region = frame[y0:y1, x0:x1]
    a = alpha[..., None]
    region *= 1 - a
    region += a * colour


def _levels_one_view(texture: _Texture, width: int, height: int, dx: float, dy: float, zoom: float) -> np.ndarray:
    """The (H, W) background texture of one camera view, as the renderer drew it view by view."""
    u = ((np.arange(width, dtype=np.float32) + 0.5 - width / 2) / zoom + dx) / width
    v = ((np.arange(height, dtype=np.float32) + 0.5 - height / 2) / zoom + dy) / height
    out = np.zeros((height, width), dtype=np.float32)
    for f, th, ph in zip(texture.freq, texture.theta, texture.phase, strict=True):
        a = 2 * math.pi * f * math.cos(th) * u + ph
        b = 2 * math.pi * f * math.sin(th) * v
        out += 5.0 * (np.cos(b)[:, None] * np.cos(a)[None, :] - np.sin(b)[:, None] * np.sin(a)[None, :])
    g = texture.gradient
    out += 7.0 * (math.cos(g) * 2 * u[None, :] + math.sin(g) * 2 * v[:, None])
    return out


def _render_frame_by_frame(
    scene: Scene, times: np.ndarray, seed: int, width: int, height: int, flicker: float
) -> np.ndarray:
    """render_frames as it was: each frame drawn alone, object after object."""
    rng = np.random.default_rng(seed)
    colour = np.asarray(background_rgb(scene), dtype=np.float32)
    texture = _Texture(rng)
    instances, radius = _layout(scene, width, height, rng)
    jolt = np.random.default_rng([seed, 1])
    gains = 1.0 + flicker * jolt.uniform(-0.45, 0.35, size=len(times))
    shakes = flicker * 0.04 * min(width, height) * jolt.standard_normal((len(times), len(instances), 2))
    out = np.empty((len(times), height, width, 3), dtype=np.uint8)
    for f, t in enumerate(times):
        dx, dy, zoom = camera_at(scene.camera, float(t), width, height)
        frame = colour + _levels_one_view(texture, width, height, dx, dy, zoom)[..., None]
        for i, inst in enumerate(instances):
            x, y, r, angle = _pose(inst, float(t), radius)
            x, y = (x - width / 2 - dx) * zoom + width / 2, (y - height / 2 - dy) * zoom + height / 2
            rgb = np.asarray(inst.obj.rgb, dtype=np.float32)
            spin = inst.obj.motion == "spin"
            _draw_one(frame, inst.obj.shape, rgb, x + shakes[f, i, 0], y + shakes[f, i, 1], r * zoom, angle, spin)
        if flicker:
            frame *= gains[f]
        np.clip(frame, 0, 255, out=frame)
        out[f] = (frame + 0.5).astype(np.uint8)
    return out


pose = st.tuples(
    st.floats(-20, 84, allow_nan=False),  # partly or wholly outside a 64-wide frame too
    st.floats(-20, 68, allow_nan=False),
    st.floats(0.5, 14, allow_nan=False),
    st.sampled_from([0.0, 0.0, 0.3, -1.2, math.pi]),  # unturned frames beside turned ones
)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(SHAPES), st.lists(pose, min_size=1, max_size=6), st.booleans(), st.integers(0, 2**32 - 1))
def test_a_shape_drawn_into_every_frame_at_once_is_drawn_as_frame_by_frame(
    shape: str, poses: list[tuple[float, float, float, float]], mark: bool, seed: int
) -> None:
    base = np.random.default_rng(seed).uniform(-30, 280, size=(len(poses), 48, 64, 3)).astype(np.float32)
    rgb = np.asarray(PALETTE["orange"], dtype=np.float32)
    batched, alone = base.copy(), base.copy()
    # poses as the renderer passes them: numpy float64 (a position plus its flicker jitter)
    xs, ys = [np.float64(p[0]) for p in poses], [np.float64(p[1]) for p in poses]
    draw_shape(batched, shape, rgb, xs, ys, [p[2] for p in poses], [p[3] for p in poses], mark)
    for f, (x, y, r, angle) in enumerate(poses):
        _draw_one(alone[f], shape, rgb, np.float64(x), np.float64(y), r, angle, mark)
    assert np.array_equal(batched, alone)


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(SHAPES),
    st.lists(st.lists(pose, min_size=3, max_size=3), min_size=1, max_size=5),
    st.booleans(),
    st.integers(0, 2**32 - 1),
)
def test_copies_drawn_in_one_call_are_drawn_as_copy_after_copy(
    shape: str, copies: list[list[tuple[float, float, float, float]]], mark: bool, seed: int
) -> None:
    """Overlapping copies too: the layers are blended in the order given, copy after copy."""
    base = np.random.default_rng(seed).uniform(-30, 280, size=(3, 48, 64, 3)).astype(np.float32)
    rgb = np.asarray(PALETTE["blue"], dtype=np.float32)
    batched, alone = base.copy(), base.copy()
    layers = [p for poses in copies for p in poses]
    xs, ys, rs, angles = (list(v) for v in zip(*layers, strict=True))
    draw_shape(batched, shape, rgb, xs, ys, rs, angles, mark, [f for _ in copies for f in range(3)])
    for poses in copies:
        draw_shape(alone, shape, rgb, *(list(v) for v in zip(*poses, strict=True)), mark)  # type: ignore[arg-type]
    assert np.array_equal(batched, alone)


@pytest.mark.parametrize("camera", ["static", "pan_left", "tilt_down", "zoom_in", "zoom_out"])
def test_the_texture_of_every_view_at_once_is_each_view_alone(camera: str) -> None:
    for seed in range(20):
        texture = _Texture(np.random.default_rng(seed))
        views = [camera_at(camera, float(t), 80, 48) for t in clip_times(1 + seed % 7)]
        expected = np.stack([_levels_one_view(texture, 80, 48, *view) for view in views])
        assert np.array_equal(texture.levels(80, 48, views), expected)


@pytest.mark.parametrize("seed", range(40))
def test_clips_are_the_clips_drawn_frame_by_frame(seed: int) -> None:
    rng = np.random.default_rng(seed)
    scene = random_scene(rng)
    width, height = [(64, 64), (96, 64), (48, 80), (128, 128)][seed % 4]
    frames = [4, 16, 1, 7][seed // 4 % 4]
    flicker = 0.35 if seed % 3 == 0 else 0.0
    times = clip_times(frames) if seed % 2 else np.sort(rng.uniform(0, 1, frames))
    expected = _render_frame_by_frame(scene, times, seed, width, height, flicker)
    assert np.array_equal(render_frames(scene, times, seed=seed, width=width, height=height, flicker=flicker), expected)


def test_every_motion_and_camera_is_drawn_as_frame_by_frame() -> None:
    """Turning, growing, orbiting and bouncing shapes, each camera move, every shape."""
    motions = ("spin", "towards", "away", "circle", "bounce", "left", "up", "still")
    cameras = ("static", "pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_in", "zoom_out")
    for k, (motion, camera) in enumerate((m, c) for m in motions for c in cameras):
        obj = SceneObject(shape=SHAPES[k % 6], colour="red", count=1 + k % 3, motion=motion, speed="fast")
        other = SceneObject(shape=SHAPES[(k + 1) % 6], colour="blue", count=1, motion="spin", speed="slow")
        scene = Scene(objects=(obj, other) if k % 2 else (obj,), camera=camera)
        times = clip_times(6)
        expected = _render_frame_by_frame(scene, times, k, 64, 64, 0.2 * (k % 2))
        assert np.array_equal(render_frames(scene, times, seed=k, width=64, height=64, flicker=0.2 * (k % 2)), expected)


@pytest.mark.parametrize(
    ("options", "weights", "cdf"),
    [((1, 2, 3, 4), (0.4, 0.2, 0.2, 0.2), _COUNT_CDF), (("slow", "normal", "fast"), (0.2, 0.6, 0.2), _SPEED_CDF)],
)
def test_weighted_draws_what_generator_choice_draws(
    options: tuple[object, ...], weights: tuple[float, ...], cdf: tuple[float, ...]
) -> None:
    """random_scene's counts and speeds: the same values and the same generator state after, so scenes (and the
    tiny CLIP's training data) are those numpy's choice made."""
    ours, numpys = np.random.default_rng(3), np.random.default_rng(3)
    for _ in range(20_000):
        assert _weighted(ours, options, cdf) == numpys.choice(options, p=weights)
    assert ours.bit_generator.state == numpys.bit_generator.state


def test_a_training_stack_draws_its_clip_length_as_generator_choice_did() -> None:
    """render_stack picks the frame count with one rng.integers: the stack and the generator's stream after it are
    those of rng.choice(FRAME_COUNTS), which the shipped tiny CLIP's data was drawn with."""
    ours, before = np.random.default_rng(5), np.random.default_rng(5)
    for seed in range(300):
        scene = random_scene(np.random.default_rng(seed))
        frames = int(before.choice(FRAME_COUNTS))
        times = [i / (frames - 1) for i in stack_indices(frames, int(before.integers(frames)))]
        expected = render_frames(scene, times, seed=seed, width=32, height=32)  # unaugmented: no flicker, no blur
        assert np.array_equal(render_stack(scene, seed, 32, ours, augment=False), expected)
        assert ours.bit_generator.state == before.bit_generator.state
