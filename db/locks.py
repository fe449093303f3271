"""Transaction-scoped locks on names, for check-then-write rules that rows alone cannot guard (a count of rows
that a concurrent transaction is inserting)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def lock_names(session: Session, *names: str) -> None:
    """Hold a lock on each name until this transaction ends. On PostgreSQL an advisory transaction lock per name,
    taken in sorted order so two transactions never wait on each other in a cycle; elsewhere nothing, as SQLite
    lets one transaction write at a time (the arena's writes take that lock with their first statement)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for name in sorted(set(names)):
        session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))"), {"name": name})
