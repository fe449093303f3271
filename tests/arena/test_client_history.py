"""A client's history does not slow its next battle: the per-client reads of a start, a vote and a reveal (open
battles to cap, clips already revealed, the last vote) go through client-first indexes, so their work follows what
is open or asked, not how many battles the session or the network address had before (a lab behind one NAT address
votes for weeks). Work is counted in SQLite virtual-machine steps (its progress handler): deterministic, no clock."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable

from sqlalchemy import event, select

from arena.services.container import Arena
from arena.services.pool import revealed_to
from db.models import Battle, Prompt
from tests.support.history import add_copies


def _counting(arena: Arena) -> Callable[[], int]:
    """Attach a step counter to every new SQLite connection of the arena; returns a reader of the count."""
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0  # 0: go on

    @event.listens_for(arena.engine, "connect")
    def _attach(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.set_progress_handler(count, 1)

    arena.engine.dispose()  # connections made from now on count
    return lambda: steps[0]


def test_a_start_vote_and_reveal_cost_the_same_after_thousands_of_battles_from_that_client(arena: Arena) -> None:
    """Apart from counting the clips this client has seen named (which reads each of its revealed battles on the
    prompt, through its indexes: see the next test), a battle costs the same SQLite work after 4,000 battles of
    the same session and address as on a fresh database."""
    steps = _counting(arena)
    with arena.factory() as session:
        prompt_id = session.scalars(select(Prompt.id).order_by(Prompt.id)).first()
    assert prompt_id is not None

    def one_battle() -> int:
        before = steps()
        view = arena.battles.start("me", prompt_id=prompt_id, ip_hash="one-address")
        arena.votes.vote(view.id, "me", "left")
        arena.votes.reveal(view.id, "me")
        with arena.factory() as session:
            counted = steps()
            revealed_to(session, prompt_id, "me", "one-address")  # what the start spent on it
            revealed = steps() - counted
        return counted - before - revealed

    fresh = statistics.median(one_battle() for _ in range(5))
    _add_history(arena, 4000)
    later = statistics.median(one_battle() for _ in range(5))
    assert fresh > 0 and later < 1.3 * fresh, (fresh, later)


def test_the_clips_a_client_saw_named_are_counted_through_its_prompt_indexes(arena: Arena) -> None:
    """The count of this client's revealed clips on a prompt equals a count of the rows, and SQLite groups it
    itself, searching the session's and the address's entries for that prompt (never scanning the battles)."""
    for _ in range(6):
        view = arena.battles.start("me", ip_hash="one-address")
        arena.votes.vote(view.id, "me", "left")
        arena.votes.reveal(view.id, "me")
    _add_history(arena, 50)
    with arena.factory() as session:
        prompt_id = session.scalars(select(Battle.prompt_id).where(Battle.session_id == "me")).first()
        assert prompt_id is not None
        captured: list[tuple[str, object]] = []
        listen = lambda _c, _cur, statement, params, *_: captured.append((statement, params))  # noqa: E731
        event.listen(arena.engine, "before_cursor_execute", listen)
        try:
            counts = revealed_to(session, prompt_id, "me", "one-address")
        finally:
            event.remove(arena.engine, "before_cursor_execute", listen)
        rows = session.execute(
            select(Battle.left_video_id, Battle.right_video_id).where(
                Battle.prompt_id == prompt_id, Battle.session_id == "me", Battle.revealed_at.is_not(None)
            )
        ).all()
        assert counts == Counter(v for row in rows for v in row) and counts
        ((statement, params),) = captured
        plan = [row[-1] for row in session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)]
    assert any("SEARCH battles USING INDEX ix_battles_session_prompt" in p for p in plan), plan
    assert any("SEARCH battles USING INDEX ix_battles_ip_prompt" in p for p in plan), plan
    assert not any(p.startswith("SCAN battles") for p in plan), plan


def _add_history(arena: Arena, n: int) -> None:
    """``n`` more voted and revealed battles of the session "me" and its address, copies of its own."""
    with arena.factory() as session, session.begin():
        voted = session.scalars(select(Battle).where(Battle.session_id == "me", Battle.revealed_at.is_not(None))).all()
        assert voted
        add_copies(session, voted, n)
