"""Votes written in batches (group commit): each vote keeps its own answer, a batch stores exactly what its votes
would store one by one, and a vote is answered only once its batch has committed."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from arena.services.container import Arena
from arena.services.tallies import Tallies
from arena.services.tally_check import check_tallies
from arena.services.views import Refusal, Reveal
from arena.services.vote_writer import VoteWriter
from arena.services.votes import VoteRequest, VoteService
from db.models import Battle, BattleStatus, EloRating, Vote
from db.session import transaction


def stored_votes(arena: Arena) -> dict[str, str]:
    with transaction(arena.factory) as session:
        return {b: c.value for b, c in session.execute(select(Vote.battle_id, Vote.choice))}


def elo(arena: Arena) -> dict[tuple[str, ...], tuple[float, int]]:
    with transaction(arena.factory) as session:
        rows = session.scalars(select(EloRating))
        return {(r.population, r.language, r.category, r.model_id): (round(r.rating, 9), r.votes) for r in rows}


def test_a_batch_answers_each_vote_on_its_own_and_stores_only_the_accepted(arena: Arena) -> None:
    mine = [arena.battles.start(f"s{i}").id for i in range(6)]
    requests = [
        VoteRequest(mine[0], "s0", "left", ip="10.0.0.1"),
        VoteRequest(mine[1], "intruder", "left"),  # another session's battle
        VoteRequest(mine[2], "s2", "A"),  # not a choice
        VoteRequest("no-such-battle", "s3", "tie"),
        VoteRequest(mine[4], "s4", "right", {"motion": "left"}),
        VoteRequest(mine[4], "s4", "left"),  # the same battle again, in the same batch
        VoteRequest(mine[5], "s5", "both_bad", ip="10.0.0.1"),
        VoteRequest(mine[0], "s0", "right"),  # and the first one again
    ]
    outcomes = arena.votes.vote_many(requests)
    codes = [o.code if isinstance(o, Refusal) else o.choice for o in outcomes]  # type: ignore[union-attr]
    assert codes == [
        "left",
        "wrong_session",
        "invalid_choice",
        "unknown_battle",
        "right",
        "already_voted",
        "both_bad",
        "already_voted",
    ]
    revealed = [o for o in outcomes if isinstance(o, Reveal)]
    assert [r.battle_id for r in revealed] == [mine[0], mine[4], mine[5]]
    assert all(r.left.display_name and r.right.display_name and "seed" not in r.left.settings for r in revealed)
    assert stored_votes(arena) == {mine[0]: "left", mine[4]: "right", mine[5]: "both_bad"}
    with transaction(arena.factory) as session:
        assert check_tallies(session) == []
        statuses = {b: s for b, s in session.execute(select(Battle.id, Battle.status).where(Battle.id.in_(mine)))}
        records = {b: a for b, a in session.execute(select(Vote.battle_id, Vote.aspects))}
    assert [statuses[b] for b in mine] == [BattleStatus.voted, *[BattleStatus.shown] * 3, *[BattleStatus.voted] * 2]
    assert records[mine[4]] == {"motion": "left"}


def test_a_batch_moves_the_tallies_as_the_same_votes_one_by_one(
    arena_factory: Callable[..., Arena], tmp_path: Path
) -> None:
    """Two arenas, the same battles (same sessions, models and prompts: copied), the same votes: one batch against
    one vote at a time; their counts, voter records and Elo agree."""
    one = arena_factory()
    many = arena_factory(database_url=f"sqlite:///{tmp_path / 'many.db'}", media_dir=tmp_path / "many-media")
    one.pool_videos.fill(models=["alpha-7b", "beta-v2", "gamma-x"])
    many.pool_videos.fill(models=["alpha-7b", "beta-v2", "gamma-x"])
    choices = ["left", "right", "tie", "both_bad", "left", "left", "right", "tie", "left", "right", "left", "left"]
    pairs: list[tuple[str, str]] = []
    for at, choice in enumerate(choices):
        view = one.battles.start(f"s{at % 4}", ip_hash=f"ip{at % 3}")
        pairs.append((view.id, choice))
    with transaction(one.factory) as source, transaction(many.factory) as target:  # the same battles in `many`
        for battle in source.scalars(select(Battle)):
            target.merge(battle)
    for battle_id, choice in pairs:
        one.votes.vote(battle_id, one_session(one, battle_id), choice, ip=f"10.0.0.{len(choice)}")
    requests = [VoteRequest(b, one_session(many, b), c, ip=f"10.0.0.{len(c)}") for b, c in pairs]
    assert all(isinstance(o, Reveal) for o in many.votes.vote_many(requests))
    assert elo(one) == elo(many) and len(elo(one)) > 3
    for arena in (one, many):
        with transaction(arena.factory) as session:
            assert check_tallies(session) == []
    assert stored_votes(one) == stored_votes(many)


def one_session(arena: Arena, battle_id: str) -> str:
    with transaction(arena.factory) as session:
        return session.get_one(Battle, battle_id).session_id


class FailingOnBatches(Tallies):
    """Tallies whose batched write fails once it holds more than one vote (as a deadlock on Postgres would)."""

    def store_many(self, session: Any, votes: Any) -> None:
        if len(votes) > 1:
            raise RuntimeError("deadlock detected")
        super().store_many(session, votes)


def test_a_batch_that_fails_as_a_whole_is_written_again_vote_by_vote(arena: Arena) -> None:
    votes = VoteService(arena.factory, arena.battles, "salt", tallies=FailingOnBatches())
    mine = [arena.battles.start(f"s{i}").id for i in range(4)]
    requests = [VoteRequest(b, f"s{i}", "left") for i, b in enumerate(mine)] + [VoteRequest(mine[0], "s0", "tie")]
    outcomes = votes.vote_many(requests)
    assert [isinstance(o, Reveal) for o in outcomes] == [True] * 4 + [False]
    assert isinstance(outcomes[-1], Refusal) and outcomes[-1].code == "already_voted"
    assert stored_votes(arena) == dict.fromkeys(mine, "left")
    with transaction(arena.factory) as session:
        assert check_tallies(session) == []


def test_the_writer_batches_concurrent_votes_and_answers_each_after_its_commit(arena: Arena) -> None:
    batches: list[int] = []
    committed: set[str] = set()

    class Watched(VoteService):
        def vote_many(self, requests: Any) -> Any:
            batches.append(len(requests))
            outcomes = super().vote_many(requests)
            committed.update(stored_votes(arena))  # (read back after the commit: what a new reader sees)
            return outcomes

    writer = VoteWriter(Watched(arena.factory, arena.battles, "salt", tallies=arena.votes.tallies))
    mine = [(arena.battles.start(f"s{i}").id, f"s{i}") for i in range(60)]
    answers: dict[str, object] = {}
    gate = threading.Barrier(len(mine))

    def cast(battle_id: str, session_id: str) -> None:
        gate.wait()
        try:
            answers[battle_id] = writer.vote_sync(VoteRequest(battle_id, session_id, "left"))
            assert battle_id in committed  # answered only once stored
        except Refusal as refusal:
            answers[battle_id] = refusal
        if battle_id == mine[0][0]:  # and once more: refused
            with pytest.raises(Refusal, match="already has a vote"):
                writer.vote_sync(VoteRequest(battle_id, session_id, "tie"))

    threads = [threading.Thread(target=cast, args=pair) for pair in mine]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.close()
    assert all(isinstance(a, Reveal) for a in answers.values()) and len(answers) == len(mine)
    assert stored_votes(arena) == {b: "left" for b, _ in mine}
    assert max(batches) > 1, batches  # 60 voters at once do not wait for 60 commits
    assert sum(batches) == len(mine) + 1
    with pytest.raises(RuntimeError, match="closed"):
        writer.vote_sync(VoteRequest(mine[1][0], mine[1][1], "left"))


def test_votes_of_one_session_in_one_batch_still_wait_their_viewing_time(
    arena_factory: Callable[..., Arena],
) -> None:
    """The batching attack on the viewing time, sent at once so that group commit takes the votes into one batch:
    the session's first vote counts for the next within the batch (its battle is marked voted in the transaction
    before the next is checked), so one vote is accepted per viewing time, as one by one."""
    from tests.arena.test_battle_rules import battles_watched_together

    arena, views = battles_watched_together(arena_factory)
    outcomes = arena.votes.vote_many([VoteRequest(view.id, "s1", "left") for view in views])
    codes = [o.code if isinstance(o, Refusal) else o.choice for o in outcomes]  # type: ignore[union-attr]
    assert codes == ["left", "too_early", "too_early", "too_early"]
    assert list(stored_votes(arena)) == [views[0].id]
