"""Small helpers for the UI tests: reading what the Gradio events return."""

from __future__ import annotations

import re
import time
from typing import Any

import yaml
from gradio_client import Client

from tests.ui.conftest import MODELS_FILE

MEDIA_URL = re.compile(r'src="(media/[^"]+\.mp4)"')
NAMES = re.compile(r'<div class="name">([^<]+)</div>')


def client(url: str) -> Client:
    return Client(url, download_files=False, verbose=False)


def html_with(result: tuple[Any, ...], marker: str) -> str:
    """The one HTML output of an event that contains ``marker`` (outputs are found by content, not position)."""
    found = [v for v in result if isinstance(v, str) and marker in v]
    assert len(found) == 1, f"expected one output containing {marker!r}, got {len(found)}: {result!r}"
    return found[0]


def notice(result: tuple[Any, ...]) -> str:
    """The message line of a duel event (its first output)."""
    return str(result[0])


def start_battle(c: Client, language: str = "any", prompt_id: int | None = None, typed: str = "") -> list[str]:
    """Start an anonymous battle through the Gradio event; returns the two media URLs (A, B)."""
    result = c.predict(language, prompt_id, typed, api_name="/start_battle")
    result = until_ready(c, result)
    urls = MEDIA_URL.findall(html_with(result, "arena-pair"))
    assert len(urls) == 2, result
    return urls


def until_ready(c: Client, result: tuple[Any, ...], api_name: str = "/battle_progress") -> tuple[Any, ...]:
    """While the battle is generating, poll its progress event (as the page's timer does) until it is ready."""
    deadline = time.monotonic() + 60
    while any(isinstance(v, str) and "arena-progress" in v for v in result):
        assert time.monotonic() < deadline, "the live battle was not ready within 60 s"
        time.sleep(0.2)
        result = tuple(c.predict(api_name=api_name))
    return result


def vote(c: Client, choice: str, api_name: str = "/vote", **aspects: str) -> tuple[Any, ...]:
    return tuple(
        c.predict(
            choice,
            aspects.get("text_alignment"),
            aspects.get("motion"),
            aspects.get("visual_quality"),
            api_name=api_name,
        )
    )


def revealed_names(result: tuple[Any, ...]) -> list[str]:
    return NAMES.findall(html_with(result, "arena-reveal"))


def models_file_entries() -> list[dict[str, Any]]:
    return list(yaml.safe_load(MODELS_FILE.read_text(encoding="utf-8"))["models"])


def enabled_demo_names() -> dict[str, str]:
    """display name -> id of the enabled models (the demo ones)."""
    return {m["display_name"]: m["id"] for m in models_file_entries() if m.get("enabled", True)}
