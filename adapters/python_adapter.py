"""Any Python callable as a model: ``target: "package.module:function"`` in the models file.

The callable is called as ``fn(prompt, **kw)`` where ``kw`` holds those of the names below that its
signature accepts (all of them if it takes ``**kwargs``), plus ``params.kwargs`` as given:

==================  ====================================================================
``seed``            int, always set
``num_frames``      int, snapped to the capabilities
``width``/``height`` int, snapped to the capabilities
``fps``             float
``steps``           int, only when set (request or ``capabilities.default_steps``)
``guidance``        float, only when set (request or ``capabilities.default_guidance``)
``negative_prompt`` str, only when set (and ``supports_negative_prompt``)
``extra``           dict, only when the request has extras
==================  ====================================================================

It returns the frames, or ``(frames, fps)``, or ``{"frames": ..., "fps": ..., "layout": ...}``, or a
:class:`RawVideo`. Frames are a numpy array, a torch tensor or a list of frames, uint8 or float in [0, 1],
in ``params.layout`` (default FHWC) unless the dict names another; the adapter contract converts and checks.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
from pydantic import Field, field_validator

from adapters.base import (
    AdapterParams,
    Availability,
    Capabilities,
    Layout,
    RawVideo,
    ResolvedRequest,
    VideoAdapter,
)
from adapters.errors import AdapterUnavailableError, GenerationError, OutputContractError

ALWAYS = ("seed", "num_frames", "width", "height", "fps")
WHEN_SET = ("steps", "guidance", "negative_prompt", "extra")


class PythonParams(AdapterParams):
    target: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$", description="'package.module:callable'")
    kwargs: dict[str, Any] = Field(default_factory=dict, description="Fixed keyword arguments passed through")
    layout: Layout = "FHWC"
    capabilities: Capabilities | None = None

    @field_validator("kwargs")
    @classmethod
    def _no_request_names(cls, value: dict[str, Any]) -> dict[str, Any]:
        clash = sorted(set(value) & {"prompt", *ALWAYS, *WHEN_SET})
        if clash:
            raise ValueError(f"{clash} come from each request; set defaults under capabilities instead")
        return value


class PythonAdapter(VideoAdapter):
    kind: ClassVar[str] = "python"
    Params: ClassVar[type[AdapterParams]] = PythonParams
    params: PythonParams

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fn: Callable[..., Any] | None = None
        self._accepts: frozenset[str] | None = None  # None: takes **kwargs, gets every name
        self._prompt_by_name = False

    def capabilities(self) -> Capabilities:
        return self.params.capabilities or Capabilities()

    def check(self) -> Availability:
        import importlib.util

        module = self.params.target.split(":", 1)[0]
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError) as exc:
            return Availability(ok=False, detail=f"cannot look up module {module!r}: {exc}")
        if not found:
            return Availability(ok=False, detail=f"no module {module!r} (target {self.params.target!r})")
        return Availability(ok=True, detail=f"module {module!r} found (imported on first use)")

    def _unavailable(self, why: str) -> AdapterUnavailableError:
        return AdapterUnavailableError(self.model_id, f"target {self.params.target!r}: {why}")

    def load(self) -> None:
        module_name, attr = self.params.target.split(":", 1)
        try:
            obj: Any = importlib.import_module(module_name)
        except Exception as exc:  # ImportError, or anything the module raises while importing
            raise self._unavailable(f"module {module_name!r} failed to import: {type(exc).__name__}: {exc}") from exc
        for part in attr.split("."):
            if not hasattr(obj, part):
                names = [n for n in dir(obj) if not n.startswith("_")]
                close = difflib.get_close_matches(part, names, n=3)
                hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
                raise self._unavailable(f"{module_name!r} has no attribute {part!r}{hint}")
            obj = getattr(obj, part)
        if not callable(obj):
            raise self._unavailable(f"{type(obj).__name__} object is not callable")
        self._fn = obj
        self._bind(obj)

    def _bind(self, fn: Callable[..., Any]) -> None:
        """Work out which names ``fn`` accepts, and fail early on a required one we cannot give."""
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):  # builtins without a signature: pass everything
            return
        ps = list(sig.parameters.values())
        if any(p.kind is p.VAR_KEYWORD for p in ps):
            self._accepts = None
        else:
            self._accepts = frozenset(p.name for p in ps if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD))
        positional = [p for p in ps if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        self._prompt_by_name = not positional and not any(p.kind is p.VAR_POSITIONAL for p in ps)
        if self._prompt_by_name and (self._accepts is not None and "prompt" not in self._accepts):
            raise self._unavailable("takes no prompt: it needs a first positional parameter or `prompt=`")
        given = {"prompt", *ALWAYS, *WHEN_SET, *self.params.kwargs}
        rest = positional[1:] if not self._prompt_by_name else positional
        missing = [
            p.name
            for p in [*rest, *(p for p in ps if p.kind is p.KEYWORD_ONLY)]
            if p.default is p.empty and p.name not in given
        ]
        if missing:
            raise self._unavailable(f"requires {missing}, which neither requests nor params.kwargs provide")

    def _call_kwargs(self, r: ResolvedRequest) -> dict[str, Any]:
        offered: dict[str, Any] = {name: getattr(r, name) for name in ALWAYS}
        for name in WHEN_SET:
            value = getattr(r, name)
            if value is not None and value != {}:
                offered[name] = value
        kw = offered if self._accepts is None else {k: v for k, v in offered.items() if k in self._accepts}
        return kw | self.params.kwargs

    def _generate(self, request: ResolvedRequest) -> RawVideo:
        assert self._fn is not None, "load() runs before _generate()"
        kw = self._call_kwargs(request)
        try:
            out = self._fn(prompt=request.prompt, **kw) if self._prompt_by_name else self._fn(request.prompt, **kw)
        except Exception as exc:
            raise GenerationError(self.model_id, f"{self.params.target} raised {type(exc).__name__}: {exc}") from exc
        return self._to_raw(out)

    def _to_raw(self, out: Any) -> RawVideo:
        if isinstance(out, RawVideo):
            return out
        layout, fps = self.params.layout, None
        if isinstance(out, dict):
            if "frames" not in out:
                raise OutputContractError(
                    self.model_id, f"{self.params.target} returned a dict without 'frames' (keys: {sorted(out)})"
                )
            frames, fps, layout = out["frames"], out.get("fps"), out.get("layout", layout)
            if layout not in ("FHWC", "FCHW", "BFHWC", "BFCHW"):
                raise OutputContractError(self.model_id, f"unknown layout {layout!r} from {self.params.target}")
        elif isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], int | float):
            frames, fps = out
        else:
            frames = out
        return RawVideo(frames=frames, layout=layout, fps=None if fps is None else float(fps))


def example_callable(prompt: str, seed: int, num_frames: int, width: int, height: int) -> np.ndarray:
    """A reference target (``adapters.python_adapter:example_callable``): a seeded moving gradient.

    Shows the smallest useful signature; used by the docs and tests. Returns uint8 FHWC frames.
    """
    rng = np.random.default_rng([seed, len(prompt)])
    base = rng.integers(40, 120, size=3)
    y, x = np.mgrid[0:height, 0:width]
    ramp = (x * 80 // max(width - 1, 1) + y * 40 // max(height - 1, 1))[None, :, :, None]
    t = np.arange(num_frames)[:, None, None, None] * 4
    return (base + ramp + t).clip(0, 255).astype(np.uint8)
