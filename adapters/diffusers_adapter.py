"""Text-to-video pipelines from diffusers behind :class:`VideoAdapter`, strictly offline.

Weights come from a local folder (``path``, with ``model_index.json``) or from the Hugging Face cache
(``repo_id``, looked up with ``local_files_only=True``); nothing is ever downloaded. Per-family rules
live in :mod:`adapters.diffusers_families`; offline lookup and the device policy in
:mod:`adapters.diffusers_loading`. torch and diffusers are imported on first use only.

Device policy: CUDA-only settings (bf16/fp16, ``cpu_offload``, ``vae_tiling``, ``attention_backend``,
``compile``) apply only on CUDA. ``device: cuda`` without CUDA makes ``check()`` report unavailable and
``load()`` raise :class:`AdapterUnavailableError`; ``auto``/``cpu`` run in float32 on the CPU and record
each skipped setting in provenance (``params.skipped``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from adapters.base import AdapterParams, Availability, RawVideo, ResolvedRequest, VideoAdapter
from adapters.capabilities import Capabilities, FrameRule, SizeRule
from adapters.diffusers_families import Family, get_family
from adapters.diffusers_loading import (
    LocatedWeights,
    RuntimePlan,
    hf_cache_dir,
    locate_weights,
    plan_runtime,
    weights_fingerprint,
)
from adapters.errors import (
    AdapterUnavailableError,
    GenerationError,
    OutputContractError,
    RequestError,
    WeightsNotFoundError,
)

# Call arguments the adapter owns; request extras and call_kwargs may not set them.
_RESERVED = frozenset(
    {"prompt", "negative_prompt", "generator", "output_type", "return_dict", "height", "width", "latents"}
    | {"num_inference_steps", "num_videos_per_prompt", "num_images_per_prompt", "prompt_embeds"}
)


class DiffusersAdapter(VideoAdapter):
    """One diffusers pipeline; see the module docstring for loading and the device policy."""

    kind: ClassVar[str] = "diffusers"

    class Params(AdapterParams):
        family: str
        repo_id: str | None = None
        path: str | None = None  # local folder with model_index.json; relative to the models file
        revision: str | None = None
        cache_dir: str | None = None  # defaults to the environment's HF hub cache
        torch_dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
        device: Literal["auto", "cpu", "cuda"] = "auto"
        cpu_offload: bool = False
        vae_tiling: bool = False
        attention_backend: str | None = None
        compile: bool = False
        motion_adapter: str | None = None  # AnimateDiff: a folder or a cached repo id
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
            clash = sorted(set(value) & _RESERVED)
            if clash:
                raise ValueError(f"set by the adapter, not call_kwargs: {', '.join(clash)}")
            return value

        @model_validator(mode="after")
        def _one_source(self, info: ValidationInfo) -> DiffusersAdapter.Params:
            prebuilt = bool(info.context and info.context.get("prebuilt"))
            if self.repo_id and self.path:
                raise ValueError("give either repo_id or path, not both")
            if not prebuilt and not (self.repo_id or self.path):
                raise ValueError("give repo_id (a model in the Hugging Face cache) or path (a local folder)")
            return self

    params: Params

    def __init__(self, model_id: str, params: AdapterParams | None = None, base_dir: Path | None = None) -> None:
        if params is None:
            raise TypeError("DiffusersAdapter needs params (at least family and repo_id or path)")
        super().__init__(model_id, params, base_dir)
        self.family: Family = get_family(self.params.family)
        self._pipe: Any = None
        self._plan: RuntimePlan | None = None
        self._accepted: frozenset[str] = frozenset()
        self._static: dict[str, Any] = {}  # provenance details fixed at load time
        self._static_params: dict[str, Any] = {}

    @classmethod
    def from_pipeline(
        cls, model_id: str, family: str, pipe: Any, base_dir: Path | None = None, **params: Any
    ) -> DiffusersAdapter:
        """Wrap an already-built pipeline (tests, benchmarks); ``params`` as in the models file."""
        validated = cls.Params.model_validate({"family": family, **params}, context={"prebuilt": True})
        adapter = cls(model_id, validated, base_dir=base_dir)
        adapter._prepare(pipe, located=None)
        adapter._loaded = True
        return adapter

    # -- rules ---------------------------------------------------------------------------------------
    def capabilities(self) -> Capabilities:
        p, fam = self.params, self.family
        if p.frames_fixed:
            frames = FrameRule(fixed=p.frames_fixed)
        else:
            base = fam.frames if not fam.frames.fixed else FrameRule(min=1)
            frames = FrameRule(
                step=p.frame_step or base.step,
                offset=base.offset if p.frame_offset is None else p.frame_offset,
                min=p.frames_min or base.min,
                max=p.frames_max or base.max,
            )
        if p.sizes_fixed:
            size = SizeRule(fixed=p.sizes_fixed)
        elif p.size_multiple:
            upper = fam.size.max if not fam.size.fixed else 2048
            size = SizeRule(multiple=p.size_multiple, min=p.size_multiple, max=upper)
        else:
            size = fam.size
        return Capabilities(
            frames=frames,
            size=size,
            default_frames=p.default_frames or fam.default_frames,
            default_width=p.default_width or fam.default_width,
            default_height=p.default_height or fam.default_height,
            default_fps=p.default_fps or fam.default_fps,
            default_steps=p.default_steps or fam.default_steps,
            default_guidance=fam.default_guidance if p.default_guidance is None else p.default_guidance,
            supports_negative_prompt=fam.negative_prompt,
        )

    # -- lifecycle -----------------------------------------------------------------------------------
    def _locate(self) -> LocatedWeights:
        p = self.params
        return locate_weights(
            self.model_id,
            self.resolve_path(p.path) if p.path else None,
            p.repo_id,
            p.revision,
            Path(p.cache_dir).expanduser() if p.cache_dir else None,
        )

    def _runtime(self) -> RuntimePlan:
        import torch

        p = self.params
        return plan_runtime(
            self.model_id,
            p.device,
            p.torch_dtype,
            p.cpu_offload,
            p.vae_tiling,
            p.attention_backend,
            p.compile,
            cuda_available=torch.cuda.is_available(),
        )

    def check(self) -> Availability:
        """Weights present and settings usable here? Loads nothing, never touches the network."""
        if self._pipe is not None:
            return Availability(ok=True, detail="loaded")
        try:
            located = self._locate()
            if self.family.required_components and self.params.motion_adapter:
                self._locate_motion_adapter()
            plan = self._runtime()
        except (WeightsNotFoundError, AdapterUnavailableError) as exc:
            return Availability(ok=False, detail=exc.reason)
        skipped = f"; skipped: {', '.join(plan.skipped)}" if plan.skipped else ""
        return Availability(ok=True, detail=f"weights at {located.folder}; {plan.device}/{plan.dtype}{skipped}")

    def _locate_motion_adapter(self) -> Path:
        ref = self.params.motion_adapter or ""
        local = self.resolve_path(ref)
        if local.is_dir():
            return local
        from huggingface_hub import snapshot_download

        cache = Path(self.params.cache_dir).expanduser() if self.params.cache_dir else hf_cache_dir()
        try:
            return Path(snapshot_download(ref, cache_dir=str(cache), local_files_only=True))
        except Exception as exc:  # huggingface_hub raises several types for "not cached"
            raise WeightsNotFoundError(
                self.model_id, ref, [f"local folder {local}", f"Hugging Face cache {cache} (repo {ref})"]
            ) from exc

    def load(self) -> None:
        if self._pipe is not None:
            return
        located = self._locate()
        plan = self._runtime()  # refuse before the (slow) load
        import diffusers
        import torch

        cls = getattr(diffusers, self.family.pipeline_class, None)
        if cls is None:
            raise AdapterUnavailableError(
                self.model_id,
                f"diffusers {diffusers.__version__} has no {self.family.pipeline_class}; upgrade diffusers",
            )
        kwargs: dict[str, Any] = {"torch_dtype": getattr(torch, plan.dtype), "local_files_only": True}
        if "motion_adapter" in self.family.required_components and self.params.motion_adapter:
            folder = self._locate_motion_adapter()
            kwargs["motion_adapter"] = diffusers.MotionAdapter.from_pretrained(
                str(folder), torch_dtype=kwargs["torch_dtype"], local_files_only=True
            )
        try:
            pipe = cls.from_pretrained(str(located.folder), **kwargs)
        except Exception as exc:
            raise GenerationError(self.model_id, f"loading {located.folder} failed: {exc}") from exc
        self._prepare(pipe, located, plan)

    def _prepare(self, pipe: Any, located: LocatedWeights | None, plan: RuntimePlan | None = None) -> None:
        """Apply the runtime plan, check required components, and fix the provenance details."""
        import diffusers
        import torch

        plan = plan or self._runtime()
        missing = [c for c in self.family.required_components if getattr(pipe, c, None) is None]
        if missing:
            raise WeightsNotFoundError(self.model_id, f"{self.family.name} component(s) {missing}", [])
        for component in getattr(pipe, "components", {}).values():
            if isinstance(component, torch.nn.Module):
                component.eval()
        if hasattr(pipe, "set_progress_bar_config"):
            pipe.set_progress_bar_config(disable=True)
        if plan.device == "cuda":
            self._apply_cuda(pipe, plan)
        else:
            pipe.to("cpu")
        self._pipe, self._plan = pipe, plan
        self._accepted = frozenset(
            name
            for name, prm in inspect.signature(pipe.__call__).parameters.items()
            if prm.kind not in (prm.VAR_KEYWORD, prm.VAR_POSITIONAL)
        )
        self._static = {
            "device": plan.device,
            "dtype": plan.dtype,
            "library_versions": {"diffusers": diffusers.__version__, "torch": torch.__version__},
        }
        extra: dict[str, Any] = {"family": self.family.name, "pipeline_class": type(pipe).__name__}
        if located is not None:
            self._static["revision"] = located.revision
            self._static["weights_hash"] = weights_fingerprint(located.folder)
            extra["weights_source"] = self.params.repo_id or str(located.folder)
        if plan.skipped:
            extra["skipped"] = list(plan.skipped)
        self._static_params = extra

    def _apply_cuda(self, pipe: Any, plan: RuntimePlan) -> None:
        import torch

        dtype = getattr(torch, plan.dtype)
        if plan.cpu_offload:
            pipe.to(dtype=dtype)
            pipe.enable_model_cpu_offload()
        else:
            pipe.to("cuda", dtype=dtype)
        if plan.vae_tiling and hasattr(getattr(pipe, "vae", None), "enable_tiling"):
            pipe.vae.enable_tiling()
        transformer: Any = getattr(pipe, "transformer", None)
        if plan.attention_backend:
            if not hasattr(transformer, "set_attention_backend"):
                raise AdapterUnavailableError(self.model_id, "this pipeline has no settable attention backend")
            transformer.set_attention_backend(plan.attention_backend)
        if plan.compile and transformer is not None:
            transformer.compile()

    def close(self) -> None:
        on_cuda = self._plan is not None and self._plan.device == "cuda"
        self._pipe, self._plan, self._loaded = None, None, False
        import gc

        gc.collect()
        if on_cuda:
            import torch

            torch.cuda.empty_cache()

    # -- generation ------------------------------------------------------------------------------------
    def call_kwargs(self, r: ResolvedRequest) -> dict[str, Any]:
        """The pipeline arguments for ``r`` (without the generator), filtered by the call signature."""
        fam = self.family
        wanted: dict[str, Any] = {
            "prompt": r.prompt,
            "height": r.height,
            "width": r.width,
            fam.frames_arg: r.num_frames,
            "output_type": "np",
            "return_dict": True,
        }
        if r.steps is not None:
            wanted["num_inference_steps"] = r.steps
        if fam.guidance_arg and r.guidance is not None:
            wanted[fam.guidance_arg] = r.guidance
        if fam.fps_arg:
            wanted[fam.fps_arg] = r.fps
        if r.negative_prompt and fam.negative_prompt:
            wanted["negative_prompt"] = r.negative_prompt
        wanted |= dict(fam.fixed_kwargs) | self.params.call_kwargs
        bad = sorted(k for k in r.extra if k in _RESERVED or k not in self._accepted)
        if bad:
            raise RequestError(self.model_id, f"unsupported extra argument(s) {bad} for {fam.pipeline_class}")
        wanted |= r.extra
        return {k: v for k, v in wanted.items() if k in self._accepted}

    def _on_step_end(self, steps: int | None) -> Callable[..., dict[str, Any]]:
        """A diffusers step callback reporting (step + 1) / steps; it hands the pipeline's tensors back unchanged."""

        def on_step_end(pipe: Any, step: int, _timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
            total = getattr(pipe, "num_timesteps", None) or steps
            if total:
                self.report_progress((step + 1) / total)
            return tensors

        return on_step_end

    def _generate(self, request: ResolvedRequest) -> RawVideo:
        import torch

        if self._pipe is None or self._plan is None:
            raise GenerationError(self.model_id, "pipeline is not loaded (closed?)")
        kwargs = self.call_kwargs(request)
        kwargs["generator"] = torch.Generator(self._plan.device).manual_seed(request.seed)
        if "callback_on_step_end" in self._accepted:  # progress after every denoising step
            kwargs["callback_on_step_end"] = self._on_step_end(kwargs.get("num_inference_steps"))
        try:
            with torch.inference_mode():
                frames = self._pipe(**kwargs).frames
        except Exception as exc:
            raise GenerationError(self.model_id, f"{type(exc).__name__}: {exc}") from exc
        count = len(frames[0]) if len(frames) else 0
        if count != request.num_frames:
            raise OutputContractError(
                self.model_id,
                f"asked {request.num_frames} frames, the pipeline returned {count}: the frame rule "
                f"({self.capabilities().frames.describe()}) does not fit this checkpoint; "
                "set frame_step/frame_offset or frames_fixed",
            )
        params = dict(self._static_params)
        dropped = sorted(k for k in (*self.family.fixed_kwargs, *self.params.call_kwargs) if k not in kwargs)
        if dropped:
            params["dropped_kwargs"] = dropped
        return RawVideo(frames=frames, layout="BFHWC", fps=request.fps, details={**self._static, "params": params})
