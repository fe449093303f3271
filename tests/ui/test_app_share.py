"""`python app.py --share` with no internet: says so clearly within seconds and keeps serving locally."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.support.ports import reserved_port
from tests.ui.conftest import ROOT, write_small_suite

SHARE_MESSAGE_WITHIN_S = 15


def test_share_without_internet_falls_back_to_local(tmp_path: Path) -> None:
    with reserved_port() as port:  # held until the app has stopped
        env = {
            **os.environ,
            "ARENA_DATABASE_URL": f"sqlite:///{tmp_path / 'arena.db'}",
            "ARENA_MEDIA_DIR": str(tmp_path / "media"),
            "ARENA_PROMPTS_FILE": str(write_small_suite(tmp_path / "prompts.yaml")),
            "OMP_NUM_THREADS": "1",
            "PYTHONUNBUFFERED": "1",
        }
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py"), "--port", str(port), "--share"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout or ()], daemon=True).start()
        seen: list[str] = []

        def wait_for(marker: str, timeout_s: float) -> float:
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                try:
                    line = lines.get(timeout=0.2)
                except queue.Empty:
                    assert proc.poll() is None, f"app.py exited: {''.join(seen)}"
                    continue
                seen.append(line)
                if marker in line:
                    return time.monotonic()
            raise AssertionError(f"no {marker!r} within {timeout_s} s; output:\n{''.join(seen)}")

        try:
            running = wait_for(f"running at http://127.0.0.1:{port}/", 90)
            told = wait_for("SHARE LINK UNAVAILABLE", SHARE_MESSAGE_WITHIN_S)
            assert told - running < SHARE_MESSAGE_WITHIN_S
            assert "serving locally" in seen[-1]
            assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).json() == {"status": "ok"}
            assert httpx.get(f"http://127.0.0.1:{port}/", timeout=10).status_code == 200
        finally:
            proc.terminate()
            proc.wait(20)
