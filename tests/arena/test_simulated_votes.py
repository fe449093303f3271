"""Simulated voters' votes: the server decides they are simulated (sessions it issued to them), keeps them off the
human board, exports and rate limits, and hands such sessions out over HTTP only to the admin. Against a real
uvicorn server on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from arena.api import create_api
from arena.services.container import Arena
from arena.services.export import export_votes
from arena.services.sessions import SIMULATED_PREFIX, SessionSigner, is_simulated
from arena.simulation.voters import Population, decide
from arena.ui.simulated_tab import simulated_views
from db.models import Battle, Vote
from db.session import transaction
from tests.support.servers import ThreadedServer

ADMIN = "correct horse battery staple"


@pytest.fixture
def arena(arena_factory: Callable[..., Arena]) -> Arena:
    arena = arena_factory(rate_limits=True, limit_votes="2/minute", limit_battles="3/minute", admin_password=ADMIN)
    arena.pool_videos.fill(models=["alpha-7b", "beta-v2", "gamma-x"])
    return arena


@pytest.fixture
def server(arena: Arena) -> Iterator[ThreadedServer]:
    srv = ThreadedServer(create_api(arena)).start()
    yield srv
    srv.stop()


def _play(http: httpx.Client, token: str | None, times: int) -> list[int]:
    """Start and vote on `times` battles; the status code of each vote (or of the refused start)."""
    headers = {"x-arena-session": token} if token else {}
    codes = []
    for _ in range(times):
        battle = http.post("/api/battles", json={}, headers=headers)
        if battle.status_code != 200:
            codes.append(battle.status_code)
            continue
        headers = {"x-arena-session": token or battle.headers.get("x-arena-session") or headers["x-arena-session"]}
        vote = http.post(f"/api/battles/{battle.json()['id']}/vote", json={"choice": "left"}, headers=headers)
        codes.append(vote.status_code)
    return codes


def test_votes_of_simulated_sessions_are_stored_as_simulated_and_kept_off_human_views(
    arena: Arena, server: ThreadedServer, tmp_path: Path
) -> None:
    sim_id, sim_token = arena.gate.signer.issue_simulated("crowd")
    assert sim_id.startswith(SIMULATED_PREFIX) and is_simulated(sim_id)
    with httpx.Client(base_url=server.url, timeout=60) as http:
        assert _play(http, sim_token, 6) == [200] * 6  # past the 3-battle and 2-vote limits: not rate limited
        human = _play(http, None, 3)
    assert human[:2] == [200, 200] and human[2] == 429  # a person is limited as before
    with transaction(arena.factory) as session:
        votes = session.query(Vote).all()
        assert (
            sorted((v.simulated, is_simulated(v.session_id)) for v in votes)
            == [(False, False)] * 2 + [(True, True)] * 6
        )
    human_board = arena.leaderboard.snapshot(max_age_s=0.0).board(min_votes=0)
    sim_board = arena.leaderboard.snapshot(max_age_s=0.0, simulated=True).board(min_votes=0)
    assert human_board["votes"] == 2 and sim_board["votes"] == 8
    assert simulated_views(arena, "en")["summary"].startswith("8 votes on this board (any human votes are counted")
    out = tmp_path / "votes.jsonl"
    assert export_votes(arena.factory, out, "jsonl") == 2
    assert not any(json.loads(line)["simulated"] for line in out.read_text().splitlines())


def test_a_client_cannot_make_itself_simulated(arena: Arena, server: ThreadedServer) -> None:
    forged = [
        f"{SIMULATED_PREFIX}crowd~abc.{'A' * 27}",
        SessionSigner("another-secret").issue_simulated()[1],
    ]
    with httpx.Client(base_url=server.url, timeout=60) as http:
        for token in forged:
            answer = http.post("/api/battles", json={}, headers={"x-arena-session": token})
            assert answer.status_code == 401 and answer.json()["error"]["code"] == "invalid_session"
        ordinary = http.get("/api/session").json()["session"]
        assert not is_simulated(arena.gate.signer.require(ordinary))


def test_only_the_admin_gets_simulated_sessions_over_http(arena: Arena, server: ThreadedServer) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        body = {"count": 3, "label": "remote"}
        missing = http.post("/api/simulation/sessions", json=body)
        wrong = http.post("/api/simulation/sessions", json=body, headers={"authorization": "Bearer guess"})
        assert (missing.status_code, wrong.status_code) == (401, 401)
        assert wrong.json()["error"]["code"] == "unauthorized" and ADMIN not in wrong.text
        issued = http.post("/api/simulation/sessions", json=body, headers={"authorization": f"Bearer {ADMIN}"})
        assert issued.status_code == 200
        tokens = issued.json()["sessions"]
        assert len(set(tokens)) == 3 and all(is_simulated(arena.gate.signer.require(t)) for t in tokens)
        assert _play(http, tokens[0], 1) == [200]
    with transaction(arena.factory) as session:
        assert [v.simulated for v in session.query(Vote).all()] == [True]


def test_the_admin_route_is_off_without_an_admin_password(arena_factory: Callable[..., Arena]) -> None:
    srv = ThreadedServer(create_api(arena_factory())).start()
    try:
        answer = httpx.post(
            f"{srv.url}/api/simulation/sessions", json={}, headers={"authorization": "Bearer x"}, timeout=60
        )
        assert answer.status_code == 403 and answer.json()["error"]["code"] == "admin_off"
    finally:
        srv.stop()


def test_a_voter_prefers_the_clip_with_less_error_and_the_crowd_has_its_traits() -> None:
    good, bad = {"colour": 0.0}, {"colour": 1.0}
    rng = np.random.default_rng(0)
    careful = Population(voters=2, careless=0)
    picks = [decide(good, bad, careful, False, rng)[0] for _ in range(200)]
    assert picks.count("left") > 190
    choice, aspects = decide(bad, good, careful, False, rng)
    assert choice == "right" and aspects["text_alignment"] == "right" and aspects["motion"] == "tie"
    careless = [decide(good, bad, careful, True, rng)[0] for _ in range(400)]
    assert 160 < careless.count("left") < 240  # a coin: P(outside) < 1e-4
    leaning = Population(voters=1, careless=0, position_bias=0.4)
    picks = [decide(bad, good, leaning, False, rng)[0] for _ in range(400)]
    assert 120 < picks.count("left") < 200  # 40 % given to the left clip unseen, whatever it shows
    with pytest.raises(ValueError):
        Population(voters=2, careless=3)
    with pytest.raises(ValueError):
        Population(voters=2, position_bias=1.5)


def test_two_identical_clips_never_make_a_gold_pair(arena_factory: Callable[..., Arena], tmp_path: Path) -> None:
    models = tmp_path / "twins.yaml"
    models.write_text(
        "models:\n"
        "  - {id: twin-a, display_name: A, kind: scripted, params: {colour: [9, 9, 9], noise: 0}}\n"
        "  - {id: twin-b, display_name: B, kind: scripted, params: {colour: [9, 9, 9], noise: 0}}\n"
        "  - {id: other, display_name: C, kind: scripted, params: {colour: [200, 9, 9], noise: 0}}\n",
        encoding="utf-8",
    )
    arena = arena_factory(models_file=models, gold_pairs=["twin-a>twin-b", "twin-a>other"], gold_rate=1.0)
    arena.pool_videos.fill(models=["twin-a", "twin-b", "other"])
    sid, _ = arena.gate.signer.issue_simulated()
    for _ in range(12):
        arena.battles.start(sid)
    with transaction(arena.factory) as session:
        checks = {tuple(sorted((b.left_model_id, b.right_model_id))) for b in session.query(Battle) if b.gold_better}
    assert checks == {("other", "twin-a")}  # twin-a vs twin-b draws the same clip: no right answer, no check
