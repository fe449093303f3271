"""The diffusers text-to-video families: one entry of data per family, no torch or diffusers import.

Each :class:`Family` names its pipeline class (resolved lazily from ``diffusers``), its frame and size
rules, its defaults, the names its ``__call__`` gives to frames / guidance / fps, and the fixed keyword
arguments it needs. Rules describe the released checkpoints; a checkpoint that differs (e.g. a tiny test
model, CogVideoX 1.5) overrides them through the adapter's params.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from adapters.capabilities import FrameRule, SizeRule


@dataclass(frozen=True)
class Family:
    """How to drive one diffusers pipeline family."""

    name: str
    pipeline_class: str  # attribute of the ``diffusers`` package
    frames: FrameRule
    size: SizeRule
    default_frames: int
    default_width: int
    default_height: int
    default_fps: float
    default_steps: int
    default_guidance: float | None
    frames_arg: str = "num_frames"  # Latte: video_length, Sana-Video: frames
    guidance_arg: str | None = "guidance_scale"
    fps_arg: str | None = None  # LTX conditions on the frame rate (``frame_rate``)
    negative_prompt: bool = True
    fixed_kwargs: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    required_components: tuple[str, ...] = ()  # beyond what model_index.json lists, e.g. a motion adapter
    note: str = ""


def _fixed(**kwargs: Any) -> Mapping[str, Any]:
    return MappingProxyType(kwargs)


def family_table() -> dict[str, Family]:
    """A fresh table of every supported family, keyed by name (built on each call: no shared state)."""
    entries = [
        Family(
            name="wan",
            pipeline_class="WanPipeline",
            frames=FrameRule(step=4, offset=1, min=5, max=129),
            size=SizeRule(multiple=16, min=16, max=1280),
            default_frames=81,
            default_width=832,
            default_height=480,
            default_fps=16.0,
            default_steps=50,
            default_guidance=5.0,
            note="Wan 2.1 (1.3B/14B) and Wan 2.2 A14B; UMT5 text encoder. Wan 2.2 TI2V-5B compresses 16x: "
            "set size_multiple: 32, default_fps: 24, default_frames: 121.",
        ),
        Family(
            name="wan2.2",
            pipeline_class="WanPipeline",
            frames=FrameRule(step=4, offset=1, min=5, max=129),
            size=SizeRule(multiple=16, min=16, max=1280),
            default_frames=81,
            default_width=1280,
            default_height=720,
            default_fps=16.0,
            default_steps=40,
            default_guidance=4.0,
            note="Wan 2.2 A14B: two experts (transformer, transformer_2) switched at boundary_ratio; "
            "guidance_scale_2 can be set through call_kwargs.",
        ),
        Family(
            name="skyreels-v2",
            pipeline_class="SkyReelsV2Pipeline",
            frames=FrameRule(step=4, offset=1, min=5, max=121),
            size=SizeRule(multiple=16, min=16, max=1280),
            default_frames=97,
            default_width=960,
            default_height=544,
            default_fps=24.0,
            default_steps=50,
            default_guidance=6.0,
            note="Wan architecture; its text cleaning needs the ftfy package.",
        ),
        Family(
            name="cogvideox",
            pipeline_class="CogVideoXPipeline",
            frames=FrameRule(step=8, offset=1, min=9, max=49),
            size=SizeRule(fixed=[(720, 480)]),
            default_frames=49,
            default_width=720,
            default_height=480,
            default_fps=8.0,
            default_steps=50,
            default_guidance=6.0,
            note="CogVideoX 2B/5B generate 720x480 only. The VAE compresses 4x in time: F frames give "
            "L=(F-1)//4+1 latents and 4L-3 frames when L is odd, so 8k+1 comes back exactly. "
            "CogVideoX 1.5: frame_step 16, size_multiple 16, default 1360x768, 81 frames, 16 fps.",
        ),
        Family(
            name="ltx",
            pipeline_class="LTXPipeline",
            frames=FrameRule(step=8, offset=1, min=9, max=257),
            size=SizeRule(multiple=32, min=32, max=1280),
            default_frames=121,
            default_width=704,
            default_height=480,
            default_fps=24.0,
            default_steps=50,
            default_guidance=3.0,
            fps_arg="frame_rate",
            note="LTX-Video conditions on the frame rate; H and W must be multiples of 32 (hard-coded).",
        ),
        Family(
            name="hunyuanvideo",
            pipeline_class="HunyuanVideoPipeline",
            frames=FrameRule(step=4, offset=1, min=5, max=129),
            size=SizeRule(multiple=16, min=16, max=1280),
            default_frames=61,
            default_width=1280,
            default_height=720,
            default_fps=24.0,
            default_steps=50,
            default_guidance=6.0,
            negative_prompt=False,
            note="guidance_scale is embedded (distilled) guidance; real CFG (and the negative prompt) needs "
            "true_cfg_scale > 1 in call_kwargs. Llama + CLIP text encoders.",
        ),
        Family(
            name="mochi",
            pipeline_class="MochiPipeline",
            frames=FrameRule(step=6, offset=1, min=7, max=163),
            size=SizeRule(multiple=16, min=16, max=1280),
            default_frames=85,
            default_width=848,
            default_height=480,
            default_fps=30.0,
            default_steps=64,
            default_guidance=4.5,
            note="H and W must be multiples of 16 (other sizes fail with a reshape error).",
        ),
        Family(
            name="allegro",
            pipeline_class="AllegroPipeline",
            frames=FrameRule(step=1, offset=0, min=1, max=88),
            size=SizeRule(multiple=16, min=16, max=1280),
            default_frames=88,
            default_width=1280,
            default_height=720,
            default_fps=15.0,
            default_steps=100,
            default_guidance=7.5,
            fixed_kwargs=_fixed(clean_caption=False),
            note="The VAE decodes only with tiling; tiles smaller than a tiny video give a flat 0.5 image. "
            "clean_caption=False avoids needing bs4/ftfy.",
        ),
        Family(
            name="latte",
            pipeline_class="LattePipeline",
            frames=FrameRule(fixed=[16]),
            size=SizeRule(multiple=16, min=16, max=1024),
            default_frames=16,
            default_width=512,
            default_height=512,
            default_fps=8.0,
            default_steps=50,
            default_guidance=7.5,
            frames_arg="video_length",
            fixed_kwargs=_fixed(clean_caption=False),
            note="The frame count must equal the transformer's video_length (16 for Latte-1): frames_fixed.",
        ),
        Family(
            name="animatediff",
            pipeline_class="AnimateDiffPipeline",
            frames=FrameRule(step=1, offset=0, min=8, max=32),
            size=SizeRule(multiple=8, min=64, max=1024),
            default_frames=16,
            default_width=512,
            default_height=512,
            default_fps=8.0,
            default_steps=25,
            default_guidance=7.5,
            required_components=("motion_adapter",),
            note="A Stable Diffusion 1.5 base plus a motion adapter (params.motion_adapter when the base "
            "folder has none); more than 32 frames exceeds the motion module's positions.",
        ),
        Family(
            name="sana-video",
            pipeline_class="SanaVideoPipeline",
            frames=FrameRule(step=4, offset=1, min=5, max=81),
            size=SizeRule(multiple=32, min=32, max=1280),
            default_frames=81,
            default_width=832,
            default_height=480,
            default_fps=16.0,
            default_steps=50,
            default_guidance=6.0,
            frames_arg="frames",
            fixed_kwargs=_fixed(use_resolution_binning=False, clean_caption=False),
            note="Frame argument is `frames`; resolution binning off so the asked (snapped) size is used.",
        ),
        Family(
            name="modelscope",
            pipeline_class="TextToVideoSDPipeline",
            frames=FrameRule(step=1, offset=0, min=1, max=64),
            size=SizeRule(multiple=8, min=64, max=1024),
            default_frames=16,
            default_width=256,
            default_height=256,
            default_fps=8.0,
            default_steps=50,
            default_guidance=9.0,
            note="ModelScope / zeroscope (deprecated in diffusers but common); zeroscope_v2_576w: 576x320, 24 frames.",
        ),
    ]
    return {f.name: f for f in entries}


ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "wan2.1": "wan",
        "skyreels": "skyreels-v2",
        "cogvideo": "cogvideox",
        "ltx-video": "ltx",
        "hunyuan": "hunyuanvideo",
        "hunyuan-video": "hunyuanvideo",
        "sana": "sana-video",
        "zeroscope": "modelscope",
        "text-to-video-sd": "modelscope",
    }
)


def family_names() -> list[str]:
    """Every accepted family name (canonical names and aliases)."""
    return sorted([*family_table(), *ALIASES])


def get_family(name: str) -> Family:
    """The family called ``name`` (or an alias); ``KeyError`` with the known names otherwise."""
    table = family_table()
    key = ALIASES.get(name.lower(), name.lower())
    if key not in table:
        import difflib

        close = difflib.get_close_matches(name.lower(), family_names(), n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise KeyError(f"unknown diffusers family {name!r}.{hint} Known: {', '.join(sorted(table))}.")
    return table[key]
