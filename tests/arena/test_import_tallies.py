"""The bulk import counts its batches from their own columns (arena.services.batch_facts), not by reading them
back: the tallies it leaves must be exactly those a recount by SQL from the stored votes gives (`Tallies.rebuild`,
the path live votes share), on random data with every case the board filters on, on SQLite and Postgres; and an
import stopped half way and run again leaves the same database as one clean run.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Text, cast, select

from arena.services.container import Arena
from arena.services.tally_check import check_tallies
from arena.services.vote_import import import_votes
from db.models import COUNT_KEY, OUTCOME_COUNTS, Battle, EloRating, Rater, Vote, VoteCount
from db.session import transaction
from tests.arena.test_tallies import random_votes, write


def varied_votes(n: int, seed: int) -> list[dict[str, Any]]:
    """`random_votes` (gold checks first, so every voter's class is settled in the first batch: the online Elo
    then equals a replay), plus named battles, pinned prompts, aspects and a duplicated battle id."""
    rows = random_votes(n, seed, gold_first=True)
    for k, row in enumerate(rows):
        if k % 17 == 3:
            row["mode"] = "named"
        if k % 23 == 5:
            row["source"] = "pinned"
        if k % 11 == 0:
            row["aspects"] = {"motion": "left", "colour": None}
    return [*rows, dict(rows[-1])]  # the repeat is skipped


def tallies(arena: Arena) -> dict[str, Any]:
    """Everything the tallies hold (vote_counts by key, zero rows left out; raters; Elo), and the votes."""
    with transaction(arena.factory) as session:
        keys = [getattr(VoteCount, k) for k in COUNT_KEY]
        outcomes = [getattr(VoteCount, n) for n in OUTCOME_COUNTS.values()]
        counts = {
            tuple(row[: len(keys)]): tuple(row[len(keys) :])
            for row in session.execute(select(*keys, *outcomes))
            if any(row[len(keys) :])
        }
        raters = {tuple(r) for r in session.execute(select(Rater.kind, Rater.key, Rater.votes, Rater.gold_votes))}
        credit = {tuple(r[:2]): r[2] for r in session.execute(select(Rater.kind, Rater.key, Rater.gold_credit))}
        classes = {tuple(r[:2]): r[2] for r in session.execute(select(Rater.kind, Rater.key, Rater.weight_class))}
        elo_columns = (EloRating.population, EloRating.language, EloRating.category, EloRating.model_id)
        elo = {
            tuple(r[:4]): (r[4], r[5]) for r in session.execute(select(*elo_columns, EloRating.rating, EloRating.votes))
        }
        votes = {
            tuple(r)
            for r in session.execute(
                select(
                    Vote.battle_id, Vote.choice, cast(Vote.aspects, Text), Vote.session_id, Vote.ip_hash, Vote.weight
                )
                .add_columns(Vote.simulated, Battle.mode, Battle.source, Battle.prompt_id, Battle.is_gold)
                .join(Battle, Battle.id == Vote.battle_id)
            )
        }
    return {"counts": counts, "raters": raters, "credit": credit, "classes": classes, "elo": elo, "votes": votes}


def assert_same(one: dict[str, Any], two: dict[str, Any]) -> None:
    for part in ("counts", "raters", "classes", "votes"):
        assert one[part] == two[part], part
    assert one["credit"] == pytest.approx(two["credit"], abs=1e-9)
    assert one["elo"].keys() == two["elo"].keys()
    for key, (rating, votes) in one["elo"].items():
        assert (rating, votes) == (pytest.approx(two["elo"][key][0], abs=1e-9), two["elo"][key][1]), key


def exclude_some(arena: Arena) -> None:
    arena.admin.exclude("session", "s13", "test")
    arena.admin.exclude("ip_hash", "ip5", "test")


def imported_equals_rebuilt(arena: Arena, tmp_path: Path) -> None:
    exclude_some(arena)
    rows = varied_votes(1800, seed=7)
    stats = import_votes(
        arena.factory, write(rows, tmp_path / "votes.jsonl"), tallies=arena.leaderboard.tallies, batch=500
    )
    assert (stats["read"], stats["added"], stats["skipped"]) == (1801, 1800, 1)
    imported = tallies(arena)
    assert len(imported["votes"]) == 1800 and imported["counts"]
    named = {r["battle_id"] for r in rows if r.get("mode") == "named"}
    assert {v[0] for v in imported["votes"] if v[7] == "named"} == named  # stored, though not on the board
    with transaction(arena.factory) as session:
        assert check_tallies(session) == []
        arena.leaderboard.tallies.rebuild(session)
    assert_same(imported, tallies(arena))
    again = import_votes(arena.factory, tmp_path / "votes.jsonl", tallies=arena.leaderboard.tallies, batch=500)
    assert (again["added"], again["skipped"]) == (0, 1801)  # every battle found stored: nothing counted twice
    assert_same(imported, tallies(arena))


@pytest.mark.parametrize("policy", ["downweight", "exclude"])
def test_an_import_leaves_exactly_the_tallies_a_rebuild_from_the_stored_votes_gives(
    arena_factory: Callable[..., Arena], tmp_path: Path, policy: str
) -> None:
    imported_equals_rebuilt(arena_factory(gold_policy=policy), tmp_path)


@pytest.mark.postgres
def test_on_postgres_an_import_leaves_exactly_the_tallies_a_rebuild_gives(
    arena_factory: Callable[..., Arena], postgres_url: str, tmp_path: Path
) -> None:
    imported_equals_rebuilt(arena_factory(database_url=postgres_url), tmp_path)


def test_an_import_stopped_by_a_bad_row_and_run_again_equals_one_clean_run(
    arena_factory: Callable[..., Arena], tmp_path: Path
) -> None:
    rows = varied_votes(1500, seed=8)
    clean = arena_factory(database_url=f"sqlite:///{tmp_path / 'clean.db'}", media_dir=tmp_path / "clean")
    exclude_some(clean)
    import_votes(clean.factory, write(rows, tmp_path / "good.jsonl"), tallies=clean.leaderboard.tallies, batch=400)

    stopped = arena_factory(database_url=f"sqlite:///{tmp_path / 'stopped.db'}", media_dir=tmp_path / "stopped")
    exclude_some(stopped)
    broken = [*rows[:1000], {**rows[1000], "winner": "left"}, *rows[1001:]]
    with pytest.raises(ValueError, match="row 1001: unknown winner"):
        import_votes(
            stopped.factory, write(broken, tmp_path / "bad.jsonl"), tallies=stopped.leaderboard.tallies, batch=400
        )
    assert len(tallies(stopped)["votes"]) == 800  # the two whole batches before the bad row's
    stats = import_votes(stopped.factory, tmp_path / "good.jsonl", tallies=stopped.leaderboard.tallies, batch=400)
    assert stats["skipped"] == 801 and stats["added"] == 700
    assert_same(tallies(stopped), tallies(clean))
