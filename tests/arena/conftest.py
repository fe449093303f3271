"""Arena fixtures: a real SQLite file, real media files, scripted models (fast, deterministic)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from arena.services.container import Arena
from arena.settings import Settings
from tests.support.scripted import kinds_with_scripted

MODELS_YAML = """
models:
  - {id: alpha-7b, display_name: Alpha Seven, organisation: Org Aleph, kind: scripted, params: {colour: [255, 0, 0]}}
  - {id: beta-v2, display_name: Beta Two, organisation: Org Bet, kind: scripted,
     params: {colour: [0, 0, 255], noise: 12}}
  - {id: gamma-x, display_name: Gamma Ex, organisation: Org Gimel, kind: scripted,
     params: {colour: [0, 200, 0], noise: 24}}
  - {id: broken-model, display_name: Broken One, organisation: Org Dalet, kind: scripted,
     params: {fail: "CUDA out of memory in broken-model"}}
"""

PROMPTS_YAML = """
suite: test
prompts:
  - {id: red-ball, category: motion, en: a red ball rolls left, zh: 一个红色的球向左滚动}
  - {id: blue-box, category: colour, en: a blue box, zh: 一个蓝色的方块}
  - {id: two-stars, category: count, en: two yellow stars}
"""


def make_settings(root: Path, **overrides: object) -> Settings:
    (root / "models.yaml").write_text(MODELS_YAML, encoding="utf-8")
    (root / "prompts.yaml").write_text(PROMPTS_YAML, encoding="utf-8")
    values: dict[str, object] = {
        "database_url": f"sqlite:///{root / 'arena.db'}",
        "media_dir": root / "media",
        "models_file": root / "models.yaml",
        "prompts_file": root / "prompts.yaml",
        "min_votes": 0,
        "bootstrap_rounds": 20,
        "secret": "test-secret",
        "matchmaking_refresh_s": 0.0,  # the matchmaker sees every vote at once
        "rate_limits": False,  # tests/arena/test_limits.py turns them on
        "max_open_battles": 1000,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def arena_factory(tmp_path: Path) -> Iterator[Callable[..., Arena]]:
    made: list[Arena] = []

    def make(**overrides: object) -> Arena:
        arena = Arena.create(make_settings(tmp_path, **overrides), kinds=kinds_with_scripted())
        made.append(arena)
        return arena

    yield make
    for arena in made:
        arena.close()


@pytest.fixture
def arena(arena_factory: Callable[..., Arena]) -> Arena:
    """An arena whose pool holds a video of every working model for every prompt."""
    arena = arena_factory()
    arena.prefill(models=["alpha-7b", "beta-v2", "gamma-x"])
    return arena
