"""App processes sharing one database: each registers itself, beats a heartbeat, and can tell when another is gone.

On this host (its pid namespace) a process is gone when its pid runs nothing, at once (a kill -9 followed by a
restart is noticed immediately), or when, its heartbeat late, a process newer than it has taken its pid; never for
a late heartbeat alone: a living process starved of CPU, or stopped, keeps its battles. On another host, where its
pid says nothing, it is gone when its heartbeat is older than ``stale_s`` (``ARENA_PROCESS_STALE_S``, a generous
multiple of the heartbeat interval).
"""

from __future__ import annotations

import os
import secrets
import socket
from datetime import timedelta

import psutil
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from arena.services.views import aware
from db.models import Worker, utcnow
from db.session import transaction

CLOCK_SLACK_S = 2.0  # the OS's start time of a process counts from a boot time in whole seconds


def host_id() -> str:
    """This host's name and, where the OS tells, its pid namespace: pids compare only within one (two containers on
    the host's network share its name, not their pids; a restarted container is another namespace)."""
    name = socket.gethostname()
    try:
        return f"{name[:200]}/pidns:{os.stat('/proc/self/ns/pid').st_ino}"
    except OSError:
        return name[:255]


def process_start(pid: int) -> float | None:
    """When the process with ``pid`` began (seconds since the epoch); None when none (or only a zombie) has it."""
    try:
        process = psutil.Process(pid)
        return None if process.status() == psutil.STATUS_ZOMBIE else process.create_time()
    except psutil.NoSuchProcess:
        return None
    except psutil.AccessDenied:  # exists, owned by someone else: taken as the one that registered
        return 0.0


class ProcessRegistry:
    """This process's row in ``workers`` and the liveness of the others."""

    def __init__(self, factory: sessionmaker[Session], *, stale_s: float = 60.0) -> None:
        self.factory = factory
        self.stale = timedelta(seconds=stale_s)
        self.host = host_id()
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
        rows = session.execute(select(Worker.id, Worker.host, Worker.pid, Worker.started_at, Worker.heartbeat_at))
        gone = set()
        for wid, host, pid, started, beat in rows:
            if wid == self.id:
                continue
            late = aware(beat) < cutoff
            if host != self.host:  # another host: only the heartbeat tells
                ended = late
            else:  # this host: the pid tells; late, a process newer than the row that has taken its pid is not it
                began = None if pid == self.pid else process_start(pid)
                ended = began is None or (late and began > aware(started).timestamp() + CLOCK_SLACK_S)
            if ended:
                gone.add(wid)
        return gone

    def alive(self, session: Session) -> set[str]:
        ids = set(session.scalars(select(Worker.id)))
        return (ids - self.dead(session)) | {self.id}

    def forget(self, session: Session, ids: set[str]) -> None:
        if ids:
            session.execute(delete(Worker).where(Worker.id.in_(ids)))
