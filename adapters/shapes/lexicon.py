"""The words of the shapes world: every surface form the parser reads, in English and Chinese.

English forms are matched on letter boundaries, Chinese ones as substrings; at any position the longest
form wins. Camera moves and backgrounds are phrases, read (and removed) before the words.
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Literal, NamedTuple

Shape = Literal["circle", "square", "triangle", "star", "heart", "ring"]
Colour = Literal["red", "orange", "yellow", "green", "blue", "purple", "pink", "white", "black", "grey", "brown"]
Motion = Literal["left", "right", "up", "down", "towards", "away", "spin", "circle", "bounce", "still"]
Speed = Literal["slow", "normal", "fast"]
Camera = Literal["static", "pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_in", "zoom_out"]
Relation = Literal["left_of", "right_of", "above", "below"]
Aspect = Literal["shape", "colour", "count", "motion", "speed", "background", "camera", "relation"]

SHAPES: tuple[Shape, ...] = ("circle", "square", "triangle", "star", "heart", "ring")
COLOURS: tuple[Colour, ...] = (
    *("red", "orange", "yellow", "green", "blue", "purple", "pink", "white", "black", "grey", "brown"),
)
MOTIONS: tuple[Motion, ...] = ("left", "right", "up", "down", "towards", "away", "spin", "circle", "bounce", "still")
SPEEDS: tuple[Speed, ...] = ("slow", "normal", "fast")
CAMERAS: tuple[Camera, ...] = ("static", "pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_in", "zoom_out")
ASPECTS: tuple[Aspect, ...] = ("shape", "colour", "count", "motion", "speed", "background", "camera", "relation")
MAX_COUNT = 4
COUNTS: tuple[int, ...] = tuple(range(1, MAX_COUNT + 1))

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


def luminance(rgb: tuple[int, int, int]) -> float:
    return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]


def visible_on(colour: str, background: str | None) -> bool:
    """Whether a ``colour`` object stands out on a named background (the renderer's default shows every colour)."""
    if background is None:
        return True
    rgb, bg = PALETTE[colour], PALETTE[background]
    distance = sum((a - b) ** 2 for a, b in zip(rgb, bg, strict=True)) ** 0.5
    return distance > 90 and abs(luminance(rgb) - luminance(bg)) > 10


LexKind = Literal["shape", "colour", "count", "motion", "speed", "relation", "concept", "skip"]


class Lex(NamedTuple):
    """One surface form: what it is and its value. ``plural`` for plural nouns; ``after`` for a relation whose
    landmark follows it ("left of B") rather than precedes it ("B 的左边", "to its left")."""

    kind: LexKind
    value: str | int
    plural: bool = False
    after: bool = False


def words(kind: Lex, *surfaces: str) -> dict[str, Lex]:
    return dict.fromkeys(surfaces, kind)


def _nouns(kind: LexKind, value: str, *singulars: str) -> dict[str, Lex]:
    out: dict[str, Lex] = {}
    for word in singulars:
        out[word] = Lex(kind, value)
        if " " not in word:
            plural = word + ("es" if word.endswith(("x", "s", "ch", "sh")) else "s")
            out[plural] = Lex(kind, value, plural=True)
    return out


def shape_words(shape: Shape, *singulars: str) -> dict[str, Lex]:
    return _nouns("shape", shape, *singulars)


def concept_words(concept: str, *singulars: str) -> dict[str, Lex]:
    return _nouns("concept", concept, *singulars)


def _relation(value: Relation, after: bool, *surfaces: str) -> dict[str, Lex]:
    return words(Lex("relation", value, after=after), *surfaces)


EN: MappingProxyType[str, Lex] = MappingProxyType(
    {
        **shape_words("circle", "ball", "circle", "sphere", "orb", "dot", "disc", "disk", "bubble"),
        **shape_words("square", "square", "box", "cube", "block"),
        **shape_words("triangle", "triangle", "pyramid"),
        **shape_words("star", "star"),
        **shape_words("heart", "heart"),
        **shape_words("ring", "ring", "donut", "doughnut", "hoop"),
        **{c: Lex("colour", c) for c in PALETTE},
        "gray": Lex("colour", "grey"),
        "violet": Lex("colour", "purple"),
        "magenta": Lex("colour", "pink"),
        "gold": Lex("colour", "yellow"),
        "golden": Lex("colour", "yellow"),
        **words(Lex("count", 1), "a", "an", "one", "single", "a single", "1"),
        **words(Lex("count", 2), "two", "pair of", "a pair of", "couple of", "a couple of", "2"),
        **words(Lex("count", 3), "three", "several", "3"),
        **words(Lex("count", 4), "four", "many", "4"),
        **words(Lex("motion", "left"), "left", "leftward", "leftwards", "from right to left"),
        **words(Lex("motion", "right"), "right", "rightward", "rightwards", "from left to right"),
        **words(
            Lex("motion", "up"),
            *("up", "upward", "upwards", "rise", "rises", "rising", "ascend", "ascends", "ascending"),
            *("climb", "climbs", "from bottom to top"),
        ),
        **words(
            Lex("motion", "down"),
            *("down", "downward", "downwards", "fall", "falls", "falling", "drop", "drops", "dropping"),
            *("sink", "sinks", "sinking", "descend", "descends", "descending", "from top to bottom"),
        ),
        **words(
            Lex("motion", "towards"),
            *("towards the camera", "toward the camera", "towards the viewer", "toward the viewer"),
            *("approach", "approaches", "approaching", "comes closer", "come closer", "coming closer"),
            *("grow", "grows", "growing", "gets bigger", "get bigger", "getting bigger", "expands", "expand"),
        ),
        **words(
            Lex("motion", "away"),
            *("away", "recede", "recedes", "receding", "shrink", "shrinks", "shrinking"),
            *("gets smaller", "get smaller", "getting smaller"),
        ),
        **words(
            Lex("motion", "spin"),
            *("spin", "spins", "spinning", "rotate", "rotates", "rotating", "twirl", "twirls", "twirling"),
        ),
        **words(
            Lex("motion", "circle"),
            *("in a circle", "in circles", "circles around", "orbit", "orbits", "orbiting"),
            *("goes round", "goes around", "go round", "go around", "round and round", "circling"),
        ),
        **words(
            Lex("motion", "bounce"),
            *("bounce", "bounces", "bouncing", "jump", "jumps", "jumping", "hop", "hops", "hopping"),
        ),
        **words(
            Lex("motion", "still"),
            *("still", "stationary", "motionless", "static", "does not move", "doesn't move", "do not move"),
            *("don't move", "not moving", "stays put", "stay put", "rests", "rest", "sits", "sit"),
        ),
        **words(Lex("speed", "slow"), "slowly", "slow", "gently", "leisurely", "gradually"),
        **words(Lex("speed", "fast"), "quickly", "quick", "fast", "rapidly", "swiftly", "speedily"),
        **_relation("left_of", True, "to the left of", "on the left of", "on the left side of", "left of"),
        **_relation("left_of", True, "next to", "beside"),  # side by side: drawn subject first, on the left
        **_relation("right_of", True, "to the right of", "on the right of", "on the right side of", "right of"),
        **_relation("above", True, "above", "on top of"),
        **_relation("below", True, "below", "under", "underneath", "beneath"),
        **_relation("left_of", False, "to its left", "on its left"),
        **_relation("right_of", False, "to its right", "on its right"),
        **_relation("above", False, "above it"),
        **_relation("below", False, "below it", "under it", "beneath it"),
    }
)

ZH_NUMERALS = MappingProxyType({"一": 1, "两": 2, "二": 2, "三": 3, "四": 4})
ZH_CLASSIFIERS = ("个", "只", "颗", "枚", "粒", "块", "座", "团")

ZH: MappingProxyType[str, Lex] = MappingProxyType(
    {
        **words(Lex("shape", "circle"), "圆", "圆形", "圆圈", "球", "小球", "球体", "圆球", "皮球", "圆点"),
        **words(Lex("shape", "square"), "方块", "正方形", "方形", "立方体", "盒子", "箱子"),
        **words(Lex("shape", "triangle"), "三角", "三角形", "金字塔"),
        **words(Lex("shape", "star"), "星", "星星", "五角星", "星形"),
        **words(Lex("shape", "heart"), "心", "爱心", "心形"),
        **words(Lex("shape", "ring"), "环", "圆环", "光环", "戒指"),
        **words(Lex("colour", "red"), "红", "红色"),
        **words(Lex("colour", "orange"), "橙", "橙色", "橘色", "橘黄色"),
        **words(Lex("colour", "yellow"), "黄", "黄色", "金色"),
        **words(Lex("colour", "green"), "绿", "绿色"),
        **words(Lex("colour", "blue"), "蓝", "蓝色"),
        **words(Lex("colour", "purple"), "紫", "紫色"),
        **words(Lex("colour", "pink"), "粉", "粉色", "粉红", "粉红色"),
        **words(Lex("colour", "white"), "白", "白色"),
        **words(Lex("colour", "black"), "黑", "黑色"),
        **words(Lex("colour", "grey"), "灰", "灰色"),
        **words(Lex("colour", "brown"), "棕", "棕色", "褐色", "咖啡色"),
        **{n + c: Lex("count", v) for n, v in ZH_NUMERALS.items() for c in ZH_CLASSIFIERS},
        **words(Lex("count", 1), "单个"),
        **words(Lex("count", 2), "两", "俩", "一对", "一双"),
        **words(Lex("count", 3), "三", "几个"),
        **words(Lex("count", 4), "四"),
        **words(Lex("motion", "left"), "向左", "往左", "朝左", "左移", "左", "从右到左", "从右往左", "从右向左"),
        **words(Lex("motion", "left"), "向左边", "往左边", "朝左边"),
        **words(Lex("motion", "right"), "向右", "往右", "朝右", "右移", "右", "从左到右", "从左往右", "从左向右"),
        **words(Lex("motion", "right"), "向右边", "往右边", "朝右边"),
        **words(
            Lex("motion", "up"),
            *("向上", "往上", "朝上", "上升", "升起", "飞起", "飘起", "上移", "升空", "上浮", "从下到上"),
        ),
        **words(
            Lex("motion", "down"),
            *("向下", "往下", "朝下", "下落", "掉落", "落下", "下降", "下坠", "坠落", "下沉", "掉下"),
            *("下移", "从上到下"),
        ),
        **words(Lex("motion", "towards"), "靠近", "变大", "逼近", "朝镜头", "向镜头", "迎面", "越来越大"),
        **words(Lex("motion", "away"), "远离", "变小", "缩小", "远去", "越来越小"),
        **words(Lex("motion", "spin"), "旋转", "自转", "打转"),
        **words(Lex("motion", "circle"), "转圈", "绕圈", "画圈", "绕圆", "兜圈", "圆周"),
        **words(Lex("motion", "bounce"), "弹跳", "跳动", "跳跃", "蹦跳", "跳", "蹦"),
        **words(Lex("motion", "still"), "静止", "不动", "一动不动", "停住", "静"),
        **words(Lex("speed", "slow"), "慢慢", "缓缓", "缓慢", "慢速", "徐徐", "慢"),
        **words(Lex("speed", "fast"), "快速", "飞快", "迅速", "急速", "快"),
        **_relation("left_of", False, "的左边", "的左侧", "的左面", "的左方", "左边", "左侧"),
        **_relation("right_of", False, "的右边", "的右侧", "的右面", "的右方", "右边", "右侧"),
        **_relation("above", False, "的上方", "的上面", "的上边", "上方", "上面", "上边"),
        **_relation("below", False, "的下方", "的下面", "的下边", "下方", "下面", "下边"),
        **_relation("left_of", False, "的旁边", "旁边"),
        # Words that contain a lexicon entry but mean something else.
        **words(Lex("skip", 0), "中心", "小心", "开心", "一起", "一直", "一边", "左右", "上下", "星期", "心里"),
    }
)


def alternation(surfaces: list[str]) -> str:
    return "|".join(re.escape(s) for s in sorted(surfaces, key=len, reverse=True))


def _colour_forms(lexicon: MappingProxyType[str, Lex]) -> str:
    return alternation([k for k, v in lexicon.items() if v.kind == "colour"])


BACKGROUND = re.compile(
    r"(?:(?:on|against|over|with|in front of)\s+(?:an?\s+|the\s+)?)?(?<![a-z])"
    rf"(?P<en>{_colour_forms(EN)})"
    r"(?:[\s-]+(?:coloured|colored))?\s+(?:background|backdrop)s?(?![a-z])"
    rf"|(?:在|以)?(?P<zh>{_colour_forms(ZH)})色?的?背景"
    r"(?:之上|上|中|里|下|前)?"
    rf"|背景(?:是|为)(?P<zh2>{_colour_forms(ZH)})色?"
)

_EN_CAMERA_DIRECTION = MappingProxyType(
    {"left": "pan_left", "right": "pan_right", "up": "tilt_up", "down": "tilt_down", "in": "zoom_in"}
    | {"out": "zoom_out", "forward": "zoom_in", "closer": "zoom_in", "back": "zoom_out", "away": "zoom_out"}
)
_ZH_CAMERA_DIRECTION = MappingProxyType(
    {"左": "pan_left", "右": "pan_right", "上": "tilt_up", "下": "tilt_down"}
    | dict.fromkeys(("推近", "拉近", "推进", "放大", "前推"), "zoom_in")
    | dict.fromkeys(("拉远", "缩小", "后拉", "后退"), "zoom_out")
)
_SPEED_EN = r"(?:slowly|gently|quickly|rapidly|fast|slow)\s+"
_SPEED_ZH = r"(?:缓缓|慢慢|缓慢|快速|迅速|飞快)地?"
CAMERA = re.compile(
    r"(?<![a-z])(?:the\s+|a\s+)?(?:camera|shot|view)\s+(?:is\s+)?(?:" + _SPEED_EN + r")?"
    r"(?:pans?|panning|moves?|moving|tracks?|tracking|tilts?|tilting|zooms?|zooming|pulls?|pulling|pushes|"
    r"pushing|push|dollies|dolly|dollying|goes|swings?)\s+(?:" + _SPEED_EN + r")?(?:to\s+the\s+|towards\s+the\s+)?"
    r"(?P<en>left|right|up|down|in|out|forward|back|closer|away)(?![a-z])"
    r"|(?<![a-z])(?:pans?|panning|tracking\s+shot)\s+(?:to\s+the\s+)?(?P<en2>left|right)(?![a-z])"
    r"|(?<![a-z])(?:tilts?|tilting)\s+(?P<en3>up|down)(?![a-z])"
    r"|(?<![a-z])(?:zoom|zooming)\s+(?P<en4>in|out)(?![a-z])"
    r"|(?<![a-z])(?P<static_en>(?:static|fixed|still|steady|locked[\s-]off)\s+camera"
    r"|camera\s+(?:is\s+|stays\s+|remains\s+)?(?:static|fixed|still|steady))(?![a-z])"
    rf"|(?:镜头|摄像机|相机)(?:{_SPEED_ZH})?(?:向|往|朝)?(?P<zh>左|右|上|下)(?:平移|移动|移|摇动|摇|摆动|摆|推移|转动)?"
    rf"|(?:镜头|摄像机|相机)(?:{_SPEED_ZH})?(?P<zh2>推近|拉近|推进|放大|前推|拉远|缩小|后拉|后退)"
    r"|(?P<static_zh>(?:固定|静止)的?(?:镜头|机位)|(?:镜头|机位)(?:固定|静止|不动))"
)


def camera_of(match: re.Match[str]) -> Camera:
    """The camera move a :data:`CAMERA` match names."""
    if match.group("static_en") or match.group("static_zh"):
        return "static"
    en = match.group("en") or match.group("en2") or match.group("en3") or match.group("en4")
    if en:
        return _EN_CAMERA_DIRECTION[en]  # type: ignore[return-value]
    return _ZH_CAMERA_DIRECTION[match.group("zh") or match.group("zh2")]  # type: ignore[return-value]
