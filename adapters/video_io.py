"""MP4 files with PyAV: one encoding for every clip (H.264, yuv420p, CRF 18, +faststart, no naming metadata).

Every clip in the arena, imported ones included, goes through :func:`encode_mp4`, so encoder settings
cannot tell models apart. What a client receives is a fresh re-encode per battle (arena.services.served).
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Final, Literal

import numpy as np

CRF = 18
PRESET = "medium"
CODEC: Final = "libx264"  # Final keeps the literal, so PyAV's stubs type the stream as a VideoStream
PIX_FMT: Final = "yuv420p"
# x264 writes its thread count into every stream: pinned, so a clip does not tell which host (core count) made it.
ENCODER_THREADS = 2


def _even(frames: np.ndarray) -> np.ndarray:
    """Pad odd width/height by repeating the last row/column (yuv420p needs even dimensions)."""
    _, h, w, _ = frames.shape
    pad_h, pad_w = h % 2, w % 2
    if pad_h or pad_w:
        frames = np.pad(frames, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode="edge")
    return frames


def _fps_fraction(fps: float) -> Fraction:
    return Fraction(fps).limit_denominator(1001)


def encode_mp4(frames: np.ndarray, fps: float) -> bytes:
    """Encode uint8 (F, H, W, 3) RGB frames to MP4 bytes with the arena's one fixed setting."""
    import av

    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3 or frames.shape[0] == 0:
        raise ValueError(f"expected uint8 frames (F, H, W, 3) with F >= 1, got {frames.dtype} {frames.shape}")
    frames = _even(frames)
    _, height, width, _ = frames.shape
    # PyAV's "+faststart" needs a seekable real file; write to a temp file and read the bytes back.
    fd, tmp = tempfile.mkstemp(suffix=".mp4")
    os.close(fd)
    try:
        with av.open(tmp, mode="w", format="mp4", options={"movflags": "+faststart"}) as container:
            container.metadata.clear()
            stream = container.add_stream(CODEC, rate=_fps_fraction(fps))
            stream.width, stream.height, stream.pix_fmt = width, height, PIX_FMT
            stream.options = {"crf": str(CRF), "preset": PRESET, "threads": str(ENCODER_THREADS)}
            stream.metadata.clear()
            for frame in frames:
                for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        return Path(tmp).read_bytes()
    finally:
        Path(tmp).unlink(missing_ok=True)


def decode_mp4(
    source: str | Path | bytes, max_frames: int | None = None, pix_fmt: Literal["rgb24", "yuv420p"] = "rgb24"
) -> tuple[np.ndarray, float]:
    """Decode a video file (or bytes) to uint8 frames and its fps: (F, H, W, 3) RGB, or with ``pix_fmt="yuv420p"``
    the planes as PyAV stacks them, (F, H * 3 // 2, W) (Y, then U and V), at an even size (an odd one is scaled by
    a pixel). Decoded H.264 is yuv420p already, so that form needs no colour conversion either way."""
    import av

    handle = io.BytesIO(source) if isinstance(source, bytes | bytearray) else str(source)
    try:
        with av.open(handle, mode="r") as container:
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate or 0
            frames = []
            for frame in container.decode(stream):
                if pix_fmt == "yuv420p" and (frame.width % 2 or frame.height % 2):
                    frame = frame.reformat(width=frame.width // 2 * 2, height=frame.height // 2 * 2)
                frames.append(frame.to_ndarray(format=pix_fmt))
                if max_frames is not None and len(frames) >= max_frames:
                    break
    except (av.error.InvalidDataError, IndexError, av.error.FFmpegError) as exc:
        raise ValueError(f"not a decodable video: {exc}") from exc
    if not frames:
        raise ValueError("the video has no frames")
    return np.stack(frames), float(rate) if rate else 0.0


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def probe_metadata(source: str | Path | bytes) -> dict[str, str]:
    """Every metadata tag of the container and its streams (for blind tests and audits)."""
    import av

    handle = io.BytesIO(source) if isinstance(source, bytes | bytearray) else str(source)
    tags: dict[str, str] = {}
    with av.open(handle, mode="r") as container:
        tags.update({f"container.{k}": v for k, v in container.metadata.items()})
        for i, stream in enumerate(container.streams):
            tags.update({f"stream{i}.{k}": v for k, v in stream.metadata.items()})
    return tags
