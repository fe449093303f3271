"""Checking the tallies against a recount from the votes (tests, `arena votes recount --check`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, func, select, type_coerce
from sqlalchemy.orm import Session

from arena.services.rater_records import read_records, recount_records
from arena.services.tallies import count_keys, outcome_sums, vote_facts
from db.models import COUNT_KEY, OUTCOME_COUNTS, Rater, Vote, VoteCount

Counts = dict[tuple[Any, ...], tuple[int, ...]]  # key → votes per choice (OUTCOME_COUNTS order)


def recount(session: Session) -> Counts:
    """vote_counts as a fresh GROUP BY over the votes would have it."""
    facts = vote_facts(*count_keys(), type_coerce(Vote.choice, String).label("choice")).subquery()
    keys = [facts.c[k] for k in COUNT_KEY]
    query = select(*keys, *outcome_sums(facts.c.choice)).group_by(*keys)
    return {tuple(row[: len(keys)]): tuple(int(n) for n in row[len(keys) :]) for row in session.execute(query)}


def stored_counts(session: Session) -> Counts:
    """vote_counts as stored, rows with no votes left out."""
    columns = [getattr(VoteCount, k) for k in COUNT_KEY]
    outcomes = [getattr(VoteCount, n) for n in OUTCOME_COUNTS.values()]
    out = {}
    for row in session.execute(select(*columns, *outcomes)):
        counts = tuple(int(n) for n in row[len(columns) :])
        if any(counts):
            out[tuple(row[: len(columns)])] = counts
    return out


def check_tallies(session: Session) -> list[str]:
    """Differences between the stored tallies (counts, voter records) and a recount from the votes; [] if none."""
    problems = []
    stored, fresh = stored_counts(session), recount(session)
    for key in sorted(set(stored) | set(fresh), key=str):
        if stored.get(key) != fresh.get(key):
            problems.append(f"vote_counts {key}: stored {stored.get(key)}, recount {fresh.get(key)}")
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
