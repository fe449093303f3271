"""Attacks on repeats, played by a client of the JSON API against the demo models: a clip a client saw revealed
must not come back to name a later battle. A served copy of a clip is a fresh re-encode, but its picture is the
clip's: a client that keeps thumbnails of revealed clips recognises a repeat at a glance (copies of one clip
differ by about 0.2 grey levels, two seeds of one model and prompt by about 9)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from arena.api import create_api
from arena.services.container import Arena
from tests.support.attack import decode, nearest, thumb, until_shown
from tests.support.servers import ThreadedServer
from tests.ui.conftest import test_settings as ui_settings

SAME_CLIP = 2.0  # thumbnail distance under which two clips are one clip (copies ~0.2, other seeds ~9)


@pytest.fixture
def live_arena(tmp_path: Path) -> Iterator[tuple[Arena, str]]:
    settings = ui_settings(tmp_path, default_num_frames=8, default_width=128, default_height=128, min_view_s=0)
    arena = Arena.create(settings)
    arena.start_workers()
    server = ThreadedServer(create_api(arena)).start()
    yield arena, server.url
    server.stop()
    arena.close()


def test_a_typed_prompt_repeated_never_serves_an_earlier_generation(live_arena: tuple[Arena, str]) -> None:
    """The attack of typed.py: type one text again and again, keep the thumbnails of every revealed side, and name
    the sides of the next battle by the nearest one. Reusing the first stored generation of each model for a typed
    text named every side once each model had been seen; a fresh seed per battle leaves no repeat to find."""
    _, url = live_arena
    text = "A purple square jumps over a green circle"
    library: list[tuple[str, object]] = []
    recognised = sides = 0
    with httpx.Client(base_url=url, timeout=60) as http:
        for _ in range(8):
            battle = until_shown(http, http.post("/api/battles", json={"prompt": text}).json())
            thumbs = {s: thumb(decode(http.get(battle[s]["video_url"]).content)) for s in ("left", "right")}
            guesses = {s: nearest(library, t) for s, t in thumbs.items()}  # type: ignore[arg-type]
            reveal = http.post(f"/api/battles/{battle['id']}/vote", json={"choice": "tie"}).json()
            for side in ("left", "right"):
                model = reveal[side]["model_id"]
                known = {m for m, _ in library}
                if model in known:  # a model seen before on this text: a reused clip would be recognised
                    sides += 1
                    gap, guess = guesses[side]
                    recognised += gap < SAME_CLIP and guess == model
                library.append((model, thumbs[side]))
    print(f"\ntyped repeats: {recognised} of {sides} sides of already-seen models recognised as an earlier clip")
    assert sides >= 4, "the test needs repeats of models to mean anything"
    assert recognised == 0, f"{recognised} of {sides} sides recognised"
