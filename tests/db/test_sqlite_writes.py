"""The SQLite write lock (db.sqlite_writes): a transaction waits for it once at most, holds it until its real
commit, and shares it with other processes writing the same file."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, event, text

from db.sqlite_writes import WriteLock, connect_args, lock_path, serialize_writes

ROOT = Path(__file__).resolve().parents[2]


def _engine(path: Path, timeout: float) -> tuple[Engine, WriteLock]:
    engine = create_engine(f"sqlite:///{path}", connect_args=connect_args(timeout))
    lock = serialize_writes(engine, timeout)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
    return engine, lock


def test_a_transaction_that_timed_out_on_the_lock_does_not_wait_again(tmp_path: Path) -> None:
    """Once its wait timed out, its first write holds SQLite's lock: a second wait per write would hold the
    database for every writer until the timeouts (here 3 writes: 3 waits instead of 1)."""
    timeout = 1.0
    engine, lock = _engine(tmp_path / "w.db", timeout)
    assert lock.thread.acquire()  # another writer of this process holds it (stalled)
    try:
        start = time.monotonic()
        with engine.begin() as conn:
            for x in range(3):
                conn.execute(text("INSERT INTO t VALUES (:x)"), {"x": x})
        waited = time.monotonic() - start
    finally:
        lock.thread.release()
    assert timeout <= waited < 2 * timeout, waited
    with engine.begin() as conn:  # and the next transaction takes the free lock and releases it
        conn.execute(text("INSERT INTO t VALUES (3)"))
        assert lock.locked()
    assert not lock.locked()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 4


def test_the_lock_is_held_until_the_real_commit_and_rollback_have_run(tmp_path: Path) -> None:
    """SQLAlchemy's commit event fires before the DB-API commit: a writer let in there would find SQLite still
    locked and sleep in its busy handler. Readers take no lock."""
    engine, lock = _engine(tmp_path / "w.db", 5.0)
    seen: list[tuple[str, bool]] = []
    event.listen(engine, "commit", lambda _conn: seen.append(("commit", lock.locked())))
    event.listen(engine, "rollback", lambda _conn: seen.append(("rollback", lock.locked())))
    with engine.begin() as conn:
        conn.execute(text("SELECT count(*) FROM t"))
        assert not lock.locked()
        conn.execute(text("INSERT INTO t VALUES (1)"))
        assert lock.locked()
    assert not lock.locked()
    with engine.connect() as conn:
        conn.execute(text("UPDATE t SET x = 2"))
        assert lock.locked()
        conn.rollback()
    assert not lock.locked()
    assert seen == [("commit", True), ("rollback", True)]


def test_writers_of_another_process_on_the_same_file_take_turns_on_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    _engine(path, 5.0)
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from sqlalchemy import text; from db.session import make_engine\n"
            f"engine = make_engine('sqlite:///{path}')\n"
            "with engine.begin() as conn:\n"
            "    conn.execute(text('INSERT INTO t VALUES (7)'))\n"
            "    print('holding', flush=True)\n"
            "    sys.stdin.readline()\n",
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        assert child.stdout.readline().strip() == "holding"
        other = WriteLock(lock_path(str(path)))  # this process's lock on the same file
        assert not other.acquire(0.2)  # the other process's transaction holds the file
        assert not other.locked()  # and a timed-out wait leaves this process's lock free
        child.stdin.write("\n")
        child.stdin.flush()
        assert child.wait(timeout=30) == 0
        assert other.acquire(5.0)  # its commit released the file
        other.release()
    finally:
        child.kill()
    engine, _ = _engine(path, 5.0)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT x FROM t")).scalars().all() == [7]


def test_an_engine_without_the_connection_class_is_refused(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'w.db'}")
    serialize_writes(engine, 1.0)
    with pytest.raises(TypeError, match="connect_args"), engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
