"""A run killed midway with SIGKILL (a real process kill) resumes with the same run id and generates only what is
missing: no generation is made twice, no video row or file is duplicated."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.bench.conftest import bench_settings, env_for

ROOT = Path(__file__).resolve().parents[2]
PROMPTS = 12  # of the core suite, English only: 12 videos of the slow model (0.1 s each, plus start-up)


def _command() -> list[str]:
    run = "from arena.cli import main; main()"
    options = ["--suite", "core", "--limit", str(PROMPTS), "--language", "en", "--models", "slow", "--no-score"]
    return [sys.executable, "-c", run, "bench", "run", *options, "--json"]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, **env_for(bench_settings(tmp_path))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return env


def _count(db: Path, sql: str) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db, timeout=15) as connection:
        try:
            return int(connection.execute(sql).fetchone()[0])
        except sqlite3.OperationalError:  # tables not created yet
            return 0


def test_a_run_killed_midway_resumes_without_generating_anything_twice(tmp_path: Path) -> None:
    db, env = tmp_path / "arena.db", _env(tmp_path)
    first = subprocess.Popen(_command(), cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while _count(db, "select count(*) from videos") < 3:
        assert first.poll() is None, first.stderr.read().decode() if first.stderr else "exited"
        assert time.monotonic() < deadline, "the run made no video in time"
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait(30)
    assert first.returncode == -signal.SIGKILL
    stored = _count(db, "select count(*) from videos")
    assert 3 <= stored < PROMPTS, "the kill must land midway"
    assert _count(db, "select count(*) from runs where status = 'running'") == 1  # left unfinished by the kill

    done = subprocess.run(_command(), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["resumed"] is True and summary["status"] == "finished"
    assert (summary["jobs"], summary["skipped"], summary["generated"]) == (PROMPTS, stored, PROMPTS - stored)
    assert _count(db, "select count(*) from videos") == PROMPTS
    assert _count(db, "select count(distinct prompt_id) from videos") == PROMPTS
    assert _count(db, "select count(*) from runs") == 1
    assert _count(db, f"select count(*) from videos where run_id = '{summary['run_id']}'") == PROMPTS
    files = list((tmp_path / "media" / "videos").rglob("*.mp4"))  # content-addressed: identical clips share one
    assert len(files) == _count(db, "select count(distinct content_hash) from videos")
    assert not list((tmp_path / "media").rglob("*.part"))
