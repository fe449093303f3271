"""How fast does the shapes world render, against another commit? Run by hand:
``python benchmarks/render_speed.py [--against HEAD~1] [--rounds 4] [--stacks 3000] [--clips 40]``.

The tiny CLIP's training renders 332,800 frame stacks (4 frames, 64x64), so their cost is a large share of its
CPU minutes; the demo pool renders 256x256x16 clips. Each round times, in a fresh process on one thread, the current
tree and the ``--against`` commit (checked out into a temporary git worktree) one after the other, alternating which
goes first: training stacks drawn as the training draws them (``training_example`` and ``single_group_example``
from one seeded generator), then demo clips. It prints the medians, their ratio, and whether both trees drew the
same bytes (a hash of every stack and clip): a change meant to be faster only must keep them equal. Asserts nothing
about time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def work(stacks: int, clips: int) -> dict[str, object]:
    """Render in this process (from whichever tree is first on sys.path) and time it."""
    import numpy as np

    from adapters.shapes.captions import random_scene
    from adapters.shapes.render import render_scene
    from metrics.training import shapes_data

    warm = np.random.default_rng(99)  # untimed: first calls pay for imports and numpy's first-use set-up
    for _ in range(50):
        shapes_data.training_example(warm, 64)
    render_scene(random_scene(warm), num_frames=16, width=256, height=256)
    digest = hashlib.sha256()
    rng = np.random.default_rng(0)
    started = time.process_time()
    for i in range(stacks):
        example = (shapes_data.training_example if i % 3 else shapes_data.single_group_example)(rng, 64)
        digest.update(example.frames.tobytes())
    stack_s = time.process_time() - started
    rng = np.random.default_rng(1)
    started = time.process_time()
    for i in range(clips):
        digest.update(render_scene(random_scene(rng), seed=i, num_frames=16, width=256, height=256).tobytes())
    clip_s = time.process_time() - started
    return {
        "stack_ms": 1000 * stack_s / max(1, stacks),
        "clip_ms": 1000 * clip_s / max(1, clips),
        "hash": digest.hexdigest(),
        "renderer": shapes_data.__file__,
    }


def run_in(tree: Path, stacks: int, clips: int) -> dict[str, object]:
    env = os.environ | {"PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, __file__, "--worker", "--stacks", str(stacks), "--clips", str(clips)]
    done = subprocess.run(command, env=env, cwd=tree, capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    if not str(result["renderer"]).startswith(str(tree)):
        raise RuntimeError(f"the worker imported {result['renderer']}, not the tree {tree}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--against", default="HEAD~1", help="the git commit to compare with (default: HEAD~1)")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--stacks", type=int, default=3000)
    parser.add_argument("--clips", type=int, default=40)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(work(args.stacks, args.clips)))
        return
    with tempfile.TemporaryDirectory(prefix="render-speed-") as tmp:
        other = Path(tmp) / "other"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(other), args.against], check=True)
        try:
            runs: dict[str, list[dict[str, object]]] = {"this tree": [], args.against: []}
            for r in range(args.rounds):
                order = [("this tree", ROOT), (args.against, other)]
                for name, tree in order if r % 2 == 0 else order[::-1]:
                    runs[name].append(run_in(tree, args.stacks, args.clips))
                    print(f"round {r + 1} {name}: {runs[name][-1]['stack_ms']:.3f} ms/stack", flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(other)], check=True)
    medians = {}
    for name, results in runs.items():
        stack = statistics.median(float(str(x["stack_ms"])) for x in results)
        clip = statistics.median(float(str(x["clip_ms"])) for x in results)
        medians[name] = (stack, clip)
        stacks = [round(float(str(x["stack_ms"])), 3) for x in results]
        clips = [round(float(str(x["clip_ms"])), 1) for x in results]
        print(f"{name:>12}: training stack {stack:.3f} ms (rounds {stacks}), 256x256x16 clip {clip:.1f} ms ({clips})")
    (ours_stack, ours_clip), (their_stack, their_clip) = medians["this tree"], medians[args.against]
    print(
        f"ratio {args.against} / this tree: stacks {their_stack / ours_stack:.2f}x, clips {their_clip / ours_clip:.2f}x"
    )
    hashes = {str(x["hash"]) for results in runs.values() for x in results}
    print("same bytes in both trees:", "yes" if len(hashes) == 1 else f"NO ({len(hashes)} different hashes)")


if __name__ == "__main__":
    main()
