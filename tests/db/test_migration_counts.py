"""Migration 0002 on a database that already has votes: nothing is lost, and the tallies are counted from them
before the first board is read."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select, text

from arena.services.leaderboard import LeaderboardService
from arena.services.tally_check import check_tallies
from arena.settings import Settings
from db.models import BoardState, Vote
from db.session import make_engine, make_session_factory, transaction, upgrade

NOW = "2026-01-02 03:04:05.000000"


def fill_0001(url: str, votes: int) -> None:
    """Models, prompts, battles and votes written with the 0001 schema (before the tallies existed)."""
    engine = make_engine(url)
    with engine.begin() as db:
        for m in ("m1", "m2", "m3"):
            db.execute(
                text(
                    "INSERT INTO models (id, display_name, organisation, licence, kind, enabled, in_house, spec,"
                    " created_at, updated_at) VALUES (:m, :m, 'o', 'l', 'demo', 1, 0, '{}', :t, :t)"
                ),
                {"m": m, "t": NOW},
            )
        for pid, lang, cat in ((1, "en", "motion"), (2, "zh", "colour")):
            db.execute(
                text(
                    "INSERT INTO prompts (id, suite, key, language, category, text, created_at)"
                    " VALUES (:i, 's', 'k', :l, :c, 'p', :t)"
                ),
                {"i": pid, "l": lang, "c": cat, "t": NOW},
            )
        for k in range(votes):
            gold = k % 10 == 0
            db.execute(
                text(
                    "INSERT INTO battles (id, mode, status, source, prompt_id, left_model_id, right_model_id,"
                    " left_token, right_token, session_id, is_gold, gold_better, created_at)"
                    " VALUES (:id, 'anonymous', 'voted', 'pool', :p, :a, :b, :lt, :rt, :s, :g, :gb, :t)"
                ),
                {
                    "id": f"b{k}",
                    "p": 1 + k % 2,
                    "a": ("m1", "m2", "m3")[k % 3],
                    "b": ("m2", "m3", "m1")[k % 3],
                    "lt": f"l{k}",
                    "rt": f"r{k}",
                    "s": f"s{k % 4}",
                    "g": gold,
                    "gb": "left" if gold else None,
                    "t": NOW,
                },
            )
            db.execute(
                text(
                    "INSERT INTO votes (battle_id, choice, aspects, session_id, ip_hash, weight, created_at)"
                    " VALUES (:b, :c, '{}', :s, :ip, 1.0, :t)"
                ),
                {"b": f"b{k}", "c": ("left", "right", "tie", "both_bad")[k % 4], "s": f"s{k % 4}", "ip": "h", "t": NOW},
            )
    engine.dispose()


def test_upgrade_keeps_every_vote_and_counts_them_at_the_next_start(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0001")
    fill_0001(url, 120)
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        assert session.scalar(select(func.count(Vote.id))) == 120
        assert session.scalar(select(func.count(Vote.id)).where(Vote.simulated.is_(False))) == 120
        assert session.get_one(BoardState, 1).stale  # counted at the next start, by the code that keeps them
    board = LeaderboardService(factory, Settings(min_votes=0, bootstrap_rounds=0)).board()  # type: ignore[call-arg]
    assert board["votes"] == 108 and {r["model_id"] for r in board["rows"]} == {"m1", "m2", "m3"}
    with transaction(factory) as session:
        assert not session.get_one(BoardState, 1).stale
        assert check_tallies(session) == []
    engine.dispose()


def test_upgrade_of_an_empty_database_needs_no_recount(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    upgrade(url)
    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as session:
        assert not session.get_one(BoardState, 1).stale
    engine.dispose()


def test_a_database_counted_in_the_old_layout_is_recounted_in_the_new_one(tmp_path: Path) -> None:
    """A database that ran the first counts migration (one row per key and choice) and was counted by the code
    of then: 0002_outcome_counts recreates the table in the new layout, keeps every vote and marks it stale."""
    url = f"sqlite:///{tmp_path / 'counted.db'}"
    upgrade(url, "0001")
    fill_0001(url, 40)
    upgrade(url, "0007_design_weight")
    engine = make_engine(url)
    with engine.begin() as db:  # what the old code left: fresh tallies, counts by choice
        db.execute(text("UPDATE board_state SET stale = 0"))
        shape = ", ".join(f"{s}_{x}" for s in ("left", "right") for x in ("frames", "width", "height", "fps"))
        db.execute(
            text(
                "INSERT INTO vote_counts (simulated, prompt_id, left_model_id, right_model_id, choice, weight,"
                f" weight_class, {shape}, n, version) VALUES (0, 1, 'm1', 'm2', 'left', 1.0, 0, {', '.join('0' * 8)},"
                " 7, 1)"
            )
        )
    engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        assert session.scalar(select(func.count(Vote.id))) == 40
        assert session.get_one(BoardState, 1).stale
        assert session.scalar(text("SELECT count(*) FROM vote_counts")) == 0
    board = LeaderboardService(factory, Settings(min_votes=0, bootstrap_rounds=0)).board()  # type: ignore[call-arg]
    assert board["votes"] == 36  # the 40 votes less the 4 gold checks, counted from the votes
    with transaction(factory) as session:
        assert check_tallies(session) == []
    engine.dispose()
