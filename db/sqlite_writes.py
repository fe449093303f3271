"""One writing transaction at a time on a SQLite file, queued on locks instead of in SQLite's busy handler.

SQLite lets one connection write at a time. A connection that finds the database locked sleeps in SQLite's busy
handler (1, 2, 5, … up to 100 ms between tries), so under many concurrent writers the lock sits free while the
waiters sleep, and the waits grow until the busy timeout fails requests ("database is locked"). Here a
transaction's first write statement takes a process-wide lock and then a lock on a file beside the database
(``<database>-writer.lock``), so writers of this process and of other app processes on the same file take turns;
both are released only after the connection's real commit or rollback (SQLAlchemy's ``commit`` event fires
before it, and a writer let in then would meet SQLite's lock and sleep). The locks are taken with the busy
timeout, so a nested write (which SQLite itself could not serve either) degrades to SQLite's own wait instead of
hanging.
"""

from __future__ import annotations

import fcntl
import os
import re
import sqlite3
import threading
import time
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

_WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b|^\s*WITH\b.*\b(INSERT|UPDATE|DELETE)\b", re.I | re.S)
_POLL_S = 0.0005  # between tries of a file lock held by another process (flock has no timeout of its own)


def is_write(statement: str) -> bool:
    return bool(_WRITE.match(statement))


class WriteLock:
    """The lock a writing transaction holds: this process's, then (for a file database) the file's.

    ``filelock`` would do the file part, but it opens the lock file on every acquire (78 µs against 0.8 µs for
    ``flock`` on a descriptor kept open, measured here); a writer of this process holds the thread lock first, so
    one descriptor per process is enough."""

    def __init__(self, path: Path | None) -> None:
        self.thread = threading.Lock()
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644) if path is not None else None
        if self._fd is not None:  # closed with the lock (an engine's, when the engine goes)
            weakref.finalize(self, os.close, self._fd)

    def acquire(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        if not self.thread.acquire(timeout=timeout_s):
            return False
        if self._fd is None:
            return True
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    self.thread.release()
                    return False
                time.sleep(_POLL_S)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self.thread.release()

    def locked(self) -> bool:
        return self.thread.locked()


class _Connection(sqlite3.Connection):
    """A DB-API connection that releases its write lock after its commit or rollback has run."""

    write_lock: WriteLock | None = None  # held by this connection's open transaction, if any
    write_lock_tried = False  # its first write waited for the lock (once a transaction: see below)

    def _release(self) -> None:
        held, self.write_lock, self.write_lock_tried = self.write_lock, None, False
        if held is not None:
            held.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._release()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._release()

    def close(self) -> None:  # an invalidated connection is closed without either
        try:
            super().close()
        finally:
            self._release()


def connect_args(timeout_s: float) -> dict[str, Any]:
    """The ``connect_args`` of an engine whose writes :func:`serialize_writes` queues."""
    return {"check_same_thread": False, "timeout": timeout_s, "factory": _Connection}


def lock_path(database: str) -> Path | None:
    """The lock file of a SQLite database path (None for an in-memory database: one process only)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(f"{database}-writer.lock")


def serialize_writes(engine: Engine, timeout_s: float) -> WriteLock:
    """Queue the writes of ``engine`` (made with :func:`connect_args`): a transaction's first write waits for the
    lock, which its commit or rollback releases; returns the lock (for tests)."""
    lock = WriteLock(lock_path(engine.url.database or ""))

    def before(_conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        # Tried once a transaction: after a timed-out wait its first write holds SQLite's own lock, and waiting
        # again for this one (held by a writer waiting on SQLite) would stall both until the timeouts.
        dbapi = cursor.connection
        if not isinstance(dbapi, _Connection):
            raise TypeError("serialize_writes needs an engine made with connect_args=sqlite_writes.connect_args(...)")
        if not dbapi.write_lock_tried and is_write(statement):
            dbapi.write_lock_tried = True
            if lock.acquire(timeout_s):
                dbapi.write_lock = lock

    event.listen(engine, "before_cursor_execute", before)
    return lock
