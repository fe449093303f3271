"""Procedural demo models: the shapes world's ground truth (:mod:`adapters.shapes`) with known defects.

Each demo model is a ``behaviour`` (a preset of :data:`adapters.shapes.defects.PRESETS`: faithful, wrong
colour, wrong object, wrong count, frozen, wrong direction, flicker, blur, temporal jumps, a mix, or
``ignores_subject``) whose strengths can be set one by one in models.yaml. The provenance of every video
records what the prompt asked, what was drawn and which defects were realised, so the truth is known.
``render_prompt`` is also usable as a ``python`` adapter target.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Literal, cast, get_args

import numpy as np
from pydantic import Field

from adapters.base import AdapterParams, Availability, RawVideo, ResolvedRequest, VideoAdapter
from adapters.capabilities import Capabilities, FrameRule, SizeRule
from adapters.shapes import Scene, parse_prompt
from adapters.shapes.defects import PRESETS, Defects, Drawn, draw

Behaviour = Literal[
    "faithful",
    "ignores_subject",
    "wrong_colour",
    "wrong_object",
    "wrong_count",
    "frozen",
    "wrong_direction",
    "flicker",
    "blur",
    "jumps",
    "mix",
]
BEHAVIOURS: tuple[str, ...] = get_args(Behaviour)
REVISION = "procedural-v2"


def defects_for(behaviour: str, **strengths: float | None) -> Defects:
    """The preset of ``behaviour`` with any strength given (not None) replacing the preset's."""
    if behaviour not in PRESETS:
        raise ValueError(f"unknown behaviour {behaviour!r}; expected one of {', '.join(BEHAVIOURS)}")
    given = {k: v for k, v in strengths.items() if v is not None}
    return dataclasses.replace(PRESETS[behaviour], **given)


def draw_prompt(
    prompt: str,
    defects: Defects,
    *,
    seed: int = 0,
    num_frames: int = 16,
    width: int = 256,
    height: int = 256,
) -> Drawn:
    """Parse ``prompt`` and draw it with ``defects``: the frames and the truth about them."""
    return draw(parse_prompt(prompt), defects, seed=seed, num_frames=num_frames, width=width, height=height)


def render_prompt(
    prompt: str,
    *,
    seed: int = 0,
    num_frames: int = 16,
    width: int = 256,
    height: int = 256,
    behaviour: str = "faithful",
) -> np.ndarray:
    """Parse ``prompt`` and render it with one demo behaviour: uint8 (F, H, W, 3)."""
    defects = defects_for(behaviour)
    return draw_prompt(prompt, defects, seed=seed, num_frames=num_frames, width=width, height=height).frames


def scene_record(scene: Scene) -> dict[str, Any]:
    """A JSON-able description of a scene (for provenance)."""
    return {
        "objects": [dataclasses.asdict(o) for o in scene.objects],
        "background": scene.background,
        "camera": scene.camera,
        "relation": scene.relation,
    }


class DemoParams(AdapterParams):
    behaviour: Behaviour = "faithful"
    colour_error: float | None = Field(default=None, ge=0.0, le=1.0, description="P(an object's colour is wrong)")
    shape_error: float | None = Field(default=None, ge=0.0, le=1.0, description="P(an object's shape is wrong)")
    count_error: float | None = Field(default=None, ge=0.0, le=1.0, description="P(an object's count is wrong)")
    direction_error: float | None = Field(default=None, ge=0.0, le=1.0, description="P(a motion goes wrong)")
    frozen: float | None = Field(default=None, ge=0.0, le=1.0, description="P(the video does not move)")
    flicker: float | None = Field(default=None, ge=0.0, le=1.0, description="Flicker strength")
    blur: float | None = Field(default=None, ge=0.0, le=1.0, description="Blur sigma, share of the short side")
    jumps: float | None = Field(default=None, ge=0.0, le=1.0, description="Share of frames from another moment")
    latency_s: float = Field(default=0.0, ge=0.0, le=600.0, description="Simulated generation time")

    def defects(self) -> Defects:
        return defects_for(
            self.behaviour,
            colour=self.colour_error,
            shape=self.shape_error,
            count=self.count_error,
            direction=self.direction_error,
            frozen=self.frozen,
            flicker=self.flicker,
            blur=self.blur,
            jumps=self.jumps,
        )


class DemoAdapter(VideoAdapter):
    """A procedural model with known defects: no weights, runs anywhere, deterministic per seed."""

    kind = "demo"
    Params = DemoParams

    @property
    def demo_params(self) -> DemoParams:
        return cast(DemoParams, self.params)

    def capabilities(self) -> Capabilities:
        return Capabilities(
            frames=FrameRule(step=1, min=1, max=128),
            size=SizeRule(multiple=8, min=64, max=1024),
            languages=["*"],
            default_frames=16,
            default_width=256,
            default_height=256,
            default_fps=8.0,
            supports_negative_prompt=False,
        )

    def check(self) -> Availability:
        return Availability(ok=True, detail=f"procedural ({self.demo_params.behaviour}), no weights needed")

    def _generate(self, request: ResolvedRequest) -> RawVideo:
        params = self.demo_params
        defects = params.defects()
        made = draw_prompt(
            request.prompt,
            defects,
            seed=request.seed,
            num_frames=request.num_frames,
            width=request.width,
            height=request.height,
        )
        steps = 10 if params.latency_s else 1  # a slow demo model reports its progress as a real one would
        for step in range(1, steps + 1):
            if params.latency_s:
                time.sleep(params.latency_s / steps)
            self.report_progress(step / steps)
        return RawVideo(
            frames=made.frames,
            layout="FHWC",
            fps=request.fps,
            details={
                "revision": REVISION,
                "device": "cpu",
                "dtype": "uint8",
                "params": {
                    "behaviour": params.behaviour,
                    "defects": defects.active(),
                    "truth": {
                        "asked": scene_record(made.asked),
                        "drawn": scene_record(made.drawn),
                        "realised": made.realised,
                        "note": made.asked.note,
                    },
                },
                "library_versions": {"numpy": np.__version__},
            },
        )
