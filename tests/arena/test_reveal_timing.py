"""The wait of a typed-prompt battle must not name a slow model: a client that times each anonymous live battle
from start to "shown" tells battles with a slow model from battles of two fast ones. Played on the service
(what the JSON API and the Gradio events call) with scripted models, one of them slow."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

from arena.services.container import Arena
from arena.services.reveal_timing import held_until
from arena.services.views import Refusal
from db.models import Battle, utcnow
from db.session import transaction

SLOW_S = 2.0
MODELS = f"""
models:
  - {{id: fast-a, display_name: Fast A, organisation: Org A, kind: scripted, params: {{colour: [255, 0, 0]}}}}
  - {{id: fast-b, display_name: Fast B, organisation: Org B, kind: scripted, params: {{colour: [0, 0, 255]}}}}
  - {{id: slow-c, display_name: Slow C, organisation: Org C, kind: scripted,
     params: {{colour: [0, 200, 0], delay_s: {SLOW_S}}}}}
"""


def timed_battle(arena: Arena, n: int, pair: list[str]) -> tuple[float, float]:
    """(seconds until the client saw it shown, seconds until it was ready in the database)."""
    start = time.monotonic()
    view = arena.battles.start("timer", prompt_text=f"a green square number {n} spins", models=pair)
    probed = voted = False
    while view.status != "shown":
        assert view.status == "generating" and time.monotonic() - start < 30, view
        with transaction(arena.factory) as session:
            made = session.get_one(Battle, view.id).status.value == "shown"
        view = arena.battles.get(view.id, "timer")  # read after the database said made
        if made and view.status == "generating" and not probed:  # held back: refused as if still generating
            try:
                arena.votes.vote(view.id, "timer", "tie")
            except Refusal as refused:
                assert refused.code == "not_ready"
            else:  # the hold ended between the read and the vote (a loaded machine): then it must be over now
                with transaction(arena.factory) as session:
                    battle = session.get_one(Battle, view.id)
                    assert held_until(session, battle, utcnow()) is None
                voted = True
            probed = True
        if voted:  # accepted: the battle is "voted" now, never "shown"
            view = arena.battles.get(view.id, "timer")
            break
        time.sleep(0.05)
        view = arena.battles.get(view.id, "timer")
    seen = time.monotonic() - start
    with transaction(arena.factory) as session:
        battle = session.get_one(Battle, view.id)
        assert battle.shown_at is not None
        ready = (battle.shown_at - battle.created_at).total_seconds()
    assert view.left_url and view.right_url
    if not voted:
        arena.votes.vote(view.id, "timer", "tie")
    return seen, ready


def test_the_wait_of_a_live_battle_names_no_slow_model(arena_factory: Callable[..., Arena], tmp_path: Path) -> None:
    models = tmp_path / "timed-models.yaml"
    models.write_text(MODELS, encoding="utf-8")
    arena = arena_factory(models_file=models)
    for n in range(3):  # history: the usual time of each model comes from its recent live battles
        timed_battle(arena, n, ["fast-a", "slow-c"])
    slow, fast = [], []
    for n in range(3):  # taken in turns, so a drift of the usual time favours neither
        slow.append(timed_battle(arena, 10 + n, ["fast-b", "slow-c"]))
        fast.append(timed_battle(arena, 20 + n, ["fast-a", "fast-b"]))
    print(
        f"\nready in the database: slow pairs {[round(r, 2) for _, r in slow]}, fast {[round(r, 2) for _, r in fast]};"
        f" seen by the client: slow {[round(s, 2) for s, _ in slow]}, fast {[round(s, 2) for s, _ in fast]}"
    )
    # The control: by when they were ready (what the client saw before), the slow model's battles stand apart.
    assert max(r for _, r in fast) < min(r for _, r in slow)
    # What the client sees: every battle waits about as long as the slow model usually takes.
    assert statistics.median(s for s, _ in fast) >= 0.8 * statistics.median(s for s, _ in slow)
