"""Served copies that link to nothing: every copy of a clip a client receives is a fresh re-encode.

A stored clip is decoded to its yuv420p planes (no colour conversion either way), varied imperceptibly (random
flipped low bits and a faint bump in every frame's luma), and encoded again with one fixed setting in which every
frame packet has the same size: x264 (CABAC) with one keyframe, no B-frames and a one-frame VBV buffer keeps each
frame under a budget that depends only on the picture size; as each packet leaves the encoder its SEI (x264's
settings string) is dropped and it is padded to exactly that budget. The slice NAL unit itself grows to a fixed size
with cabac_zero_words (escaped ``00 00 03``, allowed after a CABAC slice's data and skipped by decoders), so a client
that parses the packets sees no per-frame slice size either; the 0-2 bytes the 3-byte steps cannot reach go to a
small filler NAL unit (type 12) whose size follows the slice's size modulo 3, which the random variation of each copy
scrambles. So:

- the stream hash differs on every copy (the flipped bits change every packet);
- the file length, every frame's size and every slice's size depend only on (frames, width, height), which the
  picture shows anyway: neither Content-Length nor a range request nor the per-frame bitrate profile nor the
  slice sizes tell one clip from another.

A copy of a 16-frame 256x256 clip costs about 29 ms of CPU on a 2-core AVX2 EPYC once its frames are decoded,
nearly all of it the x264 encode (a 33-frame 832x480 one about 210 ms; x264's veryfast preset took 1.2-1.6x more
at the same PSNR), so copies of pool clips are prepared ahead in the background
(:class:`SpareCopies`) and taken by battles as they start.
"""

from __future__ import annotations

import math
import os
import secrets
import threading
from collections import OrderedDict
from fractions import Fraction
from pathlib import Path

import numpy as np

from adapters.video_io import PIX_FMT, decode_mp4

PRESET = "superfast"
CRF = 18
FLIP_SHARE = 0.01  # share of pixel values whose lowest bit is flipped in each copy
BUMP_LEVELS, BUMP_SIGMA = 2, 5.0  # the faint bump added to every frame of each copy
MIN_FRAME_BYTES = 2048
FILLER_OVERHEAD = 8  # the closing filler NAL unit: length field (4) + NAL header + 0-2 bytes + trailing byte
_DROPPED_NALS = (6, 9)  # SEI (x264 writes its version and settings there), access unit delimiter
_SLICES = (1, 5)  # coded slice NAL unit types (non-IDR, IDR)
ZERO_WORD = b"\x00\x00\x03"  # one cabac_zero_word (0x0000) with its emulation-prevention byte
# Retries when a frame still exceeds the budget: a higher CRF and a tighter VBV buffer.
_ATTEMPTS = ((CRF, 1.0), (CRF + 6, 0.85), (CRF + 14, 0.7))


def frame_budget(width: int, height: int, bytes_per_pixel: float) -> int:
    """The size of every frame packet of a served copy of this picture size."""
    return max(MIN_FRAME_BYTES, math.ceil(width * height * bytes_per_pixel))


def picture_size(planes: np.ndarray) -> tuple[int, int]:
    """(height, width) of the pictures of yuv420p planes stacked as :func:`decode_mp4` does: (F, H * 3 // 2, W)."""
    return planes.shape[1] * 2 // 3, planes.shape[2]


def vary(frames: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An imperceptibly different picture, for yuv420p planes as :func:`decode_mp4` stacks them ((F, H * 3 // 2,
    W): Y, then U and V): the low bit of a random 1 % of values flipped, and in every frame a faint round bump in
    the luma (at most 2 levels of 255, random place and sign) that survives quantization even on flat content,
    where flipped bits alone are encoded away. Flipping a low bit stays in range, so only the bump's window is
    widened and clipped."""
    out = frames.copy()
    flat = out.reshape(-1)
    flat[rng.choice(flat.size, size=rng.binomial(flat.size, FLIP_SHARE), replace=False)] ^= 1
    count, (height, width) = len(frames), picture_size(frames)
    # The bump rounds to 0 beyond this radius, so only the window around its centre is computed, once.
    r = math.ceil(BUMP_SIGMA * math.sqrt(2 * math.log(2 * BUMP_LEVELS)))
    ys, xs = np.ogrid[-r : r + 1, -r : r + 1]
    bump = np.rint(BUMP_LEVELS * np.exp(-(ys**2 + xs**2) / (2 * BUMP_SIGMA**2))).astype(np.int16)
    centres, signs = rng.integers(0, (height, width), size=(count, 2)), rng.choice((-1, 1), size=count)
    for i, ((cy, cx), sign) in enumerate(zip(centres, signs, strict=True)):
        y0, y1, x0, x1 = max(cy - r, 0), min(cy + r + 1, height), max(cx - r, 0), min(cx + r + 1, width)
        window = (
            out[i, y0:y1, x0:x1].astype(np.int16) + sign * bump[y0 - cy + r : y1 - cy + r, x0 - cx + r : x1 - cx + r]
        )
        out[i, y0:y1, x0:x1] = np.clip(window, 0, 255)
    return out


def annexb_units(data: bytes) -> list[bytes]:
    """The NAL units of an Annex B access unit (start codes of 3 or 4 bytes; a unit never ends in a zero byte, so
    the zero before a 4-byte start code belongs to the start code)."""
    units, start = [], data.find(b"\x00\x00\x01")
    while start >= 0:
        nxt = data.find(b"\x00\x00\x01", start + 3)
        units.append(data[start + 3 : None if nxt < 0 else nxt].rstrip(b"\x00"))
        start = nxt
    return [u for u in units if u]


def _filler(size: int, prefix: int) -> bytes:
    """A filler NAL unit (type 12) taking exactly ``size`` bytes with its ``prefix`` (``size >= prefix + 2``)."""
    return b"\x0c" + b"\xff" * (size - prefix - 2) + b"\x80"


def pad_units(units: list[bytes], budget: int, prefix: int = 4) -> list[bytes] | None:
    """An access unit's NAL units without SEI/AUD, padded so that with a ``prefix``-byte start code or length field
    each they take exactly ``budget`` bytes (None if they do not fit): the last slice grows by cabac_zero_words to
    ``budget - FILLER_OVERHEAD + 2`` bytes or up to 2 below, and a filler unit of 6 to 8 bytes closes the access
    unit. Without a slice (never from x264) one filler unit pads it."""
    units = [u for u in units if u and (u[0] & 0x1F) not in _DROPPED_NALS]
    gap = budget - sum(prefix + len(u) for u in units)
    if gap == 0:
        return units
    slices = [i for i, u in enumerate(units) if u[0] & 0x1F in _SLICES]
    if gap < prefix + 2 or (slices and gap < FILLER_OVERHEAD):
        return None
    if slices:
        words = (gap - (prefix + 2)) // 3  # the filler takes what is left: 6, 7 or 8 bytes
        units[slices[-1]] += ZERO_WORD * words
        gap -= 3 * words
    return [*units, _filler(gap, prefix)]


def _encode(frames: np.ndarray, fps: Fraction, budget: int, crf: int, share: float, target: Path) -> bool:
    """The yuv420p planes encoded into ``target``, every packet padded to ``budget`` as it comes (+faststart, no
    metadata); False when a frame does not fit. The VBV buffer is ``share`` of the budget less the filler's bytes."""
    import av

    height, width = picture_size(frames)
    kbit = (int(budget * share) - FILLER_OVERHEAD) * 8 / 1000
    params = (
        "cabac=1:keyint=1000000:min-keyint=1000000:scenecut=0:bframes=0:"
        f"vbv-maxrate={kbit * float(fps):.3f}:vbv-bufsize={kbit:.3f}:vbv-init=1.0"
    )
    # Straight into the caller's file: faststart reopens it by name, and a temporary file cost a create, a read
    # back and an unlink a copy (slow where the file system discards freed blocks at once).
    with av.open(str(target), mode="w", format="mp4", options={"movflags": "+faststart"}) as container:
        container.metadata.clear()
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, PIX_FMT
        stream.options = {"crf": str(crf), "preset": PRESET, "threads": "1", "x264-params": params}
        for frame in [*frames, None]:
            for packet in stream.encode(None if frame is None else av.VideoFrame.from_ndarray(frame, PIX_FMT)):
                # Annex B with 4-byte start codes: the muxer writes each as a 4-byte length, so sizes hold.
                units = pad_units(annexb_units(bytes(packet)), budget)
                if units is None:
                    return False
                padded = av.Packet(b"".join(b"\x00\x00\x00\x01" + u for u in units))
                padded.pts, padded.dts, padded.duration = packet.pts, packet.dts, packet.duration
                padded.time_base, padded.is_keyframe, padded.stream = packet.time_base, packet.is_keyframe, stream
                container.mux(padded)
    return True


class DecodedClips:
    """Stored clips decoded (yuv420p planes, fps), the most recently used kept up to ``max_bytes``: originals are
    content-addressed and never change, so a clip served again is not decoded again (decoding was about a third
    of a copy's CPU). Shared by request threads and the spares thread; the frames are read-only."""

    def __init__(self, max_bytes: int = 64 * 2**20) -> None:
        self.max_bytes = max_bytes
        self._clips: OrderedDict[str, tuple[np.ndarray, float]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, source: str | Path) -> tuple[np.ndarray, float]:
        key = str(source)
        with self._lock:
            hit = self._clips.get(key)
            if hit is not None:
                self._clips.move_to_end(key)
                return hit
        frames, fps = decode_mp4(source, pix_fmt=PIX_FMT)
        frames.flags.writeable = False
        with self._lock:
            if key not in self._clips and frames.nbytes <= self.max_bytes:
                self._clips[key] = (frames, fps)
                self._bytes += frames.nbytes
                while self._bytes > self.max_bytes:
                    self._bytes -= self._clips.popitem(last=False)[1][0].nbytes
        return frames, fps


def served_copy(
    source: str | Path,
    target: Path,
    bytes_per_pixel: float,
    rng: np.random.Generator | None = None,
    clips: DecodedClips | None = None,
) -> Path:
    """Write to ``target`` a fresh copy of the stored clip ``source`` that links neither to it nor to any other
    copy (see above); ``clips``: where decoded clips are kept between copies. On an error nothing is left there."""
    rng = rng or np.random.default_rng(secrets.randbits(128))
    try:
        frames, fps = clips.get(source) if clips is not None else decode_mp4(source, pix_fmt=PIX_FMT)
        frames = vary(frames, rng)
        rate = Fraction(fps or 8.0).limit_denominator(1001)
        height, width = picture_size(frames)
        budget = frame_budget(width, height, bytes_per_pixel)
        for crf, share in _ATTEMPTS:
            if _encode(frames, rate, budget, crf, share, target):
                return target
        raise ValueError(f"a frame stays over the serving budget of {budget} bytes")
    except BaseException:
        target.unlink(missing_ok=True)
        raise


class SpareCopies:
    """Copies of pool clips prepared ahead: ``<root>/<video id>/<random>.mp4``. A battle takes one with an atomic
    rename (two processes never take the same copy); the app's background thread refills, first the clips this
    process's battles used (:meth:`used`), so it need not count every clip's copies again after each battle."""

    def __init__(
        self, root: Path, bytes_per_pixel: float, clips: DecodedClips | None = None, per_video: int = 0
    ) -> None:
        self.root = Path(root)
        self.bytes_per_pixel = bytes_per_pixel
        self.clips = clips or DecodedClips()
        self.per_video = per_video  # copies kept of each clip (0: none, and nothing is noted for refilling)
        self._used: dict[int, Path] = {}  # at most one entry a clip, however many battles nobody refills for
        self._noted = threading.Condition()

    def used(self, video_id: int, source: Path) -> None:
        """A battle took a copy of this clip, or found none: note it for refilling."""
        if self.per_video > 0:
            with self._noted:
                self._used[video_id] = source
                self._noted.notify()

    def used_since(self, timeout: float) -> dict[int, Path]:
        """The clips noted since the last call (each once), waiting up to ``timeout`` seconds for the first."""
        with self._noted:
            if not self._used:
                self._noted.wait(timeout)
            noted, self._used = self._used, {}
        return noted

    def count(self, video_id: int) -> int:
        folder = self.root / str(video_id)
        return sum(1 for _ in folder.glob("*.mp4")) if folder.is_dir() else 0

    def add(self, video_id: int, source: Path) -> Path:
        folder = self.root / str(video_id)
        folder.mkdir(parents=True, exist_ok=True)
        name = secrets.token_hex(12)
        tmp = served_copy(source, folder / f"{name}.part", self.bytes_per_pixel, clips=self.clips)
        return tmp.replace(folder / f"{name}.mp4")

    def take(self, video_id: int, target: Path) -> bool:
        """Move a spare copy of ``video_id`` to ``target``; False when none is left."""
        folder = self.root / str(video_id)
        if not folder.is_dir():
            return False
        for spare in folder.glob("*.mp4"):
            try:  # the file time is the battle's, set before the move (a move keeps it): a sweep never finds
                os.utime(spare)  # the copy in place with its old preparation time
                spare.replace(target)
            except FileNotFoundError:  # another process took it first
                continue
            return True
        return False
