"""`arena pool fill|status` on a real SQLite file: demo models fill; a model without weights is skipped, named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from arena.cli import build_app

MODELS = """
models:
  - {id: demo-faithful, display_name: Prism, kind: demo, params: {behaviour: faithful}}
  - {id: demo-frozen, display_name: Still, kind: demo, params: {behaviour: frozen}}
  - {id: wan-missing, display_name: Wan, kind: diffusers, params: {family: wan, path: /nonexistent/wan-weights}}
"""
PROMPTS = """
suite: t
prompts:
  - {id: red-ball, category: motion, en: a red ball rolls left, zh: 一个红色的球向左滚动}
  - {id: blue-box, category: colour, en: a blue box moves up}
"""


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "models.yaml").write_text(MODELS, encoding="utf-8")
    (tmp_path / "prompts.yaml").write_text(PROMPTS, encoding="utf-8")
    monkeypatch.setenv("ARENA_DATABASE_URL", f"sqlite:///{tmp_path / 'arena.db'}")
    monkeypatch.setenv("ARENA_MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.setenv("ARENA_MODELS_FILE", str(tmp_path / "models.yaml"))
    monkeypatch.setenv("ARENA_PROMPTS_FILE", str(tmp_path / "prompts.yaml"))
    return tmp_path


def test_fill_is_resumable_and_names_the_model_that_cannot_run(env: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(build_app(), ["pool", "fill", "--seeds", "2"])
    assert first.exit_code == 1, first.output  # one model could not run
    assert "12 of 18 pool videos are stored" in first.output  # 3 prompts x 2 seeds x 3 models; wan cannot run
    assert "skipped wan-missing" in first.output and "/nonexistent/wan-weights" in first.output
    status = json.loads(runner.invoke(build_app(), ["pool", "status", "--json"]).output)
    by_model = {r["model"]: r for r in status}
    assert by_model["demo-faithful"]["videos"] == 6 and by_model["demo-faithful"]["prompts"] == 3
    assert by_model["wan-missing"]["videos"] == 0 and by_model["demo-frozen"]["suite_prompts"] == 3
    again = runner.invoke(build_app(), ["pool", "fill", "-m", "demo-frozen", "--seeds", "2"])
    assert again.exit_code == 0 and "6 of 6" in again.output
    assert json.loads(runner.invoke(build_app(), ["pool", "status", "--json"]).output) == status
    unknown = runner.invoke(build_app(), ["pool", "fill", "-m", "nope"])
    assert unknown.exit_code == 2 and "nope" in unknown.output
