"""Voters' records (by session and by IP hash): votes, gold-pair checks and credit, and the weight class they
give; kept by arena.services.tallies, recounted from the votes by a rebuild or a check."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, insert, select, tuple_
from sqlalchemy.orm import Session

from arena.ratings.raters import gold_credit, weight_class
from db.models import Battle, BattleMode, Rater, Vote, VoteChoice

_WINNER = {VoteChoice.left: "model_a", VoteChoice.right: "model_b", VoteChoice.tie: "tie", VoteChoice.both_bad: "tie"}
CHUNK = 500  # keys per IN (...) list


def chunks(items: list[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class Record:
    votes: int = 0
    gold_votes: int = 0
    gold_credit: float = 0.0

    def add(self, other: Record) -> Record:
        return Record(
            self.votes + other.votes, self.gold_votes + other.gold_votes, self.gold_credit + other.gold_credit
        )

    @property
    def weight_class(self) -> int:
        return weight_class(self.gold_votes, self.gold_credit)


def gold_credit_of(choice: str, gold_better: str | None) -> float | None:
    """A vote's gold-pair credit; `gold_better` is the gold answer ("left" / "right"), None when not a gold check."""
    if gold_better is None:
        return None
    return gold_credit(_WINNER[VoteChoice(choice)], "model_a" if gold_better == "left" else "model_b")


@dataclass(frozen=True)
class Voters:
    """Votes as their voters' records see them, as columns: session, IP hash, gold-pair credit (None: not a gold
    check)."""

    session_ids: Sequence[str]
    ip_hashes: Sequence[str | None]
    gold_credits: Sequence[float | None]

    def deltas(self) -> dict[tuple[str, str], Record]:
        """What the votes add to each record, by ("session" | "ip", key): counted in C, gold checks one by one."""
        out: dict[tuple[str, str], Record] = {}
        for kind, keys in (("session", self.session_ids), ("ip", self.ip_hashes)):
            out |= {(kind, key): Record(n) for key, n in Counter(keys).items() if key is not None}
        for at in (k for k, credit in enumerate(self.gold_credits) if credit is not None):
            credit = float(self.gold_credits[at] or 0.0)
            for kind, key in (("session", self.session_ids[at]), ("ip", self.ip_hashes[at])):
                if key is not None:
                    out[(kind, key)] = out[(kind, key)].add(Record(0, 1, credit))
        return out


def gold_answer(mode: str, gold_better: str | None) -> str | None:
    """The gold answer a battle checks its voter against (anonymous battles of a gold pair, drawn as gold or not:
    see arena.services.gold), else None."""
    return gold_better if gold_better and mode == BattleMode.anonymous else None


def read_records(session: Session, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Record]:
    out = {}
    for chunk in chunks(keys):
        query = select(Rater.kind, Rater.key, Rater.votes, Rater.gold_votes, Rater.gold_credit).where(
            tuple_(Rater.kind, Rater.key).in_(chunk)
        )
        for kind, key, votes, gold, credit in session.execute(query):
            out[(kind, key)] = Record(votes, gold, credit)
    return out


def write_records(session: Session, records: dict[tuple[str, str], Record]) -> None:
    """Insert voter records (into an emptied table: a rebuild)."""
    rows = [
        {"kind": kind, "key": key, "votes": r.votes, "gold_votes": r.gold_votes, "gold_credit": r.gold_credit}
        | {"weight_class": r.weight_class}
        for (kind, key), r in records.items()
    ]
    if rows:
        session.connection().execute(insert(Rater), rows)


def recount_records(session: Session) -> dict[tuple[str, str], Record]:
    """Every voter's record recounted from the votes (sessions and IP hashes)."""
    gold = and_(Battle.gold_better.is_not(None), Battle.mode == BattleMode.anonymous)
    credit = case(
        (Vote.choice == Battle.gold_better, 1.0),
        (Vote.choice.in_([VoteChoice.tie, VoteChoice.both_bad]), 0.5),
        else_=0.0,
    )
    out: dict[tuple[str, str], Record] = {}
    for kind, column in (("session", Vote.session_id), ("ip", Vote.ip_hash)):
        query = (
            select(column, func.count(), func.sum(case((gold, 1), else_=0)), func.sum(case((gold, credit), else_=0.0)))
            .join(Battle, Battle.id == Vote.battle_id)
            .where(column.is_not(None))
            .group_by(column)
        )
        for key, votes, gold_votes, gold_credit_sum in session.execute(query):
            out[(kind, key)] = Record(int(votes), int(gold_votes or 0), float(gold_credit_sum or 0.0))
    return out
