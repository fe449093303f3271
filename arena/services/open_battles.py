"""A client's open (unvoted) battles, counted for the caps on them at every battle start.

The statements are built once per service and bound per call: built per start, their construction cost more than
their execution (start-and-vote profile). They name the table's columns, not the mapped class's, so the session runs
them as plain Core statements.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Select, bindparam, func, or_, select
from sqlalchemy.orm import Session

from db.models import Battle, BattleStatus, utcnow

# Battles that still await a vote ("generating": its videos are being made).
OPEN_STATUSES = (BattleStatus.created, BattleStatus.generating, BattleStatus.shown)
_NONE = ""  # no battle id is empty: bound as "new" when no battle is left out


@dataclass(frozen=True)
class Counted:
    """The open battles of one start's client, the starting battle left out."""

    address: int  # of its IP hash (0 without one)
    mine: list[str]  # of its session, newest first


class OpenBattles:
    def __init__(self, ttl: timedelta) -> None:
        self.ttl = ttl
        t = Battle.__table__.c
        still_open = (t.status.in_(OPEN_STATUSES), t.created_at > bindparam("since"), t.id != bindparam("new"))
        self._address = select(func.count()).where(t.ip_hash == bindparam("ip"), *still_open)
        rows = select(t.id, t.session_id, t.ip_hash).order_by(t.created_at.desc())
        self._session = rows.where(t.session_id == bindparam("sid"), *still_open)
        either = or_(t.session_id == bindparam("sid"), t.ip_hash == bindparam("ip"))
        self._both: Select[tuple[str, str, str | None]] = rows.where(either, *still_open)

    def _values(self, **values: str | None) -> dict[str, object]:
        return {"since": utcnow() - self.ttl, "new": _NONE, **values}

    def of_address(self, session: Session, ip_hash: str | None) -> int:
        """Open battles of an IP hash."""
        if ip_hash is None:
            return 0
        return session.scalar(self._address, self._values(ip=ip_hash)) or 0

    def of_client(self, session: Session, session_id: str, ip_hash: str | None, new: str) -> Counted:
        """Open battles of a session and of an IP hash in one query, ``new`` (the starting battle) left out."""
        values = self._values(sid=session_id, ip=ip_hash, new=new)
        rows = session.execute(self._session if ip_hash is None else self._both, values).all()
        return Counted(
            address=sum(1 for _, _, ip in rows if ip_hash is not None and ip == ip_hash),
            mine=[battle_id for battle_id, sid, _ in rows if sid == session_id],
        )
