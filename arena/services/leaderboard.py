"""The leaderboard from stored votes: Bradley–Terry with bootstrap CIs (arena.ratings), filters, matrices."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from arena.services.votes import voted_battles
from arena.settings import Settings
from db.models import Model
from db.session import transaction


class LeaderboardService:
    def __init__(self, factory: sessionmaker[Session], settings: Settings) -> None:
        self.factory = factory
        self.settings = settings

    def rows(self, language: str | None = None, category: str | None = None) -> list[dict[str, Any]]:
        """Anonymous voted battles, optionally filtered by prompt language and category."""
        with transaction(self.factory) as session:
            rows = voted_battles(session)
        return [
            r
            for r in rows
            if (language is None or r["language"] == language) and (category is None or r["category"] == category)
        ]

    def models(self) -> dict[str, dict[str, Any]]:
        with transaction(self.factory) as session:
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

    def board(
        self,
        language: str | None = None,
        category: str | None = None,
        min_votes: int | None = None,
        bootstrap_rounds: int | None = None,
        seed: int = 0,
    ) -> dict[str, Any]:
        """Rank, model, organisation, licence, rating with 95 % CI, votes, win rate, Elo."""
        from arena.ratings import BattleRows, leaderboard

        records = self.rows(language, category)
        meta = self.models()
        threshold = self.settings.min_votes if min_votes is None else min_votes
        result: dict[str, Any] = {
            "votes": len(records),
            "min_votes": threshold,
            "rows": [],
            "filters": {"language": language, "category": category},
        }
        if not records:
            return result
        rows = BattleRows.from_records(records)
        anchor = self.settings.anchor_model if self.settings.anchor_model in meta else None
        board = leaderboard(
            rows,
            bootstrap_rounds=self.settings.bootstrap_rounds if bootstrap_rounds is None else bootstrap_rounds,
            seed=seed,
            anchor=anchor,
            min_votes=threshold,
        )
        for entry in board.entries:
            info = meta.get(entry.model, {})
            result["rows"].append(
                {
                    "rank": entry.rank,
                    "model_id": entry.model,
                    "model": info.get("display_name", entry.model),
                    "organisation": info.get("organisation", ""),
                    "licence": info.get("licence", ""),
                    "rating": round(float(entry.rating), 1),
                    "ci": [round(float(entry.ci_low), 1), round(float(entry.ci_high), 1)],
                    "votes": int(entry.votes),
                    "win_rate": round(float(entry.win_rate), 4),
                    "elo": round(float(entry.elo), 1),
                }
            )
        return result

    def chooser(self) -> None:
        """The adaptive pair chooser (set when the matchmaking engine is wired in); None: uniform."""
        return None
