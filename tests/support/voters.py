"""Voters for concurrency and crash tests: cast votes through the services on a shared database, from threads
or from separate processes (`python -m tests.support.voters SETTINGS_JSON PREFIX COUNT`).

One session in three is careless: it answers gold checks wrongly, from one shared address, so its record and
the address's fail and move their votes to another weight class while other voters keep voting.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from arena.services.container import Arena
from arena.settings import Settings
from db.models import Battle
from db.session import transaction
from tests.support.scripted import kinds_with_scripted

GOLD = ("alpha-7b", "beta-v2")  # the gold pair: alpha-7b is known to be better
CARELESS_IP = "10.9.9.9"


def cast(arena: Arena, prefix: str, count: int) -> int:
    """Start and vote `count` battles over three sessions of `prefix` (one careless); returns votes cast."""
    cast_votes = 0
    for k in range(count):
        session = f"{prefix}-{k % 3}"
        careless = k % 3 == 0
        view = arena.battles.start(session)
        with transaction(arena.factory) as db:
            battle = db.get_one(Battle, view.id)
            right_answer = battle.gold_better  # a gold check (arena.services.gold)
        if right_answer is not None:
            choice = {"left": "right", "right": "left"}[right_answer] if careless else right_answer
        else:
            choice = ("left", "right", "tie", "both_bad")[k % 4]
        arena.votes.vote(view.id, session, choice, ip=CARELESS_IP if careless else f"10.0.0.{k % 7}")
        cast_votes += 1
    return cast_votes


def settings_json(settings: Settings) -> str:
    return settings.model_dump_json()


def main(argv: list[str]) -> None:
    values: dict[str, Any] = json.loads(argv[0])
    arena = Arena.create(Settings(**values), kinds=kinds_with_scripted())
    try:
        print("CAST", cast(arena, argv[1], int(argv[2])), flush=True)
    finally:
        arena.close()


if __name__ == "__main__":
    main(sys.argv[1:])
