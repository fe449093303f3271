"""Scene → prompt, in English or Chinese, with varied wording; and random scenes of the shapes world.

:func:`describe` writes a prompt that :func:`~adapters.shapes.scene.parse_prompt` reads back as the same scene,
fully understood (a property the tests check on thousands of random scenes). It is how training captions of
the shapes-world CLIP and calibration prompts are made.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from types import MappingProxyType
from typing import TypeVar

import numpy as np

from adapters.shapes.lexicon import CAMERAS, COLOURS, COUNTS, EN, MOTIONS, SHAPES, SPEEDS, ZH, luminance, visible_on
from adapters.shapes.render import LIGHT_BACKGROUND
from adapters.shapes.scene import Scene, SceneObject

Language = str  # "en" | "zh"
T = TypeVar("T")

_EN_NOUNS = MappingProxyType(
    {s: [w for w, x in EN.items() if x.kind == "shape" and x.value == s and not x.plural] for s in SHAPES}
)
_EN_COLOURS = MappingProxyType({c: [w for w, x in EN.items() if x.kind == "colour" and x.value == c] for c in COLOURS})
_EN_COUNTS = MappingProxyType({1: ["a", "one", "a single"], 2: ["two", "a pair of"], 3: ["three"], 4: ["four"]})
# Verb phrases: (singular, plural) for each motion.
_EN_MOTIONS = MappingProxyType(
    {
        "left": [
            ("moves left", "move left"),
            ("rolls to the left", "roll to the left"),
            ("slides leftwards", "slide leftwards"),
            ("travels from right to left", "travel from right to left"),
        ],
        "right": [
            ("moves right", "move right"),
            ("rolls to the right", "roll to the right"),
            ("slides rightwards", "slide rightwards"),
            ("travels from left to right", "travel from left to right"),
        ],
        "up": [("moves up", "move up"), ("rises", "rise"), ("floats upwards", "float upwards"), ("climbs", "climb")],
        "down": [("moves down", "move down"), ("falls", "fall"), ("drops", "drop"), ("sinks", "sink")],
        "towards": [
            ("comes closer", "come closer"),
            ("approaches the camera", "approach the camera"),
            ("grows", "grow"),
        ],
        "away": [
            ("moves away", "move away"),
            ("recedes", "recede"),
            ("shrinks", "shrink"),
            ("gets smaller", "get smaller"),
        ],
        "spin": [("spins", "spin"), ("rotates", "rotate"), ("is spinning", "are spinning")],
        "circle": [
            ("goes round in a circle", "go round in a circle"),
            ("orbits", "orbit"),
            ("moves in circles", "move in circles"),
        ],
        "bounce": [("bounces", "bounce"), ("jumps", "jump"), ("is bouncing", "are bouncing")],
        "still": [("stays still", "stay still"), ("does not move", "do not move"), ("is motionless", "are motionless")],
    }
)
_EN_SPEEDS = MappingProxyType({"slow": ["slowly", "gently"], "fast": ["quickly", "rapidly", "swiftly"]})
_EN_CAMERA = MappingProxyType(
    {
        "static": ["static camera", "the camera is fixed"],
        "pan_left": ["the camera pans left", "the camera pans to the left", "panning left"],
        "pan_right": ["the camera pans right", "the camera pans to the right", "panning right"],
        "tilt_up": ["the camera tilts up", "tilting up"],
        "tilt_down": ["the camera tilts down", "tilting down"],
        "zoom_in": ["the camera zooms in", "zoom in"],
        "zoom_out": ["the camera zooms out", "the camera pulls back", "zoom out"],
    }
)

_ZH_NOUNS = MappingProxyType(
    {
        "circle": ["球", "圆", "圆形", "小球", "圆球", "皮球"],
        "square": ["方块", "正方形", "立方体", "盒子", "箱子"],
        "triangle": ["三角形", "三角", "金字塔"],
        "star": ["星星", "五角星", "星形"],
        "heart": ["心", "爱心", "心形"],
        "ring": ["圆环", "环", "光环"],
    }
)
_ZH_COLOURS = MappingProxyType(
    {c: [w for w, x in ZH.items() if x.kind == "colour" and x.value == c and len(w) > 1] for c in COLOURS}
)
_ZH_CLASSIFIER = MappingProxyType(
    {"circle": "个", "square": "个", "triangle": "个", "star": "颗", "heart": "颗", "ring": "个"}
)
_ZH_COUNTS = MappingProxyType({1: "一", 2: "两", 3: "三", 4: "四"})
_ZH_MOTIONS = MappingProxyType(
    {
        "left": ["向左移动", "向左滚动", "往左滑动", "从右到左移动"],
        "right": ["向右移动", "向右滚动", "往右滑动", "从左到右移动"],
        "up": ["向上移动", "上升", "向上飘起", "升起"],
        "down": ["向下移动", "下落", "掉落", "下降"],
        "towards": ["靠近", "变大", "越来越大", "向镜头靠近"],
        "away": ["远离", "变小", "越来越小", "远去"],
        "spin": ["旋转", "在旋转", "自转"],
        "circle": ["转圈", "在绕圈", "在画圈"],
        "bounce": ["弹跳", "在跳动", "上下弹跳"],
        "still": ["静止不动", "一动不动", "静止"],
    }
)
_ZH_SPEEDS = MappingProxyType({"slow": ["慢慢", "缓缓", "缓慢地"], "fast": ["快速", "迅速", "飞快地"]})
_ZH_CAMERA = MappingProxyType(
    {
        "static": ["固定镜头", "镜头固定"],
        "pan_left": ["镜头向左平移", "镜头左移", "镜头缓缓向左摇"],
        "pan_right": ["镜头向右平移", "镜头右移", "镜头缓缓向右摇"],
        "tilt_up": ["镜头向上摇", "镜头上移"],
        "tilt_down": ["镜头向下摇", "镜头下移"],
        "zoom_in": ["镜头推近", "镜头拉近"],
        "zoom_out": ["镜头拉远", "镜头后拉"],
    }
)
_REL_EN = MappingProxyType(
    {
        ("left_of", True): ["to the left of", "left of"],
        ("left_of", False): ["to the right of"],
        ("above", True): ["above", "on top of"],
        ("above", False): ["below", "under", "beneath"],
    }
)
_REL_EN_BACK = MappingProxyType(
    {("left_of", True): "to its left", ("left_of", False): "to its right", ("above", True): "above it"}
    | {("above", False): "below it"}
)
_REL_ZH = MappingProxyType(
    {("left_of", True): "左边", ("left_of", False): "右边", ("above", True): "上方", ("above", False): "下方"}
)


def _pick(rng: np.random.Generator, options: list[str] | tuple[str, ...]) -> str:
    return str(options[int(rng.integers(len(options)))])


def _cdf(weights: tuple[float, ...]) -> tuple[float, ...]:
    """The cumulative distribution ``Generator.choice(p=weights)`` draws from (summed, then divided by its end)."""
    cdf = np.cumsum(np.asarray(weights, dtype=np.float64))
    return tuple(float(c) for c in cdf / cdf[-1])


_COUNT_CDF = _cdf((0.4, 0.2, 0.2, 0.2))
_SPEED_CDF = _cdf((0.2, 0.6, 0.2))


def _weighted(rng: np.random.Generator, options: tuple[T, ...], cdf: tuple[float, ...]) -> T:
    """``options[i]`` with the probabilities of ``cdf``: what ``rng.choice(options, p=...)`` draws, from the same one
    uniform number (so the generator's stream is unchanged), without its checks and array conversions (~15x faster).
    """
    return options[bisect.bisect_right(cdf, rng.random())]


def _en_np(obj: SceneObject, rng: np.random.Generator) -> str:
    noun = _pick(rng, _EN_NOUNS[obj.shape])
    if obj.count > 1:
        noun += "es" if noun.endswith(("x", "s")) else "s"
    colour = _pick(rng, _EN_COLOURS[obj.colour])
    count = _pick(rng, _EN_COUNTS[obj.count])
    if count == "a" and colour[0] in "aeiou":
        count = "an"
    return f"{count} {colour} {noun}"


def _en_vp(obj: SceneObject, rng: np.random.Generator, plural: bool) -> str:
    verb = _pick(rng, [p[1] if plural else p[0] for p in _EN_MOTIONS[obj.motion]])
    if obj.speed == "normal":
        return verb
    adverb = _pick(rng, _EN_SPEEDS[obj.speed])
    return f"{adverb} {verb}" if rng.random() < 0.5 else f"{verb} {adverb}"


def _zh_np(obj: SceneObject, rng: np.random.Generator) -> str:
    count = "一对" if obj.count == 2 and rng.random() < 0.2 else _ZH_COUNTS[obj.count] + _ZH_CLASSIFIER[obj.shape]
    de = "的" if rng.random() < 0.7 else ""
    return f"{count}{_pick(rng, _ZH_COLOURS[obj.colour])}{de}{_pick(rng, _ZH_NOUNS[obj.shape])}"


def _zh_vp(obj: SceneObject, rng: np.random.Generator) -> str:
    verb = _pick(rng, _ZH_MOTIONS[obj.motion])
    return verb if obj.speed == "normal" else _pick(rng, _ZH_SPEEDS[obj.speed]) + verb


def _en_body(scene: Scene, rng: np.random.Generator) -> str:
    objs = scene.objects
    if len(objs) == 1:
        return f"{_en_np(objs[0], rng)} {_en_vp(objs[0], rng, objs[0].count > 1)}"
    a, b = objs[0], objs[1]
    same = a.motion == b.motion and a.speed == b.speed
    if scene.relation is None:
        if same and rng.random() < 0.5:
            return f"{_en_np(a, rng)} and {_en_np(b, rng)} {_en_vp(a, rng, True)}"
        joiner = _pick(rng, ["and", "while"])
        return f"{_en_np(a, rng)} {_en_vp(a, rng, a.count > 1)} {joiner} {_en_np(b, rng)} {_en_vp(b, rng, b.count > 1)}"
    forward = rng.random() < 0.5  # the first-drawn group said first ("A left of B") or second ("B right of A")
    s, landmark = (a, b) if forward else (b, a)
    subject = f"{_en_np(s, rng)} {_en_vp(s, rng, s.count > 1)}"
    if rng.random() < 0.6:
        rel = _pick(rng, _REL_EN[(scene.relation, forward)])
        return f"{subject} {rel} {_en_np(landmark, rng)} that {_en_vp(landmark, rng, landmark.count > 1)}"
    back = _REL_EN_BACK[(scene.relation, forward)]
    return f"{_en_np(landmark, rng)} {_en_vp(landmark, rng, landmark.count > 1)}, and {back} {subject}"


def _zh_body(scene: Scene, rng: np.random.Generator) -> str:
    objs = scene.objects
    if len(objs) == 1:
        return f"{_zh_np(objs[0], rng)}{_zh_vp(objs[0], rng)}"
    a, b = objs[0], objs[1]
    same = a.motion == b.motion and a.speed == b.speed
    if scene.relation is None:
        if same and rng.random() < 0.5:
            return f"{_zh_np(a, rng)}和{_zh_np(b, rng)}{_zh_vp(a, rng)}"
        return f"{_zh_np(a, rng)}{_zh_vp(a, rng)}，{_zh_np(b, rng)}{_zh_vp(b, rng)}"
    forward = rng.random() < 0.5
    s, landmark = (a, b) if forward else (b, a)
    rel = _REL_ZH[(scene.relation, forward)]
    if same and rng.random() < 0.5:
        return f"{_zh_np(s, rng)}在{_zh_np(landmark, rng)}的{rel}，都{_zh_vp(a, rng)}"
    return f"{_zh_np(landmark, rng)}{_zh_vp(landmark, rng)}，它的{rel}有{_zh_np(s, rng)}{_zh_vp(s, rng)}"


def describe(scene: Scene, language: Language, rng: np.random.Generator) -> str:
    """A prompt for ``scene`` in ``language`` ("en" or "zh"), worded at random (1 or 2 object groups)."""
    if not 1 <= len(scene.objects) <= 2:
        raise ValueError("describe() writes scenes of one or two object groups")
    zh = language == "zh"
    body = _zh_body(scene, rng) if zh else _en_body(scene, rng)
    camera = None
    if scene.camera != "static" or rng.random() < 0.15:
        camera = _pick(rng, (_ZH_CAMERA if zh else _EN_CAMERA)[scene.camera])
    parts = [body]
    if scene.background:
        if zh:
            bg = _pick(rng, _ZH_COLOURS[scene.background])
            parts = [f"在{bg}背景上", body] if rng.random() < 0.6 else [body, f"背景是{bg}"]
        else:
            bg = _pick(rng, _EN_COLOURS[scene.background])
            where = _pick(rng, [f"on a {bg} background", f"against a {bg} backdrop"])
            parts = [body + " " + where] if rng.random() < 0.6 else [where[0].upper() + where[1:], body]
    if camera:
        parts = [camera, *parts] if rng.random() < 0.5 else [*parts, camera]
    text = ("，" if zh else ", ").join(parts)
    return text if zh else text[0].upper() + text[1:]


def random_scene(
    rng: np.random.Generator,
    *,
    max_groups: int = 2,
    p_background: float = 0.4,
    p_camera: float = 0.3,
    p_relation: float = 0.5,
    allow: Callable[[SceneObject], bool] = lambda _: True,
) -> Scene:
    """A random scene of the shapes world (``allow`` filters object groups, e.g. held-out combinations)."""
    while True:
        groups = 1 if max_groups < 2 or rng.random() < 0.65 else 2
        background = _pick(rng, COLOURS) if rng.random() < p_background else None
        objects: list[SceneObject] = []
        while len(objects) < groups:
            motion = _pick(rng, MOTIONS)
            obj = SceneObject(
                shape=_pick(rng, SHAPES),  # type: ignore[arg-type]
                colour=_pick(rng, COLOURS),  # type: ignore[arg-type]
                count=_weighted(rng, COUNTS, _COUNT_CDF),
                motion=motion,  # type: ignore[arg-type]
                speed="normal" if motion == "still" else _weighted(rng, SPEEDS, _SPEED_CDF),
            )
            clash = any((o.shape, o.colour) == (obj.shape, obj.colour) for o in objects)
            if allow(obj) and not clash and visible_on(obj.colour, background):
                objects.append(obj)
        # with no background named, a dark object turns the default background light: all must show on it
        dark = background is None and any(luminance(o.rgb) < 70 for o in objects)
        if not (dark and any(math.dist(o.rgb, LIGHT_BACKGROUND) < 90 for o in objects)):
            break
    camera = _pick(rng, CAMERAS[1:]) if rng.random() < p_camera else "static"
    relation = _pick(rng, ["left_of", "above"]) if groups == 2 and rng.random() < p_relation else None
    return Scene(tuple(objects), background, camera, relation)  # type: ignore[arg-type]
