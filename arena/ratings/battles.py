"""Battle rows: a small typed container over FastChat-style `{model_a, model_b, winner}` records.

Models are mapped to indices (sorted by name, so the same battles always give the same columns); winners to
small integer codes. Everything the rating engine needs is a numpy array here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

# Outcome codes. `tie` and `tie (bothbad)` are both half a win for each side (FastChat), but kept apart here.
MODEL_A, MODEL_B, TIE, BOTHBAD = 0, 1, 2, 3
OUTCOMES: dict[str, int] = {"model_a": MODEL_A, "model_b": MODEL_B, "tie": TIE, "tie (bothbad)": BOTHBAD}
# The vote vocabulary of FastChat / GenAI-Arena, with model_a shown on the left.
VOTE_ALIASES: dict[str, int] = {"leftvote": MODEL_A, "rightvote": MODEL_B, "tievote": TIE, "bothbad_vote": BOTHBAD}
_CODES = {**OUTCOMES, **VOTE_ALIASES}
# Score of model_a for each code: win 1, loss 0, either tie 0.5.
SCORE_A = np.array([1.0, 0.0, 0.5, 0.5])
DEFAULT_EXTRAS: tuple[str, ...] = ("session", "category", "language", "prompt_id", "tstamp")


@dataclass(frozen=True, eq=False)
class BattleRows:
    """One row per battle. `a`, `b` index `models`; `winner` holds outcome codes; `weight` ≥ 0 per row.

    `extra` holds optional per-row fields (object arrays, None where missing), e.g. session or category.
    """

    models: tuple[str, ...]
    a: np.ndarray
    b: np.ndarray
    winner: np.ndarray
    weight: np.ndarray
    extra: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.a)
        if not (len(self.b) == len(self.winner) == len(self.weight) == n):
            raise ValueError("a, b, winner and weight must have the same length")
        if any(len(v) != n for v in self.extra.values()):
            raise ValueError("every extra field needs one value per row")
        if n and (np.any(self.a == self.b)):
            raise ValueError(f"row {int(np.argmax(self.a == self.b))}: a model cannot battle itself")
        if n and (np.any(self.weight < 0) or not np.all(np.isfinite(self.weight))):
            raise ValueError("weights must be finite and ≥ 0")

    # ---- construction -------------------------------------------------------------------------------------
    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]], *, keep: Sequence[str] = DEFAULT_EXTRAS) -> BattleRows:
        """From `{model_a, model_b, winner[, weight]}` mappings; other keys are ignored unless named in `keep`."""
        recs = records if isinstance(records, list) else list(records)
        try:
            names_a = list(map(itemgetter("model_a"), recs))
            names_b = list(map(itemgetter("model_b"), recs))
            winners = list(map(itemgetter("winner"), recs))
        except KeyError as exc:
            raise ValueError(f"every battle needs model_a, model_b and winner (missing {exc})") from None
        # Optional keys: scanned only when some record has more than the three required ones.
        present = set(chain.from_iterable(recs)) if recs and max(map(len, recs)) > 3 else set()
        weights = [r.get("weight", 1.0) for r in recs] if "weight" in present else None
        extra = {k: [r.get(k) for r in recs] for k in keep if k in present}
        return cls.from_columns(names_a, names_b, winners, weights, extra)

    @classmethod
    def from_columns(
        cls,
        model_a: Sequence[str],
        model_b: Sequence[str],
        winner: Sequence[str],
        weight: Sequence[float] | None = None,
        extra: Mapping[str, Sequence[Any]] | None = None,
    ) -> BattleRows:
        # Models indexed by sorted name, so column order does not depend on row order.
        names = sorted(set(model_a).union(model_b))
        codes = {m: i for i, m in enumerate(names)}
        ia = np.fromiter(map(codes.__getitem__, model_a), np.int64, len(model_a))
        ib = np.fromiter(map(codes.__getitem__, model_b), np.int64, len(model_b))
        try:
            win = np.fromiter(map(_CODES.__getitem__, winner), np.int8, len(winner))
        except KeyError as exc:
            bad = next(i for i, w in enumerate(winner) if w not in _CODES)
            raise ValueError(f"row {bad}: unknown winner {exc.args[0]!r}; expected one of {sorted(OUTCOMES)}") from None
        w = np.ones(len(ia)) if weight is None else np.asarray(weight, dtype=np.float64)
        ext = {k: np.asarray(v, dtype=object) for k, v in (extra or {}).items()}
        return cls(tuple(names), ia, ib, win, w, ext)

    @classmethod
    def from_dataframe(cls, df: pd.DataFrame, *, keep: Sequence[str] = DEFAULT_EXTRAS) -> BattleRows:
        weight = df["weight"].fillna(1.0).to_numpy(dtype=np.float64) if "weight" in df.columns else None
        extra = {k: df[k].to_numpy(dtype=object) for k in keep if k in df.columns}
        return cls.from_columns(df["model_a"].tolist(), df["model_b"].tolist(), df["winner"].tolist(), weight, extra)

    @classmethod
    def from_jsonl(cls, path: str | Path, *, keep: Sequence[str] = DEFAULT_EXTRAS) -> BattleRows:
        """One JSON object per line; blank lines are skipped. Errors name the line."""
        with open(path, encoding="utf-8") as fh:
            lines = [line for line in fh.read().splitlines() if line.strip()]
        try:  # one parse of the whole file is ~3× faster than one per line
            records = json.loads("[" + ",".join(lines) + "]")
        except json.JSONDecodeError:
            records = []
            for lineno, line in enumerate(lines, 1):
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}: record {lineno}: not JSON ({exc.msg})") from None
        if not all(isinstance(r, dict) for r in records):
            raise ValueError(f"{path}: every line must be a JSON object")
        return cls.from_records(records, keep=keep)

    # ---- views --------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.a)

    @property
    def n_models(self) -> int:
        return len(self.models)

    @property
    def score(self) -> np.ndarray:
        """Score of model_a per row: 1, 0 or 0.5."""
        return SCORE_A[self.winner]

    def index(self, model: str) -> int:
        try:
            return self.models.index(model)
        except ValueError:
            raise KeyError(f"unknown model {model!r}; known: {', '.join(self.models)}") from None

    def subset(self, mask: np.ndarray) -> BattleRows:
        """Rows where `mask` is true, keeping only the models that still appear."""
        mask = np.asarray(mask, dtype=bool)
        a, b = self.a[mask], self.b[mask]
        used = np.unique(np.concatenate([a, b]))
        remap = np.full(self.n_models, -1, dtype=np.int64)
        remap[used] = np.arange(len(used))
        return BattleRows(
            tuple(self.models[i] for i in used),
            remap[a],
            remap[b],
            self.winner[mask],
            self.weight[mask],
            {k: v[mask] for k, v in self.extra.items()},
        )

    def with_weights(self, weight: np.ndarray) -> BattleRows:
        return BattleRows(self.models, self.a, self.b, self.winner, np.asarray(weight, dtype=np.float64), self.extra)

    def counts(self) -> dict[str, np.ndarray]:
        """Per model (rows with weight > 0): votes, wins, losses, ties (either kind)."""
        live = self.weight > 0
        a, b, w = self.a[live], self.b[live], self.winner[live]
        k = self.n_models
        votes = np.bincount(a, minlength=k) + np.bincount(b, minlength=k)
        wins = np.bincount(a[w == MODEL_A], minlength=k) + np.bincount(b[w == MODEL_B], minlength=k)
        losses = np.bincount(a[w == MODEL_B], minlength=k) + np.bincount(b[w == MODEL_A], minlength=k)
        return {"votes": votes, "wins": wins, "losses": losses, "ties": votes - wins - losses}
