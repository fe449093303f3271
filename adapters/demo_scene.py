"""Prompt → :class:`Scene` for the procedural "shapes world", in English and Chinese.

The grammar is a lexicon of surface forms (English words matched on letter boundaries, Chinese
matched as substrings, longest first) read left to right:

* a count and a colour attach to the next shape word (``two red balls``, ``两个红色的球``);
* a motion word attaches to every shape since the previous motion word (``a ball and a box move
  left``), speed words to the same group; a motion with no shape before it waits for the next one;
* ``on a black background`` / ``在黑色背景上`` names the background and is removed first.

Anything not understood falls back to a white circle moving right at normal speed, and
:attr:`Scene.understood` records which aspects came from the prompt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, NamedTuple

from adapters.language import guess_language

Shape = Literal["circle", "square", "triangle", "star", "heart", "ring"]
Colour = Literal["red", "orange", "yellow", "green", "blue", "purple", "pink", "white", "black", "grey", "brown"]
Motion = Literal["left", "right", "up", "down", "towards", "away", "spin", "circle", "bounce", "still"]
Speed = Literal["slow", "normal", "fast"]
Aspect = Literal["shape", "colour", "count", "motion", "speed", "background"]

SHAPES: tuple[Shape, ...] = ("circle", "square", "triangle", "star", "heart", "ring")
MOTIONS: tuple[Motion, ...] = (
    "left",
    "right",
    "up",
    "down",
    "towards",
    "away",
    "spin",
    "circle",
    "bounce",
    "still",
)
ASPECTS: tuple[Aspect, ...] = ("shape", "colour", "count", "motion", "speed", "background")
REQUIRED: frozenset[Aspect] = frozenset({"shape", "colour", "motion"})  # what "fully understood" needs

# sRGB of each colour word; the renderer draws exactly these.
PALETTE: MappingProxyType[str, tuple[int, int, int]] = MappingProxyType(
    {
        "red": (220, 30, 35),
        "orange": (245, 135, 20),
        "yellow": (245, 220, 30),
        "green": (40, 175, 60),
        "blue": (35, 85, 225),
        "purple": (135, 50, 190),
        "pink": (245, 120, 185),
        "white": (245, 245, 245),
        "black": (12, 12, 12),
        "grey": (128, 128, 128),
        "brown": (125, 75, 35),
    }
)

DEFAULT_SHAPE: Shape = "circle"
DEFAULT_COLOUR: Colour = "white"
DEFAULT_MOTION: Motion = "right"
MAX_COUNT = 4


class _Lex(NamedTuple):
    kind: Literal["shape", "colour", "count", "motion", "speed", "skip"]
    value: str | int
    plural: bool = False


def _words(kind: _Lex, *surfaces: str) -> dict[str, _Lex]:
    return dict.fromkeys(surfaces, kind)


def _shape_words(shape: Shape, *singulars: str) -> dict[str, _Lex]:
    out: dict[str, _Lex] = {}
    for word in singulars:
        out[word] = _Lex("shape", shape)
        plural = word + ("es" if word.endswith(("x", "s")) else "s")
        out[plural] = _Lex("shape", shape, plural=True)
    return out


_EN: MappingProxyType[str, _Lex] = MappingProxyType(
    {
        **_shape_words("circle", "ball", "circle", "sphere", "orb", "dot", "disc", "disk", "bubble"),
        **_shape_words("square", "square", "box", "cube", "block"),
        **_shape_words("triangle", "triangle", "pyramid"),
        **_shape_words("star", "star"),
        **_shape_words("heart", "heart"),
        **_shape_words("ring", "ring", "donut", "doughnut", "hoop"),
        **{c: _Lex("colour", c) for c in PALETTE},
        "gray": _Lex("colour", "grey"),
        "violet": _Lex("colour", "purple"),
        "magenta": _Lex("colour", "pink"),
        "gold": _Lex("colour", "yellow"),
        "golden": _Lex("colour", "yellow"),
        **_words(_Lex("count", 1), "a", "an", "one", "single", "a single", "1"),
        **_words(_Lex("count", 2), "two", "pair of", "a pair of", "couple of", "a couple of", "2"),
        **_words(_Lex("count", 3), "three", "several", "3"),
        **_words(_Lex("count", 4), "four", "many", "4"),
        **_words(_Lex("motion", "left"), "left", "leftward", "leftwards", "from right to left"),
        **_words(_Lex("motion", "right"), "right", "rightward", "rightwards", "from left to right"),
        **_words(
            _Lex("motion", "up"),
            *("up", "upward", "upwards", "rise", "rises", "rising", "ascend", "ascends", "ascending"),
            *("climb", "climbs", "from bottom to top"),
        ),
        **_words(
            _Lex("motion", "down"),
            *("down", "downward", "downwards", "fall", "falls", "falling", "drop", "drops", "dropping"),
            *("sink", "sinks", "sinking", "descend", "descends", "descending", "from top to bottom"),
        ),
        **_words(
            _Lex("motion", "towards"),
            *("towards the camera", "toward the camera", "towards the viewer", "toward the viewer"),
            *("approach", "approaches", "approaching", "comes closer", "grow", "grows", "growing"),
            *("gets bigger", "getting bigger", "expands", "zooms in"),
        ),
        **_words(
            _Lex("motion", "away"),
            *("away", "recede", "recedes", "receding", "shrink", "shrinks", "shrinking"),
            *("gets smaller", "getting smaller", "zooms out"),
        ),
        **_words(
            _Lex("motion", "spin"),
            *("spin", "spins", "spinning", "rotate", "rotates", "rotating", "twirl", "twirls", "twirling"),
        ),
        **_words(
            _Lex("motion", "circle"),
            *("in a circle", "in circles", "circles around", "orbit", "orbits", "orbiting"),
            *("goes round", "goes around", "round and round", "circling"),
        ),
        **_words(
            _Lex("motion", "bounce"),
            *("bounce", "bounces", "bouncing", "jump", "jumps", "jumping", "hop", "hops", "hopping"),
        ),
        **_words(
            _Lex("motion", "still"),
            *("still", "stationary", "motionless", "static", "does not move", "doesn't move"),
            *("not moving", "stays put", "rests", "sits"),
        ),
        **_words(_Lex("speed", "slow"), "slowly", "slow", "gently", "leisurely", "gradually"),
        **_words(_Lex("speed", "fast"), "quickly", "quick", "fast", "rapidly", "swiftly", "speedily"),
    }
)

_ZH_NUMERALS = MappingProxyType({"一": 1, "两": 2, "二": 2, "三": 3, "四": 4})
_ZH_CLASSIFIERS = ("个", "只", "颗", "枚", "粒", "块", "座", "团")

_ZH: MappingProxyType[str, _Lex] = MappingProxyType(
    {
        **_words(_Lex("shape", "circle"), "圆", "圆形", "圆圈", "球", "小球", "球体", "圆球", "皮球"),
        **_words(_Lex("shape", "square"), "方块", "正方形", "方形", "立方体", "盒子", "箱子"),
        **_words(_Lex("shape", "triangle"), "三角", "三角形", "金字塔"),
        **_words(_Lex("shape", "star"), "星", "星星", "五角星", "星形"),
        **_words(_Lex("shape", "heart"), "心", "爱心", "心形"),
        **_words(_Lex("shape", "ring"), "环", "圆环", "光环", "戒指"),
        **_words(_Lex("colour", "red"), "红", "红色"),
        **_words(_Lex("colour", "orange"), "橙", "橙色", "橘色", "橘黄色"),
        **_words(_Lex("colour", "yellow"), "黄", "黄色", "金色"),
        **_words(_Lex("colour", "green"), "绿", "绿色"),
        **_words(_Lex("colour", "blue"), "蓝", "蓝色"),
        **_words(_Lex("colour", "purple"), "紫", "紫色"),
        **_words(_Lex("colour", "pink"), "粉", "粉色", "粉红", "粉红色"),
        **_words(_Lex("colour", "white"), "白", "白色"),
        **_words(_Lex("colour", "black"), "黑", "黑色"),
        **_words(_Lex("colour", "grey"), "灰", "灰色"),
        **_words(_Lex("colour", "brown"), "棕", "棕色", "褐色", "咖啡色"),
        **{n + c: _Lex("count", v) for n, v in _ZH_NUMERALS.items() for c in _ZH_CLASSIFIERS},
        **_words(_Lex("count", 1), "单个"),
        **_words(_Lex("count", 2), "两", "俩", "一对", "一双"),
        **_words(_Lex("count", 3), "三", "几个"),
        **_words(_Lex("count", 4), "四"),
        **_words(_Lex("motion", "left"), "向左", "往左", "朝左", "左移", "左", "从右到左", "从右往左"),
        **_words(_Lex("motion", "left"), "从右向左"),
        **_words(_Lex("motion", "right"), "向右", "往右", "朝右", "右移", "右", "从左到右", "从左往右"),
        **_words(_Lex("motion", "right"), "从左向右"),
        **_words(
            _Lex("motion", "up"),
            *("向上", "往上", "朝上", "上升", "升起", "飞起", "飘起", "上移", "升空", "上浮", "从下到上"),
        ),
        **_words(
            _Lex("motion", "down"),
            *("向下", "往下", "朝下", "下落", "掉落", "落下", "下降", "下坠", "坠落", "下沉", "掉下"),
            *("下移", "从上到下"),
        ),
        **_words(_Lex("motion", "towards"), "靠近", "变大", "逼近", "朝镜头", "向镜头", "迎面", "越来越大"),
        **_words(_Lex("motion", "away"), "远离", "变小", "缩小", "远去", "越来越小"),
        **_words(_Lex("motion", "spin"), "旋转", "自转", "打转"),
        **_words(_Lex("motion", "circle"), "转圈", "绕圈", "画圈", "绕圆", "兜圈", "圆周"),
        **_words(_Lex("motion", "bounce"), "弹跳", "跳动", "跳跃", "蹦跳", "跳", "蹦"),
        **_words(_Lex("motion", "still"), "静止", "不动", "一动不动", "停住", "静"),
        **_words(_Lex("speed", "slow"), "慢慢", "缓缓", "缓慢", "慢速", "徐徐", "慢"),
        **_words(_Lex("speed", "fast"), "快速", "飞快", "迅速", "急速", "快"),
        # Words that contain a lexicon entry but mean something else.
        **_words(_Lex("skip", 0), "中心", "小心", "开心", "一起", "一直", "一边", "左右", "上下"),
    }
)


def _alternation(surfaces: list[str]) -> str:
    return "|".join(re.escape(s) for s in sorted(surfaces, key=len, reverse=True))


_EN_TOKEN = rf"(?<![a-z0-9'])(?:{_alternation(list(_EN))})(?![a-z0-9'])"
_TOKENS = re.compile(f"{_EN_TOKEN}|{_alternation(list(_ZH))}")
_BACKGROUND = re.compile(
    r"(?:(?:on|against|over|with|in front of)\s+(?:an?\s+|the\s+)?)?(?<![a-z])"
    rf"(?P<en>{_alternation([k for k, v in _EN.items() if v.kind == 'colour'])})"
    r"(?:[\s-]+(?:coloured|colored))?\s+(?:background|backdrop)s?(?![a-z])"
    rf"|(?:在|以)?(?P<zh>{_alternation([k for k, v in _ZH.items() if v.kind == 'colour'])})色?的?背景"
    r"(?:之上|上|中|里|下|前)?"
    rf"|背景(?:是|为)(?P<zh2>{_alternation([k for k, v in _ZH.items() if v.kind == 'colour'])})色?"
)


@dataclass(frozen=True)
class SceneObject:
    """One group of identical objects and how they move."""

    shape: Shape = DEFAULT_SHAPE
    colour: Colour = DEFAULT_COLOUR
    count: int = 1
    motion: Motion = DEFAULT_MOTION
    speed: Speed = "normal"

    @property
    def rgb(self) -> tuple[int, int, int]:
        return PALETTE[self.colour]


@dataclass(frozen=True)
class Scene:
    """What a prompt describes. Two scenes are equal when their content is (language and text aside)."""

    objects: tuple[SceneObject, ...] = (SceneObject(),)
    background: Colour | None = None
    language: Literal["en", "zh"] = field(default="en", compare=False)
    understood: frozenset[Aspect] = field(default=frozenset(), compare=False)
    text: str = field(default="", compare=False)

    @property
    def fully_understood(self) -> bool:
        """Shape, colour and motion of every object came from the prompt."""
        return self.understood >= REQUIRED

    @property
    def defaulted(self) -> frozenset[Aspect]:
        """Aspects filled with defaults (background and speed are optional, so never listed)."""
        return frozenset(a for a in ("shape", "colour", "count", "motion") if a not in self.understood)


def detect_language(text: str) -> Literal["en", "zh"]:
    """The demo world speaks English and Chinese: Han script means Chinese (see adapters.language)."""
    return "zh" if guess_language(text) == "zh" else "en"


@dataclass
class _Pending:
    """Working state of one left-to-right read (local to one parse call)."""

    colour: str | None = None
    count: int | None = None
    speed: str | None = None
    orphan_motion: str | None = None
    group: list[dict[str, object]] = field(default_factory=list)  # objects waiting for a motion
    group_has_motion: bool = False


def parse_prompt(text: str) -> Scene:
    """Parse an English or Chinese prompt into a :class:`Scene`; never raises on any string."""
    lowered = text.lower()
    background: str | None = None
    match = _BACKGROUND.search(lowered)
    if match:
        word = match.group("en") or match.group("zh") or match.group("zh2")
        background = (_EN.get(word) or _ZH[word]).value  # type: ignore[assignment]
        lowered = lowered[: match.start()] + " , " + lowered[match.end() :]

    objects: list[dict[str, object]] = []
    state = _Pending()
    previous = ""
    for m in _TOKENS.finditer(lowered):
        lex = _EN.get(m.group()) or _ZH[m.group()]
        if m.group() == "circles" and previous == "shape" and state.colour is state.count is None:
            lex = _Lex("motion", "circle")  # "a square circles": the verb, not a second shape
        previous = lex.kind
        if lex.kind == "colour":
            state.colour = str(lex.value)
        elif lex.kind == "count":
            state.count = int(lex.value)
        elif lex.kind == "speed":
            state.speed = str(lex.value)
            for waiting in state.group:
                waiting.setdefault("speed", lex.value)
        elif lex.kind == "motion":
            if state.group and not state.group_has_motion:
                for waiting in state.group:
                    waiting["motion"] = lex.value
                    if state.speed:
                        waiting.setdefault("speed", state.speed)
                state.group_has_motion = True
            elif not state.group:
                state.orphan_motion = state.orphan_motion or str(lex.value)
        elif lex.kind == "shape":
            if state.group_has_motion:  # a shape after a motion starts a new group
                state.group, state.group_has_motion, state.speed = [], False, None
            obj: dict[str, object] = {"shape": lex.value}
            if state.colour:
                obj["colour"] = state.colour
            count = state.count if state.count is not None else (2 if lex.plural else None)
            if count is not None:
                obj["count"] = count
                obj["count_explicit"] = state.count is not None
            if state.orphan_motion:
                obj["motion"] = state.orphan_motion
                state.group_has_motion = True
                state.orphan_motion = None
            state.colour, state.count = None, None
            state.group.append(obj)
            objects.append(obj)
    if state.colour and objects and "colour" not in objects[-1]:  # "a ball that is red"
        objects[-1]["colour"] = state.colour
    return _build_scene(text, objects, background, state)


def _build_scene(text: str, raw: list[dict[str, object]], background: str | None, state: _Pending) -> Scene:
    understood: set[Aspect] = set()
    if background:
        understood.add("background")
    first_motion = next((o["motion"] for o in raw if "motion" in o), state.orphan_motion)
    first_speed = next((o["speed"] for o in raw if "speed" in o), state.speed)
    if not raw:
        raw = [{"colour": state.colour} if state.colour else {}]
        understood.update({"colour"} if state.colour else set())
    else:
        understood.add("shape")
        for aspect in ("colour", "count"):
            if all(aspect in o for o in raw):
                understood.add(aspect)
        if not all(o.get("count_explicit", False) for o in raw):
            understood.discard("count")
    if first_motion is not None:
        understood.add("motion")
    if first_speed is not None:
        understood.add("speed")
    objects = tuple(
        SceneObject(
            shape=o.get("shape", DEFAULT_SHAPE),  # type: ignore[arg-type]
            colour=o.get("colour", DEFAULT_COLOUR),  # type: ignore[arg-type]
            count=max(1, min(MAX_COUNT, int(o.get("count", 1)))),  # type: ignore[call-overload]
            motion=o.get("motion", first_motion or DEFAULT_MOTION),  # type: ignore[arg-type]
            speed=o.get("speed", first_speed or "normal"),  # type: ignore[arg-type]
        )
        for o in raw
    )
    return Scene(
        objects=objects,
        background=background,  # type: ignore[arg-type]
        language=detect_language(text),
        understood=frozenset(understood),
        text=text,
    )
