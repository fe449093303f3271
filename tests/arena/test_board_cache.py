"""One page of the leaderboard fits the votes once: the snapshot memoizes, the service reuses a recent snapshot
until a vote changes it, and `arena ratings` on the database shows the same board as the service."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable

import pytest
from typer.testing import CliRunner

import arena.ratings as engine
from arena.cli import build_app
from arena.services.container import Arena
from arena.services.leaderboard import VoteSnapshot
from arena.services.vote_rows import SnapshotAudit
from db.models import Battle
from db.session import transaction

WORKING = ["alpha-7b", "beta-v2", "gamma-x"]


def cast_votes(arena: Arena, n: int, session: str = "s1", knows: tuple[str, str] | None = None) -> None:
    """``n`` votes, left twice then right; ``knows`` (better, worse): that pair is answered right, as a careful
    voter answers a gold check (every battle of a gold pair is one)."""
    for k in range(n):
        view = arena.battles.start(session)
        choice = "left" if k % 3 else "right"
        if knows is not None:
            with transaction(arena.factory) as db:
                battle = db.get_one(Battle, view.id)
                if {battle.left_model_id, battle.right_model_id} == set(knows):
                    choice = "left" if battle.left_model_id == knows[0] else "right"
        arena.votes.vote(view.id, session, choice)


@pytest.fixture
def fits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Bootstrap rounds of every Bradley–Terry fit the leaderboard runs."""
    calls: list[int] = []
    real = engine.leaderboard

    def counted(rows, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(kwargs["bootstrap_rounds"])
        return real(rows, **kwargs)

    monkeypatch.setattr(engine, "leaderboard", counted)
    return calls


def test_a_snapshot_fits_once_and_verdicts_need_no_bootstrap(
    arena_factory: Callable[..., Arena], fits: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    arena = arena_factory(in_house_model="alpha-7b", bootstrap_rounds=20, min_votes=3)
    arena.pool_videos.fill(models=WORKING)
    cast_votes(arena, 15)
    snap = arena.leaderboard.snapshot(max_age_s=0)
    assert snap.battle_rows() is snap.battle_rows()  # built once per filter
    per_vote: list[int] = []
    monkeypatch.setattr(SnapshotAudit, "votes", lambda *a: per_vote.append(1) or [])
    real_elo = engine.elo.elo_array
    monkeypatch.setattr(engine.elo, "elo_array", lambda *a, **k: per_vote.append(1) or real_elo(*a, **k))

    board = snap.board()
    versus = snap.versus()
    compare = snap.compare("alpha-7b", "gamma-x")
    snap.matrices()
    assert snap.board() == board and snap.versus() == versus
    assert fits == [20]  # one bootstrap fit; the verdicts use the robust fit, not the bootstrap
    # the board is the fit with the gate applied before it
    direct = engine.leaderboard(snap.battle_rows(), bootstrap_rounds=20, seed=0, min_votes=3)
    assert [(r["model_id"], r["rank"], r["rating"]) for r in board["rows"]] == [
        (e.model, e.rank, round(e.rating, 1)) for e in direct.entries
    ]
    assert compare == snap.compare("alpha-7b", "gamma-x")
    snap.board(category="motion")
    snap.board(category="motion")
    assert fits == [20, 20, 20]  # one more per filter (and the direct fit above)
    assert per_vote == [1]  # only the direct fit above replays Elo; no view reads one row per vote


def test_the_service_reuses_a_recent_snapshot_until_a_vote_arrives(arena: Arena) -> None:
    cast_votes(arena, 3)
    first = arena.leaderboard.snapshot()
    assert arena.leaderboard.snapshot() is first  # young and no new vote: the same snapshot (and its fits)
    assert arena.leaderboard.board() == first.board()
    assert arena.leaderboard.snapshot(max_age_s=0) is not first  # 0 forces a read
    second = arena.leaderboard.snapshot()
    cast_votes(arena, 1)
    third = arena.leaderboard.snapshot()
    assert third is not second and len(third.rows()) == 4  # a vote is on the board at once
    assert arena.leaderboard.board()["votes"] == 4
    arena.leaderboard.snapshot_max_age_s = 0.0
    assert arena.leaderboard.snapshot() is not arena.leaderboard.snapshot()  # no caching at age 0


def test_snapshot_is_shared_safely_between_threads(arena: Arena, fits: list[int]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    cast_votes(arena, 6)
    arena.leaderboard.snapshot(max_age_s=0)
    with ThreadPoolExecutor(4) as pool:
        boards = list(pool.map(lambda _: arena.leaderboard.board(), range(8)))
    assert all(b == boards[0] for b in boards) and boards[0]["votes"] == 6
    assert len(fits) == 1  # eight concurrent requests, one fit


def test_cli_ratings_from_the_database_is_the_board(
    arena_factory: Callable[..., Arena], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Gold battles are left off, failing sessions excluded, and the settings' anchor and min_votes apply."""
    arena = arena_factory(gold_pairs=["alpha-7b>beta-v2"], gold_rate=1.0, gold_policy="exclude")
    arena.pool_videos.fill(models=WORKING)
    for _ in range(3):  # a careless session fails every gold pair...
        view = arena.battles.start("careless")
        with transaction(arena.factory) as db:
            worse = "left" if db.get_one(Battle, view.id).left_model_id == "beta-v2" else "right"
        arena.votes.vote(view.id, "careless", worse)
    arena.battles.gold_rate = 0.0
    cast_votes(arena, 6, "careless")  # ...so its board votes weigh nothing
    cast_votes(arena, 24, "careful", knows=("alpha-7b", "beta-v2"))
    for key, value in {
        "DATABASE_URL": arena.settings.database_url,
        "GOLD_POLICY": "exclude",
        "ANCHOR_MODEL": "beta-v2",
        "MIN_VOTES": "7",
        "BOOTSTRAP_ROUNDS": "20",
    }.items():
        monkeypatch.setenv(f"ARENA_{key}", value)
    res = CliRunner().invoke(build_app(), ["ratings", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)

    from arena.services.leaderboard import LeaderboardService
    from arena.settings import get_settings

    board = LeaderboardService(arena.factory, get_settings()).board()
    assert board["rows"] and board["min_votes"] == 7
    assert {r["model_id"]: r["rating"] for r in board["rows"]} == pytest.approx(out["ratings"], abs=0.05)
    assert {r["model_id"]: r["votes"] for r in board["rows"]} == out["votes"]
    for row in board["rows"]:
        assert row["ci"] == pytest.approx(out["ci"][row["model_id"]], abs=0.05)
    assert out["ratings"].get("beta-v2", 1000.0) == pytest.approx(1000.0)  # the settings' anchor
    assert sum(out["votes"].values()) <= 2 * 30  # the 3 gold battles are not counted
    assert all(n >= 7 for n in out["votes"].values())

    explicit = CliRunner().invoke(build_app(), ["ratings", "--json", "--min-votes", "0", "--anchor", "gamma-x"])
    assert json.loads(explicit.output)["ratings"]["gamma-x"] == pytest.approx(1000.0)


def test_cli_ratings_from_the_database_imports_no_heavy_library(arena: Arena) -> None:
    cast_votes(arena, 3)
    code = (
        "import sys; from arena.cli import build_app\n"
        "try: build_app()(['ratings', '--json'])\n"
        "except SystemExit: pass\n"
        "names = ('torch', 'gradio', 'diffusers', 'open_clip', 'torchvision', 'pandas')\n"
        "print('HEAVY', [m for m in names if m in sys.modules])"
    )
    env = {"ARENA_DATABASE_URL": arena.settings.database_url, "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert "HEAVY []" in out.stdout and '"ratings"' in out.stdout, out.stdout + out.stderr


def test_snapshot_filters_the_counted_rows_once_per_filter() -> None:
    from arena.ratings import BattleRows
    from arena.settings import Settings

    rows = BattleRows.from_table(
        {
            "model_a": ["a", "a", "b"],
            "model_b": ["b", "c", "c"],
            "winner": ["model_a", "tie", "model_b"],
            "language": ["en", "zh", "en"],
            "category": ["c", "c", "d"],
            "count": [3, 2, 5],
        },
        keep=("language", "category"),
    )
    snap = VoteSnapshot(rows, {}, Settings())
    assert snap.battle_rows().total == 10 and snap.battle_rows(language="en").total == 8
    assert snap.battle_rows(language="en", category="c").models == ("a", "b")
    assert snap.battle_rows(language="zh") is snap.battle_rows(language="zh")
    assert snap.board(language="fr")["votes"] == 0 and snap.position_bias()["decisive_votes"] == 8
    with pytest.raises(RuntimeError, match="no database"):
        snap.rows()
