"""Prompt → :class:`Scene` for the procedural "shapes world", in English and Chinese.

The grammar (words in :mod:`adapters.shapes.lexicon`) is read left to right:

* ``on a black background`` / ``在黑色背景上`` names the background and ``the camera pans left`` /
  ``镜头向左平移`` the camera move; both are read first and removed;
* a count and a colour attach to the next shape word (``two red balls``, ``两个红色的球``);
* a motion word attaches to every shape since the previous motion word (``a ball and a box move
  left``), speed words to the same group; a motion with no shape before it waits for the next one;
* a relation places two groups: ``A to the left of B``, ``A above B``, ``B, and to its left A``,
  ``A在B的左边``, ``B的上方有A``.

Words outside the grammar that name a known thing (:mod:`adapters.shapes.concepts`: a car, a panda, the
sky) are drawn as a stand-in and listed in :attr:`Scene.approximated`; anything else falls back to a white
circle moving right. :attr:`Scene.understood` records which aspects came from the prompt and
:attr:`Scene.note` says, in one line, what was not understood.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from adapters.language import guess_language
from adapters.shapes.concepts import CONCEPTS, EN_CONCEPTS, ZH_CONCEPTS
from adapters.shapes.lexicon import (
    BACKGROUND,
    CAMERA,
    EN,
    MAX_COUNT,
    PALETTE,
    ZH,
    Aspect,
    Camera,
    Colour,
    Lex,
    Motion,
    Shape,
    Speed,
    alternation,
    camera_of,
    visible_on,
)

REQUIRED: frozenset[Aspect] = frozenset({"shape", "colour", "motion"})  # what "fully understood" needs
DEFAULT_SHAPE: Shape = "circle"
DEFAULT_COLOUR: Colour = "white"
DEFAULT_MOTION: Motion = "right"
MAX_GROUPS = 3  # object groups drawn; more are dropped (and the note says so)
Placement = Literal["left_of", "above"]

_EN_ALL = {**EN_CONCEPTS, **EN}  # grammar words win over concept words of the same spelling
_ZH_ALL = {**ZH_CONCEPTS, **ZH}
_EN_TOKEN = rf"(?<![a-z0-9'])(?:{alternation(list(_EN_ALL))})(?![a-z0-9'])"
_TOKENS = re.compile(f"{_EN_TOKEN}|{alternation(list(_ZH_ALL))}")
_CANONICAL: dict[str, tuple[Placement, bool]] = {  # relation -> (placement, subject drawn first)
    "left_of": ("left_of", True),
    "right_of": ("left_of", False),
    "above": ("above", True),
    "below": ("above", False),
}


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
    """What a prompt describes. Two scenes are equal when their content is (language and text aside).

    ``relation``: ``objects[0]`` is drawn to the left of (``left_of``) or above (``above``) ``objects[1]``.
    """

    objects: tuple[SceneObject, ...] = (SceneObject(),)
    background: Colour | None = None
    camera: Camera = "static"
    relation: Placement | None = None
    language: Literal["en", "zh"] = field(default="en", compare=False)
    understood: frozenset[Aspect] = field(default=frozenset(), compare=False)
    text: str = field(default="", compare=False)
    approximated: tuple[str, ...] = field(default=(), compare=False)  # concepts drawn as stand-ins
    dropped: int = field(default=0, compare=False)  # object groups beyond MAX_GROUPS, not drawn

    @property
    def fully_understood(self) -> bool:
        """Shape, colour and motion of every object came from the prompt's grammar words."""
        return self.understood >= REQUIRED and not self.dropped

    @property
    def defaulted(self) -> frozenset[Aspect]:
        """Aspects filled with defaults (background, speed, camera and relation are optional, so never listed)."""
        return frozenset(a for a in ("shape", "colour", "count", "motion") if a not in self.understood)

    @property
    def note(self) -> str | None:
        """One line on what was not understood (None when the prompt is inside the shapes world)."""
        if self.fully_understood:
            return None
        if self.approximated:
            what = ", ".join(repr(c) for c in self.approximated)
            line = f"outside the shapes world: {what} drawn as stand-in shapes"
        elif not self.understood:
            return "outside the shapes world: drew a neutral scene (a white circle moving right)"
        else:
            missing = ", ".join(sorted(self.defaulted - {"count"}))
            line = f"partly outside the shapes world: {missing} not given (defaults used)"
        if self.dropped:
            line += f"; {self.dropped} more object group(s) not drawn"
        return line


def detect_language(text: str) -> Literal["en", "zh"]:
    """The demo world speaks English and Chinese: Han script means Chinese (see adapters.language)."""
    return "zh" if guess_language(text) == "zh" else "en"


@dataclass
class _Read:
    """Working state of one left-to-right read (local to one parse call)."""

    colour: str | None = None
    count: int | None = None
    speed: str | None = None
    orphan_motion: str | None = None
    group: list[dict[str, object]] = field(default_factory=list)  # objects waiting for a motion
    group_has_motion: bool = False
    objects: list[dict[str, object]] = field(default_factory=list)
    relation: tuple[str, bool, int] | None = None  # (relation, landmark after it, objects read before it)
    background_hint: str | None = None  # a setting concept ("the sky"), used only for prompts with no shape word
    approximated: list[str] = field(default_factory=list)

    def add_object(self, shape: str, plural: bool, concept: str | None = None) -> None:
        if self.group_has_motion:  # a shape after a motion starts a new group
            self.group, self.group_has_motion, self.speed = [], False, None
        obj: dict[str, object] = {"shape": shape}
        if concept:
            obj["concept"] = concept
        if self.colour:
            obj["colour"] = self.colour
        count = self.count if self.count is not None else (2 if plural else None)
        if count is not None:
            obj["count"] = count
            obj["count_explicit"] = self.count is not None
        if self.orphan_motion:
            obj["motion"] = self.orphan_motion
            self.group_has_motion = True
            self.orphan_motion = None
        self.colour, self.count = None, None
        self.group.append(obj)
        self.objects.append(obj)

    def add_motion(self, motion: str) -> None:
        if self.group and not self.group_has_motion:
            for waiting in self.group:
                waiting["motion"] = motion
                if self.speed:
                    waiting.setdefault("speed", self.speed)
            self.group_has_motion = True
        elif not self.group:
            self.orphan_motion = self.orphan_motion or motion

    def add_speed(self, speed: str) -> None:
        self.speed = speed
        for waiting in self.group:
            waiting.setdefault("speed", speed)

    def add(self, word: str, lex: Lex, previous: str) -> None:
        if word == "circles" and previous == "shape" and self.colour is self.count is None:
            lex = Lex("motion", "circle")  # "a square circles": the verb, not a second shape
        if lex.kind == "colour":
            self.colour = str(lex.value)
        elif lex.kind == "count":
            self.count = int(lex.value)
        elif lex.kind == "speed":
            self.add_speed(str(lex.value))
        elif lex.kind == "motion":
            self.add_motion(str(lex.value))
        elif lex.kind == "shape":
            self.add_object(str(lex.value), lex.plural)
        elif lex.kind == "relation" and self.relation is None:
            self.relation = (str(lex.value), lex.after, len(self.objects))
        elif lex.kind == "concept":
            name = str(lex.value)
            concept = CONCEPTS[name]
            if concept.shape is None:
                self.background_hint = self.background_hint or name
            elif name not in self.approximated:  # a thing named twice is drawn once
                self.add_object(concept.shape, lex.plural, concept=name)
                self.approximated.append(name)


def _extract(pattern: re.Pattern[str], text: str) -> tuple[re.Match[str] | None, str]:
    match = pattern.search(text)
    if match is None:
        return None, text
    return match, text[: match.start()] + " , " + text[match.end() :]


def parse_prompt(text: str) -> Scene:
    """Parse an English or Chinese prompt into a :class:`Scene`; never raises on any string."""
    lowered = text.lower()
    bg_match, lowered = _extract(BACKGROUND, lowered)
    background: str | None = None
    if bg_match:
        word = bg_match.group("en") or bg_match.group("zh") or bg_match.group("zh2")
        background = str((EN.get(word) or ZH[word]).value)
    cam_match, lowered = _extract(CAMERA, lowered)
    read = _Read()
    previous = ""
    for m in _TOKENS.finditer(lowered):
        lex = _EN_ALL.get(m.group()) or _ZH_ALL[m.group()]
        read.add(m.group(), lex, previous)
        previous = lex.kind
    if read.colour and read.objects and "colour" not in read.objects[-1]:  # "a ball that is red"
        read.objects[-1]["colour"] = read.colour
    return _build_scene(text, read, background, camera_of(cam_match) if cam_match else None)


def _placement(read: _Read) -> tuple[Placement, int, int] | None:
    """(placement, index drawn first, index drawn second) of the relation read, or None."""
    if read.relation is None:
        return None
    relation, after, before = read.relation
    if after:  # "A left of B": A read just before, B just after
        subject, landmark = before - 1, before
    else:  # "B 的左边 (有) A" / "B, and to its left A": B read just before, A after it (or before B)
        landmark = before - 1
        subject = before if before < len(read.objects) else before - 2
    if min(subject, landmark) < 0 or max(subject, landmark) >= min(len(read.objects), MAX_GROUPS):
        return None
    placement, subject_first = _CANONICAL[relation]
    return (placement, subject, landmark) if subject_first else (placement, landmark, subject)


def _build_scene(text: str, read: _Read, background: str | None, camera: Camera | None) -> Scene:
    understood: set[Aspect] = {"background"} if background else set()
    if camera:
        understood.add("camera")
    raw = read.objects
    first_motion = next((o["motion"] for o in raw if "motion" in o), read.orphan_motion)
    first_speed = next((o["speed"] for o in raw if "speed" in o), read.speed)
    if not raw:
        raw = [{"colour": read.colour} if read.colour else {}]
        understood.update({"colour"} if read.colour else set())
    else:
        if not any("concept" in o for o in raw):
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
    placed = _placement(read)
    if placed:
        understood.add("relation")
        _, first, second = placed
        raw = [raw[first], raw[second], *(o for i, o in enumerate(raw) if i not in (first, second))]
    if first_motion is None and (placed or camera not in (None, "static")):
        first_motion = "still"  # a placed pair or a camera move: the objects keep still unless told otherwise
    speed = first_speed if not any("speed" in o for o in raw) else None  # "a slow red ball": no group took it
    approximated = list(read.approximated)
    if not background and "shape" not in understood:  # settings and concepts suggest the background
        setting = read.background_hint
        background = CONCEPTS[setting].background if setting else _concept_background(raw)
        if setting:
            approximated.append(setting)
    objects = tuple(_object(o, first_motion, speed or "normal", background) for o in raw[:MAX_GROUPS])
    return Scene(
        objects=objects,
        background=background,  # type: ignore[arg-type]
        camera=camera or "static",
        relation=placed[0] if placed else None,
        language=detect_language(text),
        understood=frozenset(understood),
        text=text,
        approximated=tuple(approximated),
        dropped=max(0, len(raw) - MAX_GROUPS),
    )


def _concept_background(raw: list[dict[str, object]]) -> str | None:
    return next((CONCEPTS[str(o["concept"])].background for o in raw if "concept" in o), None)


def _object(o: dict[str, object], first_motion: object, speed: object, background: str | None) -> SceneObject:
    hint = CONCEPTS[str(o["concept"])] if "concept" in o else None
    count = o.get("count", hint.count if hint and hint.count else 1)
    colour = str(o.get("colour", (hint and hint.colour) or DEFAULT_COLOUR))
    if "colour" not in o and not visible_on(colour, background):  # a stand-in lost on its stand-in background
        colour = "white" if visible_on("white", background) else "black"
    return SceneObject(
        shape=o.get("shape", DEFAULT_SHAPE),  # type: ignore[arg-type]
        colour=colour,  # type: ignore[arg-type]
        count=max(1, min(MAX_COUNT, int(count))),  # type: ignore[call-overload]
        motion=o.get("motion", first_motion or (hint and hint.motion) or DEFAULT_MOTION),  # type: ignore[arg-type]
        speed=o.get("speed", speed),  # type: ignore[arg-type]
    )
