"""Votes leave and enter as data: export (JSONL, Parquet), import into a fresh arena, `arena ratings` on the DB."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from arena.cli import build_app
from arena.services.container import Arena
from arena.services.export import FIELDS, battle_rows, export_votes
from arena.services.vote_import import import_votes, read_rows
from db.models import Battle, BattleMode, Model, Prompt, Vote
from db.session import transaction
from tests.support.waiting import settled

RAW_IP = "203.0.113.77"
CHOICES = ["left", "right", "left", "tie", "both_bad", "left", "right", "left", "left", "tie", "right", "left"]


@pytest.fixture
def voted(arena: Arena) -> Arena:
    """An arena with a dozen real votes (and one named battle), cast through the services."""
    for n, choice in enumerate(CHOICES):
        view = arena.battles.start(f"s{n % 3}")
        arena.votes.vote(view.id, f"s{n % 3}", choice, {"motion": "left"} if n % 2 else None, ip=RAW_IP)
    named = settled(
        arena,
        arena.battles.start(
            "s9", prompt_text="a blue cube spins", mode=BattleMode.named, models=["alpha-7b", "gamma-x"]
        ),
        "s9",
    )
    arena.votes.vote(named.id, "s9", "right")
    return arena


def counts(arena: Arena) -> tuple[int, int]:
    with transaction(arena.factory) as session:
        return int(session.scalar(select(func.count(Battle.id)))), int(session.scalar(select(func.count(Vote.id))))


def ratings(arena: Arena) -> dict[str, tuple[float, float, float]]:
    board = arena.leaderboard.board(bootstrap_rounds=20)
    return {r["model_id"]: (r["rating"], *r["ci"]) for r in board["rows"]}


def test_battle_rows_are_fastchat_rows_without_raw_ips(voted: Arena) -> None:
    rows = battle_rows(voted.factory)
    assert len(rows) == len(CHOICES)  # anonymous only: the named battle is not a leaderboard row
    winners = {"left": "model_a", "right": "model_b", "tie": "tie", "both_bad": "tie (bothbad)"}
    assert [r["winner"] for r in rows] == [winners[c] for c in CHOICES]
    for row in rows:
        assert tuple(row) == FIELDS and row["model_a"] != row["model_b"]
        assert row["mode"] == "anonymous" and row["suite"] == "test" and row["prompt"]
        assert len(row["ip_hash"]) == 64 and RAW_IP not in json.dumps(row)
    assert len(battle_rows(voted.factory, include_named=True)) == len(CHOICES) + 1


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_export_then_import_into_a_fresh_arena(
    voted: Arena, arena_factory: Callable[..., Arena], tmp_path: Path, fmt: str
) -> None:
    path = tmp_path / f"votes.{fmt}"
    assert export_votes(voted.factory, path, fmt) == len(CHOICES) + 1
    assert RAW_IP.encode() not in path.read_bytes()
    exported = read_rows(path)
    assert {r["mode"] for r in exported} == {"anonymous", "named"}
    assert all(set(FIELDS) <= set(r) for r in exported)

    other = arena_factory(database_url=f"sqlite:///{tmp_path / 'other.db'}", media_dir=tmp_path / "other-media")
    assert counts(other) == (0, 0)
    stats = import_votes(other.factory, path)
    assert stats["added"] == len(CHOICES) + 1 and stats["skipped"] == 0
    # Same models file and suite: matched, not created; the named battle's typed prompt is new there.
    assert stats["models"] == 0 and stats["prompts"] == 1
    assert ratings(other) == ratings(voted)
    assert ratings(other)  # not vacuous
    first, second = battle_rows(voted.factory), battle_rows(other.factory)
    keep = ("battle_id", "model_a", "model_b", "winner", "choice", "session_id", "ip_hash", "aspects", "weight")
    assert [{k: r[k] for k in keep} for r in second] == [{k: r[k] for k in keep} for r in first]
    assert [r["tstamp"] for r in second] == pytest.approx([r["tstamp"] for r in first], abs=1e-5)

    again = import_votes(other.factory, path)
    assert again["added"] == 0 and again["skipped"] == len(CHOICES) + 1
    assert counts(other) == (len(CHOICES) + 1, len(CHOICES) + 1)
    assert ratings(other) == ratings(voted)


def test_board_ratings_match_within_1e6(voted: Arena, arena_factory: Callable[..., Arena], tmp_path: Path) -> None:
    from arena.ratings import BattleRows, leaderboard

    path = tmp_path / "votes.jsonl"
    export_votes(voted.factory, path)
    other = arena_factory(database_url=f"sqlite:///{tmp_path / 'other.db'}", media_dir=tmp_path / "other-media")
    import_votes(other.factory, path)
    a, b = (leaderboard(BattleRows.from_records(battle_rows(x.factory)), bootstrap_rounds=20) for x in (voted, other))
    assert a.models == b.models and len(a.models) == 3
    for x, y in zip(a.entries, b.entries, strict=True):
        assert abs(x.rating - y.rating) < 1e-6 and abs(x.ci_low - y.ci_low) < 1e-6 and abs(x.elo - y.elo) < 1e-6


def test_unknown_models_and_prompts_are_created_disabled(arena: Arena, tmp_path: Path) -> None:
    row = {"battle_id": "ext-1", "model_a": "sora", "model_b": "alpha-7b", "winner": "model_a", "mode": "anonymous"}
    row |= {"prompt_key": "cat-surfing", "prompt": "a cat surfing", "language": "en", "suite": "elsewhere"}
    path = tmp_path / "ext.jsonl"
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    stats = import_votes(arena.factory, path)
    assert stats == {"read": 1, "added": 1, "skipped": 0, "models": 1, "prompts": 1}
    with transaction(arena.factory) as session:
        sora = session.get_one(Model, "sora")
        assert not sora.enabled and sora.kind == "imported"
        prompt = session.scalars(select(Prompt).where(Prompt.key == "cat-surfing")).one()
        assert prompt.suite == "imported" and prompt.text == "a cat surfing"
    assert [r["model_a"] for r in battle_rows(arena.factory)] == ["sora"]
    for bad, message in (({**row, "winner": "left"}, "unknown winner"), ({**row, "battle_id": None}, "battle_id")):
        path.write_text(json.dumps(bad) + "\n", encoding="utf-8")
        with pytest.raises(ValueError, match=message):
            import_votes(arena.factory, path)


def test_cli_export_import_and_ratings_from_the_database(
    voted: Arena, arena_factory: Callable[..., Arena], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner, app = CliRunner(), build_app()
    monkeypatch.setenv("ARENA_DATABASE_URL", voted.settings.database_url)
    res = runner.invoke(app, ["ratings", "--json", "--bootstrap", "20"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    board = voted.leaderboard.board(bootstrap_rounds=20)
    assert {r["model_id"]: r["rating"] for r in board["rows"]} == pytest.approx(out["ratings"], abs=0.05)
    assert {r["model_id"]: r["votes"] for r in board["rows"]} == out["votes"]

    path = tmp_path / "cli.parquet"
    res = runner.invoke(app, ["votes", "export", "--format", "parquet", "--out", str(path)])
    assert res.exit_code == 0 and f"exported {len(CHOICES) + 1}" in res.output, res.output
    other = arena_factory(database_url=f"sqlite:///{tmp_path / 'cli.db'}", media_dir=tmp_path / "cli-media")
    monkeypatch.setenv("ARENA_DATABASE_URL", other.settings.database_url)
    res = runner.invoke(app, ["votes", "import", str(path)])
    assert res.exit_code == 0 and f"added {len(CHOICES) + 1}" in res.output, res.output
    res = runner.invoke(app, ["votes", "import", str(path)])
    assert res.exit_code == 0 and "added 0" in res.output, res.output
    assert json.loads(runner.invoke(app, ["ratings", "--json", "--bootstrap", "20"]).output) == out


def test_export_streams_its_rows_in_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Export memory stays at a chunk's worth whatever the number of votes: 10x the votes, about the same peak."""
    import tracemalloc

    import arena.services.export as export
    import arena.services.vote_rows as vote_rows

    monkeypatch.setattr(export, "CHUNK", 500)
    monkeypatch.setattr(vote_rows, "CHUNK", 500)
    peaks = []
    for n in (2_000, 20_000):
        source = tmp_path / f"in-{n}.jsonl"
        with source.open("w", encoding="utf-8") as fh:
            for i in range(n):
                row = {"battle_id": f"b{i}", "model_a": f"m{i % 4}", "model_b": f"m{(i + 1) % 4}", "winner": "model_a"}
                fh.write(json.dumps(row | {"prompt_key": f"p{i % 5}", "session_id": f"s{i % 50}"}) + "\n")
        with export.database(f"sqlite:///{tmp_path / f'{n}.db'}") as factory:
            import_votes(factory, source)
            tracemalloc.start()
            try:
                written = export_votes(factory, tmp_path / f"out-{n}.jsonl")
                peaks.append(tracemalloc.get_traced_memory()[1])
            finally:
                tracemalloc.stop()
        assert written == n == len((tmp_path / f"out-{n}.jsonl").read_text(encoding="utf-8").splitlines())
    assert peaks[1] < 2 * peaks[0], peaks
