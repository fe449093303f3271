"""Overhead of DiffusersAdapter over a bare pipeline call (run by hand; prints, asserts nothing).

A tiny random Wan pipeline, sized so one call takes about a second on one CPU thread, is called
bare (``pipe(...)``) and through ``adapter.generate`` (snapping, seeding, contract check, uint8
conversion, provenance), interleaved over several repetitions; then ``generate`` + ``encode_mp4``.

    OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/adapter_overhead.py [--reps 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--frames", type=int, default=33)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=8)
    args = parser.parse_args()

    import torch

    from adapters.base import GenerationRequest
    from adapters.diffusers_adapter import DiffusersAdapter
    from adapters.video_io import encode_mp4
    from tests.adapters.tiny_pipelines import tiny_wan

    torch.set_num_threads(1)
    tp = tiny_wan(num_layers=args.layers, heads=4, head_dim=16, ffn_dim=128)
    pipe = tp.pipe
    params = tp.params | {"default_frames": args.frames}
    adapter = DiffusersAdapter.from_pipeline("bench-wan", "wan", pipe, **params)
    request = GenerationRequest(
        prompt="a red cat runs over the river",
        seed=0,
        steps=args.steps,
        num_frames=args.frames,
        width=args.size,
        height=args.size,
    )
    bare_kwargs = adapter.call_kwargs(adapter.resolve(request))

    def bare() -> None:
        with torch.inference_mode():
            pipe(**bare_kwargs, generator=torch.Generator("cpu").manual_seed(0))

    def through_adapter() -> None:
        adapter.generate(request)

    def with_encoding() -> None:
        video = adapter.generate(request)
        encode_mp4(video.frames, video.fps)

    runs: dict[str, list[float]] = {"bare": [], "adapter": [], "adapter+mp4": []}
    bare()  # warm-up (first call pays lazy imports and allocator growth)
    with_encoding()
    for _ in range(args.reps):
        for name, fn in (("bare", bare), ("adapter", through_adapter), ("adapter+mp4", with_encoding)):
            start = time.perf_counter()
            fn()
            runs[name].append(time.perf_counter() - start)

    med = {name: statistics.median(times) for name, times in runs.items()}
    print(f"tiny Wan: {args.layers} layers, {args.frames} frames, {args.size}x{args.size}, {args.steps} steps")
    print(f"torch threads={torch.get_num_threads()}, reps={args.reps} (interleaved)")
    for name, value in med.items():
        spread = f"min {min(runs[name]):.3f} / max {max(runs[name]):.3f}"
        print(f"  {name:<12} median {value:.3f} s   ({spread})")
    print(f"overhead before encoding: {100 * (med['adapter'] / med['bare'] - 1):+.2f}%  (goal <= 3%)")
    print(f"overhead with MP4 encode: {100 * (med['adapter+mp4'] / med['bare'] - 1):+.2f}%")


if __name__ == "__main__":
    main()
