"""Reading the board: the vote counts as rating-engine rows, one row per unique comparison (never one per vote).

:class:`CountTable` holds the rows of `vote_counts` (kept by arena.services.tallies) as numpy columns and
refreshes itself by reading only the rows changed since it was read (their `version` is newer; a rebuild changes
the epoch and means a full read). :meth:`CountTable.battle_rows` turns it into :class:`BattleRows` with one row
per key and choice: `count` is the number of votes the row stands for and `weight` one vote's weight (its own
weight times its weight class's factor under the gold policy). Columns in `extra` (what the decision layer
groups by):

- `prompt_id` (int), `language`, `category` (str), `simulated` (bool), `weight_class` (int), `design_weight`
  (float: the vote's own weight, the matchmaker's inverse-probability weight of its pair);
- per side (`_a` the left clip, `_b` the right one), floats, NaN when unknown: `duration_a/_b` (seconds:
  frames / fps), `pixels_a/_b` (width × height), `fps_a/_b`, `aspect_a/_b` (width / height).

A read is one SELECT through the driver's own cursor, then numpy: its cost grows with the unique comparisons,
not with the votes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typing_extensions import TypedDict  # not typing's: pydantic needs this one below Python 3.12

from arena.ratings.battles import BOTHBAD, MODEL_A, MODEL_B, TIE, BattleRows
from arena.ratings.raters import GoldScore, wilson_interval
from db.models import BoardState, Model, Rater

COVARIATES: tuple[str, ...] = ("duration", "pixels", "fps", "aspect")
_WINNERS = np.array([MODEL_A, MODEL_B, TIE, BOTHBAD], dtype=np.int8)  # of n_left, n_right, n_tie, n_both_bad
_NUMBERS: tuple[str, ...] = (
    "id",
    "prompt_id",
    "weight",
    "weight_class",
    "simulated",
    "n_left",
    "n_right",
    "n_tie",
    "n_both_bad",
)
_SHAPES: tuple[str, ...] = tuple(
    f"{side}_{x}" for side in ("left", "right") for x in ("frames", "width", "height", "fps")
)
_COLUMNS = ("left_model_id", "right_model_id", *_NUMBERS, *_SHAPES)


@dataclass(frozen=True)
class BoardToken:
    """Where the tallies stand: `version` moves with every change, `epoch` with every rebuild."""

    epoch: int
    version: int
    stale: bool


def board_token(session: Session) -> BoardToken:
    row = session.execute(select(BoardState.epoch, BoardState.version, BoardState.stale).where(BoardState.id == 1))
    found = row.one_or_none()
    if found is None:
        raise RuntimeError("board_state is missing: upgrade the database schema (db.session.upgrade)")
    return BoardToken(int(found[0]), int(found[1]), bool(found[2]))


def _fetch(session: Session, sql: str) -> list[tuple[Any, ...]]:
    """Rows of a parameterless SELECT through the DB-API cursor (no per-row SQLAlchemy objects)."""
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _read(session: Session, since: int | None, models: dict[str, int]) -> dict[str, np.ndarray]:
    """vote_counts rows (all, or those changed after version `since`) as numeric columns; the models as codes
    of `models` (new models are added to it).

    The database hands each column over as one JSON array (SQLite's json_group_array, Postgres' json_agg: all
    arrays of one aggregate follow the same row order) as text, parsed by orjson: no driver work per row. The
    clip shapes are read apart, only for the rows that have one (imported votes have no clips), placed by id."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    aggregate = "json_group_array({})" if sqlite else "CAST(json_agg({}) AS TEXT)"
    changed = [] if since is None else [f"version > {int(since)}"]
    shaped = "(" + " OR ".join(f"{c} != 0" for c in _SHAPES) + ")"
    arrays = []
    for columns, where in ((_COLUMNS[: -len(_SHAPES)], changed), (("id", *_SHAPES), [*changed, shaped])):
        sql = f"SELECT {', '.join(aggregate.format(c) for c in columns)} FROM vote_counts"
        (found,) = _fetch(session, sql + (f" WHERE {' AND '.join(where)}" if where else ""))
        arrays.append([[] if v is None else orjson.loads(v) for v in found])
    values, shapes = arrays
    out: dict[str, np.ndarray] = {}
    for name, column in zip(_COLUMNS[:2], values[:2], strict=True):
        for model in set(column) - set(models):
            models[model] = len(models)
        out[name] = np.fromiter(map(models.__getitem__, column), np.int64, len(column))
    out |= {name: np.asarray(v, dtype=np.float64) for name, v in zip(_NUMBERS, values[2:], strict=True)}
    ids, order = out["id"], np.argsort(out["id"])
    shape_ids = np.asarray(shapes[0], dtype=np.float64)
    at = np.minimum(np.searchsorted(ids, shape_ids, sorter=order), max(len(ids) - 1, 0))
    found_at = ids[order[at]] == shape_ids if len(ids) else np.zeros(len(shape_ids), bool)  # a row added in between
    for name, v in zip(_SHAPES, shapes[1:], strict=True):
        out[name] = np.zeros(len(ids))
        out[name][order[at[found_at]]] = np.asarray(v, dtype=np.float64)[found_at]
    return out


@dataclass
class CountTable:
    """The rows of `vote_counts` as columns, as of (`epoch`, `version`), with the prompts' language and category."""

    epoch: int = -1
    version: int = -1
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    models: dict[str, int] = field(default_factory=dict)  # model → the code its columns hold
    prompts: dict[int, tuple[str, str]] = field(default_factory=dict)

    def refresh(self, session: Session, token: BoardToken) -> None:
        """Catch up with `token`: the rows changed since the last read, or all of them after a rebuild."""
        if token.epoch == self.epoch and token.version == self.version:
            return
        if token.epoch != self.epoch or not self.columns:
            self.columns = _read(session, None, self.models)
        else:
            changed = _read(session, self.version, self.models)
            merged = {k: np.concatenate([self.columns[k], changed[k]]) for k in _COLUMNS}
            ids = merged["id"]
            _, last = np.unique(ids[::-1], return_index=True)  # a changed row replaces its older copy
            keep = np.sort(len(ids) - 1 - last)
            self.columns = {k: v[keep] for k, v in merged.items()}
        self.epoch, self.version = token.epoch, token.version
        missing = {int(p) for p in self.columns["prompt_id"].tolist()} - set(self.prompts)
        if missing:
            wanted = ", ".join(str(p) for p in sorted(missing))
            found = _fetch(session, f"SELECT id, language, category FROM prompts WHERE id IN ({wanted})")
            self.prompts |= {int(i): (lang, cat) for i, lang, cat in found}

    def battle_rows(self, *, simulated: bool, class_weights: np.ndarray) -> BattleRows:
        """The counted board votes (human ones; simulated ones too if `simulated`) as aggregated rows: one per
        key and choice with votes."""
        c = self.columns
        if not c or not len(c["id"]):
            return BattleRows.from_columns([], [], [])
        counts = np.stack([c["n_left"], c["n_right"], c["n_tie"], c["n_both_bad"]], axis=1).astype(np.int64)
        if not simulated:
            counts[c["simulated"] != 0] = 0
        at, choice = np.nonzero(counts)  # one output row per key and choice with votes
        left, right = c["left_model_id"][at], c["right_model_id"][at]
        names = list(self.models)
        used = np.flatnonzero(np.bincount(left, minlength=len(names)) + np.bincount(right, minlength=len(names)))
        models = sorted(names[code] for code in used.tolist())  # by name, as BattleRows orders them
        remap = np.zeros(len(names), dtype=np.int64)
        remap[[self.models[m] for m in models]] = np.arange(len(models))
        a, b = remap[left], remap[right]
        klass = c["weight_class"][at].astype(np.int64)
        prompt = c["prompt_id"][at].astype(np.int64)
        known = np.array(sorted(self.prompts), dtype=np.int64)
        slot = np.zeros(int(known[-1]) + 1, dtype=np.int64)  # prompt id → its place in `known`
        slot[known] = np.arange(len(known))
        where = slot[prompt]
        language = np.array([self.prompts[p][0] for p in known.tolist()], dtype=object)[where]
        category = np.array([self.prompts[p][1] for p in known.tolist()], dtype=object)[where]
        extra = {
            "prompt_id": prompt,
            "language": language,
            "category": category,
            "simulated": c["simulated"][at] != 0,
            "weight_class": klass,
            # a vote's own weight is the matchmaker's design weight (arena.ratings.uncertainty calibrates by it)
            "design_weight": c["weight"][at],
            **_covariates(c, "left", "a", at),
            **_covariates(c, "right", "b", at),
        }
        weights = c["weight"][at] * class_weights[klass]
        return BattleRows(tuple(models), a, b, _WINNERS[choice], weights, extra, counts[at, choice])


def _covariates(c: dict[str, np.ndarray], side: str, suffix: str, at: np.ndarray) -> dict[str, np.ndarray]:
    """One side's covariates from its clip shape (frames, width, height, fps); 0 (unknown) becomes NaN."""
    if not any(c[f"{side}_{x}"].any() for x in ("frames", "width", "height", "fps")):  # no clips (imported votes)
        return {f"{name}_{suffix}": np.full(len(at), np.nan) for name in COVARIATES}
    f, w, h, r = (
        np.where(c[f"{side}_{x}"][at] > 0, c[f"{side}_{x}"][at], np.nan) for x in ("frames", "width", "height", "fps")
    )
    return {f"duration_{suffix}": f / r, f"pixels_{suffix}": w * h, f"fps_{suffix}": r, f"aspect_{suffix}": w / h}


def gold_records(session: Session) -> dict[str, GoldScore]:
    """Gold-pair record of every session that answered a gold check, from the raters table."""
    query = select(Rater.key, Rater.gold_votes, Rater.gold_credit).where(Rater.kind == "session", Rater.gold_votes > 0)
    return {
        key: GoldScore(int(n), float(c), float(c) / n, *wilson_interval(float(c), n))
        for key, n, c in session.execute(query)
    }


def failed_sessions(session: Session) -> set[str]:
    """Sessions whose own gold record failed (their IP hash's record aside)."""
    query = select(Rater.key).where(Rater.kind == "session", Rater.weight_class > 0)
    return set(session.scalars(query))


def rater_counts(session: Session) -> dict[str, int]:
    """Sessions that voted, that answered gold checks, and that failed them (from the raters table)."""
    sessions = select(func.count()).select_from(Rater).where(Rater.kind == "session")
    return {
        "sessions": int(session.scalar(sessions.where(Rater.votes > 0)) or 0),
        "gold": int(session.scalar(sessions.where(Rater.gold_votes > 0)) or 0),
        "failed": int(session.scalar(sessions.where(Rater.weight_class > 0)) or 0),
    }


class ModelInfo(TypedDict):
    """A model as the boards show it."""

    display_name: str
    organisation: str
    licence: str
    in_house: bool
    enabled: bool


def model_info(session: Session) -> dict[str, ModelInfo]:
    return {
        m.id: {
            "display_name": m.display_name,
            "organisation": m.organisation,
            "licence": m.licence,
            "in_house": m.in_house,
            "enabled": m.enabled,
        }
        for m in session.scalars(select(Model))
    }
