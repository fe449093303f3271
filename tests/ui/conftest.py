"""A real arena server on 127.0.0.1 (a port of its own, background thread): temp SQLite DB and media folder, the
demo models of models.yaml and a small prompt subset, with the demo pool prefilled before the first test."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from arena.server import create_app
from arena.services.container import Arena
from arena.settings import Settings
from tests.support.servers import ThreadedServer

ROOT = Path(__file__).resolve().parents[2]
MODELS_FILE = ROOT / "models.yaml"
PROMPTS_PER_CATEGORY = 1


@dataclass(frozen=True)
class LiveApp:
    url: str
    arena: Arena
    settings: Settings


def write_small_suite(path: Path, per_category: int = PROMPTS_PER_CATEGORY) -> Path:
    """The first prompt(s) of each category of the demo suite (each in English and Chinese)."""
    suite = yaml.safe_load((ROOT / "arena" / "suites" / "data" / "demo.yaml").read_text(encoding="utf-8"))
    taken: dict[str, int] = {}
    prompts = []
    for prompt in suite["prompts"]:
        if taken.get(prompt["category"], 0) < per_category:
            taken[prompt["category"]] = taken.get(prompt["category"], 0) + 1
            prompts.append(prompt)
    path.write_text(yaml.safe_dump({"suite": "ui-test", "prompts": prompts}, allow_unicode=True), encoding="utf-8")
    return path


def test_settings(root: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": f"sqlite:///{root / 'arena.db'}",
        "media_dir": root / "media",
        "models_file": MODELS_FILE,
        "prompts_file": write_small_suite(root / "prompts.yaml"),
        "secret": secrets.token_hex(16),
        "min_votes": 1,
        "bootstrap_rounds": 10,
        "pool_prefill": False,
        # Gold-pair checks are kept off the board (tested in tests/arena): here every vote should count.
        "gold_rate": 0.0,
        "rate_limits": False,  # tests/arena/test_limits.py turns them on
        "max_open_battles": 1000,
        "min_view_s": 0,  # votes at once (tests/arena/test_battle_rules.py plays the viewing time)
        "default_seed_count": 1,  # quick fills: one pool clip per (model, prompt); test_blind_repeats.py uses 3
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    settings = test_settings(tmp_path_factory.mktemp("arena"))
    arena = Arena.create(settings)
    arena.pool_videos.fill()
    arena.start_workers()
    server = ThreadedServer(create_app(arena)).start(timeout_s=60)
    assert httpx.get(f"{server.url}/healthz", timeout=10).json() == {"status": "ok"}
    try:
        yield LiveApp(server.url, arena, settings)
    finally:
        server.stop()
        arena.close()
