"""A scripted adapter for service tests: draws a solid colour, or fails, or waits, as its params say."""

from __future__ import annotations

import threading
import time

import numpy as np

from adapters.base import AdapterParams, RawVideo, ResolvedRequest, VideoAdapter
from adapters.capabilities import Capabilities, FrameRule, SizeRule
from adapters.kinds import adapter_kinds
from adapters.registry import Registry


class ScriptedParams(AdapterParams):
    colour: tuple[int, int, int] = (200, 40, 40)
    fail: str | None = None  # raise with this message
    delay_s: float = 0.0
    noise: int = 4  # side of the noisy top-left patch (changes every frame)
    load_error: str | None = None  # load() raises with this message (weights that cannot load)


class ScriptedAdapter(VideoAdapter):
    kind = "scripted"
    Params = ScriptedParams

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._lock = threading.Lock()
        self.active = 0  # generations running now in this adapter
        self.peak = 0  # the most that ever ran at once
        self.loads = 0  # how many times load() was called

    def load(self) -> None:
        self.loads += 1
        params = self.params
        assert isinstance(params, ScriptedParams)
        if params.load_error:
            raise OSError(params.load_error)

    def capabilities(self) -> Capabilities:
        return Capabilities(
            frames=FrameRule(min=1, max=64),
            size=SizeRule(multiple=8, min=16, max=256),
            default_frames=4,
            default_width=32,
            default_height=32,
            max_concurrency=2,
        )

    def _generate(self, request: ResolvedRequest) -> RawVideo:
        params = self.params
        assert isinstance(params, ScriptedParams)
        with self._lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            for step in range(1, 5):  # the wait in four steps, each reported like a denoising step
                time.sleep(params.delay_s / 4)
                self.report_progress(step / 4)
        finally:
            with self._lock:
                self.active -= 1
        if params.fail:
            raise RuntimeError(params.fail)
        rng = np.random.default_rng(request.seed)
        frames = np.empty((request.num_frames, request.height, request.width, 3), np.uint8)
        frames[:] = np.array(params.colour, np.uint8)
        n = params.noise
        frames[:, :n, :n] = rng.integers(0, 255, (request.num_frames, n, n, 3), dtype=np.uint8)
        return RawVideo(frames=frames, fps=request.fps)


class ScriptedClipsAdapter(ScriptedAdapter):
    """Like an imported-clips model: it has videos of known prompts but cannot make new ones."""

    kind = "scripted_clips"
    live = False


def kinds_with_scripted() -> Registry[VideoAdapter]:
    registry = adapter_kinds()
    registry.register("scripted", ScriptedAdapter)
    registry.register("scripted_clips", ScriptedClipsAdapter)
    return registry
