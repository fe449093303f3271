"""The shapes world: a small world whose truth is known, so the arena can be checked against it.

* :mod:`~adapters.shapes.lexicon` — the words (English and Chinese) and the palette;
* :mod:`~adapters.shapes.scene` — prompt → :class:`Scene` (shapes, colours, counts, motions, speeds,
  background, camera move, spatial relation), with stand-ins for things outside the world;
* :mod:`~adapters.shapes.render` — the ground-truth renderer, any size, frame count or clip times;
* :mod:`~adapters.shapes.captions` — scene → prompt in either language, and random scenes;
* :mod:`~adapters.shapes.defects` — the demo generators' known defects.
"""

from adapters.shapes.lexicon import PALETTE, SHAPES
from adapters.shapes.scene import Scene, SceneObject, detect_language, parse_prompt

__all__ = ["PALETTE", "SHAPES", "Scene", "SceneObject", "detect_language", "parse_prompt"]
