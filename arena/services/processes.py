"""App processes sharing one database: each registers itself, beats a heartbeat, and can tell when another is gone.

A process is gone when its heartbeat is stale, or at once when it ran on this host and its pid no longer exists
(a kill -9 followed by a restart is noticed immediately, not after the stale delay).
"""

from __future__ import annotations

import os
import secrets
import socket
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from arena.services.views import aware
from db.models import Worker, utcnow
from db.session import transaction


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


class ProcessRegistry:
    """This process's row in ``workers`` and the liveness of the others."""

    def __init__(self, factory: sessionmaker[Session], *, stale_s: float = 30.0) -> None:
        self.factory = factory
        self.stale = timedelta(seconds=stale_s)
        self.host = socket.gethostname()[:255]
        self.pid = os.getpid()
        self.id = f"{self.host[:40]}:{self.pid}:{secrets.token_hex(4)}"

    def register(self) -> None:
        with transaction(self.factory) as session:
            session.merge(Worker(id=self.id, host=self.host, pid=self.pid, started_at=utcnow(), heartbeat_at=utcnow()))

    def beat(self) -> None:
        with transaction(self.factory) as session:
            found = session.execute(update(Worker).where(Worker.id == self.id).values(heartbeat_at=utcnow()))
            if not getattr(found, "rowcount", 1):  # removed as stale (a long pause): come back
                session.add(Worker(id=self.id, host=self.host, pid=self.pid))

    def unregister(self) -> None:
        with transaction(self.factory) as session:
            session.execute(delete(Worker).where(Worker.id == self.id))

    def dead(self, session: Session) -> set[str]:
        """Ids of registered processes that are gone (never this one)."""
        cutoff = utcnow() - self.stale
        gone = set()
        for wid, host, pid, beat in session.execute(select(Worker.id, Worker.host, Worker.pid, Worker.heartbeat_at)):
            if wid == self.id:
                continue
            if aware(beat) < cutoff or (host == self.host and pid != self.pid and not pid_alive(pid)):
                gone.add(wid)
        return gone

    def alive(self, session: Session) -> set[str]:
        ids = set(session.scalars(select(Worker.id)))
        return (ids - self.dead(session)) | {self.id}

    def forget(self, session: Session, ids: set[str]) -> None:
        if ids:
            session.execute(delete(Worker).where(Worker.id.in_(ids)))
