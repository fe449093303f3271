"""What the diffusers adapter does to a built pipeline: the family's recipe and the device settings.

Each function acts on one pipeline and returns what it did, for the provenance. Nothing here is
process-wide: an attention backend is set on this pipeline's attention modules only (diffusers'
``set_attention_backend`` also makes it the process's active backend, which this module undoes), and
reset when the model closes. torch and diffusers are imported by the callers' first use only.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from adapters.diffusers_loading import RuntimePlan
from adapters.diffusers_recipes import SchedulerSwap, TileGrid

DENOISERS = ("transformer", "transformer_2", "unet")


def denoisers(pipe: Any) -> dict[str, Any]:
    """The denoising networks the pipeline has (Wan 2.2 has two transformers; UNet families a unet)."""
    return {name: module for name in DENOISERS if (module := getattr(pipe, name, None)) is not None}


def load_pipeline(cls: Any, folder: Path, plan: RuntimePlan, variant: str | None = None, **components: Any) -> Any:
    """``cls.from_pretrained`` offline with the plan's dtypes, per component, set at load: modules a library
    keeps in float32 on purpose (Wan's time embedder and norms, T5's ``wo``) stay so, as no later cast runs."""
    import torch

    wanted = plan.load_dtype()
    dtype = {k: getattr(torch, v) for k, v in wanted.items()} if isinstance(wanted, dict) else getattr(torch, wanted)
    kwargs: dict[str, Any] = {"dtype": dtype, "local_files_only": True, **components}
    if variant:
        kwargs["variant"] = variant
    return cls.from_pretrained(str(folder), **kwargs)


def swap_scheduler(pipe: Any, swap: SchedulerSwap | None, overrides: Mapping[str, Any]) -> str | None:
    """Apply the family's scheduler swap and the models file's ``scheduler_config`` overrides.

    Returns the scheduler's class name when it changed, else None. Unknown override keys are an error
    (diffusers would ignore them silently).
    """
    if swap is None and not overrides:
        return None
    import inspect

    import diffusers

    current = pipe.scheduler
    cls = getattr(diffusers, swap.class_name) if swap else type(current)
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
    unknown = sorted(set(overrides) - accepted)
    if unknown:
        raise ValueError(f"scheduler_config keys {unknown} are not {cls.__name__} settings")
    settings = {**(dict(swap.config) if swap else {}), **overrides}
    pipe.scheduler = cls.from_config(current.config, **settings)
    return str(cls.__name__)


def required_tiling(pipe: Any, grid: TileGrid | None) -> TileGrid | None:
    """Turn on the VAE tiling a family cannot decode without; for a tile-grid VAE (Allegro) set its tiles.

    Returns the grid in force (the live VAE's when ``grid`` is None). Each tile side and stride must be a
    whole number of latents, or the decoder's tiles would not line up.
    """
    vae = pipe.vae
    vae.enable_tiling()
    if not hasattr(vae, "kernel"):
        return None
    grid = grid or TileGrid.from_kernel(vae.kernel, vae.stride)
    rt, rs = int(vae.config.temporal_compression_ratio), int(vae.spatial_compression_ratio)
    for value, ratio, what in zip(
        (*grid.kernel(), *grid.stride()), (rt, rs, rs) * 2, ("frames", "height", "width") * 2, strict=True
    ):
        if value % ratio:
            raise ValueError(f"vae_tile {what} {value} is not a multiple of the VAE's compression ({ratio})")
    vae.kernel, vae.stride = grid.kernel(), grid.stride()
    return grid


def scope_attention_backend(pipe: Any, backend: str) -> dict[str, int]:
    """Set ``backend`` on the attention modules of this pipeline's denoisers, and nowhere else.

    Returns, per denoiser, how many attention modules took it (those whose processor goes through diffusers'
    dispatcher); a denoiser where none does is left untouched and absent from the result.
    """
    from diffusers.models.attention_dispatch import _AttentionBackendRegistry

    applied: dict[str, int] = {}
    previous = _AttentionBackendRegistry._active_backend
    try:
        for name, module in denoisers(pipe).items():
            count = _dispatching_attention_modules(module)
            if count:
                module.set_attention_backend(backend)
                applied[name] = count
    finally:  # set_attention_backend also sets the process-wide default: put it back
        _AttentionBackendRegistry.set_active_backend(previous)
    return applied


def reset_attention_backend(pipe: Any, names: list[str]) -> None:
    for name in names:
        module = getattr(pipe, name, None)
        if module is not None:
            module.reset_attention_backend()


def _dispatching_attention_modules(module: Any) -> int:
    from diffusers.models.attention import AttentionModuleMixin
    from diffusers.models.attention_processor import Attention, MochiAttention

    kinds = (Attention, MochiAttention, AttentionModuleMixin)
    return sum(
        1
        for m in module.modules()
        if isinstance(m, kinds)
        and getattr(m, "processor", None) is not None
        and hasattr(m.processor, "_attention_backend")
    )


def compile_denoisers(pipe: Any) -> list[str]:
    """``torch.compile`` every denoiser (compiled lazily, at its first call); returns their names."""
    names = list(denoisers(pipe))
    for name in names:
        getattr(pipe, name).compile()
    return names


def component_dtypes(pipe: Any) -> dict[str, str]:
    """The dtype each module of the pipeline holds its weights in (most of its parameters), for the record."""
    import torch

    found: dict[str, str] = {}
    for name, component in getattr(pipe, "components", {}).items():
        if not isinstance(component, torch.nn.Module):
            continue
        counts: dict[torch.dtype, int] = {}
        for p in component.parameters():
            counts[p.dtype] = counts.get(p.dtype, 0) + p.numel()
        if counts:
            found[name] = str(max(counts, key=lambda d: counts[d])).removeprefix("torch.")
    return found
