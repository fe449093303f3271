"""Tiny models for benchmark tests, used through the `python` adapter kind (so Ray workers and subprocesses
import them by name): a slow renderer, two noisy renderers with the same distribution, one that always fails."""

from __future__ import annotations

import time
import zlib

import numpy as np

from adapters.demo import render_prompt


def slow_render(prompt: str, seed: int, num_frames: int, width: int, height: int, delay_s: float = 0.1) -> np.ndarray:
    time.sleep(delay_s)
    return render_prompt(prompt, seed=seed, num_frames=num_frames, width=width, height=height)


def jitter_render(prompt: str, seed: int, num_frames: int, width: int, height: int, salt: int = 0) -> np.ndarray:
    """The faithful demo picture with per-frame noise and brightness drawn from (seed, salt, prompt): two salts
    are two checkpoints that do not differ, only their noise does."""
    frames = render_prompt(prompt, seed=seed, num_frames=num_frames, width=width, height=height).astype(np.int16)
    rng = np.random.default_rng([seed, salt, zlib.crc32(prompt.encode())])  # as a real model's: per prompt
    frames += rng.integers(-12, 13, size=frames.shape, dtype=np.int16)
    frames += rng.integers(-6, 7, size=(num_frames, 1, 1, 1), dtype=np.int16)
    return np.clip(frames, 0, 255).astype(np.uint8)


def broken(prompt: str) -> np.ndarray:
    raise RuntimeError("CUDA out of memory (planted)")
