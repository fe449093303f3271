"""Which way a prompt asks things to move, in English and Chinese: the words :mod:`metrics.motion_direction` reads.

A direction is a unit 3-vector in picture terms: x to the right, y downwards (image rows), z towards the camera
(growing on screen). Object moves (``a car drives to the left``, ``一个球向上飘起``) and camera moves (``the camera
pans left``, ``镜头推近``) are read apart: a camera phrase is read first and taken out of the text, so its words
never count as an object's. Words that name a place rather than a move (``to the left of``, ``左边``, ``上方``) and
back-and-forth phrases (``up and down``, ``左右``, ``来回``) are not directions, nor idioms (``falls asleep``, ``a drop
of``), up/down before a path (``walks down the street``) or a gaze (``向左看``). The camera rising or sinking
(``the camera rises``, ``镜头缓缓升起``: a crane or pedestal move) is read as a tilt up or down: both move the
picture's content the same way, which is what the metric measures (it cannot tell them apart). Not tied to any
one world: the shapes world's captions are one of the sources of its forms
(``tests/metrics/test_motion_direction.py`` checks it reads every caption that world writes as the scene it
describes, and pins the reading of every prompt in the shipped suites).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

Direction = Literal["left", "right", "up", "down", "towards", "away"]
DIRECTIONS: tuple[Direction, ...] = ("left", "right", "up", "down", "towards", "away")
VECTORS: MappingProxyType[str, tuple[float, float, float]] = MappingProxyType(
    {
        "left": (-1.0, 0.0, 0.0),
        "right": (1.0, 0.0, 0.0),
        "up": (0.0, -1.0, 0.0),
        "down": (0.0, 1.0, 0.0),
        "towards": (0.0, 0.0, 1.0),
        "away": (0.0, 0.0, -1.0),
    }
)
# A camera move, named by where the camera goes: a pan left moves the picture's content to the right, a zoom in
# (or a dolly forward) makes it grow.
CAMERA_MOVES: MappingProxyType[str, Direction] = MappingProxyType(
    {
        "pan_left": "left",
        "pan_right": "right",
        "tilt_up": "up",
        "tilt_down": "down",
        "zoom_in": "towards",
        "zoom_out": "away",
    }
)
_CAMERA_NAMES: MappingProxyType[str, str] = MappingProxyType({v: k for k, v in CAMERA_MOVES.items()})


@dataclass(frozen=True)
class AskedMotion:
    """The directions a prompt names: for its objects (in the order read, without repeats) and for the camera."""

    objects: tuple[Direction, ...] = ()
    camera: Direction | None = None

    @property
    def camera_move(self) -> str | None:
        """The camera move as a name (``pan_left``, ``zoom_in`` ...), or None."""
        return _CAMERA_NAMES[self.camera] if self.camera else None

    @property
    def empty(self) -> bool:
        return not self.objects and self.camera is None


def _forms(stems: str) -> str:
    """A regex alternation of verb forms: each space-separated entry is a literal form."""
    return "|".join(sorted(stems.split(), key=len, reverse=True))


# Verbs of travel (after which "left", "to the right", "up" ... is a direction of motion, not a place).
_VERBS = _forms(
    "move moves moved moving go goes went going roll rolls rolled rolling slide slides slid sliding travel travels "
    "travelled traveled travelling traveling walk walks walked walking run runs ran running drive drives drove "
    "driving fly flies flew flying swim swims swam swimming drift drifts drifted drifting float floats floated "
    "floating head heads headed heading glide glides glided gliding race races raced racing rush rushes rushed "
    "rushing crawl crawls crawled crawling sail sails sailed sailing dash dashes dashed dashing ride rides rode "
    "riding shift shifts shifted shifting swing swings swung swinging skate skates skated skating hurry hurries "
    "hurried hurrying zip zips zipped zipping scroll scrolls scrolled scrolling sweep sweeps swept sweeping "
    "jump jumps jumped jumping leap leaps leapt leaping soar soars soared soaring "
    "come comes came coming turn turns turned turning step steps stepped stepping pass passes passed passing "
    "wander wanders wandered wandering march marches marched marching stream streams streamed streaming "
    "flow flows flowed flowing bounce bounces bouncing whirl whirls whirled whirling"
)
_ADVERB = r"(?:[a-z]+ly|fast|slow|quick|steadily)"
# "walks down the street", "runs up the hill": up/down before a path names the way along it, not a direction.
_PATH = (
    r"(?!\s+(?:(?:the|a|an)\s+)?(?:flight\s+of\s+)?(?:street|road|stairs|staircase|steps|hill|hillside|slope|ramp|"
    r"corridor|hall|hallway|river|path|lane|alley|avenue|aisle|track|trail|sidewalk|pavement|runway)s?(?![a-z]))"
)
_EN_OBJECT: tuple[tuple[str, Direction], ...] = (
    (r"from\s+(?:the\s+)?right\s+to\s+(?:the\s+)?left|leftwards?", "left"),
    (r"from\s+(?:the\s+)?left\s+to\s+(?:the\s+)?right|rightwards?", "right"),
    (r"from\s+(?:the\s+)?(?:bottom|ground)\s+to\s+(?:the\s+)?top|upwards?", "up"),
    (r"from\s+(?:the\s+)?top\s+to\s+(?:the\s+)?bottom|downwards?", "down"),
    (
        r"ris(?:e|es|ing)|rose|climb(?:s|ed|ing)?|ascend(?:s|ed|ing)?|lift(?:s|ed|ing)?\s+off|tak(?:e|es|ing)\s+off",
        "up",
    ),
    (  # not idioms ("falls asleep", "fell ill") nor the noun ("a drop of ink")
        r"(?:fall(?:s|ing)?|fell)(?!\s+(?:asleep|ill|sick|silent|quiet|still|apart|in\s+love)(?![a-z]))"
        r"|drop(?:s|ped|ping)?(?!\s+of(?![a-z]))|sink(?:s|ing)?|sank|descend(?:s|ed|ing)?",
        "down",
    ),
    (r"(?:towards?|to)\s+the\s+(?:camera|viewer|lens|screen)|approach(?:es|ed|ing)?", "towards"),
    (r"(?:comes?|coming|came|gets?|getting|grows?|growing)\s+(?:closer|nearer|bigger|larger)", "towards"),
    (r"grows?|growing|expand(?:s|ed|ing)?|enlarg(?:e|es|ed|ing)", "towards"),
    (r"(?:away\s+from\s+the\s+(?:camera|viewer|lens))|into\s+the\s+distance|reced(?:e|es|ed|ing)", "away"),
    (r"shrink(?:s|ing)?|shrank|(?:gets?|getting|grows?|growing)\s+smaller", "away"),
    (rf"(?:{_VERBS})(?:\s+{_ADVERB})?\s+(?:closer|nearer)", "towards"),
    (rf"(?:{_VERBS})(?:\s+{_ADVERB})?\s+away", "away"),
    (rf"(?:{_VERBS})(?:\s+{_ADVERB})?\s+(?:(?:to|towards?)\s+the\s+)?left(?!\s+(?:of|side|hand|edge|corner))", "left"),
    (
        rf"(?:{_VERBS})(?:\s+{_ADVERB})?\s+(?:(?:to|towards?)\s+the\s+)?right(?!\s+(?:of|side|hand|edge|corner))",
        "right",
    ),
    (rf"(?:{_VERBS})(?:\s+{_ADVERB})?\s+up{_PATH}", "up"),
    (rf"(?:{_VERBS})(?:\s+{_ADVERB})?\s+down{_PATH}", "down"),
)
_ZH_OBJECT: tuple[tuple[str, Direction], ...] = (
    ("向左|往左|朝左|左移|从右到左|从右往左|从右向左|自右向左", "left"),
    ("向右|往右|朝右|右移|从左到右|从左往右|从左向右|自左向右", "right"),
    ("向上|往上|朝上|上升|升起|飞起|飘起|上移|升空|上浮|从下到上|起飞|升腾|[飘飞升]向天空", "up"),
    ("向下|往下|朝下|下落|掉落|落下|下降|下坠|坠落|下沉|掉下|下移|从上到下|飘落|飘下|流下|落入|倒下", "down"),
    ("靠近|变大|逼近|朝镜头|向镜头|迎面|越来越大|越来越近|走近|驶近|飞近", "towards"),
    ("远离|变小|缩小|远去|越来越小|越来越远|驶离|飞远|走远", "away"),
)
_EN_BOTH_WAYS = re.compile(
    r"(?<![a-z])(?:up\s+and\s+down|down\s+and\s+up|left\s+and\s+right|right\s+and\s+left|back\s+and\s+forth|"
    r"side\s+to\s+side|to\s+and\s+fro|up\s+or\s+down|left\s+or\s+right)(?![a-z])"
)
_ZH_BOTH_WAYS = re.compile("上下|左右|来回|前后|往返|忽上忽下|忽左忽右")

_SPEED_EN = r"(?:[a-z]+ly|fast|slow)\s+"
_ZH_CAMERA_NOUN = "(?:镜头|摄像机|相机|摄影机)"
# a few words between the camera and its move ("镜头沿着树干向上摇", "镜头从窗户拉远"): no punctuation, and not
# "镜头前/里/中" (in front of / in the camera: the words after it are the scene's)
_ZH_SPAN = "(?![前里中内])[^，。、；！？,.;!?]{0,16}?"
_ZH_CAMERA_RISE = "升起|上升|升高|下降|降下|降低"
_ZH_CAMERA_VERB = "平移|移动|移|摇动|摇|摆动|摆|推移|转动|横移|升|降"
_SPEED_ZH = r"(?:缓缓|慢慢|缓慢|快速|迅速|飞快|轻轻|徐徐)地?"
_EN_CAMERA_WORDS = MappingProxyType(
    {"left": "left", "right": "right", "up": "up", "down": "down", "in": "towards", "forward": "towards"}
    | dict.fromkeys(("rises", "rising", "rose", "ascends", "ascending", "climbs", "climbing"), "up")
    | dict.fromkeys(("descends", "descending", "lowers", "lowering", "sinks", "sinking"), "down")
    | {"closer": "towards", "out": "away", "back": "away", "backward": "away", "backwards": "away", "away": "away"}
)
_ZH_CAMERA_WORDS = MappingProxyType(
    {"左": "left", "右": "right", "上": "up", "下": "down"}
    | dict.fromkeys(("推近", "拉近", "推进", "放大", "前推"), "towards")
    | dict.fromkeys(("拉远", "后拉", "后退"), "away")
    | dict.fromkeys(("升起", "上升", "升高"), "up")
    | dict.fromkeys(("下降", "降下", "降低"), "down")
)
_CAMERA = re.compile(
    r"(?<![a-z])(?:the\s+|a\s+)?(?:camera|shot|view)\s+(?:is\s+)?(?:" + _SPEED_EN + r")?"
    r"(?:pans?|panning|panned|moves?|moving|moved|tracks?|tracking|tilts?|tilting|zooms?|zooming|pulls?|pulling|"
    r"push(?:es)?|pushing|dolly|dollies|dollying|trucks?|trucking|goes|going|swings?|swinging|cranes?|craning|"
    r"glides?|gliding|slides?|sliding)\s+(?:" + _SPEED_EN + r")?(?:to\s+the\s+|towards\s+the\s+)?"
    r"(?P<en>left|right|up|down|in|out|forward|backwards?|back|closer|away)(?![a-z])"
    # the camera itself rising or sinking (a crane or pedestal move) moves the picture as a tilt does
    r"|(?<![a-z])(?:camera|shot|view)\s+(?:is\s+)?(?:" + _SPEED_EN + r")?(?P<en5>rises|rising|rose|ascends|ascending|"
    r"climbs|climbing|descends|descending|lowers|lowering|sinks|sinking)(?![a-z])"
    # without a camera noun only words that are no common noun or verb ("two trucks left", "pans left on the stove")
    r"|(?<![a-z])(?:panning|tracking\s+shot|trucking)\s+(?:" + _SPEED_EN + r")?"
    r"(?:to\s+the\s+)?(?P<en2>left|right)(?![a-z])"
    r"|(?<![a-z])(?:tilts?|tilting|pedestal)\s+(?:" + _SPEED_EN + r")?(?P<en3>up|down)(?![a-z])"
    r"|(?<![a-z])(?:zoom|zooms|zooming|dolly|dollies|dollying|push|pushing)\s+(?:" + _SPEED_EN + r")?"
    r"(?P<en4>in|out)(?![a-z])"
    rf"|{_ZH_CAMERA_NOUN}(?:{_SPEED_ZH})?(?:向|往|朝)(?P<zh>左|右|上|下)(?:{_ZH_CAMERA_VERB})?"
    rf"|{_ZH_CAMERA_NOUN}(?:{_SPEED_ZH})?(?P<zh3>左|右|上|下)(?:{_ZH_CAMERA_VERB})"
    rf"|{_ZH_CAMERA_NOUN}(?:{_SPEED_ZH})?(?P<zh2>推近|拉近|推进|放大|前推|拉远|后拉|后退)"
    rf"|{_ZH_CAMERA_NOUN}{_ZH_SPAN}(?:{_SPEED_ZH})?(?:向|往|朝)(?P<zh4>左|右|上|下)(?:{_ZH_CAMERA_VERB}|推|拉)"
    rf"|{_ZH_CAMERA_NOUN}{_ZH_SPAN}(?:{_SPEED_ZH})?(?:向前)?(?P<zh5>推近|拉近|推进|前推|拉远|后拉|{_ZH_CAMERA_RISE})"
)


def _camera(text: str) -> tuple[Direction | None, str]:
    """The first camera move named (as the direction the camera goes) and the text without camera phrases."""
    found: Direction | None = None
    for match in _CAMERA.finditer(text):
        word = next(g for g in ("en", "en2", "en3", "en4", "en5", "zh", "zh2", "zh3", "zh4", "zh5") if match.group(g))
        value = match.group(word)
        direction = (_EN_CAMERA_WORDS if word.startswith("en") else _ZH_CAMERA_WORDS)[value]
        found = found or direction  # type: ignore[assignment]
    return found, _CAMERA.sub(" , ", text)


_EN_PATTERN = re.compile(
    "|".join(f"(?P<en{i}>(?<![a-z])(?:{p})(?![a-z]))" for i, (p, _) in enumerate(_EN_OBJECT))
    + "|"
    + "|".join(f"(?P<zh{i}>(?:{p})(?![看望瞧瞥盯]))" for i, (p, _) in enumerate(_ZH_OBJECT))
)


def asked_motion(prompt: str | None) -> AskedMotion:
    """The directions ``prompt`` names (English or Chinese, or both mixed); empty when it names none."""
    if not prompt:
        return AskedMotion()
    camera, text = _camera(prompt.lower())
    text = _ZH_BOTH_WAYS.sub("，", _EN_BOTH_WAYS.sub(" , ", text))
    found: list[Direction] = []
    for match in _EN_PATTERN.finditer(text):
        group = match.lastgroup or ""
        table = _EN_OBJECT if group.startswith("en") else _ZH_OBJECT
        direction = table[int(group[2:])][1]
        if direction not in found:
            found.append(direction)
    return AskedMotion(tuple(found), camera)
