"""Bulk upserts (db.bulk): row by row (executemany) and staged (Postgres: COPY into a temporary table, one
INSERT … SELECT … ON CONFLICT) give the same rows: `add` columns summed, `keep` columns kept, others replaced."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from db.bulk import bulk_upsert
from db.models import Rater
from db.session import make_engine, make_session_factory, transaction, upgrade


def upsert_twice(url: str, staged: int) -> dict[str, tuple[int, int, float, int]]:
    """Two upserts into `raters` (the second overlapping the first) in two transactions; the rows after."""
    tag = uuid.uuid4().hex[:8]  # the Postgres cluster is shared by the module's tests
    keys = [f"{tag}-{k}" for k in range(5)]
    upgrade(url)
    engine = make_engine(url)
    try:
        factory = make_session_factory(engine)
        columns = ("kind", "key", "votes", "gold_votes", "gold_credit", "weight_class")
        for rows in (
            [("session", key, 2, 1, 0.5, 1) for key in keys[:3]],
            [("session", key, 3, 9, 9.0, 0) for key in keys[1:]],
        ):
            with transaction(factory) as session:
                bulk_upsert(
                    session,
                    "raters",
                    ("kind", "key"),
                    dict(zip(columns, zip(*rows, strict=True), strict=True)),
                    add=("votes",),
                    keep=("gold_votes", "gold_credit"),
                    staged=staged,
                )
        with transaction(factory) as session:
            query = select(Rater.key, Rater.votes, Rater.gold_votes, Rater.gold_credit, Rater.weight_class)
            return {k[len(tag) + 1 :]: tuple(r) for k, *r in session.execute(query.where(Rater.key.in_(keys)))}
    finally:
        engine.dispose()


EXPECTED = {
    "0": (2, 1, 0.5, 1),  # first upsert only
    "1": (5, 1, 0.5, 0),  # votes added, gold kept, class replaced
    "2": (5, 1, 0.5, 0),
    "3": (3, 9, 9.0, 0),  # second only: inserted whole
    "4": (3, 9, 9.0, 0),
}


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'bulk.db'}"


def test_sqlite_upserts_add_keep_and_replace(sqlite_url: str) -> None:
    assert upsert_twice(sqlite_url, staged=1) == EXPECTED  # SQLite always goes row by row


@pytest.mark.postgres
@pytest.mark.parametrize("staged", [1, 10**9])
def test_postgres_upserts_staged_or_row_by_row_give_the_same_rows(postgres_url: str, staged: int) -> None:
    assert upsert_twice(postgres_url, staged) == EXPECTED
