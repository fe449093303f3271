"""How fast are the CLIP metrics? Run by hand: ``python benchmarks/metrics_speed.py [--reps 3] [--threads 1]``.

One 49-frame 480x720 video, the three metrics on the configured CLIP (clipsim, clip_temp, background consistency):

* ours: a fresh :class:`metrics.Scorer` (cold caches): one batched image pass per transform (open_clip's for
  EvalCrafter's clipsim and clip_temp, VBench's for background consistency), the prompt encoded once;
* per-frame loop: how VBench / EvalCrafter scripts do it: every metric encodes each frame it needs on its
  own, one frame per forward pass, and CLIPSIM re-encodes the prompt per frame;
* batched passes: just the image encoder over the 49 frames, once per transform (the floor for these metrics).

Repetitions are interleaved; the medians and ratios are printed. Architectures: the tiny random config and
ViT-B-32 from open_clip's built-in config with random weights (pretrained=None: no download). Asserts
nothing about time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

FRAMES, HEIGHT, WIDTH = 49, 480, 720
PROMPT = "a red car drives along a coastal road at sunset"
CLIP_METRICS = ["clipsim", "clip_temp", "background_consistency"]


def make_video(seed: int = 0) -> np.ndarray:
    """A smooth textured background panning right with a bright block moving across: realistic-ish content."""
    import cv2

    rng = np.random.default_rng(seed)
    big = cv2.GaussianBlur(rng.integers(0, 256, (HEIGHT, WIDTH + 2 * FRAMES, 3), dtype=np.uint8), (0, 0), 6)
    video = np.stack([big[:, 2 * t : 2 * t + WIDTH] for t in range(FRAMES)])
    for t in range(FRAMES):
        x = 20 + 12 * t
        video[t, 200:280, x : x + 80] = (230, 40, 40)
    return np.ascontiguousarray(video)


def build_encoders(arch: str) -> list:
    import open_clip
    import torch

    from metrics.encoders import ENCODERS, ClipEncoder, load_encoder

    out = [load_encoder("tiny-random", device="cpu")] if arch in ("all", "tiny") else []
    if arch == "tiny":
        return out
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = open_clip.create_model("ViT-B-32", pretrained=None).eval()  # random weights, no download
    return [*out, ClipEncoder(ENCODERS["ViT-B-32"], model, open_clip.get_tokenizer("ViT-B-32"), "cpu", None)]


def per_frame_loop(encoder, video: np.ndarray | str, prompt: str) -> dict[str, float]:
    """The per-script way: each metric decodes the video (when given a path) and encodes its frames one by one
    (PIL preprocess for EvalCrafter's metrics, VBench's tensor transform for background consistency); nothing is
    shared between metrics."""
    import open_clip
    import torch
    from PIL import Image

    from adapters.video_io import decode_mp4
    from metrics import formulas, preprocess

    def load() -> np.ndarray:
        return decode_mp4(video)[0] if isinstance(video, str) else video

    pp = open_clip.get_model_preprocess_cfg(encoder.model)
    transform = open_clip.image_transform(pp["size"], is_train=False, mean=pp["mean"], std=pp["std"])

    def one(frame: np.ndarray) -> np.ndarray:
        x = transform(Image.fromarray(frame)).unsqueeze(0)
        return encoder.model.encode_image(x, normalize=True)[0].numpy()

    def one_vbench(frame: np.ndarray) -> np.ndarray:
        x = preprocess.clip_transform(frame[None], encoder.image_size[0])
        return encoder.model.encode_image(x, normalize=True)[0].numpy()

    out = {}
    with torch.inference_mode():
        sims = []
        for frame in load():  # CLIPSIM: image and text encoded per frame
            text = encoder.model.encode_text(encoder.tokenizer([prompt]), normalize=True)[0].numpy()
            sims.append(float(one(frame) @ text))
        out["clipsim"] = float(np.mean(sims))
        out["clip_temp"] = formulas.clip_temp(np.stack([one(f) for f in load()]))
        out["background_consistency"] = formulas.vbench_consistency(np.stack([one_vbench(f) for f in load()]))
    return out


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the dev machine is shared)")
    parser.add_argument("--arch", choices=["all", "tiny", "vit-b-32"], default="all")
    args = parser.parse_args()

    import torch

    from adapters.video_io import decode_mp4, encode_mp4
    from metrics.preprocess import VBenchClipFeatures
    from metrics.scorer import Scorer

    torch.set_num_threads(args.threads)
    frames = make_video()
    with tempfile.NamedTemporaryFile(suffix=".mp4", delete=False) as tmp:
        tmp.write(encode_mp4(frames, 8))
    path = tmp.name
    frames = decode_mp4(path)[0]  # the decoded pixels, so that every method sees the same frames
    decode_s = timed(lambda: decode_mp4(path))
    print(f"video: {FRAMES} frames {HEIGHT}x{WIDTH}; one decode (PyAV): {decode_s:.3f} s; torch threads {args.threads}")
    for encoder in build_encoders(args.arch):

        def scorer(enc=encoder) -> Scorer:  # fresh: cold feature and text caches on every call
            return Scorer(enc.id, device="cpu", batch_size=64, metrics=CLIP_METRICS, loaded=[enc])

        methods: dict[str, Callable[[], object]] = {
            "ours, from file": lambda: scorer().score_file(path, PROMPT, "en"),
            "ours, from frames": lambda: scorer().score_frames(frames, 8, PROMPT, "en"),
            "batched passes": lambda enc=encoder: (
                enc.encode_images(frames, batch_size=len(frames)),
                VBenchClipFeatures(enc).encode_images(frames, batch_size=len(frames)),
            ),
            "loop, from file": lambda enc=encoder: per_frame_loop(enc, path, PROMPT),
            "loop, from frames": lambda enc=encoder: per_frame_loop(enc, frames, PROMPT),
        }
        methods["ours, from frames"]()  # warm-up (allocator, first-call overheads)
        times: dict[str, list[float]] = {k: [] for k in methods}
        for _ in range(args.reps):  # interleaved: machine noise hits every method alike
            for k, fn in methods.items():
                times[k].append(timed(fn))
        med = {k: statistics.median(v) for k, v in times.items()}
        ours = {r.metric: r.value for r in scorer().score_frames(frames, 8, PROMPT, "en").results}
        loop = per_frame_loop(encoder, frames, PROMPT)
        gap = max(abs(ours[m] - loop[m]) for m in CLIP_METRICS)
        print(f"\n{encoder.spec.open_clip_name} (random weights): median of {args.reps} interleaved runs")
        for k, v in med.items():
            print(f"  {k:<18} {v:8.3f} s")
        r1 = med["loop, from file"] / med["ours, from file"]
        r2 = med["loop, from frames"] / med["ours, from frames"]
        r3 = med["ours, from frames"] / med["batched passes"]
        print(f"  per-frame loop / ours, file in (decode per metric vs once) = {r1:6.2f}x  (goal >= 5x)")
        print(f"  per-frame loop / ours, frames in (encoding only)          = {r2:6.2f}x")
        print(f"  ours / batched image passes, frames in                    = {r3:6.2f}x  (goal <= 1.3x)")
        print(f"  largest metric difference ours vs loop (tensor vs PIL resize): {gap:.5f}")
    os.unlink(path)


if __name__ == "__main__":
    main()
