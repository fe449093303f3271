"""What a client receives of a clip links to nothing: fresh re-encodes with one size per picture size, copies
prepared ahead, named battles and the Playground on their own generations, no seed in anonymous reveals."""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from sqlalchemy import select

import arena.services.media as media_module
import arena.services.served as served_module
from adapters.video_io import decode_mp4, encode_mp4, probe_metadata
from arena.services.container import Arena
from arena.services.generation import NAMED_RUN, PLAYGROUND_RUN
from arena.services.media import MediaStore, new_token
from arena.services.served import (
    BUMP_LEVELS,
    DecodedClips,
    annexb_units,
    frame_budget,
    pad_units,
    served_copy,
    vary,
)
from db.models import Battle, BattleMode, Video
from db.session import transaction
from tests.support.waiting import settled


def packets(data: bytes) -> list[bytes]:
    with av.open(io.BytesIO(data)) as container:
        return [bytes(p) for p in container.demux(container.streams.video[0]) if p.size]


def length_prefixed_units(data: bytes, length_size: int) -> list[bytes]:
    units, i = [], 0
    while i + length_size <= len(data):
        size = int.from_bytes(data[i : i + length_size], "big")
        units.append(data[i + length_size : i + length_size + size])
        i += length_size + size
    return units


def slice_sizes(data: bytes) -> list[int]:
    """What a client that parses the MP4 reads of each frame: the size of its coded slice NAL unit."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        length_size = (stream.codec_context.extradata[4] & 0x03) + 1
        units = [length_prefixed_units(bytes(p), length_size) for p in container.demux(stream) if p.size]
    return [sum(len(u) for u in frame if u[0] & 0x1F in (1, 5)) for frame in units]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(255**2 / max(mse, 1e-12))


def clip(tmp_path: Path, name: str, frames: np.ndarray) -> Path:
    path = tmp_path / f"{name}.mp4"
    path.write_bytes(encode_mp4(frames, 8.0))
    return path


def test_decoded_clips_are_kept_within_their_bound_and_copies_from_them_still_differ(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    paths = [clip(tmp_path, f"c{i}", rng.integers(0, 255, (8, 32, 32, 3), dtype=np.uint8)) for i in range(3)]
    one = decode_mp4(paths[0], pix_fmt="yuv420p")[0].nbytes
    clips = DecodedClips(max_bytes=2 * one)  # room for two clips
    first, fps = clips.get(paths[0])
    assert (
        np.array_equal(first, decode_mp4(paths[0], pix_fmt="yuv420p")[0]) and fps == 8.0 and not first.flags.writeable
    )
    assert clips.get(paths[0])[0] is first  # kept: not decoded again
    clips.get(paths[1])
    clips.get(paths[2])  # over the bound: the least recently used (the first) goes
    assert clips.get(paths[0])[0] is not first
    copies = [served_copy(paths[0], tmp_path / f"copy{i}.mp4", 0.12, clips=clips).read_bytes() for i in range(3)]
    assert len({hashlib.sha256(b"".join(packets(c))).hexdigest() for c in copies}) == 3
    assert len({len(c) for c in copies}) == 1


def test_at_most_encoders_re_encodes_run_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Request threads and the spares thread share the media store's encoders: 6 battles' copies and 3 spares
    wanted at once run at most 2 at a time (a copy is still made afresh for each)."""
    rng = np.random.default_rng(2)
    media = MediaStore(tmp_path / "media", encoders=2)
    rel, _ = media.save(encode_mp4(rng.integers(0, 255, (8, 32, 32, 3), dtype=np.uint8), 8.0))
    running, most, lock = 0, 0, threading.Lock()
    real = served_module.served_copy

    def counted(*args: Any, **kwargs: Any) -> bytes:  # the real encoder, its overlap recorded
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            time.sleep(0.05)  # (long enough that unbounded calls would overlap)
            return real(*args, **kwargs)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(served_module, "served_copy", counted)
    monkeypatch.setattr(media_module, "served_copy", counted)
    tokens = [new_token() for _ in range(6)]
    work = [threading.Thread(target=media.prepare_served, args=(rel, t)) for t in tokens]
    work.append(threading.Thread(target=media.fill_spares, args=([(7, rel)], 3)))
    for t in work:
        t.start()
    for t in work:
        t.join()
    assert most == 2
    copies = [media.served_path(t).read_bytes() for t in tokens]
    assert len({hashlib.sha256(c).hexdigest() for c in copies}) == 6 and media.spares.count(7) == 3


def test_a_request_waiting_for_an_encoder_goes_before_the_spares_filler(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One encoder, held: the spares filler waits for it, then a battle's request does. When it is free the
    request encodes first, though the filler waited longer, and the filler after it."""
    media = MediaStore(tmp_path / "media", encoders=1)
    rel, _ = media.save(encode_mp4(np.random.default_rng(3).integers(0, 255, (8, 32, 32, 3), dtype=np.uint8), 8.0))
    order: list[str] = []
    real_copy, real_add = media_module.served_copy, media.spares.add
    monkeypatch.setattr(media_module, "served_copy", lambda *a, **k: order.append("request") or real_copy(*a, **k))
    monkeypatch.setattr(media.spares, "add", lambda *a: order.append("filler") or real_add(*a))

    def until(waiting: tuple[int, int]) -> None:  # (requests, filler) waiting for the encoder
        while media.encoding.waiting != waiting:
            time.sleep(0.001)

    filler = threading.Thread(target=media.fill_spares, args=([(7, rel)], 1))
    request = threading.Thread(target=media.prepare_served, args=(rel, new_token()))
    with media.encoding.request():
        filler.start()
        until((0, 1))
        request.start()
        until((1, 1))
    for t in (filler, request):
        t.join()
    assert order == ["request", "filler"]
    assert media.spares.count(7) == 1


def test_copies_differ_in_every_byte_stream_but_not_in_size_or_picture(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    still = np.zeros((12, 64, 96, 3), np.uint8) + np.array([30, 60, 90], np.uint8)
    noisy = rng.integers(0, 255, (12, 64, 96, 3), dtype=np.uint8)  # the hardest content there is
    moving = np.stack([np.roll(np.tile(np.linspace(0, 255, 96, dtype=np.uint8), (64, 1)), 4 * i, 1) for i in range(12)])
    moving = np.repeat(moving[..., None], 3, axis=3)
    sources = {name: clip(tmp_path, name, f) for name, f in (("still", still), ("noisy", noisy), ("moving", moving))}
    copies = {
        name: [served_copy(path, tmp_path / f"{name}{i}.mp4", 0.12).read_bytes() for i in range(3)]
        for name, path in sources.items()
    }
    budget = frame_budget(96, 64, 0.12)
    every = [c for cs in copies.values() for c in cs]
    assert len({len(c) for c in every}) == 1, "every copy of every clip of one picture size has one length"
    assert {len(p) for c in every for p in packets(c)} == {budget}, "and every frame the same size"
    # The slices inside the padded packets: before, the slice NAL kept its encoded size (a still clip's P-slices
    # ~30 bytes, a noisy one's ~budget) and the filler took the rest, so parsing the packets read the bitrate
    # profile (demo models: demo-frozen 34, demo-flicker 375, others ~170 bytes a P-frame). Now 3 sizes at most.
    sizes = {n for c in every for n in slice_sizes(c)}
    assert max(sizes) - min(sizes) <= 2, sorted(sizes)
    assert len({hashlib.sha256(b"".join(packets(c))).hexdigest() for c in every}) == len(every)
    for name, path in sources.items():
        stored, _ = decode_mp4(path)
        for data in copies[name]:
            assert data[4:8] == b"ftyp" and b"x264" not in data  # no encoder settings string (SEI dropped)
            assert set(probe_metadata(data)) <= {
                "container.major_brand",
                "container.minor_version",
                "container.compatible_brands",
                "container.encoder",
                "stream0.language",
                "stream0.handler_name",
            }
            frames, fps = decode_mp4(data)
            assert frames.shape == stored.shape and fps == 8.0
            if name != "noisy":  # pure noise is capped by the budget; real pictures stay visually identical
                assert psnr(frames, stored) > 38


def test_variation_flips_a_hundredth_of_low_bits_and_adds_one_faint_bump_a_frame_to_the_luma() -> None:
    frames = np.random.default_rng(3).integers(0, 256, (6, 96, 96), dtype=np.uint8)  # yuv420p planes of 64x96
    frames.flags.writeable = False  # as decoded clips are kept
    before = frames.copy()
    out = vary(frames, np.random.default_rng(4))
    assert out.dtype == np.uint8 and out.shape == frames.shape and np.array_equal(frames, before)
    diff = out.astype(np.int16) - frames
    assert np.abs(diff).max() <= BUMP_LEVELS + 1  # a flipped low bit plus the bump at most
    outside = [diff[:, 64:].reshape(-1)]  # the chroma planes: flipped bits alone
    for frame in diff[:, :64]:  # the bump's centre changed by 2 or more; beyond ~8 px from it, flipped bits alone
        ys, xs = np.nonzero(np.abs(frame) >= 2)
        assert len(ys) and np.ptp(ys) <= 17 and np.ptp(xs) <= 17  # the bump: 2 levels within ~4 px, 1 within ~8
        yy, xx = np.ogrid[: frame.shape[0], : frame.shape[1]]
        far = (yy - np.median(ys)) ** 2 + (xx - np.median(xs)) ** 2 > 12**2
        outside.append(frame[far])
    rest = np.concatenate(outside)
    assert set(np.unique(rest)) <= {-1, 0, 1} and 0.008 < np.count_nonzero(rest) / rest.size < 0.012
    assert not np.array_equal(out, vary(frames, np.random.default_rng(5)))


def test_a_copy_that_cannot_be_made_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = clip(tmp_path, "moving", np.random.default_rng(6).integers(0, 255, (4, 64, 96, 3), dtype=np.uint8))
    target = tmp_path / "copy.part"
    pad, calls = served_module.pad_units, []

    def second_too_big(units: list[bytes], budget: int) -> list[bytes] | None:
        calls.append(budget)  # each attempt: the first frame is written, the second does not fit
        return pad(units, budget) if len(calls) % 2 else None

    monkeypatch.setattr(served_module, "pad_units", second_too_big)
    with pytest.raises(ValueError, match="serving budget"):
        served_copy(source, target, 0.12)
    with pytest.raises(ValueError, match="decodable"):
        served_copy(tmp_path / "missing.mp4", target, 0.12)
    assert list(tmp_path.iterdir()) == [source]


def test_annex_b_access_units_split_at_start_codes_of_three_or_four_bytes() -> None:
    au = b"\x00\x00\x01\x06sei\x80" + b"\x00\x00\x00\x01\x65ab\x00\x00\x03\x01cd" + b"\x00\x00\x01\x0c\xff\x80"
    assert annexb_units(au) == [b"\x06sei\x80", b"\x65ab\x00\x00\x03\x01cd", b"\x0c\xff\x80"]
    assert annexb_units(b"") == [] and annexb_units(b"\x00\x00\x00\x01\x41x\x00") == [b"\x41x"]


def test_access_units_are_padded_exactly_or_refused() -> None:
    units = [b"\x65abcd", b"\x06xy"]  # a slice and an SEI; each takes 4 more bytes (start code or length field)
    for budget in (64, 65, 66):  # the slice grows by 3-byte cabac_zero_words, a 6-8 byte filler takes the rest
        padded = pad_units(units, budget)
        assert padded is not None and sum(4 + len(u) for u in padded) == budget and b"\x06xy" not in padded
        slice_, filler = padded
        assert slice_[:5] == b"\x65abcd" and slice_[5:] == b"\x00\x00\x03" * ((len(slice_) - 5) // 3)
        assert 4 + len(filler) in (6, 7, 8) and filler[0] == 0x0C and filler.endswith(b"\x80")
    assert units == [b"\x65abcd", b"\x06xy"], "the caller's units are left as they were"
    assert pad_units(units, 9) == [b"\x65abcd"]  # exactly the budget: nothing to add
    assert pad_units(units, 12) is None  # 3 bytes left cannot hold a filler unit
    assert pad_units(units, 16) is None  # 7 bytes: under the 8 kept for the filler after a slice
    assert pad_units(units, 8) is None


def test_battles_take_spares_prepared_ahead(arena: Arena) -> None:
    assert arena.spares.fill() == len(arena.spares.pool_videos()) > 0
    assert arena.spares.fill() == 0  # already full
    spare_files = {p.read_bytes() for p in (arena.media.root / "spare").rglob("*.mp4")}
    prepared = time.time() - 3600  # prepared an hour ago: the served copy's file time must be the battle's
    for spare in (arena.media.root / "spare").rglob("*.mp4"):
        os.utime(spare, (prepared, prepared))
    view = arena.battles.start("s1")
    with transaction(arena.factory) as session:
        battle = session.get_one(Battle, view.id)
        paths = [arena.media.served_path(t) for t in (battle.left_token, battle.right_token)]
    assert all(p.read_bytes() in spare_files for p in paths)
    assert all(p.stat().st_mtime > prepared + 3000 for p in paths)  # or the sweep would take it for an old one
    assert arena.spares.refill(timeout=0) == 2  # the two taken are replaced as taken, without counting every clip's
    assert arena.spares.refill(timeout=0) == 0 and arena.spares.fill() == 0  # and nothing else was missing


def test_the_spares_thread_replaces_copies_as_battles_take_them(arena: Arena) -> None:
    """A battle's copies are replaced by the spares thread as they are taken, not at its next pass over every
    clip (an hour away here); the thread stops when asked."""
    from arena.server import start_spares

    videos = [video_id for video_id, _ in arena.spares.pool_videos()]
    root = arena.media.root / "spare"

    def spares() -> dict[int, set[str]]:
        return {v: {p.name for p in (root / str(v)).glob("*.mp4")} for v in videos}

    def wait_for(done: Callable[[dict[int, set[str]]], bool]) -> dict[int, set[str]]:
        deadline = time.monotonic() + 120
        while not done(now := spares()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert done(now)
        return now

    stop = threading.Event()
    thread = start_spares(arena, idle_s=0.05, pass_s=3600.0, stop=stop)
    try:
        before = wait_for(lambda now: all(len(names) == 1 for names in now.values()))  # the first pass
        arena.battles.start("s1")
        after = wait_for(lambda now: all(len(names) == 1 for names in now.values()) and now != before)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert len([v for v in videos if after[v] != before[v]]) == 2  # the battle's two clips, each made again


def test_spares_off_note_nothing_to_refill(arena_factory: Callable[..., Arena]) -> None:
    arena = arena_factory(serve_spares=0)
    arena.pool_videos.fill(models=["alpha-7b", "beta-v2"])
    arena.battles.start("s1")
    assert arena.spares.fill() == 0 and arena.spares.refill(timeout=0) == 0
    waited = time.monotonic()
    assert arena.spares.refill(timeout=0.2) == 0
    assert time.monotonic() - waited >= 0.19  # it waits for work that never comes: the spares thread never spins
    assert arena.media.spares.used_since(timeout=0) == {}  # not queued for a filler that never runs


def test_named_battles_and_the_playground_never_serve_a_pool_clip(arena: Arena) -> None:
    with transaction(arena.factory) as session:
        pool = set(session.scalars(select(Video.id)))
    pair = ["alpha-7b", "beta-v2"]
    text = "a red ball rolls right"  # named routes take prompts outside the suite (test_named_prompts.py)
    named = settled(arena, arena.battles.start("s1", prompt_text=text, mode=BattleMode.named, models=pair), "s1")
    again = settled(arena, arena.battles.start("s1", prompt_text=text, mode=BattleMode.named, models=pair), "s1")
    assert named.status == again.status == "shown"
    played = arena.playground.generate("alpha-7b", text, seed=0)
    with transaction(arena.factory) as session:
        battles = [session.get_one(Battle, v.id) for v in (named, again)]
        shown = {b.left_video_id for b in battles} | {b.right_video_id for b in battles}
        assert not shown & pool and battles[0].source == "named"
        assert {session.get_one(Video, v).run_id for v in shown} == {NAMED_RUN}
        assert session.get_one(Video, int(str(played["video_id"]))).run_id == PLAYGROUND_RUN
        assert played["video_id"] not in pool
    for _ in range(20):  # and anonymous battles never show a named or Playground video
        view = arena.battles.start("s2", prompt_id=1)
        with transaction(arena.factory) as session:
            battle = session.get_one(Battle, view.id)
            assert {battle.left_video_id, battle.right_video_id} <= pool


def test_reveals_of_anonymous_battles_carry_no_seed(arena: Arena) -> None:
    view = arena.battles.start("s1")
    reveal = arena.votes.vote(view.id, "s1", "left")
    assert "seed" not in reveal.left.settings and "seed" not in reveal.right.settings
    assert "seed" not in str(reveal.public())
    start = arena.battles.start("s1", prompt_text="a cat", mode=BattleMode.named, models=["alpha-7b", "gamma-x"])
    named = settled(arena, start, "s1")
    assert "seed" in arena.votes.reveal(named.id, "s1").left.settings


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="CPU affinity is Linux-only")
def test_encoders_default_to_the_cpus_this_process_may_use(tmp_path: Path) -> None:
    """A container narrowed to one CPU of a bigger host gets one encoder, not one per host CPU."""
    allowed = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, {min(allowed)})
        assert MediaStore(tmp_path).encoding.slots == 1
    finally:
        os.sched_setaffinity(0, allowed)
    assert MediaStore(tmp_path).encoding.slots == len(allowed)
