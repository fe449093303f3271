"""The time a served copy takes to hand over says nothing of its clip (arena.services.copy_times).

A busy clip's copy costs x264 more than a still one's, and a spare taken costs almost nothing: without the hold a
client timing its battle starts learns which kind of clip (so which model) it got.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from adapters.video_io import encode_mp4
from arena.services.copy_times import CopyTimes
from arena.services.media import MediaStore, new_token
from tests.arena.test_gold_checks import auc


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_floor_is_a_slow_recent_encode_of_the_same_size_and_the_hold_sleeps_to_it() -> None:
    clock = FakeClock()
    times = CopyTimes(window=5, rank=2, clock=clock, sleep=clock.sleep)
    assert times.floor(1000) == 0.0 and times.hold(0.0, 1000) == 0.0 and not clock.slept  # nothing seen yet
    for seconds in (0.010, 0.030, 0.020, 0.015):
        times.record(1000, seconds)
    times.record(2000, 0.5)  # another size: its own floor
    assert times.floor(1000) == 0.020 and times.floor(2000) == 0.5  # the 2nd slowest; of fewer, the fastest
    clock.now = 0.004  # a spare taken 4 ms after the start
    assert times.hold(0.0, 1000) == 0.016 and clock.now == 0.020
    clock.now = 0.050  # a copy slower than the floor takes its own time
    assert times.hold(0.0, 1000) == 0.0 and clock.slept == [0.016]
    times.record(1000, 9.0)  # one stall moves no floor at rank 2 ...
    assert times.floor(1000) == 0.030
    for _ in range(5):  # ... and the window forgets old encodes
        times.record(1000, 0.001)
    assert times.floor(1000) == 0.001


def test_a_busy_clip_and_a_still_clip_hand_over_in_the_same_time(tmp_path: Path) -> None:
    """Two clips of one size, one noise (x264's slowest), one flat: their encodes differ (the control), the
    hand-overs of copies made on the request, alternated, do not, and none is shorter than the floor."""
    rng = np.random.default_rng(5)
    media = MediaStore(tmp_path / "media", encoders=1)
    busy, _ = media.save(encode_mp4(rng.integers(0, 255, (16, 128, 128, 3), dtype=np.uint8), 8.0))
    still, _ = media.save(encode_mp4(np.full((16, 128, 128, 3), 90, dtype=np.uint8), 8.0))
    encodes: dict[str, list[float]] = {busy: [], still: []}
    handed: dict[str, list[float]] = {busy: [], still: []}
    for round_ in range(30):
        for rel in (busy, still) if round_ % 2 else (still, busy):
            floor_before = max(media.copy_times.floor(s) for s in media.copy_times._recent) if round_ > 1 else 0.0
            began = time.perf_counter()
            target = media.prepare_served(rel, new_token())
            handed[rel].append(time.perf_counter() - began)
            size = target.stat().st_size
            encodes[rel].append(media.copy_times._recent[size][-1])
            assert handed[rel][-1] >= floor_before  # never sooner than the 3rd slowest encode seen before it
    assert len(media.copy_times._recent) == 1, "both clips' copies have the same size"
    control = auc(encodes[busy][5:] + encodes[still][5:], [True] * 25 + [False] * 25)
    found = auc(handed[busy][5:] + handed[still][5:], [True] * 25 + [False] * 25)
    print(f"\nencode AUC {control:.2f}, hand-over AUC {found:.2f}")
    assert control > 0.85, "the control: the busy clip's encodes are the slower"
    assert abs(found - 0.5) < 0.2, f"the hand-over time tells the clips apart: AUC {found:.2f}"
