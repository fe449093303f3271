"""The Gradio side of identity and input limits: uploads are off, a forged session cookie is refused, bodies
are capped, Playground refusals are messages (never Gradio's "didn't return enough output values")."""

from __future__ import annotations

import logging

import httpx
import pytest
from gradio_client import Client
from sqlalchemy import func, select

from arena.services.inputs import MAX_PROMPT_CHARS
from db.models import Battle
from db.session import transaction
from tests.ui.conftest import LiveApp
from tests.ui.helpers import client, html_with, notice


def battles(live_app: LiveApp) -> int:
    with transaction(live_app.arena.factory) as session:
        return int(session.scalar(select(func.count(Battle.id))) or 0)


def test_uploads_are_off_and_bodies_capped(live_app: LiveApp) -> None:
    with httpx.Client(base_url=live_app.url, timeout=20) as http:
        files = {"files": ("x.mp4", b"\0" * 1024, "video/mp4")}
        for route in ("/gradio_api/upload", "/gradio_api/process_recording", "/gradio_api/component_server"):
            upload = http.post(route, files=files)  # process_recording stored the file before (200)
            assert upload.status_code == 403 and upload.json()["error"]["code"] == "uploads_disabled", route
        big = http.post(
            "/gradio_api/queue/join", content=b"{" + b" " * (2 * 1024 * 1024) + b"}", headers={"content-type": "x"}
        )
        assert big.status_code == 413
        # A deep link stored the session's whole page (~80 KB) in a file for any GET naming a live session
        session_hash = client(live_app.url).session_hash
        for route in ("/gradio_api/deep_link", "/gradio_api/deep_link/", "/admin/gradio_api/deep_link"):
            linked = http.get(route, params={"session_hash": session_hash})
            assert linked.status_code == 403 and linked.json()["error"]["code"] == "deep_links_disabled", route
        assert http.get("/healthz").json() == {"status": "ok"}


def test_an_unknown_event_index_is_a_422_not_a_traceback(live_app: LiveApp, caplog: pytest.LogCaptureFixture) -> None:
    """Gradio looks fn_index up unchecked: before, each unknown one was a 500 or a dropped connection and a
    100-line traceback in the log (4 requests: 350 lines)."""
    event = {"data": [], "session_hash": "fuzz", "event_data": None, "trigger_id": None}
    with caplog.at_level(logging.WARNING), httpx.Client(base_url=live_app.url, timeout=20) as http:
        for route in ("/gradio_api/queue/join", "/gradio_api/run/predict"):
            for index in (9999, -1, 10**12, "77"):
                refused = http.post(route, json={**event, "fn_index": index})
                assert refused.status_code == 422, (route, index, refused.text[:200])
                assert refused.json()["error"] == {"code": "invalid", "reason": "fn_index: no such event on this page"}
        assert http.get("/healthz").json() == {"status": "ok"}
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "no traceback per request"
    html_with(client(live_app.url).predict("any", None, "", api_name="/start_battle"), "arena-pair")  # still served


def test_a_forged_session_cookie_is_refused_in_gradio_events(live_app: LiveApp) -> None:
    before = battles(live_app)
    forged = Client(live_app.url, download_files=False, verbose=False, headers={"Cookie": "arena_session=mine.abc"})
    result = forged.predict("any", None, "", api_name="/start_battle")
    assert "not issued by this server" in notice(result)
    assert battles(live_app) == before
    # A session the server signed (from the JSON API) is honoured by the Gradio events.
    token = httpx.get(f"{live_app.url}/api/session", timeout=10).json()["session"]
    signed = Client(live_app.url, download_files=False, verbose=False, headers={"Cookie": f"arena_session={token}"})
    html_with(signed.predict("any", None, "", api_name="/start_battle"), "arena-pair")
    session_id = live_app.arena.gate.signer.verify(token)
    with transaction(live_app.arena.factory) as session:
        assert session.scalar(select(func.count(Battle.id)).where(Battle.session_id == session_id)) == 1


def test_playground_refusals_are_messages(live_app: LiveApp) -> None:
    c = client(live_app.url)
    for model, prompt, seed in (
        ("", "a red ball", 0),
        ("demo-faithful", "   ", 0),
        ("no-such-model", "a red ball", 0),
        ("demo-faithful", "a red ball", 2**40),
        ("demo-faithful", "a\u0000ball", 0),
    ):
        result = c.predict(model, prompt, seed, api_name="/playground")
        assert "arena-empty" in str(result[0]) and len(str(result[0])) > len('<div class="arena-empty"></div>')


def test_prompt_boxes_take_what_the_server_takes(live_app: LiveApp) -> None:
    """The typed-prompt boxes (Arena, Side by side, Playground) stop typing at the server's own limit: they stopped at
    500 characters while the services take MAX_PROMPT_CHARS (1,000)."""
    config = httpx.get(f"{live_app.url}/config", timeout=20).json()
    limits = [c["props"].get("max_length") for c in config["components"] if c.get("type") == "textbox"]
    assert limits.count(MAX_PROMPT_CHARS) >= 3 and set(limits) <= {MAX_PROMPT_CHARS, None}, limits
