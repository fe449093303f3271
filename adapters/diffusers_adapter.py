"""Text-to-video pipelines from diffusers behind :class:`VideoAdapter`, strictly offline.

Weights come from a local folder (``path``, with ``model_index.json``) or from the Hugging Face cache
(``repo_id``, looked up with ``local_files_only=True``); nothing is ever downloaded. Per-family rules and
loading recipes live in :mod:`adapters.diffusers_families`; the checkpoint's configs select a version
(:mod:`adapters.diffusers_recipes`); settings are validated in :mod:`adapters.diffusers_params`; offline
lookup and the device policy in :mod:`adapters.diffusers_loading`; what is done to a built pipeline in
:mod:`adapters.diffusers_runtime`. torch and diffusers are imported on first use only.

Device policy: CUDA-only settings (bf16/fp16 and per-component dtypes, ``cpu_offload``, ``vae_tiling``,
``attention_backend``, ``compile``) apply only on CUDA. ``device: cuda`` without CUDA makes ``check()``
report unavailable and ``load()`` raise :class:`AdapterUnavailableError`; ``auto``/``cpu`` run in float32
on the CPU and record each skipped setting in provenance (``params.skipped``). What a family cannot run
without (Allegro's VAE tiling, AnimateDiff's scheduler) applies on every device.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from adapters.base import AdapterParams, Availability, GenerationRequest, RawVideo, ResolvedRequest, VideoAdapter
from adapters.capabilities import Capabilities
from adapters.diffusers_families import Family, get_family
from adapters.diffusers_loading import (
    LocatedWeights,
    RuntimePlan,
    locate_module,
    locate_weights,
    plan_runtime,
    weights_fingerprint,
)
from adapters.diffusers_params import RESERVED_CALL_ARGS, DiffusersParams
from adapters.diffusers_recipes import Checkpoint, TileGrid, Version
from adapters.errors import (
    AdapterUnavailableError,
    GenerationError,
    OutputContractError,
    RequestError,
    WeightsNotFoundError,
)


class DiffusersAdapter(VideoAdapter):
    """One diffusers pipeline; see the module docstring for loading and the device policy."""

    kind: ClassVar[str] = "diffusers"
    Params: ClassVar[type[AdapterParams]] = DiffusersParams
    params: DiffusersParams

    def __init__(self, model_id: str, params: AdapterParams | None = None, base_dir: Path | None = None) -> None:
        if not isinstance(params, DiffusersParams):
            raise TypeError("DiffusersAdapter needs params (at least family and repo_id or path)")
        super().__init__(model_id, params, base_dir)
        self.family: Family = get_family(self.params.family)
        self._pipe: Any = None
        self._plan: RuntimePlan | None = None
        self._checkpoint: Checkpoint | None = None  # the configs of the weights (or of the built pipeline)
        self._accepted: frozenset[str] = frozenset()
        self._static: dict[str, Any] = {}  # provenance details fixed at load time
        self._static_params: dict[str, Any] = {}
        self._backend_on: list[str] = []  # denoisers whose attention backend this adapter set

    @classmethod
    def from_pipeline(
        cls, model_id: str, family: str, pipe: Any, base_dir: Path | None = None, **params: Any
    ) -> DiffusersAdapter:
        """Wrap an already-built pipeline (tests, benchmarks); ``params`` as in the models file. The pipeline
        keeps the dtypes it was built with (dtypes are set when loading, never by a later cast)."""
        validated = DiffusersParams.model_validate({"family": family, **params}, context={"prebuilt": True})
        adapter = cls(model_id, validated, base_dir=base_dir)
        adapter._checkpoint = Checkpoint.from_pipeline(pipe)
        adapter._prepare(pipe, located=None)
        adapter._loaded = True
        return adapter

    # -- rules ---------------------------------------------------------------------------------------
    def checkpoint(self) -> Checkpoint:
        """The configs of this model's weights (empty when they are not on this machine)."""
        if self._checkpoint is None:
            try:
                self._checkpoint = Checkpoint.from_folder(self._locate().folder)
            except WeightsNotFoundError:
                return Checkpoint()
        return self._checkpoint

    def version(self) -> Version | None:
        """The family's version entry that this checkpoint's configs match, if any."""
        checkpoint = self.checkpoint()
        return next((v for v in self.family.versions if v.when.matches(checkpoint)), None)

    def tile_grid(self) -> TileGrid | None:
        """Allegro's decode tiles: the models file's, else the VAE's (live, or from its config)."""
        if not self.family.tile_grid:
            return None
        if self.params.vae_tile is not None:
            return self.params.vae_tile
        live = getattr(self._pipe, "vae", None)
        if live is not None and hasattr(live, "kernel"):
            return TileGrid.from_kernel(live.kernel, live.stride)
        return TileGrid.from_vae_config(self.checkpoint().configs.get("vae", {}))

    def capabilities(self) -> Capabilities:
        return self.params.capabilities(self.family, self.version(), self.tile_grid())

    def resolve(self, request: GenerationRequest, language: str | None = None) -> ResolvedRequest:
        resolved = super().resolve(request, language)
        if self.params.true_cfg(self.family, resolved.extra) and resolved.negative_prompt is None:
            # real CFG needs a negative prompt (HunyuanVideo skips it without one): the empty prompt, recorded
            return resolved.model_copy(update={"negative_prompt": request.negative_prompt or ""})
        return resolved

    # -- lifecycle -----------------------------------------------------------------------------------
    def _locate(self) -> LocatedWeights:
        p = self.params
        return locate_weights(
            self.model_id,
            self.resolve_path(p.path) if p.path else None,
            p.repo_id,
            p.revision,
            Path(p.cache_dir).expanduser() if p.cache_dir else None,
            p.variant,
        )

    def _runtime(self) -> RuntimePlan:
        import torch

        p = self.params
        default, asked = p.dtype_request()
        return plan_runtime(
            self.model_id,
            p.device,
            default,
            p.cpu_offload,
            p.vae_tiling,
            p.attention_backend,
            p.compile,
            cuda_available=torch.cuda.is_available(),
            component_dtypes={**self.family.component_dtypes, **asked},
        )

    def _check_dtype_names(self, components: set[str]) -> None:
        unknown = sorted(set(self.params.dtype_request()[1]) - components)
        if unknown and components:
            raise AdapterUnavailableError(
                self.model_id, f"torch_dtype names no component {unknown}; components: {', '.join(sorted(components))}"
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
            self._check_dtype_names(set(self.checkpoint().classes))
        except (WeightsNotFoundError, AdapterUnavailableError) as exc:
            return Availability(ok=False, detail=exc.reason)
        notes = [f"weights at {located.folder}", f"{plan.device}/{plan.dtype}"]
        if (version := self.version()) is not None:
            notes.append(f"version {version.name}")
        if plan.skipped:
            notes.append(f"skipped: {', '.join(plan.skipped)}")
        if self.params.attention_backend and not self.family.attention_dispatch:
            notes.append(f"attention_backend has no effect on {self.family.name}")
        return Availability(ok=True, detail="; ".join(notes))

    def _locate_motion_adapter(self) -> Path:
        cache = Path(self.params.cache_dir).expanduser() if self.params.cache_dir else None
        return locate_module(self.model_id, self.params.motion_adapter or "", self.resolve_path, cache)

    def load(self) -> None:
        if self._pipe is not None:
            return
        located = self._locate()
        plan = self._runtime()  # refuse before the (slow) load
        self._checkpoint = Checkpoint.from_folder(located.folder)
        self._check_dtype_names(set(self._checkpoint.classes))
        import diffusers
        import torch

        cls = getattr(diffusers, self.family.pipeline_class, None)
        if cls is None:
            raise AdapterUnavailableError(
                self.model_id,
                f"diffusers {diffusers.__version__} has no {self.family.pipeline_class}; upgrade diffusers",
            )
        from adapters.diffusers_runtime import load_pipeline

        components: dict[str, Any] = {}
        if "motion_adapter" in self.family.required_components and self.params.motion_adapter:
            folder = self._locate_motion_adapter()
            components["motion_adapter"] = diffusers.MotionAdapter.from_pretrained(
                str(folder), dtype=getattr(torch, plan.dtype), local_files_only=True
            )
        try:
            pipe = load_pipeline(cls, located.folder, plan, self.params.variant, **components)
        except Exception as exc:
            raise GenerationError(self.model_id, f"loading {located.folder} failed: {exc}") from exc
        self._prepare(pipe, located, plan)

    def _prepare(self, pipe: Any, located: LocatedWeights | None, plan: RuntimePlan | None = None) -> None:
        """Apply the family's recipe and the runtime plan, check components, and fix the provenance details."""
        import diffusers
        import torch

        from adapters import diffusers_runtime as rt

        plan = plan or self._runtime()
        self._check_dtype_names(set(self.checkpoint().classes))
        missing = [c for c in self.family.required_components if getattr(pipe, c, None) is None]
        if missing:
            raise WeightsNotFoundError(self.model_id, f"{self.family.name} component(s) {missing}", [])
        for component in getattr(pipe, "components", {}).values():
            if isinstance(component, torch.nn.Module):
                component.eval()
        if hasattr(pipe, "set_progress_bar_config"):
            pipe.set_progress_bar_config(disable=True)
        extra: dict[str, Any] = {"family": self.family.name, "pipeline_class": type(pipe).__name__}
        try:
            if (scheduler := rt.swap_scheduler(pipe, self.family.scheduler, self.params.scheduler_config)) is not None:
                extra["scheduler"] = scheduler
            if self.family.tiling_required:
                grid = rt.required_tiling(pipe, self.params.vae_tile)
                extra["vae_tiling"] = grid.model_dump() if grid is not None else True
        except ValueError as exc:
            raise AdapterUnavailableError(self.model_id, str(exc)) from exc
        skipped = list(plan.skipped)
        if plan.device == "cuda":
            extra |= self._apply_cuda(pipe, plan, skipped)
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
        if (version := self.version()) is not None:
            extra["version"] = version.name
        if self.params.variant:
            extra["variant"] = self.params.variant
        if kept := {k: v for k, v in rt.component_dtypes(pipe).items() if v != plan.dtype}:
            extra["component_dtypes"] = kept
        if located is not None:
            self._static["revision"] = located.revision
            self._static["weights_hash"] = weights_fingerprint(located.folder)
            extra["weights_source"] = self.params.repo_id or str(located.folder)
        if skipped:
            extra["skipped"] = skipped
        self._static_params = extra

    def _apply_cuda(self, pipe: Any, plan: RuntimePlan, skipped: list[str]) -> dict[str, Any]:
        """Place the pipeline on the GPU (no dtype cast: dtypes were set at load) and apply the CUDA-only
        settings; returns what took effect."""
        from adapters import diffusers_runtime as rt

        done: dict[str, Any] = {}
        if plan.cpu_offload:
            pipe.enable_model_cpu_offload()
            done["cpu_offload"] = True
        else:
            pipe.to("cuda")
        if plan.vae_tiling and not self.family.tiling_required and hasattr(getattr(pipe, "vae", None), "enable_tiling"):
            pipe.vae.enable_tiling()
            done["vae_tiling"] = True
        if plan.attention_backend:
            applied = rt.scope_attention_backend(pipe, plan.attention_backend)
            self._backend_on = list(applied)
            if applied:
                done["attention_backend"] = {"backend": plan.attention_backend, "modules": applied}
            else:
                skipped.append(f"attention_backend={plan.attention_backend}: no effect on this pipeline's attention")
        if plan.compile:
            done["compiled"] = rt.compile_denoisers(pipe)
        return done

    def close(self) -> None:
        on_cuda = self._plan is not None and self._plan.device == "cuda"
        if self._pipe is not None and self._backend_on:
            from adapters import diffusers_runtime as rt

            rt.reset_attention_backend(self._pipe, self._backend_on)
        self._pipe, self._plan, self._loaded, self._backend_on = None, None, False, []
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
        if r.negative_prompt is not None and (fam.negative_prompt or self.params.true_cfg(fam, r.extra)):
            wanted["negative_prompt"] = r.negative_prompt
        wanted |= self._fixed_kwargs()
        bad = sorted(k for k in r.extra if k in RESERVED_CALL_ARGS or k not in self._accepted)
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

    def _fixed_kwargs(self) -> dict[str, Any]:
        """The version's call defaults, the family's fixed arguments, then the models file's call_kwargs."""
        version = self.version()
        return {
            **(dict(version.call_defaults) if version else {}),
            **self.family.fixed_kwargs,
            **self.params.call_kwargs,
        }

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
        self._check_shape(frames, request)
        params = dict(self._static_params)
        fixed = self._fixed_kwargs()
        if used := {k: v for k, v in fixed.items() if k in kwargs}:
            params["call_kwargs"] = used
        if dropped := sorted(k for k in fixed if k not in kwargs):
            params["dropped_kwargs"] = dropped
        return RawVideo(frames=frames, layout="BFHWC", fps=request.fps, details={**self._static, "params": params})

    def _check_shape(self, frames: Any, request: ResolvedRequest) -> None:
        """The video must be what the provenance will record: the resolved frame count and size."""
        shape = tuple(getattr(frames, "shape", ()))
        count = len(frames[0]) if len(frames) else 0
        if count != request.num_frames:
            raise OutputContractError(
                self.model_id,
                f"asked {request.num_frames} frames, the pipeline returned {count}: the frame rule "
                f"({self.capabilities().frames.describe()}) does not fit this checkpoint; "
                "set frame_step/frame_offset or frames_fixed",
            )
        if len(shape) == 5 and (shape[3], shape[2]) != (request.width, request.height):
            raise OutputContractError(
                self.model_id,
                f"asked {request.width}x{request.height}, the pipeline returned {shape[3]}x{shape[2]}: the size "
                f"rule ({self.capabilities().size.describe()}) does not fit this checkpoint; set size_multiple",
            )
