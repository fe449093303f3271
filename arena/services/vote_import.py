"""Importing votes: an export file (JSONL or Parquet, arena.services.export) into an arena database.

Batched and resumable: each batch of rows is one transaction (bulk inserts at the driver's speed, then the
tallies of arena.services.tallies), keyed by `battle_id`: battles already present are skipped, so a stopped
import resumes where it stopped and importing a file twice adds nothing. Unknown models are created disabled
(kind "imported"), so they rank but are never served; a prompt is matched by (suite, prompt_key, language) and
otherwise found or created in the "imported" suite. Imported battles are stored as voted, with their mode,
source, session, IP hash, timestamps, weight and simulated flag as given; their video ids refer to the source
database and are not kept. Rows are turned into columns a batch at a time (no per-row objects), in a second
thread while the batch before is written (SQLite and Postgres do their part without the GIL); a batch's tallies
are counted from those columns (arena.services.batch_facts), not read back.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, fields, replace
from itertools import compress, islice
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from arena.jsonlines import parse_object
from arena.services.batch_facts import NewVotes
from arena.services.rater_records import Voters, chunks, gold_answer, gold_credit_of
from arena.services.tallies import Tallies
from db.bulk import bulk_insert, bulk_pragmas, present, timestamps
from db.models import Battle, BattleMode, Model, Prompt, Vote
from db.session import transaction

IMPORTED = "imported"  # suite of unknown prompts, kind of unknown models
BATCH = 50_000  # rows per transaction
# FastChat winner -> our choice (model_a is the left video)
CHOICES = {"model_a": "left", "model_b": "right", "tie": "tie", "tie (bothbad)": "both_bad"}
_MODES = frozenset(m.value for m in BattleMode)
T = TypeVar("T")


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
    with path.open("rb") as fh:
        numbered = ((n, line) for n, line in enumerate(fh, 1) if not line.isspace())
        while lines := list(islice(numbered, size)):
            yield [(n, parse_object(line, f"{path}: line {n}")) for n, line in lines]


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    """Every row of an export file (small files; imports stream with `iter_rows`)."""
    return [row for chunk in iter_rows(path) for _, row in chunk]


def checked_chunks(path: str | Path, size: int) -> Iterator[list[dict[str, Any]]]:
    """The file's rows in chunks, each row checked (a bad row raises with its row number)."""
    for chunk in iter_rows(path, size):
        for n, row in chunk:
            _check(row, n)
        yield [row for _, row in chunk]


def read_batches(path: str | Path, size: int, dialect: str) -> Iterator[Batch]:
    """The file's batches (`Batch.of` each checked chunk), read in a process of their own while the caller writes
    the one before (two cores at work: parsing and the database); an error reading comes out where its batch
    would have. The reader is at most one batch ahead, and stops when the caller does (or dies)."""
    context: Any = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")  # fork: no imports
    receive, send = context.Pipe(duplex=False)
    reader = context.Process(target=_read, args=(send, receive, str(path), size, dialect), name="import-reader")
    reader.start()
    send.close()
    try:
        while True:
            try:
                item = receive.recv()
            except EOFError:
                reader.join(5)
                raise RuntimeError(f"the import's reader process stopped (exit code {reader.exitcode})") from None
            if item is None:
                return
            if isinstance(item, Exception):
                raise item
            yield item
    finally:
        receive.close()  # a reader still sending sees a broken pipe and stops
        reader.join(10)
        if reader.is_alive():
            reader.kill()
            reader.join()


def _read(send: Connection, receive: Connection, path: str, size: int, dialect: str) -> None:
    """The reader process: every batch of the file, then None (or the error that stopped it)."""
    receive.close()
    gc.disable()  # see gc_paused
    try:
        for rows in checked_chunks(path, size):
            send.send(Batch.of(rows, dialect))
        send.send(None)
    except BrokenPipeError:
        pass  # the importer stopped
    except Exception as exc:  # any error goes to the importer, raised where its batch would have been
        with suppress(OSError):
            send.send(exc)
    finally:
        send.close()


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
    with factory() as session:
        dialect = session.get_bind().dialect.name
    with gc_paused():
        for prepared in read_batches(path, batch, dialect):  # the next batch is read meanwhile
            stats["read"] += prepared.read
            with transaction(factory) as session:
                bulk_pragmas(session)
                _import_batch(session, prepared, tallies, stats, prompts)
            if progress:
                progress(stats)
    return stats


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off meanwhile (on again after, if it was on): a bulk load allocates millions
    of objects that hold no cycles, and the collector's passes over them were a fifth of an import's CPU."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


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
    batch: Batch,
    tallies: Tallies,
    stats: dict[str, int],
    prompts: dict[tuple[str, str, str], int],
) -> None:
    stored = present(session, Battle.__tablename__, "id", batch.battles["id"])
    if stored:  # a resumed import: what is stored is left out
        batch = batch.without(stored)
    added = len(batch.battles["id"])
    stats["skipped"] += batch.read - added
    if not added:
        return
    _add_models(session, {*batch.battles["left_model_id"], *batch.battles["right_model_id"]}, stats)
    prompt_ids = _prompt_ids(session, batch.prompts, batch.prompt_keys, prompts, stats)
    session.flush()  # new models and prompts before the battles that refer to them

    def write() -> None:
        bulk_insert(session, Battle.__tablename__, batch.battles | {"prompt_id": prompt_ids})
        bulk_insert(session, Vote.__tablename__, batch.votes)

    tallies.store_batch(session, replace(batch.new, prompt_ids=prompt_ids), write)
    stats["added"] += added


def _add_models(session: Session, models: set[str], stats: dict[str, int]) -> None:
    known = set(session.scalars(select(Model.id)))
    for model in sorted(models - known):
        session.add(Model(id=model, display_name=model, kind=IMPORTED, enabled=False))
        stats["models"] += 1


@dataclass(frozen=True)
class Batch:
    """A chunk's rows (the first of each battle id) as the columns to insert, all but the prompt ids (which need
    the database); made in the reading thread.

    Imported battles have no clips, so nothing is ever served under their tokens: the tokens are derived from
    the battle id ("~" never occurs in a served token), which keeps their unique indexes append-friendly."""

    read: int  # rows in the file's chunk
    prompt_keys: list[tuple[str, str, str]]
    prompts: dict[tuple[str, str, str], tuple[str, str]]  # each prompt key's text and category (its first row's)
    battles: dict[str, list[Any]]  # driver-ready values
    votes: dict[str, list[Any]]
    new: NewVotes  # the votes' facts for the tallies (prompt ids still empty)

    @classmethod
    def of(cls, chunk: list[dict[str, Any]], dialect: str) -> Batch:
        fresh: dict[str, dict[str, Any]] = {}
        for row in chunk:
            fresh.setdefault(str(row["battle_id"]), row)
        ids, rows = list(fresh), list(fresh.values())
        when = timestamps([row.get("tstamp") for row in rows], dialect)
        sessions = [str(row.get("session_id") or IMPORTED) for row in rows]
        modes = [row.get("mode") or "anonymous" for row in rows]
        gold = [bool(row.get("is_gold")) for row in rows]
        gold_better = [row.get("gold_better") for row in rows]
        sources = [str(row.get("source") or IMPORTED)[:16] for row in rows]
        left, right = [row["model_a"] for row in rows], [row["model_b"] for row in rows]
        battles: dict[str, list[Any]] = {
            "id": ids,
            "mode": modes,
            "status": ["voted"] * len(ids),
            "source": sources,
            "left_model_id": left,
            "right_model_id": right,
            "left_token": [f"~{i}~l" for i in ids],
            "right_token": [f"~{i}~r" for i in ids],
            "session_id": sessions,
            "is_gold": gold,
            "gold_better": gold_better,
            **{column: when for column in ("created_at", "shown_at", "voted_at", "revealed_at")},
        }
        choices = [CHOICES[row["winner"]] for row in rows]
        ips = [row.get("ip_hash") for row in rows]
        weights = [1.0 if row.get("weight") is None else float(row["weight"]) for row in rows]
        simulated = [bool(row.get("simulated")) for row in rows]
        votes: dict[str, list[Any]] = {
            "battle_id": ids,
            "choice": choices,
            "aspects": [_aspects(row.get("aspects")) for row in rows],
            "session_id": sessions,
            "ip_hash": ips,
            "seconds_to_vote": [row.get("seconds_to_vote") for row in rows],
            "weight": weights,
            "simulated": simulated,
            "created_at": when,
        }
        credits: list[float | None] = [None] * len(rows)
        for at in (k for k, g in enumerate(gold_better) if g):  # checks are few: only they are looked at one by one
            credits[at] = gold_credit_of(choices[at], gold_answer(modes[at], gold_better[at]))
        voters = Voters(sessions, ips, credits)
        new = NewVotes(modes, sources, gold, [], left, right, choices, weights, simulated, voters)
        keys = [_prompt_key(row) for row in rows]
        first = dict(zip(reversed(keys), reversed(rows), strict=True))  # each key's first row (C-level)
        prompts = {key: _prompt_text(row) for key, row in first.items()}
        return cls(len(chunk), keys, prompts, battles, votes, new)

    def without(self, stored: set[Any]) -> Batch:
        """The batch less the battles whose ids are in `stored`."""
        keep = [i not in stored for i in self.battles["id"]]

        def kept(values: Sequence[T]) -> list[T]:
            return list(compress(values, keep))

        new, voters = self.new, self.new.voters
        return replace(
            self,
            prompt_keys=kept(self.prompt_keys),
            battles={name: kept(v) for name, v in self.battles.items()},
            votes={name: kept(v) for name, v in self.votes.items()},
            new=replace(
                new,
                **{f.name: kept(getattr(new, f.name)) for f in fields(new) if f.name not in ("prompt_ids", "voters")},
                voters=Voters(kept(voters.session_ids), kept(voters.ip_hashes), kept(voters.gold_credits)),
            ),
        )


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


def _prompt_text(row: Mapping[str, Any]) -> tuple[str, str]:
    """The text and category a row gives its prompt, if the import creates it."""
    return str(row.get("prompt") or row.get("prompt_key") or "(imported prompt)"), str(row.get("category") or "general")


def _prompt_ids(
    session: Session,
    texts: Mapping[tuple[str, str, str], tuple[str, str]],
    wanted: list[tuple[str, str, str]],
    known: dict[tuple[str, str, str], int],
    stats: dict[str, int],
) -> list[int]:
    """Each row's prompt id: matched by (suite, key, language), else by (imported suite, key, language), else a
    new prompt in the imported suite (text and category from `texts`: the first row that names it); `known`
    caches the matches across batches; `wanted`: the rows' `_prompt_key`s."""
    missing = [want for want in dict.fromkeys(wanted) if want not in known]
    if not missing:
        return [known[want] for want in wanted]
    stored: dict[tuple[str, str, str], int] = {}
    for chunk in chunks(sorted({name for _, name, _ in missing})):
        query = select(Prompt.suite, Prompt.key, Prompt.language, Prompt.id).where(Prompt.key.in_(chunk))
        stored |= {(suite, name, language): i for suite, name, language, i in session.execute(query)}
    created: dict[tuple[str, str, str], Prompt] = {}
    for want in missing:
        own = (IMPORTED, want[1], want[2])
        found = stored.get(want, stored.get(own))
        if found is not None:
            known[want] = found
        elif own not in created:
            text, category = texts[want]
            created[own] = Prompt(suite=IMPORTED, key=want[1], language=want[2], category=category, text=text)
    session.add_all(created.values())
    session.flush()
    for want in missing:
        if want not in known:
            known[want] = created[(IMPORTED, want[1], want[2])].id
    stats["prompts"] += len(created)
    return [known[want] for want in wanted]
