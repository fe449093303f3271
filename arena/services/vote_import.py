"""Importing votes: an export file (JSONL or Parquet, arena.services.export) into an arena database.

Batched and resumable: each batch of rows is one transaction (bulk inserts at the driver's speed, then the
tallies of arena.services.tallies), keyed by `battle_id`: battles already present are skipped, so a stopped
import resumes where it stopped and importing a file twice adds nothing. Unknown models are created disabled
(kind "imported"), so they rank but are never served; a prompt is matched by (suite, prompt_key, language) and
otherwise found or created in the "imported" suite. Imported battles are stored as voted, with their mode,
source, session, IP hash, timestamps, weight and simulated flag as given; their video ids refer to the source
database and are not kept. Rows are turned into columns a batch at a time (no per-row objects).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from itertools import islice
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from arena.services.rater_records import Voters, gold_answer, gold_credit_of
from arena.services.tallies import Tallies
from db.bulk import bulk_insert, timestamps, widen_cache
from db.models import Battle, BattleMode, Model, Prompt, Vote
from db.session import transaction

IMPORTED = "imported"  # suite of unknown prompts, kind of unknown models
BATCH = 50_000  # rows per transaction
# FastChat winner -> our choice (model_a is the left video)
CHOICES = {"model_a": "left", "model_b": "right", "tie": "tie", "tie (bothbad)": "both_bad"}
_MODES = frozenset(m.value for m in BattleMode)


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
        row = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
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
    with transaction(factory) as session:
        widen_cache(session)
    for chunk in iter_rows(path, batch):
        for n, row in chunk:
            _check(row, n)
        stats["read"] += len(chunk)
        with transaction(factory) as session:
            _import_batch(session, [row for _, row in chunk], tallies, stats, prompts)
        if progress:
            progress(stats)
    return stats


def _check(row: Mapping[str, Any], n: int) -> None:
    a, b, winner = row.get("model_a"), row.get("model_b"), row.get("winner")
    if not (row.get("battle_id") and a and b and winner):
        missing = [k for k in ("battle_id", "model_a", "model_b", "winner") if row.get(k) in (None, "")]
        raise ValueError(f"row {n}: missing {', '.join(missing)}")
    if winner not in CHOICES:
        raise ValueError(f"row {n}: unknown winner {winner!r}; expected one of {sorted(CHOICES)}")
    if a == b:
        raise ValueError(f"row {n}: a model cannot battle itself")
    if row.get("mode") not in _MODES and row.get("mode") is not None:
        raise ValueError(f"row {n}: unknown mode {row['mode']!r}")
    if row.get("gold_better") not in (None, "left", "right"):
        raise ValueError(f"row {n}: gold_better must be left, right or empty")


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
    for start in range(0, len(ids), 2000):
        for present in session.scalars(select(Battle.id).where(Battle.id.in_(ids[start : start + 2000]))):
            del fresh[present]
    stats["skipped"] += len(rows) - len(fresh)
    if not fresh:
        return
    _add_models(session, fresh.values(), stats)
    battles, votes, voters = _columns(session, list(fresh), list(fresh.values()), prompts, stats)
    session.flush()  # new models and prompts before the battles that refer to them

    def write() -> None:
        bulk_insert(session, Battle.__tablename__, battles)
        bulk_insert(session, Vote.__tablename__, votes)

    tallies.store_batch(session, voters, write)
    stats["added"] += len(fresh)


def _add_models(session: Session, rows: Any, stats: dict[str, int]) -> None:
    known = set(session.scalars(select(Model.id)))
    for model in dict.fromkeys(m for row in rows for m in (row["model_a"], row["model_b"])):
        if model not in known:
            session.add(Model(id=model, display_name=model, kind=IMPORTED, enabled=False))
            stats["models"] += 1


def _columns(
    session: Session,
    ids: list[str],
    rows: list[dict[str, Any]],
    prompts: dict[tuple[str, str, str], int],
    stats: dict[str, int],
) -> tuple[dict[str, Any], dict[str, Any], Voters]:
    """The battles' and votes' columns (driver-ready values) and each vote's facts for the voter records.

    Imported battles have no clips, so nothing is ever served under their tokens: the tokens are derived from
    the battle id ("~" never occurs in a served token), which keeps their unique indexes append-friendly."""
    prompt_ids = []
    for row in rows:
        wanted = _prompt_key(row)
        if wanted not in prompts:
            prompts[wanted], created = _prompt(session, row, wanted)
            stats["prompts"] += created
        prompt_ids.append(prompts[wanted])
    when = timestamps(session, [row.get("tstamp") for row in rows])
    sessions = [str(row.get("session_id") or IMPORTED) for row in rows]
    modes = [row.get("mode") or "anonymous" for row in rows]
    gold = [bool(row.get("is_gold")) for row in rows]
    gold_better = [row.get("gold_better") for row in rows]
    battles = {
        "id": ids,
        "mode": modes,
        "status": ["voted"] * len(ids),
        "source": [str(row.get("source") or IMPORTED)[:16] for row in rows],
        "prompt_id": prompt_ids,
        "left_model_id": [row["model_a"] for row in rows],
        "right_model_id": [row["model_b"] for row in rows],
        "left_token": [f"~{i}~l" for i in ids],
        "right_token": [f"~{i}~r" for i in ids],
        "session_id": sessions,
        "is_gold": gold,
        "gold_better": gold_better,
        **{column: when for column in ("created_at", "shown_at", "voted_at", "revealed_at")},
    }
    choices = [CHOICES[row["winner"]] for row in rows]
    ips = [row.get("ip_hash") for row in rows]
    votes = {
        "battle_id": ids,
        "choice": choices,
        "aspects": [_aspects(row.get("aspects")) for row in rows],
        "session_id": sessions,
        "ip_hash": ips,
        "seconds_to_vote": [row.get("seconds_to_vote") for row in rows],
        "weight": [1.0 if row.get("weight") is None else float(row["weight"]) for row in rows],
        "simulated": [bool(row.get("simulated")) for row in rows],
        "created_at": when,
    }
    credits: list[float | None] = [None] * len(rows)
    for at in (k for k, g in enumerate(gold) if g):  # gold checks are few: only they are looked at one by one
        credits[at] = gold_credit_of(choices[at], gold_answer(modes[at], True, gold_better[at]))
    return battles, votes, Voters(sessions, ips, credits)


def _aspects(value: Any) -> str:
    """An aspects field (dict, JSON text or nothing) as the JSON text stored."""
    if not value:
        return "{}"
    parsed = json.loads(value) if isinstance(value, str) else dict(value)
    return json.dumps({k: v for k, v in parsed.items() if v is not None}, ensure_ascii=False)


def _prompt_key(row: Mapping[str, Any]) -> tuple[str, str, str]:
    """(suite, prompt key, language) of a row, as the import matches prompts."""
    text = row.get("prompt") or row.get("prompt_key") or "(imported prompt)"
    key = str(row.get("prompt_key") or row.get("prompt_id") or text)[:128]
    return str(row.get("suite") or IMPORTED), key, str(row.get("language") or "en")


def _prompt(session: Session, row: Mapping[str, Any], wanted: tuple[str, str, str]) -> tuple[int, int]:
    """The prompt's id (matched by suite, key, language; else found or created in the imported suite), and 1 if
    created."""
    suite, key, language = wanted
    for candidate in dict.fromkeys((suite, IMPORTED)):
        found = session.scalar(
            select(Prompt.id).where(Prompt.suite == candidate, Prompt.key == key, Prompt.language == language)
        )
        if found is not None:
            return found, 0
    text = row.get("prompt") or row.get("prompt_key") or "(imported prompt)"
    prompt = Prompt(suite=IMPORTED, key=key, language=language, category=row.get("category") or "general", text=text)
    session.add(prompt)
    session.flush()
    return prompt.id, 1
