"""Auxiliary attribute heads for training the shapes-world CLIP (dropped after training: the shipped model is a
plain open_clip CLIP).

The truth of every training clip is known, so linear heads read it back from the embeddings: which
shape-colour (optional), colour-motion, shape-count, colour-count and motion-speed combinations are present (multi-hot),
each attribute of a single group, the background, the camera move, the relation and the colour of the group drawn
first. The image tower learns them first (supervised, cheap: no text); then the text tower learns to land its
captions where the images are (contrastive, the image tower locked) and to be read by the same heads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from adapters.shapes.lexicon import CAMERAS, COLOURS, COUNTS, MOTIONS, SHAPES, SPEEDS
from adapters.shapes.scene import Scene

_PAIRS: dict[str, tuple[tuple[str, ...], tuple[Any, ...]]] = {
    "shape_colour": (SHAPES, COLOURS),
    "colour_motion": (COLOURS, MOTIONS),
    "shape_count": (SHAPES, COUNTS),
    "colour_count": (COLOURS, COUNTS),
    "motion_speed": (MOTIONS, SPEEDS),
}
_FIELDS = {
    "shape_colour": ("shape", "colour"),
    "colour_motion": ("colour", "motion"),
    "shape_count": ("shape", "count"),
    "colour_count": ("colour", "count"),
    "motion_speed": ("motion", "speed"),
}
_SINGLE = {"shape": SHAPES, "colour": COLOURS, "count": COUNTS, "motion": MOTIONS, "speed": SPEEDS}
_CLASSES = {"background": 1 + len(COLOURS), "camera": len(CAMERAS), "relation": 3, "first_colour": len(COLOURS)}
_CLASSES |= {f"single_{name}": len(values) for name, values in _SINGLE.items()}
RELATIONS = (None, "left_of", "above")


def targets(
    scenes: Sequence[Scene],
    recoloured: Sequence[bool] | None = None,
    drawn: Sequence[tuple[str, ...]] | None = None,
    exclude_held_out: bool = False,
) -> dict[str, Any]:
    """Multi-hot and class targets of a batch of scenes (class -100: not applicable). A recoloured scene's
    colour targets are left out (weight 0, class -100). ``exclude_held_out`` rules out of a single group's shape
    classes those whose pair with its colour (``drawn``: per scene, the colour word nearest each group's drawn
    colour) is held out, and of its colour classes those whose pair with its shape is: training never shows them,
    so a head left to compete against them learns to read shape through colour ("purple, so not a circle")."""
    import torch

    from metrics.training.shapes_data import HELD_OUT

    out: dict[str, Any] = {}
    shape_ok = np.ones((len(scenes), len(SHAPES)), dtype=bool)
    colour_ok = np.ones((len(scenes), len(COLOURS)), dtype=bool)
    for i, scene in enumerate(scenes):
        if exclude_held_out and len(scene.objects) == 1:
            colour = drawn[i][0] if drawn else scene.objects[0].colour
            shape_ok[i] = [(s, colour) not in HELD_OUT for s in SHAPES]
            colour_ok[i] = [(scene.objects[0].shape, c) not in HELD_OUT for c in COLOURS]
    out["single_shape_allowed"] = torch.from_numpy(shape_ok)
    out["single_colour_allowed"] = torch.from_numpy(colour_ok)
    odd = np.asarray(recoloured if recoloured is not None else [False] * len(scenes), dtype=bool)
    out["colour_known"] = torch.from_numpy((~odd).astype(np.float32))
    for name, (a, b) in _PAIRS.items():
        hot = np.zeros((len(scenes), len(a) * len(b)), dtype=np.float32)
        fa, fb = _FIELDS[name]
        for i, scene in enumerate(scenes):
            for obj in scene.objects:
                hot[i, a.index(getattr(obj, fa)) * len(b) + b.index(getattr(obj, fb))] = 1.0
        out[name] = torch.from_numpy(hot)
    present = np.zeros((len(scenes), len(SHAPES)), dtype=np.float32)
    for i, scene in enumerate(scenes):
        for obj in scene.objects:
            present[i, SHAPES.index(obj.shape)] = 1.0
    out["shape_present"] = torch.from_numpy(present)
    out["background"] = torch.tensor([0 if s.background is None else 1 + COLOURS.index(s.background) for s in scenes])
    out["camera"] = torch.tensor([CAMERAS.index(s.camera) for s in scenes])
    out["relation"] = torch.tensor([RELATIONS.index(s.relation) for s in scenes])
    out["first_colour"] = torch.tensor([COLOURS.index(s.objects[0].colour) if s.relation else -100 for s in scenes])
    for name, values in _SINGLE.items():  # one group: each of its attributes as a class
        out[f"single_{name}"] = torch.tensor(
            [values.index(getattr(s.objects[0], name)) if len(s.objects) == 1 else -100 for s in scenes]
        )
    for name in ("first_colour", "single_colour"):
        out[name][torch.from_numpy(odd)] = -100
    return out


def heads(embed_dim: int, shape_colour: bool = True) -> Any:
    """The linear heads (a torch ModuleDict); ``shape_colour=False`` leaves out the shape-colour conjunctions
    (never positive for a held-out pair, they teach the tower to read shape through colour)."""
    import torch

    pairs = {name: v for name, v in _PAIRS.items() if shape_colour or name != "shape_colour"}
    sizes = {name: len(a) * len(b) for name, (a, b) in pairs.items()} | _CLASSES | {"shape_present": len(SHAPES)}
    return torch.nn.ModuleDict({name: torch.nn.Linear(embed_dim, n) for name, n in sizes.items()})


def loss(head: Any, features: Any, target: dict[str, Any]) -> Any:
    """Summed BCE (multi-hot) and CE (classes) of the heads on (unit) features."""
    import torch.nn.functional as F

    total: Any = 0.0
    for name, layer in head.items():
        logits = layer(features * 8.0)
        if name == "shape_present":
            total = total + _presence_loss(logits, target)
        elif name in _PAIRS:
            weight = target["colour_known"][:, None] if "colour" in _FIELDS[name] else None
            total = total + F.binary_cross_entropy_with_logits(logits, target[name], weight=weight) * 10.0
        elif (target[name] >= 0).any():
            if f"{name}_allowed" in target:
                logits = logits.masked_fill(~target[f"{name}_allowed"], -1e4)
            total = total + F.cross_entropy(logits, target[name], ignore_index=-100)
    return total


def _presence_loss(logits: Any, target: dict[str, Any]) -> Any:
    """BCE of the shape-presence head (which shapes a scene has), weighted like the multi-hot heads."""
    import torch.nn.functional as F

    return F.binary_cross_entropy_with_logits(logits, target["shape_present"]) * 10.0


def single_loss(head: Any, features: Any, target: dict[str, Any], names: Sequence[str]) -> Any:
    """Summed CE of the single-group heads ``single_<name>`` for ``names``, and the shape-presence head's loss if
    ``names`` has "present" (the warm-up's loss, and its extra weight in stage 1)."""
    import torch.nn.functional as F

    total: Any = 0.0
    if "present" in names:
        total = _presence_loss(head["shape_present"](features * 8.0), target)
    for name in (n for n in names if n != "present"):
        classes = target[f"single_{name}"]
        if (classes >= 0).any():
            total = total + F.cross_entropy(head[f"single_{name}"](features * 8.0), classes, ignore_index=-100)
    return total
