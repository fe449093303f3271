"""Votes as data: export voted battles (JSONL or Parquet); arena.services.vote_import reads such files back.

A row is FastChat-style (`model_a`, `model_b`, `winner`) plus our fields (see `FIELDS`); model_a is the left
video. Only the salted IP hash ever leaves the database, never an IP. Exports stream: rows are read and written
in chunks, so memory stays flat however many votes there are. Simulated voters' votes stay out unless asked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any, Literal

from sqlalchemy.orm import Session, sessionmaker

from arena.services.tallies import Tallies
from arena.services.vote_rows import CHUNK, voted_battles
from db.session import make_engine, make_session_factory, transaction, upgrade

Format = Literal["jsonl", "parquet"]
FIELDS: tuple[str, ...] = (
    "battle_id",
    "model_a",
    "model_b",
    "winner",
    "choice",
    "mode",
    "prompt_id",
    "prompt_key",
    "prompt",
    "language",
    "category",
    "suite",
    "session_id",
    "ip_hash",
    "aspects",
    "seconds_to_vote",
    "is_gold",
    "gold_better",
    "weight",
    "weight_class",
    "simulated",
    "source",
    "tstamp",
    "left_video_id",
    "right_video_id",
)
_TYPES = {"prompt_id": "int64", "left_video_id": "int64", "right_video_id": "int64", "weight_class": "int64"}
_TYPES |= {"seconds_to_vote": "float64", "weight": "float64", "tstamp": "float64"}
_TYPES |= {"is_gold": "bool_", "simulated": "bool_"}


@contextmanager
def database(url: str, gold_policy: str = "downweight") -> Iterator[sessionmaker[Session]]:
    """A session factory on `url` after upgrading its schema (and counting its votes if the tallies are new);
    the engine is disposed on exit."""
    upgrade(url)
    engine = make_engine(url)
    try:
        factory = make_session_factory(engine)
        with transaction(factory) as session:
            Tallies(gold_policy).ensure_fresh(session)  # type: ignore[arg-type]
        yield factory
    finally:
        engine.dispose()


def battle_rows(factory: sessionmaker[Session], *, include_named: bool = False) -> list[dict[str, Any]]:
    """Every voted (anonymous, unless `include_named`) human battle as an export row, oldest vote first."""
    with transaction(factory) as session:
        return [_project(row) for row in voted_battles(session, include_named=include_named)]


def _project(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: row.get(k) for k in FIELDS}  # a fixed field list: nothing else leaks out


def export_votes(
    factory: sessionmaker[Session],
    path: str | Path,
    format: Format = "jsonl",
    *,
    include_named: bool = True,
    include_simulated: bool = False,
) -> int:
    """Write every voted battle to `path` (named battles too, with their mode), streaming; returns the rows."""
    if format not in ("jsonl", "parquet"):
        raise ValueError(f"unknown format {format!r}; expected 'jsonl' or 'parquet'")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with transaction(factory) as session:
        rows = map(_project, voted_battles(session, include_named=include_named, include_simulated=include_simulated))
        if format == "jsonl":
            with path.open("w", encoding="utf-8") as fh:
                while chunk := list(islice(rows, CHUNK)):
                    fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in chunk)
                    n += len(chunk)
        else:
            import pyarrow.parquet as pq

            schema = _parquet_schema()
            with pq.ParquetWriter(path, schema) as writer:
                while chunk := list(islice(rows, CHUNK)):
                    # Aspects vary in keys (and may be empty): stored as a JSON string for a stable schema.
                    chunk = [{**r, "aspects": json.dumps(r["aspects"] or {})} for r in chunk]
                    writer.write_table(_table(chunk, schema))
                    n += len(chunk)
    return n


def _parquet_schema() -> Any:
    import pyarrow as pa

    return pa.schema([(k, getattr(pa, _TYPES.get(k, "string"))()) for k in FIELDS])


def _table(rows: list[dict[str, Any]], schema: Any) -> Any:
    import pyarrow as pa

    return pa.Table.from_pylist(rows, schema=schema)
