"""Reading the board: the vote counts as rating-engine rows, one row per unique comparison (never one per vote).

:func:`read_board_rows` turns `vote_counts` (kept by arena.services.tallies) into :class:`BattleRows` whose
`count` is the number of votes a row stands for and whose `weight` is one vote's weight: its own weight times
its weight class's factor under the gold policy. Columns in `extra` (what the decision layer groups by):

- `prompt_id` (int), `language`, `category` (str), `simulated` (bool), `weight_class` (int), `design_weight`
  (float: the vote's own weight, the matchmaker's inverse-probability weight of its pair);
- per side (`_a` the left clip, `_b` the right one), floats, NaN when unknown: `duration_a/_b` (seconds:
  frames / fps), `pixels_a/_b` (width × height), `fps_a/_b`, `aspect_a/_b` (width / height).

The read is one SELECT of the counts table through the driver's own cursor, then numpy: its cost grows with
the unique comparisons, not with the votes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from arena.ratings.battles import BattleRows
from arena.ratings.raters import GoldScore, wilson_interval
from db.models import BoardState, Model, Rater

COVARIATES: tuple[str, ...] = ("duration", "pixels", "fps", "aspect")
_WINNER = {"left": "model_a", "right": "model_b", "tie": "tie", "both_bad": "tie (bothbad)"}
_COLUMNS = (
    "prompt_id, left_model_id, right_model_id, choice, weight, weight_class, simulated, n, "
    "left_frames, left_width, left_height, left_fps, right_frames, right_width, right_height, right_fps"
)


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


def _nan_where_zero(values: np.ndarray) -> np.ndarray:
    return np.where(values > 0, values, np.nan)


def _covariates(shape: Sequence[Sequence[float]], side: str) -> dict[str, np.ndarray]:
    """Covariates of one side from its (frames, width, height, fps) columns; 0 (unknown) becomes NaN."""
    f, w, h, r = (_nan_where_zero(np.asarray(x, dtype=np.float64)) for x in shape)
    return {f"duration_{side}": f / r, f"pixels_{side}": w * h, f"fps_{side}": r, f"aspect_{side}": w / h}


def read_board_rows(session: Session, *, simulated: bool, class_weights: np.ndarray) -> BattleRows:
    """The counted board votes (human ones; simulated ones too if `simulated`) as aggregated rows."""
    where = "n > 0" if simulated else "n > 0 AND NOT simulated"
    rows = _fetch(session, f"SELECT {_COLUMNS} FROM vote_counts WHERE {where}")
    if not rows:
        return BattleRows.from_columns([], [], [])
    (prompt, left, right, choice, weight, klass, sim, n, *shape) = zip(*rows, strict=True)
    klass_arr = np.asarray(klass, dtype=np.int64)
    weights = np.asarray(weight, dtype=np.float64) * class_weights[klass_arr]
    base = BattleRows.from_columns(left, right, list(map(_WINNER.__getitem__, choice)), weights)
    prompt_arr = np.asarray(prompt, dtype=np.int64)
    language, category = _prompt_columns(session, prompt_arr)
    extra = {
        "prompt_id": prompt_arr,
        "language": language,
        "category": category,
        "simulated": np.asarray(sim, dtype=bool),
        "weight_class": klass_arr,
        # a vote's own weight is the matchmaker's design weight (arena.ratings.uncertainty calibrates by it)
        "design_weight": np.asarray(weight, dtype=np.float64),
        **_covariates(shape[:4], "a"),
        **_covariates(shape[4:], "b"),
    }
    return BattleRows(base.models, base.a, base.b, base.winner, base.weight, extra, np.asarray(n, dtype=np.int64))


def _prompt_columns(session: Session, prompt_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(language, category) object arrays for `prompt_ids`, from one read of the prompts that have counts."""
    found = _fetch(
        session, "SELECT id, language, category FROM prompts WHERE id IN (SELECT DISTINCT prompt_id FROM vote_counts)"
    )
    found.sort()
    ids = np.array([p[0] for p in found], dtype=np.int64)
    languages = np.array([p[1] for p in found], dtype=object)
    categories = np.array([p[2] for p in found], dtype=object)
    at = np.searchsorted(ids, prompt_ids)
    return languages[at], categories[at]


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


def model_info(session: Session) -> dict[str, dict[str, Any]]:
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
