"""Per-vote rows, for exports and audits only (the board reads counts: arena.services.board_rows).

Rows are streamed from one joined column query in chunks (no ORM objects, no lazy loads), oldest vote first:
vote id order, the order in which the stored Elo took them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TypedDict

from sqlalchemy import func
from sqlalchemy.orm import Session, sessionmaker

from arena.services.board_rows import failed_sessions, gold_records, rater_counts
from arena.services.tallies import class_of_vote, vote_facts
from arena.services.views import aware
from arena.settings import Settings
from db.models import PINNED, Battle, BattleMode, BattleStatus, Prompt, Vote, VoteChoice
from db.session import transaction

if TYPE_CHECKING:
    from arena.ratings import GoldScore

CHUNK = 10_000
_WINNER = {
    VoteChoice.left: "model_a",
    VoteChoice.right: "model_b",
    VoteChoice.tie: "tie",
    VoteChoice.both_bad: "tie (bothbad)",
}
_COLUMNS = (
    Battle.id,
    Battle.left_model_id,
    Battle.right_model_id,
    Battle.mode,
    Battle.is_gold,
    Battle.gold_better,
    Battle.source,
    Battle.left_video_id,
    Battle.right_video_id,
    Vote.choice,
    Vote.session_id,
    Vote.ip_hash,
    Vote.aspects,
    Vote.seconds_to_vote,
    Vote.weight,
    Vote.simulated,
    Vote.created_at,
    Prompt.id,
    Prompt.key,
    Prompt.text,
    Prompt.language,
    Prompt.category,
    Prompt.suite,
)


class VotedBattleRow(TypedDict):
    """One voted battle: FastChat's fields (model_a, model_b, winner, tstamp, ...) and ours."""

    battle_id: str
    model_a: str
    model_b: str
    winner: str  # model_a, model_b, tie or "tie (bothbad)"
    choice: str  # left, right, tie or both_bad
    mode: str  # anonymous or named
    prompt_id: int
    prompt_key: str
    prompt: str
    language: str
    category: str
    suite: str
    session_id: str
    session: str  # session_id again, under the name the rater audits read
    ip_hash: str | None
    aspects: dict[str, Any]
    seconds_to_vote: float | None
    is_gold: bool
    gold_better: str | None
    weight: float
    design_weight: float
    weight_class: int
    simulated: bool
    source: str
    tstamp: float | None
    left_video_id: int | None
    right_video_id: int | None


def voted_battles(
    session: Session, *, include_named: bool = False, include_simulated: bool = False
) -> Iterator[VotedBattleRow]:
    """Every voted battle as a FastChat-style row plus our fields, streamed: anonymous ones (and named ones if
    `include_named`), human votes (and simulated ones if `include_simulated`). `weight_class` is the vote's class
    now (the worst gold record of its session and IP hash)."""
    query = vote_facts(*_COLUMNS, class_of_vote(), board_only=False).where(Battle.status == BattleStatus.voted)
    if not include_named:
        query = query.where(Battle.mode == BattleMode.anonymous)
    if not include_simulated:
        query = query.where(Vote.simulated.is_(False))
    for (
        battle_id,
        left,
        right,
        mode,
        is_gold,
        gold_better,
        source,
        left_video,
        right_video,
        choice,
        session_id,
        ip_hash,
        aspects,
        seconds,
        weight,
        simulated,
        created,
        prompt_id,
        key,
        text,
        language,
        category,
        suite,
        weight_class,
    ) in session.execute(query.order_by(Vote.id)).yield_per(CHUNK):
        yield VotedBattleRow(
            battle_id=battle_id,
            model_a=left,
            model_b=right,
            winner=_WINNER[choice],
            choice=choice.value,
            mode=mode.value,
            prompt_id=prompt_id,
            prompt_key=key,
            prompt=text,
            language=language,
            category=category,
            suite=suite,
            session_id=session_id,
            session=session_id,
            ip_hash=ip_hash,
            aspects=aspects,
            seconds_to_vote=seconds,
            is_gold=is_gold,
            gold_better=gold_better,
            weight=weight,
            design_weight=weight,  # the vote's own weight is its design weight (arena.ratings.uncertainty)
            weight_class=int(weight_class),
            simulated=bool(simulated),
            source=source,
            tstamp=aware(created).timestamp() if created else None,
            left_video_id=left_video,
            right_video_id=right_video,
        )


class SessionRecord(TypedDict):
    """How often one session voted one way on one ordered pair of models."""

    session: str
    model_a: str  # the left model
    model_b: str
    winner: str  # model_a | model_b | tie | tie (bothbad)
    count: int


def session_records(session: Session, *, include_simulated: bool = False) -> list[SessionRecord]:
    """Board votes per (session, left model, right model, winner) with their number (`count`): the input of
    rater agreement. An audit: its cost grows with sessions × pairs."""
    columns = (Vote.session_id, Battle.left_model_id, Battle.right_model_id, Vote.choice)
    query = vote_facts(*columns, func.count()).group_by(*columns)
    if not include_simulated:
        query = query.where(Vote.simulated.is_(False))
    return [
        SessionRecord(session=s, model_a=a, model_b=b, winner=_WINNER[c], count=int(n))
        for s, a, b, c, n in session.execute(query)
    ]


def video_pairs(session: Session, *, include_simulated: bool = False) -> list[tuple[int, int, str, int]]:
    """Decisive board votes per (left video, right video, choice) with their number: what a metric's agreement
    with the voters needs, grouped by the database (its cost grows with the pairs of clips shown, not votes)."""
    columns = (Battle.left_video_id, Battle.right_video_id, Vote.choice)
    decisive = Vote.choice.in_([VoteChoice.left, VoteChoice.right])
    query = vote_facts(*columns, func.count()).where(decisive, Battle.left_video_id.is_not(None)).group_by(*columns)
    if not include_simulated:
        query = query.where(Vote.simulated.is_(False))
    return [(int(a), int(b), c.value, int(n)) for a, b, c, n in session.execute(query)]


class SnapshotAudit:
    """Per-vote reads behind a snapshot (audits only; each call reads the database now, not at the snapshot)."""

    def __init__(self, factory: sessionmaker[Session], settings: Settings, simulated: bool) -> None:
        self.factory, self.settings, self.simulated = factory, settings, simulated

    def votes(self, language: str | None, category: str | None) -> list[VotedBattleRow]:
        """Board votes (not gold, not pinned), each weighted by its class now."""
        from arena.ratings.raters import class_weights

        factors = class_weights(self.settings.gold_policy)
        out = []
        with transaction(self.factory) as session:
            for v in voted_battles(session, include_simulated=self.simulated):
                if v["is_gold"] or v["source"] == PINNED:
                    continue
                if (language is None or v["language"] == language) and (category is None or v["category"] == category):
                    v["weight"] *= float(factors[v["weight_class"]])
                    out.append(v)
        return out

    def video_pairs(self) -> list[tuple[int, int, str, int]]:
        with transaction(self.factory) as session:
            return video_pairs(session, include_simulated=self.simulated)

    def rater_counts(self) -> dict[str, int]:
        with transaction(self.factory) as session:
            return rater_counts(session)

    def raters(self) -> tuple[dict[str, GoldScore], set[str], list[SessionRecord]]:
        """(gold record per session, sessions failing their own record, board votes per session and pair)."""
        with transaction(self.factory) as session:
            return (
                gold_records(session),
                failed_sessions(session),
                session_records(session, include_simulated=self.simulated),
            )
