"""The shapes-world parser, the procedural renderer and the demo adapter."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from adapters.base import GenerationRequest
from adapters.demo import BEHAVIOURS, REVISION, DemoAdapter, render_prompt
from adapters.shapes import PALETTE, Scene, SceneObject, detect_language, parse_prompt
from adapters.shapes.render import render_scene

ROOT = Path(__file__).resolve().parents[2]
SIZE = 128


def _mask(frame: np.ndarray, threshold: float = 60.0) -> np.ndarray:
    """Pixels that differ clearly from the background (the per-channel median of the frame)."""
    background = np.median(frame.reshape(-1, 3), axis=0)
    return np.abs(frame.astype(np.float32) - background).max(axis=-1) > threshold


def _centroid(frame: np.ndarray) -> tuple[float, float]:
    ys, xs = np.nonzero(_mask(frame))
    assert xs.size, "no object drawn"
    return float(xs.mean()), float(ys.mean())


def _near(frames: np.ndarray, colour: str, tolerance: float = 60.0) -> np.ndarray:
    distance = np.linalg.norm(frames.astype(np.float32) - np.asarray(PALETTE[colour], np.float32), axis=-1)
    return distance < tolerance


def _flicker_score(frames: np.ndarray) -> float:
    return float(np.abs(np.diff(frames.astype(np.int16), axis=0)).mean())


# -- parser ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A red ball rolls slowly to the left", [("circle", "red", 1, "left", "slow")]),
        ("一个红色的球慢慢向左滚动", [("circle", "red", 1, "left", "slow")]),
        ("two blue boxes fall quickly", [("square", "blue", 2, "down", "fast")]),
        ("两个蓝色的方块飞快地掉落", [("square", "blue", 2, "down", "fast")]),
        ("Three green triangles rise", [("triangle", "green", 3, "up", "normal")]),
        ("三个绿色三角形飞起", [("triangle", "green", 3, "up", "normal")]),
        ("four purple stars spin", [("star", "purple", 4, "spin", "normal")]),
        ("四颗紫色的星星转圈", [("star", "purple", 4, "circle", "normal")]),
        ("a pair of pink hearts bounce", [("heart", "pink", 2, "bounce", "normal")]),
        ("一对粉色的爱心在跳", [("heart", "pink", 2, "bounce", "normal")]),
        ("a gray cube does not move", [("square", "grey", 1, "still", "normal")]),
        ("一个灰色的正方形一动不动", [("square", "grey", 1, "still", "normal")]),
        ("an orange ring approaches the camera", [("ring", "orange", 1, "towards", "normal")]),
        ("一个橙色的圆环缓缓远离", [("ring", "orange", 1, "away", "slow")]),
        ("一个白色的圆从右到左移动", [("circle", "white", 1, "left", "normal")]),
        ("一个白色的圆从左向右移动", [("circle", "white", 1, "right", "normal")]),
        ("a yellow star moves from left to right", [("star", "yellow", 1, "right", "normal")]),
        ("a pink square circles", [("square", "pink", 1, "circle", "normal")]),
        ("two red circles bounce", [("circle", "red", 2, "bounce", "normal")]),
        (
            "a red ball moves left and a blue square moves right",
            [("circle", "red", 1, "left", "normal"), ("square", "blue", 1, "right", "normal")],
        ),
        (
            "一个红色的球和一个蓝色的方块向右移动",
            [("circle", "red", 1, "right", "normal"), ("square", "blue", 1, "right", "normal")],
        ),
        ("moving left, a brown ball", [("circle", "brown", 1, "left", "normal")]),
        ("在画面中心，一个黑色的球向下落", [("circle", "black", 1, "down", "normal")]),  # 中心 is not a heart
    ],
)
def test_parse(text: str, expected: list[tuple[str, str, int, str, str]]) -> None:
    scene = parse_prompt(text)
    assert [(o.shape, o.colour, o.count, o.motion, o.speed) for o in scene.objects] == expected
    assert scene.fully_understood


@pytest.mark.parametrize(
    ("text", "colour"),
    [
        ("a white ball moves right on a black background", "black"),
        ("a ball moving up against a dark blue backdrop", "blue"),
        ("在黑色背景上，一个白色的球向右移动", "black"),
        ("一个白色的球在红色的背景中向右移动", "red"),
        ("背景是绿色，一个白色的球向上", "green"),
    ],
)
def test_background_is_parsed_and_not_taken_as_an_object_colour(text: str, colour: str) -> None:
    scene = parse_prompt(text)
    assert scene.background == colour
    assert "background" in scene.understood
    assert scene.objects[0].colour == "white"


def test_language_is_detected_and_ignored_by_equality() -> None:
    en, zh = parse_prompt("A red ball moves to the left"), parse_prompt("一个红色的球向左移动")
    assert (en.language, zh.language) == ("en", "zh")
    assert en == zh
    assert detect_language("red 球") == "zh"
    assert parse_prompt("a red ball moves left") != parse_prompt("a blue ball moves left")


@pytest.mark.parametrize("text", ["", "   ", "hello world", "🎉🎉", "你好世界", "lorem ipsum dolor"])
def test_unknown_words_fall_back_to_a_white_circle_moving_right(text: str) -> None:
    scene = parse_prompt(text)
    assert scene.objects == (SceneObject(),)
    assert scene.objects[0] == SceneObject("circle", "white", 1, "right", "normal")
    assert scene.background is None
    assert scene.understood == frozenset()
    assert scene.defaulted == {"shape", "colour", "count", "motion"}
    assert not scene.fully_understood


def test_partly_understood_prompt_records_what_was_understood() -> None:
    scene = parse_prompt("something green drifts slowly upwards")
    assert scene.objects == (SceneObject("circle", "green", 1, "up", "slow"),)
    assert scene.understood == {"colour", "motion", "speed"}
    assert scene.defaulted == {"shape", "count"}
    plural = parse_prompt("red balls fall")
    assert plural.objects[0].count == 2 and "count" not in plural.understood  # plural, number implied


def test_demo_prompt_suite_is_fully_understood_in_both_languages() -> None:
    data = yaml.safe_load((ROOT / "arena" / "suites" / "data" / "demo.yaml").read_text(encoding="utf-8"))
    prompts = data["prompts"]
    assert data["suite"] == "demo"
    assert len(prompts) >= 24
    assert len({p["id"] for p in prompts}) == len(prompts)
    assert {p["category"] for p in prompts} == {"motion", "colour", "count", "composition"}
    for p in prompts:
        en, zh = parse_prompt(p["en"]), parse_prompt(p["zh"])
        assert en.fully_understood and zh.fully_understood, p["id"]
        assert (en.language, zh.language) == ("en", "zh"), p["id"]
        assert en == zh and en.understood == zh.understood, (p["id"], en, zh)


# -- renderer ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("prompt", "colour"),
    [
        ("a red ball moves left", "red"),
        ("一个绿色的三角形向上", "green"),
        ("a blue star spins", "blue"),
        ("一颗黄色的心在跳", "yellow"),
        ("a purple square stays still", "purple"),
        ("a black ring moves right", "black"),
        ("a white heart falls on a black background", "white"),
    ],
)
def test_renderer_draws_the_named_colour_where_the_object_is(prompt: str, colour: str) -> None:
    frames = render_prompt(prompt, num_frames=4, width=SIZE, height=SIZE)
    for frame in frames:
        mask = _mask(frame)
        assert mask.mean() > 0.005
        mean = frame[mask].astype(np.float32).mean(axis=0)
        assert np.linalg.norm(mean - np.asarray(PALETTE[colour])) < 30, (mean, colour)


@pytest.mark.parametrize(
    ("prompt", "axis", "sign"),
    [
        ("a red ball rolls to the left", 0, -1),
        ("一个红色的球向右移动", 0, 1),
        ("a red ball rises", 1, -1),
        ("一个红色的球下落", 1, 1),
    ],
)
def test_objects_move_in_the_named_direction(prompt: str, axis: int, sign: int) -> None:
    frames = render_prompt(prompt, num_frames=8, width=SIZE, height=SIZE)
    path = np.array([_centroid(f)[axis] for f in frames])
    steps = np.diff(path) * sign
    assert (steps > 0).all(), path
    assert path[-1] * sign - path[0] * sign > 0.2 * SIZE


def test_speed_and_size_motions() -> None:
    slow = render_prompt("a red ball moves slowly left", num_frames=8, width=SIZE, height=SIZE)
    fast = render_prompt("a red ball moves quickly left", num_frames=8, width=SIZE, height=SIZE)
    assert _centroid(slow[0])[0] - _centroid(slow[-1])[0] < _centroid(fast[0])[0] - _centroid(fast[-1])[0]
    grow = render_prompt("a red ball grows", num_frames=8, width=SIZE, height=SIZE)
    shrink = render_prompt("一个红色的球变小", num_frames=8, width=SIZE, height=SIZE)
    assert _mask(grow[-1]).sum() > 1.5 * _mask(grow[0]).sum()
    assert _mask(shrink[0]).sum() > 1.5 * _mask(shrink[-1]).sum()


def test_count_draws_that_many_objects() -> None:
    from scipy import ndimage

    for text, n in [("three red squares stay still", 3), ("两个蓝色的球静止", 2), ("四颗黄色的星星向左", 4)]:
        frame = render_prompt(text, num_frames=1, width=256, height=256)[0]
        assert ndimage.label(_mask(frame))[1] == n, text


def test_frozen_model_draws_the_subject_without_motion() -> None:
    frames = render_prompt("a red ball moves quickly to the left", behaviour="frozen", width=SIZE, height=SIZE)
    assert (frames == frames[0]).all()
    assert _near(frames[0], "red").sum() > 50


def test_flicker_model_flickers_much_more_than_faithful() -> None:
    prompt = "a green square moves slowly to the right"
    faithful = render_prompt(prompt, seed=5, width=SIZE, height=SIZE)
    flicker = render_prompt(prompt, seed=5, width=SIZE, height=SIZE, behaviour="flicker")
    assert _flicker_score(flicker) > 5 * _flicker_score(faithful)
    assert _near(flicker, "green", tolerance=90).any(axis=(1, 2)).all()  # still the asked subject, dimmer or not


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(
    ("prompt", "colours"),
    [
        ("a red ball rolls to the left", ["red"]),
        ("两个蓝色的方块向左", ["blue"]),
        ("a grey star moves left and a yellow heart moves left", ["grey", "yellow"]),
    ],
)
def test_ignores_subject_model_follows_motion_but_not_colour(seed: int, prompt: str, colours: list[str]) -> None:
    frames = render_prompt(prompt, seed=seed, num_frames=6, width=SIZE, height=SIZE, behaviour="ignores_subject")
    faithful = render_prompt(prompt, seed=seed, num_frames=6, width=SIZE, height=SIZE)
    for colour in colours:  # not even an anti-aliased edge comes near the asked colour
        assert _near(faithful, colour).sum() > 300 and not _near(frames, colour).any(), colour
    assert _centroid(frames[-1])[0] < _centroid(frames[0])[0] - 0.2 * SIZE


def test_same_seed_same_video_different_seed_different_video() -> None:
    a = render_prompt("a red ball moves left", seed=1, width=SIZE, height=SIZE)
    b = render_prompt("a red ball moves left", seed=1, width=SIZE, height=SIZE)
    c = render_prompt("a red ball moves left", seed=2, width=SIZE, height=SIZE)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.abs(a.astype(np.int16) - c).mean() < 20  # related: same subject and motion, other texture


def test_render_is_fast() -> None:
    render_prompt("two red balls move left", num_frames=2, width=64, height=64)  # warm up
    start = time.perf_counter()
    render_prompt("two red balls and a blue star move left", num_frames=16, width=256, height=256)
    assert time.perf_counter() - start < 1.0  # typically ~0.05 s; loose for shared CI machines


def test_render_sizes_and_errors() -> None:
    frames = render_prompt("a red ball", num_frames=49, width=720, height=480)
    assert frames.shape == (49, 480, 720, 3) and frames.dtype == np.uint8
    assert render_scene(Scene(), num_frames=1, width=2, height=2).shape == (1, 2, 2, 3)
    with pytest.raises(ValueError, match="behaviour"):
        render_prompt("a red ball", behaviour="sloppy")
    with pytest.raises(ValueError, match="frame"):
        render_scene(Scene(), num_frames=0)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.text(min_size=0, max_size=60)
    | st.lists(
        st.sampled_from(["红色", "球", "向左", "a", "two", "blue", "box", "left", "🎉", "背景", "on", " ", "，"]),
        max_size=12,
    ).map("".join),
    behaviour=st.sampled_from(BEHAVIOURS),
    seed=st.integers(0, 2**31 - 1),
)
def test_any_prompt_renders_a_valid_video(text: str, behaviour: str, seed: int) -> None:
    frames = render_prompt(text, seed=seed, num_frames=3, width=64, height=48, behaviour=behaviour)
    assert frames.shape == (3, 48, 64, 3) and frames.dtype == np.uint8
    scene = parse_prompt(text)
    assert len(scene.objects) >= 1 and all(1 <= o.count <= 4 for o in scene.objects)


# -- adapter ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("behaviour", BEHAVIOURS)
def test_demo_adapter_generate_passes_the_contract_and_snaps_sizes(behaviour: str) -> None:
    adapter = DemoAdapter.from_config(f"demo-{behaviour}", {"behaviour": behaviour})
    request = GenerationRequest(prompt="一只红色的球向左移动", seed=3, num_frames=12, width=130, height=96)
    video = adapter.generate(request)
    assert video.frames.shape == (12, 96, 128, 3) and video.frames.dtype == np.uint8
    assert video.frames.flags.c_contiguous
    assert (video.fps, video.seed, video.size) == (8.0, 3, (128, 96))
    p = video.provenance
    assert p.adjustments == {"width": [130, 128]}
    assert (p.adapter_kind, p.model_id, p.revision, p.device, p.dtype) == (
        "demo",
        f"demo-{behaviour}",
        REVISION,
        "cpu",
        "uint8",
    )
    assert p.params["behaviour"] == behaviour and p.params["prompt"] == request.prompt
    expected = render_prompt(request.prompt, seed=3, num_frames=12, width=128, height=96, behaviour=behaviour)
    assert np.array_equal(video.frames, expected)


def test_demo_adapter_capabilities_defaults_and_limits() -> None:
    adapter = DemoAdapter("demo")
    caps = adapter.capabilities()
    assert caps.languages == ["*"] and caps.speaks("fr")
    assert adapter.check().ok
    video = adapter.generate(GenerationRequest(prompt="a blue ball", negative_prompt="red"))
    assert video.frames.shape == (16, 256, 256, 3) and video.fps == 8.0
    assert video.provenance.adjustments == {} and video.provenance.params["negative_prompt"] is None
    big = adapter.resolve(GenerationRequest(prompt="x", num_frames=500, width=4000, height=20))
    assert (big.num_frames, big.width, big.height) == (128, 1024, 64)
    assert big.adjustments == {"num_frames": [500, 128], "width": [4000, 1024], "height": [20, 64]}


def test_demo_adapter_params_are_validated_and_latency_is_simulated() -> None:
    with pytest.raises(ValidationError):
        DemoAdapter.from_config("demo", {"behaviour": "sloppy"})
    with pytest.raises(ValidationError):
        DemoAdapter.from_config("demo", {"behavior": "faithful"})
    slow = DemoAdapter.from_config("demo", {"latency_s": 0.3})
    seen: list[float] = []
    video = slow.generate(
        GenerationRequest(prompt="a red ball", num_frames=2, width=64, height=64, seed=0), progress=seen.append
    )
    assert video.provenance.latency_s >= 0.3
    assert seen == sorted(seen) and len(seen) == 10 and seen[-1] == 1.0  # progress through the wait, in order
