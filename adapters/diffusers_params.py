"""The models-file settings of a diffusers model, validated when the file is read (no torch import).

Besides types and ranges, settings that could only fail later on a GPU are refused here with the reason:
an attention backend diffusers does not know (its own ``AttentionBackendName``, read from the installed
source without importing torch), a ``*_hub`` backend (it downloads a kernel), a backend that raises on
attention masks for a family that passes them, a dtype map naming no component, tiles for a VAE without them.
"""

from __future__ import annotations

import ast
import difflib
import importlib.util
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from adapters.base import AdapterParams
from adapters.capabilities import Capabilities, FrameRule, SizeRule
from adapters.diffusers_families import Family, get_family
from adapters.diffusers_recipes import TileGrid, Version

Dtype = Literal["float32", "bfloat16", "float16"]

# Call arguments the adapter owns; request extras and call_kwargs may not set them.
RESERVED_CALL_ARGS = frozenset(
    {"prompt", "negative_prompt", "generator", "output_type", "return_dict", "height", "width", "latents"}
    | {"num_inference_steps", "num_videos_per_prompt", "num_images_per_prompt", "prompt_embeds"}
)

# Backends whose kernel raises ValueError on an attention mask (diffusers 0.42.1, models/attention_dispatch.py;
# the tests read the same from the installed source). Families that pass masks cannot use them.
MASKLESS_BACKENDS = frozenset(
    {"flash", "flash_hub", "_flash_3", "_flash_3_hub", "flash_4_hub", "aiter_fa2_hub", "_native_flash"}
    | {"_native_xla", "sage", "sage_hub", "sage_blackwell_hub", "_sage_qk_int8_pv_fp8_cuda"}
    | {"_sage_qk_int8_pv_fp8_cuda_sm90", "_sage_qk_int8_pv_fp16_cuda", "_sage_qk_int8_pv_fp16_triton"}
)


def attention_backend_names() -> tuple[str, ...]:
    """The values of diffusers' ``AttentionBackendName``, read from the installed source (importing
    diffusers would import torch: seconds, for a models file). Empty when diffusers is not installed."""
    spec = importlib.util.find_spec("diffusers")
    if spec is None or not spec.submodule_search_locations:
        return ()
    source = Path(next(iter(spec.submodule_search_locations))) / "models" / "attention_dispatch.py"
    try:
        tree = ast.parse(source.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return ()
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "AttentionBackendName":
            return tuple(
                stmt.value.value
                for stmt in node.body
                if isinstance(stmt, ast.Assign)
                and isinstance(stmt.value, ast.Constant)
                and isinstance(stmt.value.value, str)
            )
    return ()


def attention_backend_refusal(name: str, family: Family) -> str | None:
    """Why ``name`` cannot be used for ``family``, or None when it can (or when diffusers is absent)."""
    known = attention_backend_names()
    if not known:
        return None
    if name not in known:
        close = difflib.get_close_matches(name, known, n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        version = metadata.version("diffusers")
        return f"unknown attention backend {name!r} for diffusers {version}.{hint} Known: {', '.join(known)}"
    if name.endswith("_hub"):
        return (
            f"attention backend {name!r} downloads its kernel from the Hugging Face Hub when it is set; "
            f"this arena never downloads (use an installed backend such as {name.removesuffix('_hub')!r})"
        )
    if family.attention_masks and name in MASKLESS_BACKENDS:
        return (
            f"attention backend {name!r} raises on attention masks, which {family.name} passes; "
            "use one that takes masks, e.g. 'native' or 'flash_varlen'"
        )
    return None


class DiffusersParams(AdapterParams):
    """The ``params`` of a ``kind: diffusers`` entry (see README "Adding a model")."""

    family: str
    repo_id: str | None = None
    path: str | None = None  # local folder with model_index.json; relative to the models file
    revision: str | None = None
    cache_dir: str | None = None  # defaults to the environment's HF hub cache
    variant: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]+$")  # weight files *.{variant}.safetensors
    # one dtype, or {"default": ..., "<component>": ...}; applied on CUDA only, at from_pretrained
    torch_dtype: Literal["auto"] | Dtype | dict[str, Dtype] = "auto"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    cpu_offload: bool = False
    vae_tiling: bool = False
    attention_backend: str | None = None
    compile: bool = False
    motion_adapter: str | None = None  # AnimateDiff: a folder or a cached repo id
    scheduler_config: dict[str, Any] = Field(default_factory=dict)  # e.g. {flow_shift: 5.0} for Wan at 720p
    vae_tile: TileGrid | None = None  # Allegro: the VAE's decode tiles (and so the grid sizes snap onto)
    # Overrides of the family's rules and defaults, for checkpoints that differ.
    frame_step: int | None = Field(default=None, ge=1)
    frame_offset: int | None = None
    frames_min: int | None = Field(default=None, ge=1)
    frames_max: int | None = Field(default=None, ge=1)
    frames_fixed: list[int] | None = None
    size_multiple: int | None = Field(default=None, ge=2)
    sizes_fixed: list[tuple[int, int]] | None = None
    default_frames: int | None = Field(default=None, ge=1)
    default_width: int | None = Field(default=None, ge=8)
    default_height: int | None = Field(default=None, ge=8)
    default_fps: float | None = Field(default=None, gt=0)
    default_steps: int | None = Field(default=None, ge=1)
    default_guidance: float | None = Field(default=None, ge=0)
    call_kwargs: dict[str, Any] = Field(default_factory=dict)  # extra fixed pipeline arguments

    @field_validator("family")
    @classmethod
    def _known_family(cls, value: str) -> str:
        try:
            return get_family(value).name
        except KeyError as exc:
            raise ValueError(exc.args[0]) from None

    @field_validator("call_kwargs")
    @classmethod
    def _not_reserved(cls, value: dict[str, Any]) -> dict[str, Any]:
        clash = sorted(set(value) & RESERVED_CALL_ARGS)
        if clash:
            raise ValueError(f"set by the adapter, not call_kwargs: {', '.join(clash)}")
        return value

    @field_validator("torch_dtype")
    @classmethod
    def _dtype_map(cls, value: str | dict[str, str]) -> str | dict[str, str]:
        if isinstance(value, dict) and not value:
            raise ValueError('an empty dtype map: give one dtype or {"default": ..., "<component>": ...}')
        return value

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> DiffusersParams:
        prebuilt = bool(info.context and info.context.get("prebuilt"))
        if self.repo_id and self.path:
            raise ValueError("give either repo_id or path, not both")
        if not prebuilt and not (self.repo_id or self.path):
            raise ValueError("give repo_id (a model in the Hugging Face cache) or path (a local folder)")
        family = get_family(self.family)
        if self.vae_tile is not None and not family.tile_grid:
            raise ValueError(f"vae_tile applies to a VAE that decodes a grid of tiles (allegro), not {family.name}")
        if self.attention_backend is not None:
            refusal = attention_backend_refusal(self.attention_backend, family)
            if refusal:
                raise ValueError(refusal)
        return self

    def dtype_request(self) -> tuple[str, dict[str, str]]:
        """(default dtype, per-component dtypes) as asked in the models file."""
        if isinstance(self.torch_dtype, dict):
            rest: dict[str, str] = {k: v for k, v in self.torch_dtype.items() if k != "default"}
            return self.torch_dtype.get("default", "auto"), rest
        return self.torch_dtype, {}

    def capabilities(self, family: Family, version: Version | None, grid: TileGrid | None) -> Capabilities:
        """The family's rules and defaults, with the checkpoint's version, its tile grid, then these overrides."""
        frames_base = version.frames if version and version.frames else family.frames
        size_base = version.size if version and version.size else family.size
        if grid is not None:
            frames_base = grid.frame_rule(family.frames.max or grid.frames)
            size_base = grid.size_rule(size_base.max, self.size_multiple or size_base.multiple)
        if self.frames_fixed:
            frames = FrameRule(fixed=self.frames_fixed)
        else:
            base = frames_base if not frames_base.fixed else FrameRule(min=1)
            frames = FrameRule(
                step=self.frame_step or base.step,
                offset=base.offset if self.frame_offset is None else self.frame_offset,
                min=self.frames_min or base.min,
                max=self.frames_max or base.max,
            )
            if frames_base.fixed and frames == FrameRule(min=1):
                frames = frames_base
        if self.sizes_fixed:
            size = SizeRule(fixed=self.sizes_fixed)
        elif self.size_multiple and grid is None:
            upper = size_base.max if not size_base.fixed else 2048
            size = SizeRule(multiple=self.size_multiple, min=self.size_multiple, max=upper)
        else:
            size = size_base

        def pick(name: str) -> Any:
            mine = getattr(self, name)
            if mine is not None:
                return mine
            theirs = getattr(version, name, None) if version else None
            return theirs if theirs is not None else getattr(family, name)

        return Capabilities(
            frames=frames,
            size=size,
            default_frames=pick("default_frames"),
            default_width=pick("default_width"),
            default_height=pick("default_height"),
            default_fps=pick("default_fps"),
            default_steps=self.default_steps or family.default_steps,
            default_guidance=family.default_guidance if self.default_guidance is None else self.default_guidance,
            supports_negative_prompt=family.negative_prompt or self.true_cfg(family, {}),
        )

    def true_cfg(self, family: Family, extra: dict[str, Any]) -> bool:
        """Does this model run real classifier-free guidance (HunyuanVideo's ``true_cfg_scale`` above 1)?"""
        if family.true_cfg_arg is None:
            return False
        value = extra.get(family.true_cfg_arg, self.call_kwargs.get(family.true_cfg_arg, 1.0))
        return isinstance(value, int | float) and value > 1
