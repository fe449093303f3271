"""Contact sheets: a strip of frames of one video as a small PNG, and the prompts a report samples."""

from __future__ import annotations

import base64
import io
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from adapters.video_io import decode_mp4
from arena.bench.results import RunData, RunVideo

STRIP_FRAMES = 4
STRIP_HEIGHT = 96
GAP = 2


def frame_strip(path: Path, frames: int = STRIP_FRAMES, height: int = STRIP_HEIGHT) -> np.ndarray:
    """`frames` evenly spaced frames of the video side by side, each scaled to `height` pixels (uint8 RGB)."""
    from PIL import Image

    video, _ = decode_mp4(path)
    picks = np.linspace(0, len(video) - 1, num=min(frames, len(video))).round().astype(int)
    tiles = []
    for index in picks:
        image = Image.fromarray(video[index])
        width = max(1, round(image.width * height / image.height))
        tiles.append(np.asarray(image.resize((width, height), Image.Resampling.BILINEAR)))
    gap = np.full((height, GAP, 3), 255, np.uint8)
    parts = [part for tile in tiles for part in (tile, gap)][:-1]
    return np.concatenate(parts, axis=1)


def png_data_uri(pixels: np.ndarray) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def mp4_data_uri(path: Path) -> str:
    return "data:video/mp4;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def sample_units(data: RunData, count: int) -> list[tuple[str, str, int]]:
    """`count` (prompt key, language, seed) units spread evenly over the run's prompts (the same every time):
    one per prompt, the one made by the most models."""
    models: dict[tuple[str, str, int], set[str]] = defaultdict(set)
    for video in data.videos:
        models[video.unit].add(video.model_id)
    best: dict[str, tuple[str, str, int]] = {}
    for unit, made_by in models.items():
        if unit[0] not in best or len(made_by) > len(models[best[unit[0]]]):
            best[unit[0]] = unit
    chosen = list(best.values())
    if count <= 0 or not chosen:
        return []
    return chosen[:: max(1, len(chosen) // count)][:count]


def sheet(
    data: RunData, unit: tuple[str, str, int], media_path: Callable[[str], Path]
) -> list[tuple[str, RunVideo, str]]:
    """(model, video, PNG data URI of its strip) for every model that made this unit; `media_path` resolves a
    stored file (MediaStore.path keeps every read inside the media folder)."""
    out = []
    for model_id in data.models:
        video = next((v for v in data.of(model_id) if v.unit == unit), None)
        if video is not None:
            out.append((model_id, video, png_data_uri(frame_strip(media_path(video.file_path)))))
    return out
