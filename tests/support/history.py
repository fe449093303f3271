"""A client's long history, made fast: copies of battles inserted in one statement (tests/arena/test_client_history.py
and benchmarks/client_history.py)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from sqlalchemy import insert
from sqlalchemy.orm import Session

from db.models import Battle

_UNIQUE = ("id", "left_token", "right_token")


def add_copies(session: Session, battles: Sequence[Battle], n: int, session_ids: Sequence[str] = ()) -> None:
    """Insert ``n`` copies of ``battles`` (cycled), each under a fresh id and fresh tokens; with ``session_ids``,
    copy i belongs to ``session_ids[i % len(session_ids)]``."""
    rows = [{c.name: getattr(b, c.name) for c in Battle.__table__.columns} for b in battles]
    copies = []
    for i in range(n):
        copy = rows[i % len(rows)] | {k: secrets.token_hex(16) for k in _UNIQUE}
        if session_ids:
            copy["session_id"] = session_ids[i % len(session_ids)]
        copies.append(copy)
    session.execute(insert(Battle), copies)
