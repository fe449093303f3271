"""One writing transaction at a time per process on SQLite, queued on a lock instead of in SQLite's busy handler.

SQLite lets one connection write at a time. A connection that finds the database locked sleeps in SQLite's busy
handler (1, 2, 5, … up to 100 ms between tries), so under many concurrent writers the lock sits free while the
waiters sleep, and the waits grow until the busy timeout fails requests ("database is locked"). Here a
transaction's first write statement takes a process-wide lock, released at its commit or rollback: the next
writer of this process starts the moment the last one ends. Writers of other processes still meet in SQLite's
busy handler. The lock is taken with the busy timeout, so a nested write (which SQLite itself could not serve
either) degrades to SQLite's own wait instead of hanging.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from sqlalchemy import Engine, event

_WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b|^\s*WITH\b.*\b(INSERT|UPDATE|DELETE)\b", re.I | re.S)
_HELD = "arena_write_lock"
_TRIED = "arena_write_lock_tried"


def is_write(statement: str) -> bool:
    return bool(_WRITE.match(statement))


def serialize_writes(engine: Engine, timeout_s: float) -> threading.Lock:
    """Install the lock on ``engine`` (its connections' first write waits for it); returns it (for tests)."""
    lock = threading.Lock()

    def before(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # Tried once a transaction: after a timed-out wait its first write holds SQLite's own lock, and waiting
        # again for this one (held by a writer waiting on SQLite) would stall both until the timeouts.
        if _TRIED not in conn.info and is_write(statement):
            conn.info[_TRIED] = True
            conn.info[_HELD] = lock.acquire(timeout=timeout_s)

    def release(conn: Any, *_args: Any) -> None:
        conn.info.pop(_TRIED, None)
        if conn.info.pop(_HELD, False):
            lock.release()

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "commit", release)
    event.listen(engine, "rollback", release)
    return lock
