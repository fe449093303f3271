"""JSON API routes for verdicts (the same services as the Leaderboard tab and `arena ratings`):

* GET /api/versus — the in-house model against each rival, overall and per `by` group (category, language,
  prompt; repeat `by` for combinations), with what the verdicts promise (method, level, family size).
* GET /api/compare — any two models: one verdict.
* GET /api/versus/prompts — the prompts where the in-house model loses most (with clip URLs when the arena
  shows named clips).
* GET /api/leaderboard/style, /api/leaderboard/davidson — ratings with style held fixed; Davidson's tie model.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from typing_extensions import TypedDict  # not typing's: pydantic (the API's schema) needs this one below 3.12

from arena.services.container import Arena
from arena.services.losses import LosingPrompt, losing_prompts, prompt_texts
from arena.services.rating_views import DavidsonView, StyleView
from arena.services.verdicts import VerdictsJSON
from arena.services.views import Refusal

# Model ids, languages and categories: short words (the same shapes arena.api accepts).
Word = Annotated[str | None, Query(max_length=64, pattern=r"^[\w.\-]+$")]
Model = Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[\w.\-]+$")]


class LostPromptsJSON(TypedDict):
    """``GET /api/versus/prompts``: the prompts the in-house model loses most."""

    in_house: str
    prompts: list[LosingPrompt]


def _rules(alpha: float | None, method: str | None, margin: float | None) -> dict[str, Any]:
    return {"alpha": alpha, "method": method, "margin": margin}


def decision_router(arena: Arena) -> APIRouter:
    router = APIRouter()
    alpha_q = Query(default=None, gt=0.0, lt=0.5, description="error rate over the family (default: settings)")
    method_q = Query(default=None, description="holm (any false verdict) or bh (share of false verdicts)")
    margin_q = Query(default=None, ge=0.0, le=1000.0, description="equivalence margin, rating points")

    @router.get("/api/versus")
    def versus(
        in_house: Word = None,
        language: Word = None,
        category: Word = None,
        by: list[Literal["category", "language", "prompt"]] = Query(default=[]),
        alpha: float | None = alpha_q,
        method: Literal["holm", "bh"] | None = method_q,
        margin: float | None = margin_q,
    ) -> VerdictsJSON:
        snap = arena.leaderboard.snapshot()
        result = snap.versus(in_house, language, category, by, **_rules(alpha, method, margin)).to_json()
        result["filters"] = {"language": language, "category": category}
        if "prompt" in by:
            ids = [r["group"]["prompt"] for r in result["rows"] if "prompt" in r["group"]]
            result["prompts"] = prompt_texts(arena.factory, ids)
        return result

    @router.get("/api/compare")
    def compare(
        a: Model,
        b: Model,
        language: Word = None,
        category: Word = None,
        alpha: float | None = alpha_q,
        method: Literal["holm", "bh"] | None = method_q,
        margin: float | None = margin_q,
    ) -> VerdictsJSON:
        result = arena.leaderboard.compare(a, b, language=language, category=category, **_rules(alpha, method, margin))
        out = result.to_json()
        out["filters"] = {"language": language, "category": category}
        return out

    @router.get("/api/versus/prompts")
    def prompts_lost(
        in_house: Word = None,
        language: Word = None,
        category: Word = None,
        limit: int = Query(default=5, ge=1, le=50),
    ) -> LostPromptsJSON:
        snap = arena.leaderboard.snapshot()
        model = in_house or snap.in_house_model()
        if model is None:
            raise Refusal("no_in_house", "no in-house model is configured", 404)
        prompts = losing_prompts(arena.factory, snap, arena.clips, model, language, category, limit)
        return LostPromptsJSON(in_house=model, prompts=prompts)

    @router.get("/api/leaderboard/style")
    def style(language: Word = None, category: Word = None) -> StyleView:
        """Ratings with and without style held fixed (duration, pixels, fps, aspect ratio, screen side)."""
        return arena.leaderboard.snapshot().style(language, category)

    @router.get("/api/leaderboard/davidson")
    def ties(language: Word = None, category: Word = None) -> DavidsonView:
        """Davidson's tie model: ratings, tie and both-bad strengths, each model's both-bad share."""
        return arena.leaderboard.snapshot().davidson(language, category)

    return router
