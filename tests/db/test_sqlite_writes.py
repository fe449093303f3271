"""The process-wide SQLite write lock (db.sqlite_writes): a transaction waits for it once at most."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import create_engine, text

from db.sqlite_writes import serialize_writes


def test_a_transaction_that_timed_out_on_the_lock_does_not_wait_again(tmp_path: Path) -> None:
    """Once its wait timed out, its first write holds SQLite's lock: a second wait per write would hold the
    database for every writer until the timeouts (here 3 writes: 3 waits instead of 1)."""
    engine = create_engine(f"sqlite:///{tmp_path / 'w.db'}")
    timeout = 1.0
    lock = serialize_writes(engine, timeout)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    assert lock.acquire()  # another writer of this process holds it (stalled)
    try:
        start = time.monotonic()
        with engine.begin() as conn:
            for x in range(3):
                conn.execute(text("INSERT INTO t VALUES (:x)"), {"x": x})
        waited = time.monotonic() - start
    finally:
        lock.release()
    assert timeout <= waited < 2 * timeout, waited
    with engine.begin() as conn:  # and the next transaction takes the free lock and releases it
        conn.execute(text("INSERT INTO t VALUES (3)"))
        assert lock.locked()
    assert not lock.locked()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 4
