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
# What the blind cannot hide, per side (_a: model_a, the left clip): duration (s), pixels, fps, aspect ratio.
# Read by style control (arena.ratings.style); the board's aggregated rows carry them (arena.services.board_rows).
STYLE_FIELDS: tuple[str, ...] = tuple(f"{n}_{s}" for n in ("duration", "pixels", "fps", "aspect") for s in ("a", "b"))
DEFAULT_EXTRAS: tuple[str, ...] = (
    "session",
    "category",
    "language",
    "prompt_id",
    "tstamp",
    "design_weight",  # the matchmaker's inverse-probability weight of the pick (arena.ratings.uncertainty)
    *STYLE_FIELDS,
)


class _FirstSeen(dict[Any, int]):
    """Numbers keys in order of first appearance: `codes[key]` adds an unseen key (C-level lookups, no loop)."""

    def __missing__(self, key: Any) -> int:
        code = self[key] = len(self)
        return code


def _factorize(values: Iterable[Any], n: int) -> tuple[np.ndarray, list[Any]]:
    """(codes, uniques) with `uniques[codes] == values`, uniques in order of first appearance."""
    if hasattr(values, "factorize"):  # pandas Series / Index: its C hash table
        codes, uniques = values.factorize()
        if n and codes.min() < 0:
            raise ValueError(f"row {int(np.argmax(codes < 0))}: missing value")
        return codes.astype(np.int64, copy=False), list(uniques)
    if isinstance(values, np.ndarray):
        values = values.tolist()
    seen = _FirstSeen()
    codes = np.fromiter(map(seen.__getitem__, values), np.int64, n)
    return codes, list(seen)


def _codes(values: np.ndarray) -> tuple[np.ndarray, int]:
    """(codes, number of distinct values): numbers by numpy's sort, anything else by a hash table."""
    if values.dtype.kind in "biuf":
        uniques, codes = np.unique(values, return_inverse=True)
        return codes.reshape(-1).astype(np.int64, copy=False), len(uniques)
    found, seen = _factorize(values, len(values))
    return found, len(seen)


def _objects(values: Sequence[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values if not hasattr(values, "to_numpy") else values.to_numpy(dtype=object)
    return out


@dataclass(frozen=True, eq=False)
class BattleRows:
    """Battles as rows. `a`, `b` index `models`; `winner` holds outcome codes; `weight` ≥ 0 is the weight of
    *one* battle of the row; `count` ≥ 0 is how many identical battles the row stands for (default 1 each).

    Per-vote rows have count 1; aggregated rows (one row per unique combination of every column, as a database
    GROUP BY returns them) carry the number of votes in `count`. Everything in the rating engine treats a row
    as `count` battles, each of weight `weight`, so both forms give the same boards.

    `extra` holds optional per-row fields (object arrays, None where missing), e.g. session or category.
    """

    models: tuple[str, ...]
    a: np.ndarray
    b: np.ndarray
    winner: np.ndarray
    weight: np.ndarray
    extra: Mapping[str, np.ndarray] = field(default_factory=dict)
    count: np.ndarray | None = None  # None: one battle per row

    def __post_init__(self) -> None:
        n = len(self.a)
        if not (len(self.b) == len(self.winner) == len(self.weight) == n):
            raise ValueError("a, b, winner and weight must have the same length")
        if any(len(v) != n for v in self.extra.values()):
            raise ValueError("every extra field needs one value per row")
        count = np.ones(n, np.int64) if self.count is None else np.asarray(self.count)
        if len(count) != n:
            raise ValueError("count needs one value per row")
        if n and (np.any(count < 0) or not np.array_equal(count, np.round(count))):
            raise ValueError("counts must be whole numbers ≥ 0")
        object.__setattr__(self, "count", count.astype(np.int64, copy=False))
        if n and (np.any(self.a == self.b)):
            raise ValueError(f"row {int(np.argmax(self.a == self.b))}: a model cannot battle itself")
        if n and (np.any(self.weight < 0) or not np.all(np.isfinite(self.weight))):
            raise ValueError("weights must be finite and ≥ 0")

    # ---- construction -------------------------------------------------------------------------------------
    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]], *, keep: Sequence[str] = DEFAULT_EXTRAS) -> BattleRows:
        """From `{model_a, model_b, winner[, weight]}` mappings; other keys are ignored unless named in `keep`.

        The three required fields are read and coded in one C-level pass (itemgetter → first-appearance codes of
        the distinct triples), so no per-record Python code runs; the few distinct triples are then decoded.
        Optional keys are scanned only when some record has more than three keys.
        """
        recs = records if isinstance(records, list) else list(records)
        n = len(recs)
        seen = _FirstSeen()  # (model_a, model_b, winner) → code: one C-level pass, one lookup per record
        try:
            codes = np.fromiter(
                map(seen.__getitem__, map(itemgetter("model_a", "model_b", "winner"), recs)), np.int64, n
            )
        except KeyError:
            key, bad = next((k, i) for i, r in enumerate(recs) for k in ("model_a", "model_b", "winner") if k not in r)
            msg = f"row {bad}: every battle needs model_a, model_b and winner (missing {key!r})"
            raise ValueError(msg) from None
        triples = list(seen)
        col_a, col_b, col_w = (_factorize([t[c] for t in triples], len(triples)) for c in range(3))
        extra: dict[str, list[Any]] = {}
        weights = None
        if n and sum(map(len, recs)) > 3 * n:
            present = set(chain.from_iterable(recs))
            weights = [r.get("weight", 1.0) for r in recs] if "weight" in present else None
            extra = {k: [r.get(k) for r in recs] for k in keep if k in present}
        a, b, w = ((c[codes], u) for c, u in (col_a, col_b, col_w))
        return cls._from_codes(a, b, w, weights, extra)

    @classmethod
    def from_columns(
        cls,
        model_a: Sequence[str],
        model_b: Sequence[str],
        winner: Sequence[str],
        weight: Sequence[float] | np.ndarray | None = None,
        extra: Mapping[str, Sequence[Any]] | None = None,
        count: Sequence[int] | np.ndarray | None = None,
    ) -> BattleRows:
        """From parallel columns: lists, numpy arrays or pandas Series (coded with pandas' factorize).
        `count`: battles per row (aggregated rows); default one each."""
        n = len(model_a)
        if not len(model_b) == len(winner) == n:
            raise ValueError("model_a, model_b and winner must have the same length")
        rows = cls._from_codes(_factorize(model_a, n), _factorize(model_b, n), _factorize(winner, n), weight, extra)
        return rows if count is None else rows.with_counts(np.asarray(count))

    @classmethod
    def from_table(cls, table: Mapping[str, Any] | pd.DataFrame, *, keep: Sequence[str] = DEFAULT_EXTRAS) -> BattleRows:
        """From a columnar table: a dict of lists / arrays or a pandas DataFrame with model_a, model_b, winner."""
        missing = [k for k in ("model_a", "model_b", "winner") if k not in table]
        if missing:
            raise ValueError(f"every battle needs model_a, model_b and winner (missing column {missing[0]!r})")
        weight = table.get("weight")
        if weight is not None:
            weight = np.asarray(weight, dtype=np.float64)
            weight = np.where(np.isnan(weight), 1.0, weight)  # a missing weight counts 1
        extra = {k: table[k] for k in keep if k in table}
        count = np.asarray(table["count"]) if "count" in table else None
        return cls.from_columns(table["model_a"], table["model_b"], table["winner"], weight, extra, count)

    @classmethod
    def from_dataframe(cls, df: pd.DataFrame, *, keep: Sequence[str] = DEFAULT_EXTRAS) -> BattleRows:
        return cls.from_table(df, keep=keep)

    @classmethod
    def _from_codes(
        cls,
        a: tuple[np.ndarray, list[Any]],
        b: tuple[np.ndarray, list[Any]],
        winner: tuple[np.ndarray, list[Any]],
        weight: Sequence[float] | np.ndarray | None,
        extra: Mapping[str, Sequence[Any]] | None,
    ) -> BattleRows:
        (ca, ua), (cb, ub), (cw, uw) = a, b, winner
        # Models indexed by sorted name, so column order does not depend on row order.
        names = sorted(set(ua).union(ub))
        index = {m: i for i, m in enumerate(names)}
        ia = np.array([index[m] for m in ua], dtype=np.int64)[ca] if len(ca) else np.zeros(0, np.int64)
        ib = np.array([index[m] for m in ub], dtype=np.int64)[cb] if len(cb) else np.zeros(0, np.int64)
        for code, w in enumerate(uw):
            if w not in _CODES:
                bad = int(np.argmax(cw == code))
                raise ValueError(f"row {bad}: unknown winner {w!r}; expected one of {sorted(OUTCOMES)}")
        win = np.array([_CODES[w] for w in uw], dtype=np.int8)[cw] if len(cw) else np.zeros(0, np.int8)
        w_arr = np.ones(len(ia)) if weight is None else np.asarray(weight, dtype=np.float64)
        ext = {k: _objects(v) for k, v in (extra or {}).items()}
        return cls(tuple(names), ia, ib, win, w_arr, ext)

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
            self.battles[mask],
        )

    def with_weights(self, weight: np.ndarray) -> BattleRows:
        weight = np.asarray(weight, dtype=np.float64)
        return BattleRows(self.models, self.a, self.b, self.winner, weight, self.extra, self.count)

    def with_counts(self, count: np.ndarray) -> BattleRows:
        return BattleRows(self.models, self.a, self.b, self.winner, self.weight, self.extra, count)

    @property
    def battles(self) -> np.ndarray:
        """Battles per row (int64): `count`, typed as an array."""
        assert self.count is not None  # set in __post_init__
        return self.count

    @property
    def total(self) -> int:
        """Number of battles (the sum of the counts)."""
        return int(self.battles.sum())

    def expand(self) -> BattleRows:
        """One row per battle (each row repeated `count` times, in row order): for order-dependent code."""
        if bool((self.battles == 1).all()):
            return self
        idx = np.repeat(np.arange(len(self)), self.battles)
        return BattleRows(
            self.models,
            self.a[idx],
            self.b[idx],
            self.winner[idx],
            self.weight[idx],
            {k: v[idx] for k, v in self.extra.items()},
        )

    def collapse(self, keep: Sequence[str] = ()) -> BattleRows:
        """The same battles in as few rows as they allow: rows alike in (a, b, winner, weight) and the `keep`
        extras are merged (counts summed); other extras are dropped. Boards and fits are unchanged; what the
        rows are grouped by for the decision layer (prompts, clip shapes) is gone."""
        if not len(self):
            return self
        k = self.n_models
        key = (self.a * k + self.b) * 4 + self.winner.astype(np.int64)
        for codes, n_unique in (_codes(self.weight), *(_codes(self.extra[f]) for f in keep)):
            key = key * n_unique + codes
        uniq, inverse = np.unique(key, return_inverse=True)
        count = np.bincount(inverse, weights=self.battles, minlength=len(uniq)).astype(np.int64)
        first = np.zeros(len(uniq), dtype=np.int64)
        first[inverse] = np.arange(len(self))  # a row of each group (all alike in what is kept) to read from
        extra = {f: self.extra[f][first] for f in keep}
        return BattleRows(
            self.models, self.a[first], self.b[first], self.winner[first], self.weight[first], extra, count
        )

    def counts(self) -> dict[str, np.ndarray]:
        """Per model (battles with weight > 0): votes, wins, losses, ties (either kind)."""
        live = self.weight > 0
        a, b, w, n = self.a[live], self.b[live], self.winner[live], self.battles[live]
        k = self.n_models

        def tally(models: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
            sel = slice(None) if mask is None else mask
            return np.bincount(models[sel], n[sel], minlength=k).astype(np.int64)

        votes = tally(a) + tally(b)
        wins = tally(a, w == MODEL_A) + tally(b, w == MODEL_B)
        losses = tally(a, w == MODEL_B) + tally(b, w == MODEL_A)
        return {"votes": votes, "wins": wins, "losses": losses, "ties": votes - wins - losses}
