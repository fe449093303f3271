"""The admin: off without a secret, refused with a wrong one; models on and off (kept across restarts), retries,
voiding, board exclusions that the counts follow exactly, the queue, rate-limit refusals, suspicious sessions, the
export; and the typed-prompt moderation hook."""

from __future__ import annotations

import json
from base64 import b64encode
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, update

from arena.api import create_api
from arena.services.container import Arena
from arena.services.tally_check import check_tallies
from arena.services.views import BattleMode, Refusal
from db.models import Battle, BattleStatus, Vote, utcnow
from db.session import transaction
from tests.support.servers import ThreadedServer

SECRET = "s3cret-admin-words"
BEARER = {"authorization": f"Bearer {SECRET}"}


@pytest.fixture
def admin_arena(arena_factory: Callable[..., Arena]) -> Arena:
    arena = arena_factory(admin_password=SECRET, rate_limits=False, gold_rate=0.0)
    arena.pool_videos.fill(models=["alpha-7b", "beta-v2", "gamma-x"])
    return arena


@pytest.fixture
def server(admin_arena: Arena) -> Iterator[ThreadedServer]:
    srv = ThreadedServer(create_api(admin_arena)).start()
    yield srv
    srv.stop()


def board_votes(arena: Arena) -> int:
    return int(arena.leaderboard.board()["votes"])


def vote_as(
    arena: Arena, session: str, n: int, ip: str = "10.0.0.1", pick: str = "left", watched_s: float = 0.0
) -> list[str]:
    """``n`` battles voted by ``session`` from ``ip``, each ``watched_s`` after its videos were shown."""
    ids = []
    for _ in range(n):
        view = arena.battles.start(session, ip_hash=None)
        if watched_s:
            with transaction(arena.factory) as db:
                db.execute(
                    update(Battle).where(Battle.id == view.id).values(shown_at=utcnow() - timedelta(seconds=watched_s))
                )
        arena.votes.vote(view.id, session, pick, ip=ip)
        ids.append(view.id)
    return ids


def test_the_admin_api_is_off_without_a_secret_and_refuses_wrong_ones(
    arena_factory: Callable[..., Arena], tmp_path: Path
) -> None:
    off = arena_factory()
    srv = ThreadedServer(create_api(off)).start()
    try:
        answer = httpx.get(f"{srv.url}/api/admin/models", headers=BEARER, timeout=60)
        assert answer.status_code == 403 and answer.json()["error"]["code"] == "admin_off"
    finally:
        srv.stop()
    secret_file = tmp_path / "admin-secret"
    secret_file.write_text(SECRET + "\n", encoding="utf-8")
    on = arena_factory(admin_password_file=secret_file)
    srv = ThreadedServer(create_api(on)).start()
    try:
        with httpx.Client(base_url=srv.url, timeout=60) as http:
            assert http.get("/api/admin/models").status_code == 401
            assert http.get("/api/admin/models", headers={"authorization": "Bearer nope"}).status_code == 401
            assert http.get("/api/admin/models", headers=BEARER).status_code == 200
            basic = b64encode(f"anyone:{SECRET}".encode()).decode()
            assert http.get("/api/admin/models", headers={"authorization": f"Basic {basic}"}).status_code == 200
            secret_file.write_text("rotated", encoding="utf-8")  # read on each request: rotation needs no restart
            assert http.get("/api/admin/models", headers=BEARER).status_code == 401
            answers = [http.get("/api/admin/models", headers={"authorization": "Bearer guess"}) for _ in range(10)]
            assert answers[-1].status_code == 429 and "retry-after" in answers[-1].headers
            right_but_late = http.get("/api/admin/models", headers={"authorization": "Bearer rotated"})
            assert right_but_late.status_code == 429  # a guesser is kept out for a while, right or not
    finally:
        srv.stop()


def test_disabling_a_model_keeps_it_out_of_battles_across_restarts(
    admin_arena: Arena, server: ThreadedServer, arena_factory: Callable[..., Arena]
) -> None:
    with httpx.Client(base_url=server.url, headers=BEARER, timeout=60) as http:
        assert http.post("/api/admin/models/gamma-x", json={"enabled": False}).json()["enabled"] is False
        rows = {m["id"]: m for m in http.get("/api/admin/models").json()}
        assert rows["gamma-x"]["enabled"] is False and rows["gamma-x"]["admin_enabled"] is False
        assert http.post("/api/admin/models/nope", json={"enabled": False}).status_code == 404
    for _ in range(20):
        view = admin_arena.battles.start("s")
        with transaction(admin_arena.factory) as session:
            battle = session.get_one(Battle, view.id)
            assert "gamma-x" not in (battle.left_model_id, battle.right_model_id)
    again = arena_factory(gold_rate=0.0)  # a restart re-reads the models file: the admin's choice stays
    assert {m.model_id: m.enabled for m in again.states.all()}["gamma-x"] is False
    again.admin.set_enabled("gamma-x", None)  # back to the models file
    assert {m.model_id: m.enabled for m in again.states.all()}["gamma-x"] is True


def test_voiding_a_battle(admin_arena: Arena, server: ThreadedServer) -> None:
    open_ = admin_arena.battles.start("s")
    voted = vote_as(admin_arena, "t", 1)[0]
    before = board_votes(admin_arena)
    with httpx.Client(base_url=server.url, headers=BEARER, timeout=60) as http:
        assert http.post(f"/api/admin/battles/{open_.id}/void", json={"reason": "test"}).json()["status"] == "voided"
        assert http.post(f"/api/admin/battles/{voted}/void", json={"reason": "a bot"}).json()["status"] == "voided"
        again = http.post(f"/api/admin/battles/{voted}/void", json={})
        assert again.status_code == 409 and again.json()["error"]["code"] == "closed"
    with transaction(admin_arena.factory) as session:
        battle = session.get_one(Battle, open_.id)
        assert battle.status == BattleStatus.voided and battle.status_reason == "Voided by the admin: test"
        assert not any(admin_arena.media.served_path(t).exists() for t in (battle.left_token, battle.right_token))
        assert session.scalar(select(func.count(Vote.id)).where(Vote.battle_id == voted)) == 1  # the vote is kept
        assert check_tallies(session) == []
    assert board_votes(admin_arena) == before - 1
    assert admin_arena.recovery.check().ok


def test_exclusions_take_votes_off_the_board_and_back_exactly(admin_arena: Arena, server: ThreadedServer) -> None:
    vote_as(admin_arena, "honest", 4, ip="10.0.0.1")
    vote_as(admin_arena, "campaign", 6, ip="10.0.0.2")
    vote_as(admin_arena, "campaign-2", 3, ip="10.0.0.2")  # a second session from the same address
    assert board_votes(admin_arena) == 13
    ip_hash = _ip_hash_of(admin_arena, "campaign")
    with httpx.Client(base_url=server.url, headers=BEARER, timeout=60) as http:
        off = http.post("/api/admin/exclusions", json={"kind": "session", "value": "campaign", "reason": "streak"})
        assert off.json()["votes"] == 6 and board_votes(admin_arena) == 7
        vote_as(admin_arena, "campaign", 2, ip="10.0.0.3")  # later votes of an excluded session do not count
        assert board_votes(admin_arena) == 7
        by_ip = http.post("/api/admin/exclusions", json={"kind": "ip_hash", "value": ip_hash})
        assert by_ip.json()["votes"] == 9 and board_votes(admin_arena) == 4
        listed = {(e["kind"], e["value"]): e for e in http.get("/api/admin/exclusions").json()}
        assert listed[("session", "campaign")]["votes"] == 8 and listed[("session", "campaign")]["reason"] == "streak"
        assert http.delete("/api/admin/exclusions/session/campaign").json()["votes"] == 8
        assert board_votes(admin_arena) == 6  # its votes from the excluded address stay off; the two later ones count
        assert http.delete(f"/api/admin/exclusions/ip_hash/{ip_hash}").status_code == 200
        assert board_votes(admin_arena) == 15
        assert http.delete("/api/admin/exclusions/session/nobody").status_code == 404
        assert http.post("/api/admin/exclusions", json={"kind": "planet", "value": "x"}).status_code == 422
    with transaction(admin_arena.factory) as session:
        assert check_tallies(session) == []  # the counts equal a recount from the votes at every step's end


def _ip_hash_of(arena: Arena, session_id: str) -> str:
    with transaction(arena.factory) as session:
        found = session.scalar(select(Vote.ip_hash).where(Vote.session_id == session_id))
        assert found is not None
        return found


def test_suspicious_sessions_are_flagged_and_honest_ones_are_not(admin_arena: Arena, server: ThreadedServer) -> None:
    for _ in range(10):  # always the same model, and instantly
        view = admin_arena.battles.start("bot", mode=BattleMode.anonymous)
        with transaction(admin_arena.factory) as session:
            battle = session.get_one(Battle, view.id)
            favourite = "left" if battle.left_model_id == "alpha-7b" else "right"
            if "alpha-7b" not in (battle.left_model_id, battle.right_model_id):
                favourite = "tie"
        admin_arena.votes.vote(view.id, "bot", favourite, ip="10.9.9.9")
    for i in range(8):
        vote_as(admin_arena, "person", 1, pick=("left", "right", "tie")[i % 3], watched_s=9.0)
    with httpx.Client(base_url=server.url, headers=BEARER, timeout=60) as http:
        flagged = {s["session_id"]: s for s in http.get("/api/admin/suspicious").json()}
    assert "person" not in flagged and "bot" in flagged
    bot = flagged["bot"]
    assert bot["favourite"] == "alpha-7b" and bot["favourite_share"] == 1.0
    assert any("sooner than" in r for r in bot["reasons"]) and bot["fast_votes"] == 10


def test_queue_rate_limits_and_export_views(arena_factory: Callable[..., Arena]) -> None:
    arena = arena_factory(
        admin_password=SECRET, generation_workers=0, rate_limits=True, limit_votes="2/minute", gold_rate=0.0
    )
    arena.pool_videos.fill(models=["alpha-7b", "beta-v2"])
    live = arena.battles.start("q", prompt_text="a cat", mode=BattleMode.named, models=["alpha-7b", "beta-v2"])
    srv = ThreadedServer(create_api(arena)).start()
    try:
        with httpx.Client(base_url=srv.url, timeout=60) as voter:
            for _ in range(3):
                battle = voter.post("/api/battles", json={}).json()
                last = voter.post(f"/api/battles/{battle['id']}/vote", json={"choice": "tie"})
            assert last.status_code == 429
        with httpx.Client(base_url=srv.url, headers=BEARER, timeout=60) as http:
            queue = http.get("/api/admin/queue").json()
            assert {j["battle_id"] for j in queue["jobs"]} == {live.id}
            assert {line["model_id"]: line["queued"] for line in queue["lines"]} == {"alpha-7b": 1, "beta-v2": 1}
            hits = http.get("/api/admin/rate-limits").json()
            assert hits and hits[0]["action"] == "vote" and hits[0]["scope"] == "session"
            rows = [json.loads(line) for line in http.get("/api/admin/votes.jsonl").text.splitlines()]
            assert len(rows) == 2 and {r["choice"] for r in rows} == {"tie"}
            assert http.get("/api/admin/integrity").json()["ok"] is True
    finally:
        srv.stop()


def test_moderation_refuses_typed_prompts_with_a_reason(arena_factory: Callable[..., Arena], tmp_path: Path) -> None:
    blocklist = tmp_path / "blocked.txt"
    blocklist.write_text("# one word or phrase a line\nforbidden fruit\nNSFW\n", encoding="utf-8")
    arena = arena_factory(
        moderation_blocklist=blocklist, moderation_hook="tests.arena.test_admin:no_cats", generation_workers=0
    )
    arena.pool_videos.fill(models=["alpha-7b", "beta-v2"])
    for prompt, why in (
        ("A FORBIDDEN Fruit falls", "word this arena does not accept"),
        ("ｎｓｆｗ art", "word this arena does not accept"),  # full-width letters are the same word
        ("two cats play", "no cats here"),
        ("a crash please", "could not be checked"),
    ):
        with pytest.raises(Refusal) as refused:
            arena.battles.start("s", prompt_text=prompt)
        assert (refused.value.code, refused.value.status) == ("moderated", 422) and why in refused.value.reason
        with pytest.raises(Refusal):
            arena.playground.generate("alpha-7b", prompt)
    with transaction(arena.factory) as session:
        assert session.scalar(select(func.count(Battle.id))) == 0  # nothing stored for a refused prompt
    assert arena.battles.start("s", prompt_text="a dog runs").status == "generating"
    blocklist.write_text("dog\n", encoding="utf-8")  # edited while running: read again
    with pytest.raises(Refusal):
        arena.battles.start("s2", prompt_text="a dog runs")
    with pytest.raises(ValueError, match="cannot be loaded"):
        arena_factory(moderation_hook="no.such.module:fn")


def no_cats(prompt: str) -> str | None:
    """A moderation hook for the test above: refuses cats, and fails on 'crash'."""
    if "crash" in prompt:
        raise RuntimeError("the moderation service is down")
    return "no cats here" if "cat" in prompt else None


def test_the_schema_documents_the_admin_answers(admin_arena: Arena) -> None:
    """Admin answers are typed: /api/openapi.json names each route's fields (the service's dataclasses as they are)."""
    schema = create_api(admin_arena).openapi()
    components = schema["components"]["schemas"]
    for path, method, name in (
        ("/api/admin/models", "get", "ModelRow"),
        ("/api/admin/exclusions", "get", "Exclusion"),
        ("/api/admin/exclusions", "post", "ExclusionChange"),
        ("/api/admin/queue", "get", "AdminQueue"),
        ("/api/admin/suspicious", "get", "SuspiciousSession"),
        ("/api/admin/integrity", "get", "Integrity"),
    ):
        ok = schema["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok.get("items", ok) == {"$ref": f"#/components/schemas/{name}"}, (path, ok)
    model_fields = set(components["ModelRow"]["properties"])
    assert {"id", "enabled", "unavailable_reason", "retry_at", "queued", "limit"} <= model_fields
    assert set(components["Integrity"]["properties"]) == {"ok", "database", "problems"}
