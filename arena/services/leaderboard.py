"""The leaderboard from the counted votes, through the rating engine (arena.ratings): boards, decisions, raters.

Only anonymous votes count, human ones unless a snapshot is taken with `simulated=True`; gold-pair battles score
the raters (arena.services.tallies) and stay off the board. The board reads the vote counts
(arena.services.board_rows), never one row per vote; only the audits (`rows()`, `raters()`) read votes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy.orm import Session, sessionmaker

from arena.services.board_rows import BoardToken, CountTable, ModelInfo, board_token, model_info
from arena.services.elo_store import read_elo
from arena.services.rating_views import (
    Board,
    BoardRow,
    DavidsonView,
    Matrices,
    StyleView,
    board_view,
    davidson_view,
    style_view,
)
from arena.services.tallies import Tallies
from arena.services.views import Refusal
from arena.services.vote_rows import SnapshotAudit, VotedBattleRow
from arena.settings import Settings
from db.session import transaction

if TYPE_CHECKING:
    from arena.ratings import BattleRows, Leaderboard
    from arena.services.rater_views import PositionBias, RaterRow, RaterSummary
    from arena.services.verdicts import PromptLosses, Verdicts


T = TypeVar("T")


class VoteSnapshot:
    """The counted votes (aggregated rows), the models' details and the stored Elo, read once: each view of the
    board is computed from them, so one page of the leaderboard reads the database once however many views it
    shows.

    The data never changes after construction, so what is derived from it (filtered rows, Bradley–Terry fits)
    is computed once and kept: a page showing the board, the in-house view and a comparison fits once. The
    cached rows are shared: treat what the methods return as read-only.
    """

    def __init__(
        self,
        rows: BattleRows,
        models: dict[str, ModelInfo],
        settings: Settings,
        *,
        elo: Mapping[tuple[str, str], Mapping[str, float]] | None = None,
        simulated: bool = False,
        audit: SnapshotAudit | None = None,
    ) -> None:
        self.all_rows = rows  # every counted board vote of this population, aggregated
        self.model_info = models
        self.settings = settings
        self.elo = elo  # (language or "", category or "") → model → online Elo; None: computed from the rows
        self.simulated = simulated
        self.audit = audit
        self._lock = threading.RLock()  # one fit at a time: concurrent readers of a shared snapshot wait for it
        self._battle_rows: dict[tuple[str | None, str | None], BattleRows] = {}
        self._pair_rows: dict[tuple[Any, ...], BattleRows] = {}
        self._fits: dict[tuple[Any, ...], tuple[BattleRows, Leaderboard]] = {}
        self._raters: dict[str, RaterRow] | None = None
        self._views: dict[tuple[Any, ...], Any] = {}  # the last few verdict families and rating views asked for

    def models(self) -> dict[str, ModelInfo]:
        return self.model_info

    def rows(self, language: str | None = None, category: str | None = None) -> list[VotedBattleRow]:
        """Per-vote board rows (anonymous, non-gold, weighted by their class), read from the database now: for
        audits (the board itself reads :meth:`battle_rows`)."""
        return self.audited().votes(language, category)

    def battle_rows(self, language: str | None = None, category: str | None = None) -> BattleRows:
        """The (filtered) counted board votes as the rating engine's aggregated rows, built once per filter."""
        import numpy as np

        with self._lock:
            key = (language, category)
            if key not in self._battle_rows:
                rows = self.all_rows
                if len(rows) and (language is not None or category is not None):
                    mask = np.ones(len(rows), dtype=bool)
                    if language is not None:
                        mask &= rows.extra["language"] == language
                    if category is not None:
                        mask &= rows.extra["category"] == category
                    rows = rows.subset(mask)
                self._battle_rows[key] = rows
            return self._battle_rows[key]

    def pair_rows(
        self, language: str | None = None, category: str | None = None, keep: tuple[str, ...] = ()
    ) -> BattleRows:
        """:meth:`battle_rows` collapsed to one row per pair, outcome and weight (and the `keep` columns): the
        same battles for fits, matrices and the matchmaker, in a few thousand rows whatever the votes."""
        with self._lock:
            key = (language, category, keep)
            if key not in self._pair_rows:
                rows = self.battle_rows(language, category)
                design = ("design_weight",) if "design_weight" in rows.extra else ()  # the bootstrap reads it
                self._pair_rows[key] = rows.collapse((*design, *keep))
            return self._pair_rows[key]

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
                elo = None if self.elo is None else self.elo.get((language or "", category or ""), {})
                board = leaderboard(  # fitted on the rows collapsed to pairs: the same board, fewer rows
                    self.pair_rows(language, category),
                    bootstrap_rounds=rounds,
                    seed=seed,
                    anchor=pinned,
                    elo=elo,
                    min_votes=min_votes,
                )
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
    ) -> Board:
        """Rank, model, organisation, licence, rating with 95 % CI, votes, win rate, Elo."""
        votes = self.battle_rows(language, category).total
        threshold = self.settings.min_votes if min_votes is None else min_votes
        filters: dict[str, str | None] = {"language": language, "category": category}
        if not votes:
            return board_view(None, {}, votes, threshold, filters)
        _, board = self.fit(language, category, min_votes=threshold, bootstrap_rounds=bootstrap_rounds, seed=seed)
        return board_view(board, self.models(), votes, threshold, filters)

    def in_house_model(self) -> str | None:
        if self.settings.in_house_model:
            return self.settings.in_house_model
        return next((m for m, info in self.models().items() if info["in_house"] and info["enabled"]), None)

    def names(self) -> dict[str, str]:
        return {m: info["display_name"] for m, info in self.models().items()}

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
            return Verdicts.empty(decide, fields, in_house)
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

    def style(self, language: str | None = None, category: str | None = None) -> StyleView:
        """Ratings with and without style held fixed (arena.services.rating_views.style_view)."""
        rows, gate = self.battle_rows(language, category), self.settings.min_votes
        return self._memo(("style", language, category), lambda: style_view(rows, self.names(), gate))

    def davidson(self, language: str | None = None, category: str | None = None) -> DavidsonView:
        """Davidson's tie model with both-bad apart (arena.services.rating_views.davidson_view)."""
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

    def position_bias(self) -> PositionBias:
        """P(the left video wins) among decisive anonymous votes, with a 95 % Wilson interval."""
        from arena.services.rater_views import position_bias

        return position_bias(self.all_rows)

    def matrices(self, language: str | None = None, category: str | None = None) -> Matrices:
        """Win-fraction and battle-count matrices (pandas DataFrames labelled by display name)."""
        from arena.ratings import battle_count_matrix, win_fraction_matrix

        rows = self.pair_rows(language, category)
        if not rows.total:
            return {"win_fraction": None, "battle_count": None}
        names = {m: info["display_name"] for m, info in self.models().items()}
        wins = win_fraction_matrix(rows)
        counts = battle_count_matrix(rows, order=list(wins.index))
        return {
            "win_fraction": wins.rename(index=names, columns=names),
            "battle_count": counts.rename(index=names, columns=names),
        }

    def category_boards(self, field: str = "category", seed: int = 0) -> dict[str, list[BoardRow]]:
        """One board per prompt category (or language): rows as in :meth:`board`."""
        rows = self.all_rows
        values = sorted({str(v) for v in rows.extra[field][rows.battles > 0]}) if len(rows) else []
        by_language = field == "language"
        return {
            value: self.board(language=value, seed=seed)["rows"]
            if by_language
            else self.board(category=value, seed=seed)["rows"]
            for value in values
        }

    def rater_summary(self) -> RaterSummary:
        """The raters in one line, from the counts and the raters table (see arena.services.rater_views)."""
        from arena.services.rater_views import rater_summary

        return rater_summary(self.all_rows, self.audited())

    def raters(self) -> dict[str, RaterRow]:
        """Per session: votes, agreement with the consensus, and gold-pair accuracy (an audit: it reads the
        votes per session; computed once per snapshot)."""
        from arena.services.rater_views import rater_table

        with self._lock:
            if self._raters is None:
                self._raters = rater_table(self.audited())
            return self._raters

    def audited(self) -> SnapshotAudit:
        """The per-vote reads behind this snapshot (audits: they read the database now)."""
        if self.audit is None:
            raise RuntimeError("this snapshot has no database behind it")
        return self.audit


class LeaderboardService:
    """Reads the counted votes; every view comes from a :class:`VoteSnapshot` (take one to show several views).
    A snapshot is cached per population and reused while it is young and the tallies' version is unchanged (one
    single-row read decides); a new one reads only the counts changed since. Model details may lag a little.
    """

    def __init__(
        self,
        factory: sessionmaker[Session],
        settings: Settings,
        snapshot_max_age_s: float = 5.0,
        tallies: Tallies | None = None,
    ) -> None:
        self.factory = factory
        self.settings = settings
        self.snapshot_max_age_s = snapshot_max_age_s
        self.tallies = tallies or Tallies(settings.gold_policy)
        self._lock = threading.Lock()
        self._cached: dict[bool, tuple[float, BoardToken, VoteSnapshot]] = {}  # simulated → (taken, token, it)
        self._counts = CountTable()  # the counts as last read: a refresh reads only the rows changed since

    def snapshot(
        self, max_age_s: float | None = None, *, simulated: bool = False, stale_ok_s: float = 0.0
    ) -> VoteSnapshot:
        """The counted votes and models now (with `simulated`, simulated votes too): the cached snapshot when it is
        younger than `max_age_s` (default: the service's) and unchanged, or younger than `stale_ok_s`."""
        from arena.ratings.raters import class_weights

        max_age = self.snapshot_max_age_s if max_age_s is None else max_age_s
        with self._lock:  # concurrent readers wait for one read rather than each doing it
            with transaction(self.factory) as session:
                token = board_token(session)
                if token.stale:  # a database migrated with votes in it: count them once
                    self.tallies.ensure_fresh(session)
            cached = self._cached.get(simulated)
            if cached is not None:
                age = time.monotonic() - cached[0]
                if age < stale_ok_s or (cached[1] == token and age < max_age):
                    return cached[2]
            with transaction(self.factory) as session:
                token = board_token(session)
                self._counts.refresh(session, token)
                elo = read_elo(session, simulated)
                models = model_info(session)
            rows = self._counts.battle_rows(simulated=simulated, class_weights=class_weights(self.settings.gold_policy))
            audit = SnapshotAudit(self.factory, self.settings, simulated)
            snap = VoteSnapshot(rows, models, self.settings, elo=elo, simulated=simulated, audit=audit)
            self._cached[simulated] = (time.monotonic(), token, snap)
            return snap

    def models(self) -> dict[str, ModelInfo]:
        with transaction(self.factory) as session:
            return model_info(session)

    def rows(self, language: str | None = None, category: str | None = None) -> list[VotedBattleRow]:
        """Per-vote board rows (an audit read; see :meth:`VoteSnapshot.rows`)."""
        return self.snapshot().rows(language, category)

    def board(self, **kwargs: Any) -> Board:
        return self.snapshot().board(**kwargs)

    def versus(self, in_house: str | None = None, **kwargs: Any) -> Verdicts:
        return self.snapshot().versus(in_house, **kwargs)

    def compare(self, a: str, b: str, **kwargs: Any) -> Verdicts:
        return self.snapshot().compare(a, b, **kwargs)

    def position_bias(self) -> PositionBias:
        return self.snapshot().position_bias()

    def matrices(self, language: str | None = None, category: str | None = None) -> Matrices:
        return self.snapshot().matrices(language, category)

    def category_boards(self, field: str = "category") -> dict[str, list[BoardRow]]:
        return self.snapshot().category_boards(field)

    def raters(self) -> dict[str, RaterRow]:
        return self.snapshot().raters()

    def in_house_model(self) -> str | None:
        return self.snapshot().in_house_model()
