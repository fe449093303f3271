"""`arena models list|check` and `arena generate`, run for real on the project's models file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from adapters.shapes import PALETTE
from adapters.video_io import decode_mp4
from arena.cli import build_app

ROOT = Path(__file__).resolve().parents[1]
DEMO_MODELS = ("demo-faithful", "demo-colourblind", "demo-flicker", "demo-frozen")


@pytest.fixture
def models_file(tmp_path: Path) -> Path:
    """A copy of models.yaml in an empty folder, so relative paths (clip folders) point at nothing."""
    path = tmp_path / "models.yaml"
    shutil.copy(ROOT / "models.yaml", path)
    return path


def test_models_list_shows_demo_models_and_every_example_kind(models_file: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(build_app(), ["models", "list", "--models-file", str(models_file)])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line.split() for line in result.output.splitlines()[1:] if line.strip()}
    for model_id in DEMO_MODELS:
        assert lines[model_id][1:3] == ["demo", "yes"], lines[model_id]
    assert {row[1] for row in lines.values()} == {"demo", "diffusers", "http", "python", "imported_clips"}
    rows = json.loads(
        runner.invoke(build_app(), ["models", "list", "--json", "--models-file", str(models_file)]).output
    )
    assert {r["kind"] for r in rows if not r["enabled"]} == {"demo", "diffusers", "http", "python", "imported_clips"}
    assert next(r for r in rows if r["id"] == "demo-frozen")["display_name"] == "Still (demo)"


def test_models_list_reports_a_bad_models_file(tmp_path: Path) -> None:
    bad = tmp_path / "models.yaml"
    bad.write_text("models:\n  - {id: m1, display_name: M, kind: difusers}\n", encoding="utf-8")
    result = CliRunner().invoke(build_app(), ["models", "list", "--models-file", str(bad)])
    assert result.exit_code == 2
    assert "difusers" in result.output and "Did you mean 'diffusers'" in result.output


def test_models_check_real_command(models_file: Path, tmp_path: Path) -> None:
    """The installed `arena` script, with no weights cache, no token and no clips on this machine."""
    env = {k: v for k, v in os.environ.items() if k != "ARENA_INHOUSE_TOKEN"}
    env |= {
        "HF_HUB_OFFLINE": "1",
        "HF_HOME": str(tmp_path / "hf"),
        "HF_HUB_CACHE": str(tmp_path / "hf" / "hub"),
    }
    arena = Path(sys.executable).parent / "arena"
    done = subprocess.run(
        [str(arena), "models", "check", "--json", "--models-file", str(models_file)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    rows = {r["id"]: r for r in json.loads(done.stdout)}
    for model_id in DEMO_MODELS:
        assert rows[model_id]["ok"] is True and rows[model_id]["detail"], rows[model_id]
    # Weights, server token and clips are missing here: not ok, with a reason (whatever the adapter says).
    for model_id in ("wan2.1-t2v-1.3b", "cogvideox-2b", "ltx-video", "inhouse-http", "kling-clips"):
        assert rows[model_id]["ok"] is False and len(rows[model_id]["detail"]) > 10, rows[model_id]
    assert set(rows) >= {"python-callable"}  # its check depends only on the python adapter's own rules


def test_models_check_human_readable(models_file: Path) -> None:
    result = CliRunner().invoke(build_app(), ["models", "check", "--models-file", str(models_file)])
    assert result.exit_code == 0, result.output
    marks = {line.split()[1]: line.split()[0] for line in result.output.splitlines() if line.strip()}
    assert all(marks[m] == "ok" for m in DEMO_MODELS)
    assert marks["kling-clips"] == "FAIL"


@pytest.mark.parametrize("model_id", DEMO_MODELS)
def test_generate_writes_a_decodable_mp4_with_the_snapped_size(
    model_id: str, models_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "clips" / f"{model_id}.mp4"
    args = ["generate", model_id, "一只红色的球向左移动", "--out", str(out), "--seed", "3", "--frames", "12"]
    args += ["--size", "130x96", "--models-file", str(models_file)]
    result = CliRunner().invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    assert "12 frames 128x96" in result.output and "width 130->128" in result.output and "seed 3" in result.output
    frames, fps = decode_mp4(out)
    assert frames.shape == (12, 96, 128, 3) and fps == pytest.approx(8.0)
    red = np.linalg.norm(frames.astype(np.float32) - np.asarray(PALETTE["red"], np.float32), axis=-1) < 60
    if model_id == "demo-colourblind":
        assert not red.any()  # the model that ignores the subject never draws the red ball
    else:
        assert red.any(axis=(1, 2)).all()
    if model_id == "demo-frozen":
        assert np.abs(np.diff(frames.astype(np.int16), axis=0)).max() <= 2  # only codec noise


def test_generate_unknown_model_fails(models_file: Path, tmp_path: Path) -> None:
    args = ["generate", "no-such-model", "a red ball", "--out", str(tmp_path / "x.mp4")]
    result = CliRunner().invoke(build_app(), [*args, "--models-file", str(models_file)])
    assert result.exit_code != 0 and not (tmp_path / "x.mp4").exists()
