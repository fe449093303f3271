"""Benchmark fixtures: a real SQLite file and media folder, tiny offline models, a small bilingual suite."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from arena.services.container import Arena
from arena.settings import Settings

MODELS_YAML = """
models:
  - {id: demo-faithful, display_name: Prism, organisation: Demo, kind: demo, params: {behaviour: faithful}}
  - {id: demo-frozen, display_name: Still, organisation: Demo, kind: demo, params: {behaviour: frozen}}
  - {id: demo-flicker, display_name: Strobe, organisation: Demo, kind: demo, params: {behaviour: flicker}}
  - {id: jitter-a, display_name: Jitter A, kind: python,
     params: {target: "tests.bench.models:jitter_render", kwargs: {salt: 1}}}
  - {id: jitter-b, display_name: Jitter B, kind: python,
     params: {target: "tests.bench.models:jitter_render", kwargs: {salt: 2}}}
  - {id: slow, display_name: Slow, kind: python, params: {target: "tests.bench.models:slow_render"}}
  - {id: sleepy, display_name: Sleepy, kind: python,
     params: {target: "tests.bench.models:slow_render", kwargs: {delay_s: 30}}}
  - {id: capped, display_name: Capped, kind: python,
     params: {target: "tests.bench.models:slow_render", kwargs: {delay_s: 0},
              capabilities: {frames: {max: 8}}}}
  - {id: broken, display_name: Broken, kind: python, params: {target: "tests.bench.models:broken"}}
  - {id: wan-missing, display_name: Wan, kind: diffusers, params: {family: wan, path: /nonexistent/wan-weights}}
"""

SUITE_YAML = """
suite: bench-test
prompts:
  - {id: red-ball-left, category: motion, en: A red ball rolls slowly to the left, zh: 一个红色的球慢慢向左滚动}
  - {id: blue-square-up, category: motion, en: A blue square rises, zh: 一个蓝色的方块向上升起}
  - {id: two-stars, category: counting, en: Two yellow stars spin, zh: 两颗黄色的星星在旋转}
  - {id: three-hearts, category: counting, en: Three pink hearts bounce, zh: 三颗粉色的心在弹跳}
"""


def bench_settings(root: Path, **overrides: object) -> Settings:
    (root / "models.yaml").write_text(MODELS_YAML, encoding="utf-8")
    (root / "suite.yaml").write_text(SUITE_YAML, encoding="utf-8")
    values: dict[str, object] = {
        "database_url": f"sqlite:///{root / 'arena.db'}",
        "media_dir": root / "media",
        "models_file": root / "models.yaml",
        "prompts_file": root / "suite.yaml",
        "secret": "bench-test-secret",
        "min_votes": 0,
        "bootstrap_rounds": 20,
        "gold_rate": 0.0,
        "min_view_s": 0,
        "matchmaking": "uniform",
        "default_num_frames": 8,  # small clips: quick to make, encode and score
        "default_width": 64,
        "default_height": 64,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def env_for(settings: Settings) -> dict[str, str]:
    """ARENA_* variables for a CLI subprocess (or CliRunner) using these settings."""
    return {
        "ARENA_DATABASE_URL": settings.database_url,
        "ARENA_MEDIA_DIR": str(settings.media_dir),
        "ARENA_MODELS_FILE": str(settings.models_file),
        "ARENA_PROMPTS_FILE": str(settings.prompts_file),
        "ARENA_SECRET": settings.secret,
        "ARENA_DEFAULT_NUM_FRAMES": str(settings.default_num_frames),
        "ARENA_DEFAULT_WIDTH": str(settings.default_width),
        "ARENA_DEFAULT_HEIGHT": str(settings.default_height),
        "ARENA_MIN_VOTES": "0",
    }


@pytest.fixture
def bench_arena(tmp_path: Path) -> Iterator[Callable[..., Arena]]:
    made: list[Arena] = []

    def make(root: Path | None = None, **overrides: object) -> Arena:
        root = root or tmp_path
        root.mkdir(parents=True, exist_ok=True)
        arena = Arena.create(bench_settings(root, **overrides))
        made.append(arena)
        return arena

    yield make
    for arena in made:
        arena.close()
