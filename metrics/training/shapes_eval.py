"""Held-out figures of a shapes-world CLIP, measured the way the metrics use it.

Each held-out scene (built with a shape-colour pair never seen in training) is rendered as a 16-frame 256x256
clip and encoded through :class:`~metrics.shapes_clip.ShapesClipEncoder`; a clip's score for a caption is its
CLIPSIM (mean cosine over the frames metrics.formulas.clipsim_indices picks: every frame). Reported:

* retrieval: image→text and text→image top-1 among all held-out clips and their captions, per language;
* pair accuracy per attribute and language: how often the true caption outscores the same caption with one
  attribute changed (shape, colour, count, motion, direction, speed, background, camera, relation); also apart
  for scenes of one group and of two (``pairs_by_groups``: with two, the caption must also bind each attribute
  to its group);
* generators: how often the faithful clip outscores the same prompt drawn with one defect.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from adapters.shapes.captions import describe
from adapters.shapes.defects import Defects, draw
from adapters.shapes.render import render_scene
from adapters.shapes.scene import Scene
from metrics.formulas import clipsim_indices
from metrics.shapes_clip import ShapesClipEncoder
from metrics.training.shapes_data import ATTRIBUTES, alter, held_out_scenes

LANGUAGES = ("en", "zh")
DEFECTS = {
    "wrong colour": Defects(colour=1.0),
    "wrong object": Defects(shape=1.0),
    "wrong count": Defects(count=1.0),
    "wrong direction": Defects(direction=1.0),
    "frozen": Defects(frozen=1.0),
}


def clip_feature(encoder: ShapesClipEncoder, frames: np.ndarray) -> np.ndarray:
    """Mean of the frames' unit features that CLIPSIM reads: its dot product with a text feature is the clip's
    CLIPSIM (metrics.formulas.clipsim_indices)."""
    feats = encoder.encode_images(frames)
    return np.asarray(feats[clipsim_indices(len(frames))].mean(axis=0))


def _features(encoder: ShapesClipEncoder, clips: Sequence[np.ndarray]) -> np.ndarray:
    return np.stack([clip_feature(encoder, c) for c in clips])


def _caption_pair(scene: Scene, other: Scene, language: str, seed: int) -> tuple[str, str]:
    """Captions of two scenes worded alike (the same random draws), so they differ only where the scenes do."""
    return describe(scene, language, np.random.default_rng(seed)), describe(
        other, language, np.random.default_rng(seed)
    )


def evaluate(
    encoder: ShapesClipEncoder, *, seed: int = 1, scenes: int = 200, num_frames: int = 16, size: int = 256
) -> dict[str, Any]:
    """Every held-out figure (see the module docstring), as a JSON-able dict."""
    rng = np.random.default_rng([seed, 7])
    held = held_out_scenes(rng, scenes)
    seeds = [int(s) for s in rng.integers(2**31, size=len(held))]
    clips = [
        render_scene(s, seed=k, num_frames=num_frames, width=size, height=size)
        for s, k in zip(held, seeds, strict=True)
    ]
    video = _features(encoder, clips)
    out: dict[str, Any] = {"scenes": len(held), "frames": num_frames, "size": size, "retrieval": {}, "pairs": {}}
    out["pairs_by_groups"] = {}
    for language in LANGUAGES:
        captions = [describe(s, language, np.random.default_rng([seed, i])) for i, s in enumerate(held)]
        text = encoder.encode_texts(captions)
        sims = video @ text.T
        target = np.arange(len(held))
        out["retrieval"][language] = {
            "image_to_text_top1": float((sims.argmax(axis=1) == target).mean()),
            "text_to_image_top1": float((sims.argmax(axis=0) == target).mean()),
        }
        pairs: dict[str, list[bool]] = {a: [] for a in ATTRIBUTES}
        groups: dict[str, list[int]] = {a: [] for a in ATTRIBUTES}
        for i, scene in enumerate(held):
            for attribute in ATTRIBUTES:
                other = alter(scene, attribute, np.random.default_rng([seed, i, ATTRIBUTES.index(attribute)]))
                if other is None or other == scene:
                    continue
                true, wrong = encoder.encode_texts(list(_caption_pair(scene, other, language, seed + i)))
                pairs[attribute].append(bool(video[i] @ true > video[i] @ wrong))
                groups[attribute].append(len(scene.objects))
        out["pairs"][language] = {a: {"accuracy": float(np.mean(v)), "n": len(v)} for a, v in pairs.items() if v}
        out["pairs_by_groups"][language] = {
            str(n): {
                a: {"accuracy": float(np.mean(picked)), "n": len(picked)}
                for a, v in pairs.items()
                if (picked := [ok for ok, g in zip(v, groups[a], strict=True) if g == n])
            }
            for n in (1, 2)
        }
    out["generators"] = _generators(encoder, held[: max(1, scenes // 2)], seeds, num_frames, size, seed)
    return out


def _generators(
    encoder: ShapesClipEncoder, held: list[Scene], seeds: list[int], num_frames: int, size: int, seed: int
) -> dict[str, Any]:
    """Share of prompts whose faithful clip outscores the clip drawn with each defect (CLIPSIM, both languages)."""
    wins: dict[str, list[bool]] = {name: [] for name in DEFECTS}
    for i, scene in enumerate(held):
        clip = render_scene(scene, seed=seeds[i], num_frames=num_frames, width=size, height=size)
        faithful = clip_feature(encoder, clip)
        texts = encoder.encode_texts([describe(scene, lang, np.random.default_rng([seed, i])) for lang in LANGUAGES])
        for name, defects in DEFECTS.items():
            made = draw(scene, defects, seed=seeds[i], num_frames=num_frames, width=size, height=size)
            if made.drawn == scene:  # the defect changed nothing here (e.g. freezing a still scene)
                continue
            bad = clip_feature(encoder, made.frames)
            wins[name].extend(bool(faithful @ t > bad @ t) for t in texts)
    return {name: {"faithful_wins": float(np.mean(v)), "n": len(v)} for name, v in wins.items() if v}


class Probe:
    """A quick held-out check while training: pair accuracy per attribute on single frame stacks (64x64), both
    languages together. Excluded from the training CPU time only in that it is cheap (about 2 s)."""

    def __init__(self, seed: int, scenes: int = 150, size: int = 64) -> None:
        from metrics.training.shapes_data import render_stack

        rng = np.random.default_rng(seed)
        self.held = held_out_scenes(rng, scenes)
        self.frames = np.stack([render_stack(s, i, size, rng, augment=False) for i, s in enumerate(self.held)])
        self.pairs: list[tuple[int, str, str, str]] = []  # (scene, attribute, true caption, altered caption)
        for i, scene in enumerate(self.held):
            for attribute in ATTRIBUTES:
                other = alter(scene, attribute, rng)
                if other is not None and other != scene:
                    for language in LANGUAGES:
                        self.pairs.append((i, attribute, *_caption_pair(scene, other, language, seed + i)))

    def heads(self, model: Any, head: Any) -> str:
        """Accuracy of the attribute heads on the single-group held-out clips (stage 1: no text yet)."""
        import torch

        from metrics.training import shapes_aux
        from metrics.training.shapes_clip import _pixels

        model.eval()
        with torch.inference_mode():
            images = model.encode_image(_pixels(self.frames), normalize=True)
            truth = shapes_aux.targets(self.held)
            out = []
            for name in ("shape", "colour", "count", "motion", "speed"):
                target = truth[f"single_{name}"]
                keep = target >= 0
                guess = head[f"single_{name}"](images * 8.0).argmax(dim=1)
                out.append(f"{name[:5]} {float((guess[keep] == target[keep]).float().mean()):.2f}")
            for name in ("background", "camera", "relation"):
                guess = head[name](images * 8.0).argmax(dim=1)
                out.append(f"{name[:5]} {float((guess == truth[name]).float().mean()):.2f}")
        model.train()
        return "heads: " + " ".join(out)

    def __call__(self, model: Any, tokenizer: Any) -> str:
        import torch

        from metrics.training.shapes_clip import _pixels

        model.eval()
        with torch.inference_mode():
            images = model.encode_image(_pixels(self.frames), normalize=True).numpy()
            true = model.encode_text(tokenizer([p[2] for p in self.pairs]), normalize=True).numpy()
            wrong = model.encode_text(tokenizer([p[3] for p in self.pairs]), normalize=True).numpy()
        model.train()
        idx = np.array([p[0] for p in self.pairs])
        ok = (images[idx] * true).sum(1) > (images[idx] * wrong).sum(1)
        names = np.array([p[1] for p in self.pairs])
        return " ".join(f"{a[:5]} {ok[names == a].mean():.2f}" for a in ATTRIBUTES if (names == a).any())


def main(argv: list[str] | None = None) -> None:
    """``python -m metrics.training.shapes_eval [--weights DIR] [--scenes N] [--write]``: measure the held-out
    figures of a trained shapes-world CLIP (default: the shipped one); ``--write`` stores them in its
    ``figures.json`` (keeping the training record)."""
    import argparse
    import json

    from metrics.encoders import get_spec
    from metrics.shapes_clip import FIGURES_FILE, WEIGHTS_DIR, load

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--weights", type=Path, default=WEIGHTS_DIR)
    parser.add_argument("--scenes", type=int, default=200)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    figures = evaluate(load(get_spec("shapes-clip"), args.weights, "cpu"), scenes=args.scenes)
    path = args.weights / FIGURES_FILE
    if args.write:
        old = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        path.write_text(json.dumps(figures | {"training": old.get("training")}, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
