"""The leaderboard from stored votes, through the rating engine (arena.ratings): boards, decisions, raters.

Only anonymous votes count. Gold-pair battles are quality checks: they score the raters' sessions and are
kept off the board; sessions failing them are down-weighted or excluded as the settings say.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from arena.services.views import Refusal
from arena.services.votes import voted_battles
from arena.settings import Settings
from db.models import Model, Vote
from db.session import transaction

if TYPE_CHECKING:
    from arena.ratings import BattleRows, Leaderboard
    from arena.services.verdicts import PromptLosses, Verdicts


T = TypeVar("T")


def _round(x: float, digits: int = 1) -> float:
    return round(float(x), digits)


def _score_gold(votes: list[dict[str, Any]]) -> dict[str, Any]:
    from arena.ratings import score_gold

    gold = [v for v in votes if v["is_gold"] and v["gold_better"]]
    answers = {v["battle_id"]: ("model_a" if v["gold_better"] == "left" else "model_b") for v in gold}
    return score_gold(gold, answers, gold_key="battle_id")


class VoteSnapshot:
    """Every anonymous vote and the models' details, read once: each view of the board is computed from it,
    so one page of the leaderboard reads the database once however many views it shows.

    The data never changes after construction, so what is derived from it (gold scores, session weights, board
    rows, Bradley–Terry fits) is computed once and kept: a page showing the board, the in-house view and a
    comparison fits the votes once. The cached rows are shared: treat what the methods return as read-only.
    """

    def __init__(self, votes: list[dict[str, Any]], models: dict[str, dict[str, Any]], settings: Settings) -> None:
        self.votes = votes  # anonymous voted battles, gold ones included
        self.model_info = models
        self.settings = settings
        self._lock = threading.RLock()  # one fit at a time: concurrent readers of a shared snapshot wait for it
        self._battle_rows: dict[tuple[str | None, str | None], BattleRows] = {}
        self._fits: dict[tuple[Any, ...], tuple[BattleRows, Leaderboard]] = {}
        self._views: dict[tuple[Any, ...], Any] = {}  # the last few verdict families and rating views asked for

    def models(self) -> dict[str, dict[str, Any]]:
        return self.model_info

    def gold_scores(self, votes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """Gold-pair accuracy per session (of `votes`, default: this snapshot's votes, computed once)."""
        return self._gold if votes is None else _score_gold(votes)

    @cached_property
    def _gold(self) -> dict[str, Any]:
        return _score_gold(self.votes)

    @cached_property
    def session_weights(self) -> dict[str, float]:
        """Weight of each session's votes from its gold record (empty when the gold policy is "none")."""
        from arena.ratings import session_weights

        if self.settings.gold_policy == "none":
            return {}
        return session_weights(self._gold, mode=self.settings.gold_policy)

    @cached_property
    def _board_rows(self) -> list[dict[str, Any]]:
        weights = self.session_weights
        return [{**v, "weight": v["weight"] * weights.get(v["session"], 1.0)} for v in self.votes if not v["is_gold"]]

    def rows(self, language: str | None = None, category: str | None = None) -> list[dict[str, Any]]:
        """Board rows: anonymous, non-gold votes (filtered), each weighted by its session's gold record."""
        return [
            v
            for v in self._board_rows
            if (language is None or v["language"] == language) and (category is None or v["category"] == category)
        ]

    def battle_rows(self, language: str | None = None, category: str | None = None) -> BattleRows:
        """The (filtered) board rows as the rating engine's arrays, built once per filter."""
        from arena.ratings import BattleRows

        with self._lock:
            key = (language, category)
            if key not in self._battle_rows:
                self._battle_rows[key] = BattleRows.from_records(self.rows(language, category))
            return self._battle_rows[key]

    def fit(
        self,
        language: str | None = None,
        category: str | None = None,
        *,
        min_votes: int = 0,
        bootstrap_rounds: int | None = None,
        seed: int = 0,
        anchor: str | None = None,
    ) -> tuple[BattleRows, Leaderboard]:
        """The battle rows and Bradley–Terry board of the (filtered) board rows; the anchor defaults to the
        configured one (when it has votes here), the rounds to the settings'. The minimum-votes gate applies
        before the fit. Fitted once per filter, gate, rounds, seed and anchor."""
        from arena.ratings import leaderboard

        rounds = self.settings.bootstrap_rounds if bootstrap_rounds is None else bootstrap_rounds
        with self._lock:
            key = (language, category, min_votes, rounds, seed, anchor)
            if key not in self._fits:
                rows = self.battle_rows(language, category)
                pinned = anchor
                if pinned is None and self.settings.anchor_model in rows.models:
                    pinned = self.settings.anchor_model
                board = leaderboard(rows, bootstrap_rounds=rounds, seed=seed, anchor=pinned, min_votes=min_votes)
                self._fits[key] = (rows, board)
            return self._fits[key]

    # -- outputs -----------------------------------------------------------------------------------------
    def board(
        self,
        language: str | None = None,
        category: str | None = None,
        min_votes: int | None = None,
        bootstrap_rounds: int | None = None,
        seed: int = 0,
    ) -> dict[str, Any]:
        """Rank, model, organisation, licence, rating with 95 % CI, votes, win rate, Elo."""
        records = self.rows(language, category)
        threshold = self.settings.min_votes if min_votes is None else min_votes
        result: dict[str, Any] = {
            "votes": len(records),
            "min_votes": threshold,
            "rows": [],
            "filters": {"language": language, "category": category},
        }
        if not records:
            return result
        _, board = self.fit(language, category, min_votes=threshold, bootstrap_rounds=bootstrap_rounds, seed=seed)
        meta = self.models()
        result["hidden"] = list(board.hidden)
        result["components"] = board.n_components
        for entry in board.entries:
            info = meta.get(entry.model, {})
            low, high = entry.interval
            result["rows"].append(
                {
                    "rank": entry.rank,
                    "model_id": entry.model,
                    "model": info.get("display_name", entry.model),
                    "organisation": info.get("organisation", ""),
                    "licence": info.get("licence", ""),
                    "rating": _round(entry.rating),
                    "ci": [None if low is None else _round(low), None if high is None else _round(high)],
                    "insufficient": entry.insufficient,
                    "component": entry.component,
                    "votes": int(entry.votes),
                    "win_rate": round(float(entry.win_rate), 4),
                    "elo": _round(entry.elo),
                }
            )
        return result

    def in_house_model(self) -> str | None:
        if self.settings.in_house_model:
            return self.settings.in_house_model
        return next((m for m, info in self.models().items() if info["in_house"] and info["enabled"]), None)

    def names(self) -> dict[str, str]:
        return {m: info.get("display_name", m) for m, info in self.models().items()}

    def versus(
        self,
        in_house: str | None = None,
        language: str | None = None,
        category: str | None = None,
        by: Sequence[str] | str | None = None,
        **rules: Any,
    ) -> Verdicts:
        """The in-house model against each rival in the (filtered) board rows, overall and per group of `by`
        (category, language, prompt), as one family of verdicts (see arena.services.verdicts)."""
        from arena.services.verdicts import Verdicts, group_fields, rules_from, versus_from_rows

        in_house = in_house or self.in_house_model()
        decide = rules_from(self.settings, **rules)
        fields = group_fields(by)
        rows = self.battle_rows(language, category)
        if in_house is None or in_house not in rows.models:
            return Verdicts(
                (), decide.method, "", decide.alpha, decide.margin, decide.power_gap, 0, fields, (), in_house
            )
        key = ("versus", in_house, language, category, fields, decide)
        return self._memo(key, lambda: versus_from_rows(rows, in_house, decide, by=fields, names=self.names()))

    def compare(
        self, a: str, b: str, language: str | None = None, category: str | None = None, **rules: Any
    ) -> Verdicts:
        """Any two models: one verdict (a family of one) on the (filtered) board rows."""
        from arena.services.verdicts import rules_from, verdicts_from_rows

        if a == b:
            raise Refusal("invalid", "compare two different models", 400)
        rows = self.battle_rows(language, category)
        missing = [m for m in (a, b) if m not in rows.models]
        if missing:
            raise Refusal("no_votes", f"no anonymous votes yet for: {', '.join(missing)}", 404)
        decide = rules_from(self.settings, **rules)
        key = ("compare", a, b, language, category, decide)
        return self._memo(key, lambda: verdicts_from_rows(rows, [(a, b)], decide, names=self.names()))

    def style(self, language: str | None = None, category: str | None = None) -> dict[str, Any]:
        """Ratings with and without style held fixed (arena.services.rating_views.style_view)."""
        from arena.services.rating_views import style_view

        rows = self.battle_rows(language, category)
        return self._memo(
            ("style", language, category), lambda: style_view(rows, self.names(), self.settings.min_votes)
        )

    def davidson(self, language: str | None = None, category: str | None = None) -> dict[str, Any]:
        """Davidson's tie model with both-bad apart (arena.services.rating_views.davidson_view)."""
        from arena.services.rating_views import davidson_view

        rows, gate = self.battle_rows(language, category), self.settings.min_votes
        return self._memo(("davidson", language, category), lambda: davidson_view(rows, self.names(), gate))

    def _memo(self, key: tuple[Any, ...], make: Callable[[], T]) -> T:
        """A view computed once per snapshot and arguments (at most 32 kept, oldest dropped)."""
        with self._lock:
            if key not in self._views:
                if len(self._views) >= 32:
                    self._views.pop(next(iter(self._views)))
                self._views[key] = make()
            return cast(T, self._views[key])

    def prompt_losses(
        self, in_house: str | None = None, language: str | None = None, category: str | None = None, limit: int = 5
    ) -> list[PromptLosses]:
        """The prompts where the in-house model lost most often (direct battles, filtered)."""
        from arena.services.verdicts import prompt_losses

        in_house = in_house or self.in_house_model()
        return prompt_losses(self.battle_rows(language, category), in_house, limit) if in_house else []

    def position_bias(self) -> dict[str, Any]:
        """P(the left video wins) among decisive anonymous votes, with a 95 % Wilson interval."""
        from arena.ratings import position_bias

        votes = [v for v in self.votes if not v["is_gold"]]
        flags = [{"left_won": {"left": True, "right": False}.get(v["choice"])} for v in votes]
        p, low, high = position_bias(flags)
        decisive = sum(f["left_won"] is not None for f in flags)
        return {"p_left": round(p, 4), "ci": [round(low, 4), round(high, 4)], "decisive_votes": decisive}

    def matrices(self, language: str | None = None, category: str | None = None) -> dict[str, Any]:
        """Win-fraction and battle-count matrices (pandas DataFrames labelled by display name)."""
        from arena.ratings import battle_count_matrix, win_fraction_matrix

        if not self.rows(language, category):
            return {"win_fraction": None, "battle_count": None}
        rows = self.battle_rows(language, category)
        names = {m: info["display_name"] for m, info in self.models().items()}
        wins = win_fraction_matrix(rows)
        counts = battle_count_matrix(rows, order=list(wins.index))
        return {
            "win_fraction": wins.rename(index=names, columns=names),
            "battle_count": counts.rename(index=names, columns=names),
        }

    def category_boards(self, field: str = "category", seed: int = 0) -> dict[str, list[dict[str, Any]]]:
        """One board per prompt category (or language): rows as in :meth:`board`."""
        values = sorted({str(r[field]) for r in self.rows()})
        out = {}
        for value in values:
            kwargs = {"language": value} if field == "language" else {"category": value}
            out[value] = self.board(**kwargs, seed=seed)["rows"]  # type: ignore[arg-type]
        return out

    def raters(self) -> dict[str, Any]:
        """Per session: votes, agreement with the consensus, and gold-pair accuracy."""
        from arena.ratings import BattleRows, session_agreement, session_weights

        votes = self.votes
        gold = self._gold
        failed = {s for s, w in session_weights(gold, mode="exclude").items() if w == 0.0}
        board_rows = [v for v in votes if not v["is_gold"]]
        agreement = session_agreement(BattleRows.from_records(board_rows)) if board_rows else {}
        sessions = sorted(set(agreement) | set(gold))
        return {
            s: {
                **agreement.get(s, {}),
                "gold_votes": gold[s].votes if s in gold else 0,
                "gold_accuracy": round(gold[s].accuracy, 4) if s in gold else None,
                "gold_failed": s in failed,
            }
            for s in sessions
        }


def _model_info(session: Session) -> dict[str, dict[str, Any]]:
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


def _votes_token(session: Session) -> tuple[int, int | None]:
    """Changes whenever a vote is stored or deleted (the vote ids only grow)."""
    count, last = session.execute(select(func.count(Vote.id), func.max(Vote.id))).one()
    return int(count), last


class LeaderboardService:
    """Reads the votes; every view comes from a :class:`VoteSnapshot` (take one to show several views).

    The last snapshot is kept as a cache (not state of record) and reused while it is younger than
    `snapshot_max_age_s` *and* no vote was added or removed since (one cheap ``count(*), max(id)`` query on
    the votes decides): so repeated reads of the board (the public API, the UI's several events of one page)
    neither re-read every vote nor refit the bootstrap, yet a vote is on the board as soon as it is stored.
    Model details (names, the in-house flag) may lag by up to `snapshot_max_age_s`.
    """

    def __init__(self, factory: sessionmaker[Session], settings: Settings, snapshot_max_age_s: float = 5.0) -> None:
        self.factory = factory
        self.settings = settings
        self.snapshot_max_age_s = snapshot_max_age_s
        self._lock = threading.Lock()
        self._cached: tuple[float, tuple[int, int | None], VoteSnapshot] | None = None  # (taken, votes token, it)

    def snapshot(self, max_age_s: float | None = None) -> VoteSnapshot:
        """The votes and models as of now: the cached snapshot when it is younger than `max_age_s` (default:
        the service's) and the votes are unchanged since; else a fresh read (0 forces one)."""
        max_age = self.snapshot_max_age_s if max_age_s is None else max_age_s
        with self._lock:  # concurrent readers wait for one read rather than each doing it
            with transaction(self.factory) as session:
                token = _votes_token(session)
                cached = self._cached
                if cached is not None and cached[1] == token and time.monotonic() - cached[0] < max_age:
                    return cached[2]
                snap = VoteSnapshot(voted_battles(session), _model_info(session), self.settings)
            self._cached = (time.monotonic(), token, snap)
            return snap

    def models(self) -> dict[str, dict[str, Any]]:
        with transaction(self.factory) as session:
            return _model_info(session)

    # One-view conveniences (the API, the CLI and the matchmaker need one view at a time).
    def rows(self, language: str | None = None, category: str | None = None) -> list[dict[str, Any]]:
        return self.snapshot().rows(language, category)

    def board(self, **kwargs: Any) -> dict[str, Any]:
        return self.snapshot().board(**kwargs)

    def versus(self, in_house: str | None = None, **kwargs: Any) -> Verdicts:
        return self.snapshot().versus(in_house, **kwargs)

    def compare(self, a: str, b: str, **kwargs: Any) -> Verdicts:
        return self.snapshot().compare(a, b, **kwargs)

    def position_bias(self) -> dict[str, Any]:
        return self.snapshot().position_bias()

    def matrices(self, language: str | None = None, category: str | None = None) -> dict[str, Any]:
        return self.snapshot().matrices(language, category)

    def category_boards(self, field: str = "category") -> dict[str, list[dict[str, Any]]]:
        return self.snapshot().category_boards(field)

    def raters(self) -> dict[str, Any]:
        return self.snapshot().raters()

    def in_house_model(self) -> str | None:
        return self.snapshot().in_house_model()
