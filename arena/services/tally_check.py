"""Checking the tallies against a recount from the votes (tests, `arena votes recount --check`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from arena.services.tallies import count_keys, read_records, recount_records, vote_facts
from db.models import COUNT_KEY, Rater, VoteCount


def recount(session: Session) -> dict[tuple[Any, ...], int]:
    """vote_counts as a fresh GROUP BY over the votes would have it: key → n (for checks)."""
    facts = vote_facts(*count_keys()).subquery()
    keys = [facts.c[k] for k in COUNT_KEY]
    return {tuple(row[:-1]): int(row[-1]) for row in session.execute(select(*keys, func.count()).group_by(*keys))}


def stored_counts(session: Session) -> dict[tuple[Any, ...], int]:
    """vote_counts as stored: key → n, rows with n = 0 left out."""
    columns = [getattr(VoteCount, k) for k in COUNT_KEY]
    query = select(*columns, VoteCount.n).where(VoteCount.n != 0)
    return {tuple(row[:-1]): int(row[-1]) for row in session.execute(query)}


def check_tallies(session: Session) -> list[str]:
    """Differences between the stored tallies (counts, voter records) and a recount from the votes; [] if none."""
    problems = []
    stored, fresh = stored_counts(session), recount(session)
    for key in sorted(set(stored) | set(fresh), key=str):
        if stored.get(key, 0) != fresh.get(key, 0):
            problems.append(f"vote_counts {key}: stored {stored.get(key, 0)}, recount {fresh.get(key, 0)}")
    records = recount_records(session)
    held = read_records(session, list(records)) if records else {}
    held_all = int(session.scalar(select(func.count()).select_from(Rater)) or 0)
    for key, r in records.items():
        h = held.get(key)
        if h is None or (h.votes, h.gold_votes) != (r.votes, r.gold_votes) or abs(h.gold_credit - r.gold_credit) > 1e-9:
            problems.append(f"raters {key}: stored {h}, recount {r}")
    if held_all != len(records):
        problems.append(f"raters: {held_all} stored, {len(records)} recounted")
    return problems
