"""Bulk inserts at the driver's speed: SQLite's `executemany`, Postgres' COPY.

SQLAlchemy's executemany processes every value of every row in Python (type processors, parameter dicts); for
a million rows that is most of the time. Here the caller hands over columns of driver-ready values (str, int,
float, bool, None; JSON as text; enums by value; timestamps from :func:`timestamps`), zipped into rows once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from db.models import utcnow


def bulk_insert(session: Session, table: str, columns: Mapping[str, Sequence[Any]]) -> None:
    """Insert the rows made of `columns` (name → values, all the same length) into `table`, in the session's
    transaction."""
    rows = list(zip(*columns.values(), strict=True))
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    names = ", ".join(columns)
    cursor = session.connection().connection.cursor()
    try:
        if dialect == "sqlite":
            marks = ", ".join("?" * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
        elif dialect == "postgresql":
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            raise RuntimeError(f"bulk inserts need SQLite or Postgres, not {dialect}")
    finally:
        cursor.close()


def present(session: Session, table: str, column: str, values: Sequence[Any], chunk: int = 2000) -> set[Any]:
    """The `values` already stored in `table.column` (one query per `chunk` values, through the driver)."""
    dialect = session.get_bind().dialect.name
    cursor = session.connection().connection.cursor()
    found: set[Any] = set()
    try:
        for start in range(0, len(values), chunk):
            part = list(values[start : start + chunk])
            if dialect == "postgresql":
                cursor.execute(f"SELECT {column} FROM {table} WHERE {column} = ANY(%s)", (part,))
            else:
                cursor.execute(f"SELECT {column} FROM {table} WHERE {column} IN ({', '.join('?' * len(part))})", part)
            found.update(row[0] for row in cursor.fetchall())
    finally:
        cursor.close()
    return found


def bulk_upsert(
    session: Session,
    table: str,
    keys: Sequence[str],
    columns: Mapping[str, Sequence[Any]],
    *,
    add: Sequence[str] = (),
    keep: Sequence[str] = (),
    staged: int = 1000,
) -> None:
    """INSERT … ON CONFLICT (`keys`) DO UPDATE: columns named in `add` are added to the stored values, those in
    `keep` are only inserted, the others replace the stored values (SQLite and Postgres share the syntax; only
    the placeholders differ). Each key at most once per call. On Postgres, from `staged` rows on, the rows are
    copied into a temporary table and upserted by one statement (one statement per row costs a round trip and
    an execution each)."""
    rows = list(zip(*columns.values(), strict=True))
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect not in ("sqlite", "postgresql"):
        raise RuntimeError(f"bulk upserts need SQLite or Postgres, not {dialect}")
    names = ", ".join(columns)
    updates = ", ".join(
        f"{c} = {table}.{c} + excluded.{c}" if c in add else f"{c} = excluded.{c}"
        for c in columns
        if c not in keys and c not in keep
    )
    conflict = f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
    cursor = session.connection().connection.cursor()
    try:
        if dialect == "postgresql" and len(rows) >= staged:
            staging = f"upsert_{table}"
            cursor.execute(
                f"CREATE TEMPORARY TABLE {staging} ON COMMIT DROP AS SELECT {names} FROM {table} WITH NO DATA"
            )
            with cursor.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {staging} {conflict}")
            cursor.execute(f"DROP TABLE {staging}")
        else:
            mark = "?" if dialect == "sqlite" else "%s"
            cursor.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({', '.join([mark] * len(columns))}) {conflict}", rows
            )
    finally:
        cursor.close()


def timestamps(seconds: Sequence[float | None], dialect: str) -> list[str]:
    """Unix times (None: now) as the text a `dialect` database stores for a timezone-aware DateTime column:
    SQLAlchemy's SQLite format ("YYYY-MM-DD HH:MM:SS.ffffff", UTC), or the same with "+00:00" for Postgres."""
    now = utcnow().timestamp()
    micros = np.rint(np.array([now if s is None else s for s in seconds], dtype=np.float64) * 1e6).astype(np.int64)
    text = np.datetime_as_string(micros.astype("datetime64[us]"), unit="us").tolist()
    zone = "" if dialect == "sqlite" else "+00:00"
    return [f"{t[:10]} {t[11:]}{zone}" for t in text]


def bulk_pragmas(session: Session, cache_mebibytes: int = 512) -> None:
    """Ready this SQLite connection for a bulk load: a page cache of `cache_mebibytes` (the loads touch large
    indexes) and temporary sorts in memory; no-op elsewhere. Durability is untouched (WAL, synchronous=NORMAL)."""
    if session.get_bind().dialect.name == "sqlite":
        connection = session.connection()
        connection.exec_driver_sql(f"PRAGMA cache_size=-{cache_mebibytes * 1024}")
        connection.exec_driver_sql("PRAGMA temp_store=MEMORY")
