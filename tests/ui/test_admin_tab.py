"""The Admin tab: its own Blocks at /admin behind Gradio's login with the admin secret; refused without a secret;
its events act through the admin service (here: keep a session off the board, and count it again)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from arena.server import create_app
from arena.services.container import Arena
from tests.support.servers import ThreadedServer
from tests.ui.conftest import LiveApp
from tests.ui.conftest import test_settings as ui_settings

SECRET = "tab-secret-words"


@pytest.fixture
def admin_app(tmp_path: Path) -> Iterator[tuple[str, Arena]]:
    arena = Arena.create(ui_settings(tmp_path, admin_password=SECRET))
    arena.pool_videos.fill(models=["demo-faithful", "demo-frozen"], limit_prompts=1)
    server = ThreadedServer(create_app(arena)).start(timeout_s=60)
    try:
        yield server.url, arena
    finally:
        server.stop()
        arena.close()


def test_without_a_secret_the_admin_tab_is_refused(live_app: LiveApp) -> None:
    for path in ("/admin", "/admin/", "/admin/config"):
        answer = httpx.get(f"{live_app.url}{path}", timeout=10)
        assert answer.status_code == 403 and answer.json()["error"]["code"] == "admin_off", path


def test_the_admin_tab_needs_the_secret_and_acts(admin_app: tuple[str, Arena]) -> None:
    url, arena = admin_app
    assert httpx.get(f"{url}/admin/config", timeout=10).status_code == 401  # nothing without logging in
    wrong = httpx.post(f"{url}/admin/login", data={"username": "admin", "password": "guess"}, timeout=10)
    assert wrong.status_code == 400
    with pytest.raises(Exception):  # noqa: B017 - gradio_client raises its own error for a failed login
        Client(f"{url}/admin/", auth=("admin", "guess"), verbose=False)
    admin = Client(f"{url}/admin/", auth=("admin", SECRET), verbose=False, download_files=False)
    for _ in range(3):
        view = arena.battles.start("campaign")
        arena.votes.vote(view.id, "campaign", "left", ip="10.1.1.1")
    assert arena.leaderboard.board()["votes"] == 3
    message, _table = admin.predict("session", "campaign", "a test", api_name="/exclude")
    assert "3 votes" in message and arena.leaderboard.board()["votes"] == 0
    message, _table = admin.predict("session", "campaign", "", api_name="/include")
    assert "count again" in message and arena.leaderboard.board()["votes"] == 3
    report = admin.predict(api_name="/integrity")
    assert report["ok"] is True


def test_the_gradio_queues_do_not_spin_while_idle(tmp_path: Path) -> None:
    """Gradio's queue polls every 1 ms while idle (measured: ~8 % of a core per app doing nothing, on the loop
    that answers the API); both Blocks of the app poll at the arena's slower pace instead."""
    from starlette.routing import Mount

    from arena.server import PROGRESS_POLL_S, QUEUE_POLL_S

    arena = Arena.create(ui_settings(tmp_path, admin_password=SECRET))
    try:
        app = create_app(arena)
        mounted = [r.app for r in app.routes if isinstance(r, Mount) and hasattr(r.app, "get_blocks")]
        queues = [m.get_blocks()._queue for m in mounted]
        assert len(queues) == 2  # the public page and the Admin tab
        for queue in queues:
            assert queue.sleep_when_free == QUEUE_POLL_S and queue.progress_update_sleep_when_free == PROGRESS_POLL_S
    finally:
        arena.close()
