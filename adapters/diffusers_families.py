"""The diffusers text-to-video families: one entry of data per family, no torch or diffusers import.

Each :class:`Family` names its pipeline class (resolved lazily from ``diffusers``), its frame and size
rules, its defaults, the names its ``__call__`` gives to frames / guidance / fps, the fixed keyword
arguments it needs, and its loading recipe as its authors document it (the pipeline's docstring example
and the model cards): components kept in float32 under a reduced-precision default, a scheduler swap,
tiling the VAE needs, and per-version rules selected by the checkpoint's own configs. Rules describe the
released checkpoints; a checkpoint that differs (e.g. a tiny test model) overrides them through the params.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from adapters.capabilities import FrameRule, SizeRule
from adapters.diffusers_recipes import SchedulerSwap, Version, When, frozen


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
    # -- loading recipe ------------------------------------------------------------------------------
    # dtypes some components keep under a reduced-precision default (the VAE in float32 where the authors
    # load it so), passed to from_pretrained as ``dtype={"default": ..., **component_dtypes}``
    component_dtypes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    scheduler: SchedulerSwap | None = None
    tiling_required: bool = False  # the VAE cannot decode without tiling (on every device)
    tile_grid: bool = False  # the VAE decodes a grid of tiles: sizes and frames snap onto it (Allegro)
    # attention: does the denoisers' attention go through diffusers' dispatcher (an attention backend
    # takes effect), and does it pass attention masks (backends that refuse masks cannot run it)?
    # Measured on diffusers 0.42.1 and checked against the tiny pipelines in the tests.
    attention_dispatch: bool = True
    attention_masks: bool = False
    true_cfg_arg: str | None = None  # a call argument that turns on real CFG (and the negative prompt) above 1
    versions: tuple[Version, ...] = ()
    note: str = ""


_fixed = frozen
_VAE_FP32 = frozen(vae="float32")


_WAN_TI2V_5B = Version(
    name="wan2.2-ti2v-5b",
    when=When("vae", "scale_factor_spatial", 16),
    size=SizeRule(multiple=32, min=32, max=1280),
    default_frames=121,
    default_width=1280,
    default_height=704,
    default_fps=24.0,
    note="Wan 2.2 TI2V-5B: its VAE compresses 16x, so sides are multiples of 32 (VAE 16 x patch 2); 24 fps.",
)


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
            component_dtypes=_VAE_FP32,
            versions=(_WAN_TI2V_5B,),
            note="Wan 2.1 (1.3B/14B) and Wan 2.2 A14B; UMT5 text encoder. The pipeline rounds sizes down to "
            "its VAE x patch multiple (16; 32 for Wan 2.2 TI2V-5B, whose VAE compresses 16x). flow_shift 3.0 "
            "suits 480p, 5.0 720p (scheduler_config).",
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
            component_dtypes=_VAE_FP32,
            versions=(_WAN_TI2V_5B,),
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
            component_dtypes=_VAE_FP32,
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
            attention_dispatch=False,
            versions=(
                Version(
                    name="cogvideox-1.5",
                    when=When("transformer", "patch_size_t", 2),
                    frames=FrameRule(step=16, offset=1, min=17, max=161),
                    size=SizeRule(multiple=16, min=768, max=1360),
                    default_frames=81,
                    default_width=1360,
                    default_height=768,
                    default_fps=16.0,
                    note="CogVideoX 1.5 (transformer patch_size_t 2): 16k+1 frames (81 or 161), sides 768..1360 "
                    "in multiples of 16, 16 fps.",
                ),
            ),
            note="CogVideoX 2B/5B generate 720x480 only. The VAE compresses 4x in time: F frames give "
            "L=(F-1)//4+1 latents and 4L-3 frames when L is odd, so 8k+1 comes back exactly.",
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
            attention_masks=True,
            versions=(
                Version(
                    name="ltx-video-0.9.1+",
                    when=When("vae", "timestep_conditioning", True),
                    call_defaults=frozen(decode_timestep=0.03, decode_noise_scale=0.025),
                    note="LTX-Video 0.9.1 and later decode with a timestep-aware VAE: decode_timestep 0.03, "
                    "decode_noise_scale 0.025 as documented (the pipeline defaults, 0.0 and None, are 0.9.0's).",
                ),
            ),
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
            attention_masks=True,
            true_cfg_arg="true_cfg_scale",
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
            attention_dispatch=False,
            note="H and W must be multiples of 16 (other sizes fail with a reshape error). genmo/mochi-1-preview "
            "also ships variant: bf16 files.",
        ),
        Family(
            name="allegro",
            pipeline_class="AllegroPipeline",
            # the default tile grid (TileGrid()); a vae_tile param or a VAE with another sample_size moves it
            frames=FrameRule(step=16, offset=8, min=24, max=88),
            size=SizeRule(widths=[320, 560, 800, 1040, 1280], heights=[320, 720, 1120], multiple=16, min=320, max=1280),
            default_frames=88,
            default_width=1280,
            default_height=720,
            default_fps=15.0,
            default_steps=100,
            default_guidance=7.5,
            fixed_kwargs=_fixed(clean_caption=False),
            component_dtypes=_VAE_FP32,
            tiling_required=True,
            tile_grid=True,
            attention_dispatch=False,
            note="The VAE decodes only with tiling (turned on everywhere) and only a grid of whole tiles: 16k+8 "
            "frames from 24, widths 320+240k, heights 320+400k (16-aligned); vae_tile changes the grid. "
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
            attention_dispatch=False,
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
            scheduler=SchedulerSwap(
                "DDIMScheduler",
                frozen(clip_sample=False, timestep_spacing="linspace", beta_schedule="linear", steps_offset=1),
            ),
            attention_dispatch=False,
            note="A Stable Diffusion 1.5 base plus a motion adapter (params.motion_adapter when the base "
            "folder has none); more than 32 frames exceeds the motion module's positions. The scheduler is "
            "swapped for DDIM with a linear beta schedule, as AnimateDiff's documentation does.",
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
            component_dtypes=_VAE_FP32,
            attention_masks=True,
            versions=(
                Version(
                    name="sana-video-720p",
                    when=When("vae", None, "AutoencoderKLLTX2Video"),
                    frames=FrameRule(step=8, offset=1, min=9, max=81),
                    default_width=1280,
                    default_height=704,
                    note="The 720p checkpoint decodes with LTX-2's VAE, 8x in time: 8k+1 frames.",
                ),
            ),
            note="Frame argument is `frames`; resolution binning off so the asked (snapped) size is used. "
            "480p: Wan VAE (4x in time, 4k+1 frames).",
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
            attention_dispatch=False,
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
