"""Server-signed sessions, rate limits per session and per IP hash, and the cap on open battles, against a real
uvicorn server on 127.0.0.1 (the JSON API) and on the services (what the Gradio events call)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from arena.api import create_api
from arena.services.container import Arena
from arena.services.open_battles import OPEN_STATUSES
from arena.services.sessions import Client, SessionSigner
from arena.services.views import Refusal
from db.models import Battle, BattleStatus
from db.session import transaction
from tests.support.servers import ThreadedServer

LIMITS: dict[str, object] = {
    "rate_limits": True,
    "limit_battles": "4/minute",
    "limit_battles_ip": "6/minute",
    "limit_votes": "2/minute",
    "limit_votes_ip": "100/minute",
    "limit_sessions_ip": "3/minute",
    "max_open_battles": 2,
    "max_open_battles_ip": 1000,
}


@pytest.fixture
def limited(arena_factory: Callable[..., Arena]) -> Arena:
    arena = arena_factory(**LIMITS)
    arena.pool_videos.fill(models=["alpha-7b", "beta-v2", "gamma-x"])
    return arena


@pytest.fixture
def server(limited: Arena) -> Iterator[ThreadedServer]:
    srv = ThreadedServer(create_api(limited)).start()
    yield srv
    srv.stop()


def test_sessions_are_issued_and_signed_by_the_server(server: ThreadedServer) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        first = http.post("/api/battles", json={})
        assert first.status_code == 200
        token = first.headers["x-arena-session"]
        assert http.cookies["arena_session"] == token and "." in token  # id.signature
        again = http.post("/api/battles", json={})  # the cookie is sent back: no new session
        assert "x-arena-session" not in again.headers
        assert http.get("/api/session").json() == {"session": token}
    session_id, signature = token.rsplit(".", 1)
    forged = [
        "my-own-session",  # invented
        f"{session_id}.{'A' * len(signature)}",  # a real id with a wrong signature
        f"{session_id}x.{signature}",  # another id with a real signature
        SessionSigner("another-secret").issue()[1],  # signed by another server
    ]
    for bad in forged:
        for how in ({"headers": {"X-Arena-Session": bad}}, {"cookies": {"arena_session": bad}}):
            with httpx.Client(base_url=server.url, timeout=30, **how) as http:  # type: ignore[arg-type]
                refused = http.post("/api/battles", json={})
                assert refused.status_code == 401, (bad, how)
                assert refused.json()["error"]["code"] == "invalid_session"
    with httpx.Client(base_url=server.url, timeout=30, headers={"X-Arena-Session": token}) as http:
        assert http.post("/api/battles", json={}).status_code == 200  # the real one, as a header


def test_a_battle_belongs_to_the_session_that_started_it(server: ThreadedServer) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as owner, httpx.Client(base_url=server.url) as other:
        battle = owner.post("/api/battles", json={}).json()
        stolen = other.post(f"/api/battles/{battle['id']}/vote", json={"choice": "left"})
        assert stolen.status_code == 403 and stolen.json()["error"]["code"] == "wrong_session"


def test_rate_limits_answer_429_with_retry_after(server: ThreadedServer) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        battles = [http.post("/api/battles", json={}) for _ in range(5)]
        assert [b.status_code for b in battles] == [200, 200, 200, 200, 429]
        refused = battles[-1]
        assert refused.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert "per minute" in refused.json()["error"]["reason"]
        votes = [http.post(f"/api/battles/{b.json()['id']}/vote", json={"choice": "tie"}) for b in battles[2:4]]
        assert [v.status_code for v in votes] == [200, 200]
        third = http.post(f"/api/battles/{battles[1].json()['id']}/vote", json={"choice": "tie"})
        assert third.status_code == 429 and third.headers["retry-after"]
    # Per IP hash: a fresh session from the same address gets 2 more battle starts (6 per minute), then 429.
    with httpx.Client(base_url=server.url, timeout=30) as http:
        codes = [http.post("/api/battles", json={}).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        assert "network address" in http.post("/api/battles", json={}).json()["error"]["reason"]


def test_new_sessions_per_address_are_limited(server: ThreadedServer) -> None:
    codes = []
    for _ in range(4):  # a client that drops its cookie every time
        with httpx.Client(base_url=server.url, timeout=30) as http:
            codes.append(http.get("/api/session").status_code)
    assert codes == [200, 200, 200, 429]


def test_open_battles_are_capped_per_session_and_per_address(limited: Arena) -> None:
    views = [limited.battles.start("s1", ip_hash="ip-a") for _ in range(3)]
    with transaction(limited.factory) as session:
        statuses = [session.get_one(Battle, v.id).status for v in views]
        reason = session.get_one(Battle, views[0].id).status_reason
    assert statuses == [BattleStatus.expired, BattleStatus.shown, BattleStatus.shown]  # max_open_battles=2
    assert reason is not None and "newer battle" in reason
    with pytest.raises(Refusal) as refused:
        limited.votes.vote(views[0].id, "s1", "left")
    assert refused.value.code == "expired"
    assert limited.votes.vote(views[1].id, "s1", "left").choice == "left"
    # Per IP hash: refused (not withdrawn), so one address cannot pile up unvoted battles across sessions.
    limited.battles.max_open_ip = 3
    for n in range(3):
        limited.battles.start(f"other-{n}", ip_hash="ip-b")
    with pytest.raises(Refusal) as refused:
        limited.battles.start("yet-another", ip_hash="ip-b")
    assert refused.value.code == "too_many_open" and refused.value.status == 429


def started_together(arena: Arena, sessions: list[str], ip_hash: str) -> list[str]:
    """Battle starts that all arrive at once (one thread each): each one's battle id, or its refusal's code."""
    barrier, out = threading.Barrier(len(sessions)), []

    def one(session_id: str) -> None:
        barrier.wait()
        try:
            out.append(arena.battles.start(session_id, ip_hash=ip_hash).id)
        except Refusal as refused:
            out.append(refused.code)

    threads = [threading.Thread(target=one, args=(s,)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return out


def open_battles(arena: Arena, *where: ColumnElement[bool]) -> int:
    with transaction(arena.factory) as session:
        query = select(func.count(Battle.id)).where(Battle.status.in_(OPEN_STATUSES), *where)
        return session.scalar(query) or 0


@pytest.fixture(params=["sqlite", "postgres"])
def limited_anywhere(request: pytest.FixtureRequest, arena_factory: Callable[..., Arena]) -> Arena:
    """``limited`` on SQLite and on PostgreSQL, where each start waits 0.1 s between counting the open battles and
    committing its own (as a loaded server might): transactions that do not take turns then miss each other."""
    url = {"database_url": request.getfixturevalue("postgres_url")} if request.param == "postgres" else {}
    arena = arena_factory(**LIMITS, **url)
    arena.pool_videos.fill(models=["alpha-7b", "beta-v2", "gamma-x"])
    counting = arena.battles._cap_open

    def slow_count(session: Session, session_id: str, ip_hash: str | None, new: str) -> list[str]:
        counted = counting(session, session_id, ip_hash, new)
        time.sleep(0.1)
        return counted

    arena.battles._cap_open = slow_count  # type: ignore[method-assign]
    return arena


def test_starts_arriving_together_cannot_pass_the_open_caps(limited_anywhere: Arena) -> None:
    """Each start counts the others that arrive with it: the caps are applied with the new battle written, not
    only before its copies are made (a check that reads before and writes after lets all of them through)."""
    limited = limited_anywhere
    started = started_together(limited, ["s1"] * 8, "ip-a")
    assert len(started) == 8 and all(len(s) == 24 for s in started)  # a session is never refused: its oldest go
    assert open_battles(limited, Battle.session_id == "s1") == 2  # max_open_battles=2
    limited.battles.max_open_ip = 3
    started = started_together(limited, [f"other-{n}" for n in range(8)], "ip-b")
    assert sorted(s for s in started if len(s) != 24) == ["too_many_open"] * 5
    assert open_battles(limited, Battle.ip_hash == "ip-b") == 3


def test_the_gate_counts_gradio_callers_too(limited: Arena) -> None:
    """The Gradio events call the same gate: the same limits, and a forged cookie is refused."""
    client, token = limited.gate.identify(None, "10.0.0.9")
    assert token is not None and limited.gate.signer.verify(token) == client.session_id
    same, none = limited.gate.identify(token, "10.0.0.9")
    assert same == client and none is None
    with pytest.raises(Refusal) as refused:
        limited.gate.identify("forged.token", "10.0.0.9")
    assert refused.value.code == "invalid_session" and refused.value.status == 401
    who = Client("gradio-session", client.ip_hash)
    for _ in range(2):
        limited.gate.allow("vote", who)
    with pytest.raises(Refusal) as refused:
        limited.gate.allow("vote", who)
    assert refused.value.status == 429 and refused.value.retry_after is not None


def test_a_bad_limit_setting_fails_at_start(arena_factory: Callable[..., Arena]) -> None:
    with pytest.raises(ValueError, match="ARENA_LIMIT_VOTES"):
        arena_factory(limit_votes="lots")


@pytest.mark.parametrize("allow", ["*", "127.0.0.1"])
def test_a_client_cannot_choose_its_address_behind_the_proxy(limited: Arena, allow: str) -> None:
    """The proxy on 127.0.0.1 appends the real client address to an X-Forwarded-For the client wrote itself. With
    FORWARDED_ALLOW_IPS=* (what the docs once said) uvicorn takes the client's own first entry, so a new invented
    address per request walks past the per-IP limit on new sessions (3 a minute here): the control. The server
    refuses "*" and with the proxy's address the real one is counted."""
    from arena.server import trusted_proxies

    if allow == "*":
        with pytest.raises(SystemExit, match="FORWARDED_ALLOW_IPS"):
            trusted_proxies(allow)
    else:
        assert trusted_proxies(None) == allow
    srv = ThreadedServer(create_api(limited), forwarded_allow_ips=allow).start()  # "*": straight to uvicorn
    try:
        codes = []
        for n in range(8):
            forwarded = {"X-Forwarded-For": f"198.51.100.{n}, 203.0.113.7"}  # invented, then the proxy's append
            with httpx.Client(base_url=srv.url, timeout=30, headers=forwarded) as http:
                codes.append(http.post("/api/battles", json={}).status_code)
    finally:
        srv.stop()
    print(f"\nFORWARDED_ALLOW_IPS={allow}: new sessions from 8 spoofed addresses answered {codes}")
    assert codes == ([200] * 8 if allow == "*" else [200, 200, 200] + [429] * 5)
