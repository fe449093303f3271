"""Stored online Elo (`elo_ratings`): moved once by each board vote as it is stored (arena.services.tallies).

FastChat's online Elo (K = 4, ties half a win, a vote's weight multiplies K), kept per scope: population
("human": simulated votes left out, "all"), language and category ("" for all of them), so every filter of the
board reads its Elo instead of replaying the votes. The "all" population starts with the first simulated vote,
as a copy of "human" (until then the two are the same votes in the same order), so a human-only arena keeps
four scopes per vote. The replay works on flat lists with the index pairs of each (scope, models) combination
computed once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import bindparam, insert, literal, select
from sqlalchemy.orm import Session

from arena.ratings.elo import ELO_K
from db.models import EloRating

HUMAN, ALL = "human", "all"
INIT = 1000.0
_SCORE = {"left": 1.0, "right": 0.0, "tie": 0.5, "both_bad": 0.5}
_KEY = ("population", "language", "category", "model_id")
Scope = tuple[str, str, str]


def scopes(simulated: bool, language: str, category: str, with_all: bool = True) -> tuple[Scope, ...]:
    """Every scope a board vote belongs to (the "all" population only `with_all`)."""
    populations = (ALL,) if simulated else (ALL, HUMAN) if with_all else (HUMAN,)
    filters = (("", ""), (language, ""), ("", category), (language, category))
    return tuple((p, lang, cat) for p in populations for lang, cat in filters)


class EloState:
    """Ratings and vote counts of (population, language, category, model) keys, as flat lists."""

    def __init__(self, rows: Iterable[Sequence[Any]] = ()) -> None:
        self.index: dict[tuple[str, str, str, str], int] = {}
        self.ratings: list[float] = []
        self.votes: list[int] = []
        self.moved: set[int] = set()  # slots a replay moved: the only rows to write back
        for population, language, category, model, rating, votes in rows:
            self._slot((population, language, category, model), rating, votes)

    def _slot(self, key: tuple[str, str, str, str], rating: float = INIT, votes: int = 0) -> int:
        at = self.index.get(key)
        if at is None:
            at = self.index[key] = len(self.ratings)
            self.ratings.append(rating)
            self.votes.append(votes)
        return at

    def replay(self, facts: Iterable[Sequence[Any]], factors: Sequence[float], with_all: bool) -> None:
        """Move the ratings by `facts` in order: per vote its vote_counts key (`COUNT_KEY` order: simulated,
        prompt, left model, right model, weight, weight class, clip shapes) then its choice, language and
        category; `factors` weighs each class; `with_all`: the "all" population too."""
        pairs_of: dict[tuple[Any, ...], list[tuple[int, int]]] = {}
        r, n = self.ratings, self.votes
        for f in facts:
            simulated, a, b, weight, klass = f[0], f[2], f[3], f[4], f[5]
            choice, language, category = f[-3], f[-2], f[-1]
            combo = (simulated, language, category, a, b)
            pairs = pairs_of.get(combo)
            if pairs is None:
                pairs = [
                    (self._slot((*s, a)), self._slot((*s, b))) for s in scopes(simulated, language, category, with_all)
                ]
                pairs_of[combo] = pairs
                self.moved.update(i for pair in pairs for i in pair)  # each vote below moves its combination's pairs
            step = ELO_K * weight * factors[klass]
            score = _SCORE[choice]
            for ia, ib in pairs:
                ra, rb = r[ia], r[ib]
                delta = step * (score - 1.0 / (1.0 + 10.0 ** ((rb - ra) / 400.0)))
                r[ia] = ra + delta
                r[ib] = rb - delta
                n[ia] += 1
                n[ib] += 1

    def rows(self) -> list[dict[str, Any]]:
        """The rows a replay moved (the others are as stored)."""
        return [
            dict(zip(_KEY, key, strict=True)) | {"rating": self.ratings[at], "votes": self.votes[at]}
            for key, at in self.index.items()
            if at in self.moved
        ]


_HAS_ALL = select(EloRating.model_id).where(EloRating.population == ALL).limit(1)
_OF_MODELS = select(*(getattr(EloRating, k) for k in _KEY), EloRating.rating, EloRating.votes).where(
    EloRating.model_id.in_(bindparam("models", expanding=True))
)  # built once: SQLAlchemy then reuses its cache key and compiled form on every vote


def has_all(session: Session) -> bool:
    """Whether the "all" population has started (some simulated vote was stored)."""
    return session.scalar(_HAS_ALL) is not None


def start_all(session: Session) -> None:
    """Start the "all" population as a copy of "human" (before the first simulated vote moves it)."""
    columns = (EloRating.language, EloRating.category, EloRating.model_id, EloRating.rating, EloRating.votes)
    copy = select(literal(ALL), *columns).where(EloRating.population == HUMAN)
    session.execute(insert(EloRating).from_select([*_KEY, "rating", "votes"], copy))


def load_elo(session: Session, models: Iterable[str]) -> EloState:
    """The stored ratings of `models` in every scope."""
    return EloState(session.connection().execute(_OF_MODELS, {"models": sorted(set(models))}))


def elo_upsert(insert: Any) -> Any:
    """The statement :func:`save_elo` writes with (`insert`: the dialect's INSERT with ON CONFLICT); build it once."""
    statement = insert(EloRating)
    return statement.on_conflict_do_update(
        index_elements=list(_KEY), set_={"rating": statement.excluded.rating, "votes": statement.excluded.votes}
    )


def save_elo(session: Session, state: EloState, upsert: Any) -> None:
    """Write back the rows `state` moved, with `upsert` (from :func:`elo_upsert`)."""
    rows = state.rows()
    if rows:
        session.connection().execute(upsert, rows)


def read_elo(session: Session, simulated: bool) -> dict[tuple[str, str], dict[str, float]]:
    """Stored Elo of human votes (and simulated ones if `simulated`) for the board: (language or "", category or
    "") → model → rating."""
    population = ALL if simulated and has_all(session) else HUMAN
    out: dict[tuple[str, str], dict[str, float]] = {}
    query = select(EloRating.language, EloRating.category, EloRating.model_id, EloRating.rating).where(
        EloRating.population == population
    )
    for language, category, model, rating in session.execute(query):
        out.setdefault((language, category), {})[model] = float(rating)
    return out
