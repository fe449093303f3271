"""Votes as data: export voted battles (JSONL or Parquet) and import them into another arena database.

A row is FastChat-style (`model_a`, `model_b`, `winner`) plus our fields (see `FIELDS`); model_a is the left
video. Only the salted IP hash ever leaves the database, never an IP. Exports stream: rows are read and written
in chunks, so memory stays flat however many votes there are. Simulated voters' votes stay out unless asked.

Import is batched and resumable: each batch of rows is one transaction (bulk inserts, then the tallies of
arena.services.tallies), keyed by `battle_id`: battles already present are skipped, so a stopped import resumes
where it stopped and importing a file twice adds nothing. Unknown models are created disabled (kind
"imported"), so they rank but are never served; a prompt is matched by (suite, prompt_key, language) and
otherwise created in the "imported" suite. Imported battles are stored as voted, with their mode, source,
session, IP hash, timestamps and weight as given; their video ids refer to the source database and are not kept.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from arena.services.tallies import Tallies, VoterFacts, gold_answer
from arena.services.vote_rows import CHUNK, voted_battles
from db.models import Battle, BattleMode, BattleStatus, Model, Prompt, Vote, VoteChoice, utcnow
from db.session import make_engine, make_session_factory, transaction, upgrade

Format = Literal["jsonl", "parquet"]
IMPORTED = "imported"  # suite of unknown prompts, kind of unknown models
BATCH = 20_000  # import rows per transaction
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
_CHOICE: Mapping[str, VoteChoice] = MappingProxyType(
    {
        "model_a": VoteChoice.left,
        "model_b": VoteChoice.right,
        "tie": VoteChoice.tie,
        "tie (bothbad)": VoteChoice.both_bad,
    }
)  # FastChat winner -> our choice (model_a is the left video)


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


def iter_rows(path: str | Path, size: int = BATCH) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    """Rows of an export file in chunks of (row number, row): Parquet by suffix (.parquet / .pq), JSONL otherwise."""
    path = Path(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        n = 0
        for batch in pq.ParquetFile(path).iter_batches(batch_size=size):
            rows = batch.to_pylist()
            yield list(enumerate(rows, n + 1))
            n += len(rows)
        return
    with path.open(encoding="utf-8") as fh:
        numbered = ((n, line) for n, line in enumerate(fh, 1) if line.strip())
        while lines := list(islice(numbered, size)):
            yield [(n, _parse(path, n, line)) for n, line in lines]


def _parse(path: Path, n: int, line: str) -> dict[str, Any]:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: line {n}: not JSON ({exc.msg})") from None
    if not isinstance(row, dict):
        raise ValueError(f"{path}: line {n}: not a JSON object")
    return row


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    """Every row of an export file (small files; imports stream with `iter_rows`)."""
    return [row for chunk in iter_rows(path) for _, row in chunk]


def import_votes(
    factory: sessionmaker[Session],
    path: str | Path,
    *,
    tallies: Tallies | None = None,
    batch: int = BATCH,
    progress: Callable[[dict[str, int]], None] | None = None,
) -> dict[str, int]:
    """Insert the battles and votes of an export file, one transaction per `batch` rows; returns counts (read,
    added, skipped, models, prompts). A bad row stops the import with its row number; the batches before it
    stay stored, so fixing the file and importing again resumes."""
    tallies = tallies or Tallies()
    stats = {"read": 0, "added": 0, "skipped": 0, "models": 0, "prompts": 0}
    prompts: dict[tuple[str, str, str], int] = {}
    for chunk in iter_rows(path, batch):
        for n, row in chunk:
            _check(row, n)
        stats["read"] += len(chunk)
        with transaction(factory) as session:
            _import_batch(session, [row for _, row in chunk], tallies, stats, prompts)
        if progress:
            progress(stats)
    return stats


def _import_batch(
    session: Session,
    rows: list[dict[str, Any]],
    tallies: Tallies,
    stats: dict[str, int],
    prompts: dict[tuple[str, str, str], int],
) -> None:
    fresh: dict[str, dict[str, Any]] = {}
    for row in rows:
        fresh.setdefault(str(row["battle_id"]), row)
    ids = list(fresh)
    for start in range(0, len(ids), 500):
        for present in session.scalars(select(Battle.id).where(Battle.id.in_(ids[start : start + 500]))):
            del fresh[present]
    stats["skipped"] += len(rows) - len(fresh)
    if not fresh:
        return
    models = set(session.scalars(select(Model.id)))
    for row in fresh.values():
        for model in (row["model_a"], row["model_b"]):
            if model not in models:
                session.add(Model(id=model, display_name=model, kind=IMPORTED, enabled=False))
                models.add(model)
                stats["models"] += 1
    battles, votes, voters = [], [], []
    tokens = _tokens(2 * len(fresh))
    for k, (battle_id, row) in enumerate(fresh.items()):
        prompt_id, created = _prompt(session, row, prompts)
        stats["prompts"] += created
        battle, vote = _battle_and_vote(row, battle_id, prompt_id, tokens[2 * k], tokens[2 * k + 1])
        battles.append(battle)
        votes.append(vote)
        answer = gold_answer(battle["mode"], battle["is_gold"], battle["gold_better"])
        voters.append(VoterFacts.of(vote["session_id"], vote["ip_hash"], vote["choice"], answer))
    session.flush()  # new models and prompts before the battles that refer to them

    def write() -> None:
        session.execute(insert(Battle), battles)
        session.execute(insert(Vote), votes)

    tallies.store_batch(session, voters, write)
    stats["added"] += len(fresh)


def _tokens(n: int) -> list[str]:
    """`n` random URL-safe 32-character tokens (the served names of imported battles' clips, never served)."""
    raw = base64.urlsafe_b64encode(os.urandom(24 * n)).decode()
    return [raw[32 * i : 32 * (i + 1)] for i in range(n)]


def _check(row: Mapping[str, Any], n: int) -> None:
    missing = [k for k in ("battle_id", "model_a", "model_b", "winner") if row.get(k) in (None, "")]
    if missing:
        raise ValueError(f"row {n}: missing {', '.join(missing)}")
    if row["winner"] not in _CHOICE:
        raise ValueError(f"row {n}: unknown winner {row['winner']!r}; expected one of {sorted(_CHOICE)}")
    if row["model_a"] == row["model_b"]:
        raise ValueError(f"row {n}: a model cannot battle itself")
    if row.get("mode", "anonymous") not in {m.value for m in BattleMode}:
        raise ValueError(f"row {n}: unknown mode {row['mode']!r}")
    if row.get("gold_better") not in (None, "left", "right"):
        raise ValueError(f"row {n}: gold_better must be left, right or empty")


def _prompt(session: Session, row: Mapping[str, Any], cache: dict[tuple[str, str, str], int]) -> tuple[int, int]:
    """The prompt's id (matched by suite, key, language; else created in the imported suite), and 1 if created."""
    text = row.get("prompt") or row.get("prompt_key") or "(imported prompt)"
    key = str(row.get("prompt_key") or row.get("prompt_id") or text)[:128]
    language, suite = str(row.get("language") or "en"), str(row.get("suite") or IMPORTED)
    for candidate in dict.fromkeys((suite, IMPORTED)):
        found = cache.get((candidate, key, language))
        if found is None:
            found = session.scalar(
                select(Prompt.id).where(Prompt.suite == candidate, Prompt.key == key, Prompt.language == language)
            )
        if found is not None:
            cache[(candidate, key, language)] = found
            return found, 0
    prompt = Prompt(suite=IMPORTED, key=key, language=language, category=row.get("category") or "general", text=text)
    session.add(prompt)
    session.flush()
    cache[(IMPORTED, key, language)] = prompt.id
    return prompt.id, 1


def _battle_and_vote(
    row: Mapping[str, Any], battle_id: str, prompt_id: int, left_token: str, right_token: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Column values of one imported battle and its vote (for bulk inserts)."""
    when = datetime.fromtimestamp(float(row["tstamp"]), UTC) if row.get("tstamp") is not None else utcnow()
    aspects = row.get("aspects") or {}
    aspects = json.loads(aspects) if isinstance(aspects, str) else dict(aspects)
    session_id = str(row.get("session_id") or IMPORTED)
    battle = {
        "id": battle_id,
        "mode": BattleMode(row.get("mode") or "anonymous"),
        "status": BattleStatus.voted,
        "status_reason": None,
        "source": str(row.get("source") or IMPORTED)[:16],
        "prompt_id": prompt_id,
        "left_model_id": row["model_a"],
        "right_model_id": row["model_b"],
        "left_video_id": None,
        "right_video_id": None,
        "left_token": left_token,
        "right_token": right_token,
        "session_id": session_id,
        "is_gold": bool(row.get("is_gold") or False),
        "gold_better": row.get("gold_better"),
        "created_at": when,
        "shown_at": when,
        "voted_at": when,
        "revealed_at": when,
    }
    vote = {
        "battle_id": battle_id,
        "choice": _CHOICE[row["winner"]],  # model_a is the left video
        "aspects": {k: v for k, v in aspects.items() if v is not None},
        "session_id": session_id,
        "ip_hash": row.get("ip_hash"),
        "seconds_to_vote": row.get("seconds_to_vote"),
        "weight": 1.0 if row.get("weight") is None else float(row["weight"]),
        "simulated": bool(row.get("simulated") or False),
        "created_at": when,
    }
    return battle, vote
