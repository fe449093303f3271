"""Waiting for a live battle: it is created "generating" and turns "shown" (or "voided") when its jobs end."""

from __future__ import annotations

import time

from arena.services.container import Arena
from arena.services.views import BattleView


def settled(arena: Arena, view: BattleView, session_id: str, timeout_s: float = 30.0) -> BattleView:
    """The battle once it left "generating" (polling, as a page does); fails after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while view.status == "generating":
        assert time.monotonic() < deadline, f"battle {view.id} still generating after {timeout_s} s"
        time.sleep(0.05)
        view = arena.battles.get(view.id, session_id)
    return view
