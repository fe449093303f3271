"""The leaderboard from the counted votes, through the rating engine (arena.ratings): boards, decisions, raters.

Only anonymous votes count, human ones unless a snapshot is taken with `simulated=True`. Gold-pair battles are
quality checks: they score the raters (by session and by IP hash) and are kept off the board; a vote whose
session or address failed them carries its weight class's factor under the gold policy (down-weighted or
excluded). The board reads the vote counts (arena.services.board_rows), never one row per vote: its cost grows
with the unique comparisons. Per-vote rows are read only by the audits (`rows()`, rater agreement).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session, sessionmaker

from arena.services.board_rows import BoardToken, CountTable, board_token, model_info
from arena.services.elo_store import read_elo
from arena.services.tallies import Tallies
from arena.services.views import Refusal
from arena.services.vote_rows import SnapshotAudit
from arena.settings import Settings
from db.session import transaction

if TYPE_CHECKING:
    from arena.ratings import BattleRows, Leaderboard


def _round(x: float, digits: int = 1) -> float:
    return round(float(x), digits)


def _with_min_votes(board: Leaderboard, min_votes: int) -> Leaderboard:
    """`board` less the models with fewer than `min_votes` votes, re-ranked among those shown: the same board
    as ``leaderboard(..., min_votes=min_votes)`` (which fits every model and then hides some), without a refit."""
    if min_votes <= 0:
        return board
    from dataclasses import replace

    import numpy as np

    from arena.ratings import Leaderboard
    from arena.ratings.bt import fastchat_ranks

    keep = [i for i, e in enumerate(board.entries) if e.votes >= min_votes]
    shown = [board.entries[i] for i in keep]
    ranks = fastchat_ranks(np.array([e.ci_low for e in shown]), np.array([e.ci_high for e in shown]))
    entries = tuple(replace(e, rank=int(r)) for e, r in zip(shown, ranks.tolist(), strict=True))
    return Leaderboard(entries, board.samples[:, keep], board.anchor)


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
        models: dict[str, dict[str, Any]],
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
        self._raters: dict[str, Any] | None = None

    def models(self) -> dict[str, dict[str, Any]]:
        return self.model_info

    def rows(self, language: str | None = None, category: str | None = None) -> list[dict[str, Any]]:
        """Per-vote board rows (anonymous, non-gold, weighted by their class), read from the database now: for
        audits (the board itself reads :meth:`battle_rows`)."""
        if self.audit is None:
            raise RuntimeError("this snapshot has no database behind it")
        return self.audit.votes(language, category)

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
                self._pair_rows[key] = self.battle_rows(language, category).collapse(keep)
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
        configured one (when it has votes here), the rounds to the settings'. Fitted once per filter, rounds,
        seed and anchor; `min_votes` only hides models, so boards differing in it share one fit."""
        from arena.ratings import leaderboard

        rounds = self.settings.bootstrap_rounds if bootstrap_rounds is None else bootstrap_rounds
        with self._lock:
            key = (language, category, rounds, seed, anchor)
            if key not in self._fits:
                rows = self.pair_rows(language, category)
                pinned = anchor
                if pinned is None and self.settings.anchor_model in rows.models:
                    pinned = self.settings.anchor_model
                elo = None if self.elo is None else self.elo.get((language or "", category or ""), {})
                board = leaderboard(rows, bootstrap_rounds=rounds, seed=seed, anchor=pinned, elo=elo)
                self._fits[key] = (rows, board)
            rows, board = self._fits[key]
        return rows, _with_min_votes(board, min_votes)

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
        votes = self.battle_rows(language, category).total
        threshold = self.settings.min_votes if min_votes is None else min_votes
        result: dict[str, Any] = {
            "votes": votes,
            "min_votes": threshold,
            "rows": [],
            "filters": {"language": language, "category": category},
        }
        if not votes:
            return result
        _, board = self.fit(language, category, min_votes=threshold, bootstrap_rounds=bootstrap_rounds, seed=seed)
        meta = self.models()
        for entry in board.entries:
            info = meta.get(entry.model, {})
            result["rows"].append(
                {
                    "rank": entry.rank,
                    "model_id": entry.model,
                    "model": info.get("display_name", entry.model),
                    "organisation": info.get("organisation", ""),
                    "licence": info.get("licence", ""),
                    "rating": _round(entry.rating),
                    "ci": [_round(entry.ci_low), _round(entry.ci_high)],
                    "votes": int(entry.votes),
                    "win_rate": round(float(entry.win_rate), 4),
                    "elo": _round(entry.elo),
                }
            )
        return result

    @property
    def decision_rounds(self) -> int:
        """Bootstrap rounds of the decision views (P(better) needs some): the board's when it has 20 or more,
        so the board and the decisions share one fit."""
        return max(self.settings.bootstrap_rounds, 20)

    def in_house_model(self) -> str | None:
        if self.settings.in_house_model:
            return self.settings.in_house_model
        return next((m for m, info in self.models().items() if info["in_house"] and info["enabled"]), None)

    def versus(self, in_house: str | None = None, seed: int = 0) -> dict[str, Any]:
        """The in-house model against each rival: rating gap with CI, P(better), head-to-head, votes to settle."""
        from arena.ratings import versus_rows

        in_house = in_house or self.in_house_model()
        if in_house is None or in_house not in self.battle_rows().models:
            return {"in_house": in_house, "rows": []}
        rows, board = self.fit(bootstrap_rounds=self.decision_rounds, seed=seed)
        meta = self.models()
        out = []
        for row in versus_rows(board, rows, in_house):
            out.append({**row, "rival_name": meta.get(row["rival"], {}).get("display_name", row["rival"])})
        return {"in_house": in_house, "in_house_name": meta.get(in_house, {}).get("display_name"), "rows": out}

    def compare(self, a: str, b: str, seed: int = 0) -> dict[str, Any]:
        """Any two models: P(a better than b) from the bootstrap, the gap with its CI, and votes to settle."""
        from arena.ratings import compare_models

        missing = [m for m in (a, b) if m not in self.battle_rows().models]
        if missing:
            raise Refusal("no_votes", f"no anonymous votes yet for: {', '.join(missing)}", 404)
        if a == b:
            raise Refusal("invalid", "compare two different models", 400)
        rows, board = self.fit(bootstrap_rounds=self.decision_rounds, seed=seed)
        return compare_models(board, rows, a, b)

    def position_bias(self) -> dict[str, Any]:
        """P(the left video wins) among decisive anonymous votes, with a 95 % Wilson interval."""
        from arena.ratings.battles import MODEL_A, MODEL_B
        from arena.ratings.raters import wilson_interval

        rows = self.all_rows
        left = int(rows.battles[rows.winner == MODEL_A].sum())
        decisive = left + int(rows.battles[rows.winner == MODEL_B].sum())
        p, low, high = (left / decisive, *wilson_interval(left, decisive)) if decisive else (0.5, 0.0, 1.0)
        return {"p_left": round(p, 4), "ci": [round(low, 4), round(high, 4)], "decisive_votes": decisive}

    def matrices(self, language: str | None = None, category: str | None = None) -> dict[str, Any]:
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

    def category_boards(self, field: str = "category", seed: int = 0) -> dict[str, list[dict[str, Any]]]:
        """One board per prompt category (or language): rows as in :meth:`board`."""
        rows = self.all_rows
        values = sorted({str(v) for v in rows.extra[field][rows.battles > 0]}) if len(rows) else []
        out = {}
        for value in values:
            kwargs = {"language": value} if field == "language" else {"category": value}
            out[value] = self.board(**kwargs, seed=seed)["rows"]  # type: ignore[arg-type]
        return out

    def rater_summary(self) -> dict[str, Any]:
        """The raters in one line, from the counts and the raters table (no per-vote read): sessions that voted,
        agreement of decisive votes with the consensus and what ideal voters would reach, gold-checked and
        failed sessions."""
        import numpy as np

        from arena.ratings.raters import overall_agreement

        if self.audit is None:
            raise RuntimeError("this snapshot has no database behind it")
        rows = self.all_rows
        agreement, expected, decisive = (
            overall_agreement(rows.with_weights(np.ones(len(rows)))) if len(rows) else (0.0, 0.0, 0)
        )
        return {**self.audit.rater_counts(), "agreement": agreement, "expected": expected, "decisive": decisive}

    def raters(self) -> dict[str, Any]:
        """Per session: votes, agreement with the consensus, and gold-pair accuracy (an audit: it reads the
        votes per session)."""
        from arena.ratings import BattleRows, session_agreement

        with self._lock:
            if self._raters is not None:
                return self._raters
            if self.audit is None:
                raise RuntimeError("this snapshot has no database behind it")
            gold, failed, records = self.audit.raters()
            columns = {k: [r[k] for r in records] for k in ("session", "model_a", "model_b", "winner", "count")}
            agreement = session_agreement(BattleRows.from_table(columns, keep=("session",))) if records else {}
            sessions = sorted(set(agreement) | set(gold))
            self._raters = {
                s: {
                    **agreement.get(s, {}),
                    "gold_votes": gold[s].votes if s in gold else 0,
                    "gold_accuracy": round(gold[s].accuracy, 4) if s in gold else None,
                    "gold_failed": s in failed,
                }
                for s in sessions
            }
            return self._raters


class LeaderboardService:
    """Reads the counted votes; every view comes from a :class:`VoteSnapshot` (take one to show several views).

    The last snapshot of each population is kept as a cache (not state of record) and reused while it is younger
    than `snapshot_max_age_s` *and* the tallies' version is unchanged (one single-row read decides): repeated
    reads of the board (the public API, the UI's several events of one page) neither re-read the counts nor
    refit, yet a vote is on the board as soon as it is stored. The matchmaker takes the same snapshot and may
    accept one a few seconds old (`stale_ok_s`). Model details may lag by up to `snapshot_max_age_s`.
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
        """The counted votes and models as of now (human votes; with `simulated`, simulated ones too): the cached
        snapshot when it is younger than `max_age_s` (default: the service's) and no vote arrived since, or
        younger than `stale_ok_s` whatever arrived; else a fresh read (`max_age_s=0` forces one)."""
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
            weights = class_weights(self.settings.gold_policy)
            rows = self._counts.battle_rows(simulated=simulated, class_weights=weights)
            audit = SnapshotAudit(self.factory, self.settings, simulated)
            snap = VoteSnapshot(rows, models, self.settings, elo=elo, simulated=simulated, audit=audit)
            self._cached[simulated] = (time.monotonic(), token, snap)
            return snap

    def models(self) -> dict[str, dict[str, Any]]:
        with transaction(self.factory) as session:
            return model_info(session)

    # One-view conveniences (the API, the CLI and the matchmaker need one view at a time).
    def rows(self, language: str | None = None, category: str | None = None) -> list[dict[str, Any]]:
        """Per-vote board rows (an audit read; see :meth:`VoteSnapshot.rows`)."""
        return self.snapshot().rows(language, category)

    def board(self, **kwargs: Any) -> dict[str, Any]:
        return self.snapshot().board(**kwargs)

    def versus(self, in_house: str | None = None) -> dict[str, Any]:
        return self.snapshot().versus(in_house)

    def compare(self, a: str, b: str) -> dict[str, Any]:
        return self.snapshot().compare(a, b)

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
