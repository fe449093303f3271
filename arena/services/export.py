"""Votes as data: export voted battles (JSONL or Parquet) and import them into another arena database.

A row is FastChat-style (`model_a`, `model_b`, `winner`) plus our fields (see `FIELDS`); model_a is the left
video. Only the salted IP hash ever leaves the database, never an IP.

Import is idempotent, keyed by `battle_id`: battles already present are skipped, so importing a file twice adds
nothing. Unknown models are created disabled (kind "imported"), so they rank but are never served; a prompt is
matched by (suite, prompt_key, language) and otherwise created in the "imported" suite. Imported battles are
stored as voted, with their mode, source, session, timestamps and weight as given; their video ids refer to the
source database and are not kept.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from arena.services.votes import voted_battles
from db.models import Battle, BattleMode, BattleStatus, Model, Prompt, Vote, VoteChoice
from db.session import make_engine, make_session_factory, transaction, upgrade

Format = Literal["jsonl", "parquet"]
IMPORTED = "imported"  # suite of unknown prompts, kind of unknown models
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
    "source",
    "tstamp",
    "left_video_id",
    "right_video_id",
)
_CHOICE: Mapping[str, VoteChoice] = MappingProxyType(
    {
        "model_a": VoteChoice.left,
        "model_b": VoteChoice.right,
        "tie": VoteChoice.tie,
        "tie (bothbad)": VoteChoice.both_bad,
    }
)  # FastChat winner -> our choice (model_a is the left video)


@contextmanager
def database(url: str) -> Iterator[sessionmaker[Session]]:
    """A session factory on `url` after upgrading its schema; the engine is disposed on exit."""
    upgrade(url)
    engine = make_engine(url)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()


def battle_rows(factory: sessionmaker[Session], *, include_named: bool = False) -> list[dict[str, Any]]:
    """Every voted (anonymous, unless `include_named`) battle as an export row, oldest vote first."""
    with transaction(factory) as session:
        rows = voted_battles(session, include_named=include_named)
    return [{k: row.get(k) for k in FIELDS} for row in rows]  # a fixed field list: nothing else leaks out


def export_votes(
    factory: sessionmaker[Session], path: str | Path, format: Format = "jsonl", *, include_named: bool = True
) -> int:
    """Write every voted battle to `path` (named battles too, with their mode); returns the row count."""
    rows = battle_rows(factory, include_named=include_named)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if format == "jsonl":
        with path.open("w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    elif format == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        # Aspects vary in keys (and may be empty): stored as a JSON string for a stable schema.
        table = pa.Table.from_pylist([{**r, "aspects": json.dumps(r["aspects"] or {})} for r in rows])
        if not rows:
            table = pa.table({k: pa.array([], pa.string()) for k in FIELDS})
        pq.write_table(table, path)
    else:
        raise ValueError(f"unknown format {format!r}; expected 'jsonl' or 'parquet'")
    return len(rows)


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    """Rows of an export file: Parquet by suffix (.parquet / .pq), JSONL otherwise."""
    path = Path(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    rows = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}: line {lineno}: not JSON ({exc.msg})") from None
    return rows


def import_votes(factory: sessionmaker[Session], path: str | Path) -> dict[str, int]:
    """Insert the battles and votes of an export file; returns counts (read, added, skipped, models, prompts)."""
    rows = read_rows(path)
    for n, row in enumerate(rows, 1):
        _check(row, n)
    stats = {"read": len(rows), "added": 0, "skipped": 0, "models": 0, "prompts": 0}
    with transaction(factory) as session:
        ids = [str(r["battle_id"]) for r in rows]
        present = set(session.scalars(select(Battle.id).where(Battle.id.in_(ids)))) if ids else set()
        models = {m.id for m in session.scalars(select(Model))}
        prompts: dict[tuple[str, str, str], int] = {}
        for row in rows:
            battle_id = str(row["battle_id"])
            if battle_id in present:
                stats["skipped"] += 1
                continue
            present.add(battle_id)
            for model in (row["model_a"], row["model_b"]):
                if model not in models:
                    session.add(Model(id=model, display_name=model, kind=IMPORTED, enabled=False))
                    models.add(model)
                    stats["models"] += 1
            prompt_id, created = _prompt(session, row, prompts)
            stats["prompts"] += created
            session.flush()
            _add_battle(session, row, battle_id, prompt_id)
            stats["added"] += 1
    return stats


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


def _add_battle(session: Session, row: Mapping[str, Any], battle_id: str, prompt_id: int) -> None:
    when = datetime.fromtimestamp(float(row["tstamp"]), UTC) if row.get("tstamp") is not None else None
    aspects = row.get("aspects") or {}
    aspects = json.loads(aspects) if isinstance(aspects, str) else dict(aspects)
    session.add(
        Battle(
            id=battle_id,
            mode=BattleMode(row.get("mode") or "anonymous"),
            status=BattleStatus.voted,
            source=str(row.get("source") or IMPORTED)[:16],
            prompt_id=prompt_id,
            left_model_id=row["model_a"],
            right_model_id=row["model_b"],
            left_token=secrets.token_urlsafe(24),
            right_token=secrets.token_urlsafe(24),
            session_id=str(row.get("session_id") or IMPORTED),
            is_gold=bool(row.get("is_gold") or False),
            gold_better=row.get("gold_better"),
            **({"created_at": when} if when else {}),
            shown_at=when,
            voted_at=when,
            revealed_at=when,
        )
    )
    session.add(
        Vote(
            battle_id=battle_id,
            choice=_CHOICE[row["winner"]],  # model_a is the left video
            aspects={k: v for k, v in aspects.items() if v is not None},
            session_id=str(row.get("session_id") or IMPORTED),
            ip_hash=row.get("ip_hash"),
            seconds_to_vote=row.get("seconds_to_vote"),
            weight=1.0 if row.get("weight") is None else float(row["weight"]),
            **({"created_at": when} if when else {}),
        )
    )
