"""The JSON API beside the UI (same services): battles, votes, reveal, leaderboard, and the media route.

Sessions: the server issues an ``arena_session`` cookie (or the client sends ``X-Arena-Session``); a battle
can be voted on only by the session that started it.
"""

from __future__ import annotations

import secrets
from typing import Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from arena.api_decisions import decision_router
from arena.services.container import Arena
from arena.services.views import Refusal
from db.models import BattleMode

SESSION_COOKIE = "arena_session"
SESSION_HEADER = "x-arena-session"


class StartBattle(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str | None = Field(default=None, max_length=2000)
    prompt_id: int | None = None
    mode: Literal["anonymous", "named"] = "anonymous"
    language: str | None = Field(default=None, max_length=8, description="suite prompts of this language only")
    models: list[str] | None = Field(default=None, description="named mode: the two models")


class CastVote(BaseModel):
    model_config = ConfigDict(extra="forbid")

    choice: Literal["left", "right", "tie", "both_bad"]
    aspects: dict[str, Any] | None = None


def session_id(request: Request, response: Response) -> str:
    """The caller's session: header, else cookie, else a new cookie."""
    sid = request.headers.get(SESSION_HEADER) or request.cookies.get(SESSION_COOKIE)
    if not sid or len(sid) > 128:
        sid = secrets.token_urlsafe(24)
        response.set_cookie(SESSION_COOKIE, sid, httponly=True, samesite="lax")
    return sid


def refusal_response(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Refusal)
    return JSONResponse({"error": {"code": exc.code, "reason": exc.reason}}, status_code=exc.status)


def api_router(arena: Arena) -> APIRouter:
    router = APIRouter()

    @router.post("/api/battles")
    def start_battle(body: StartBattle, sid: str = Depends(session_id)) -> dict[str, Any]:
        if body.mode == "named" and not body.models:
            raise Refusal("invalid", "named battles need 'models': two model ids", 400)
        if body.mode == "anonymous" and body.models:
            raise Refusal("invalid", "anonymous battles choose their own models; use mode 'named' to pick", 400)
        view = arena.battles.start(
            sid,
            prompt_id=body.prompt_id,
            prompt_text=body.prompt,
            mode=BattleMode(body.mode),
            models=body.models,
            language=body.language,
        )
        return view.public()

    @router.get("/api/battles/{battle_id}")
    def get_battle(battle_id: str, sid: str = Depends(session_id)) -> dict[str, Any]:
        return arena.battles.get(battle_id, sid).public()

    @router.post("/api/battles/{battle_id}/vote")
    def vote(battle_id: str, body: CastVote, request: Request, sid: str = Depends(session_id)) -> dict[str, Any]:
        client = request.client.host if request.client else None
        return arena.votes.vote(battle_id, sid, body.choice, body.aspects, ip=client).public()

    @router.get("/api/battles/{battle_id}/reveal")
    def reveal(battle_id: str, sid: str = Depends(session_id)) -> dict[str, Any]:
        return arena.votes.reveal(battle_id, sid).public()

    @router.get("/api/leaderboard")
    def leaderboard(language: str | None = None, category: str | None = None) -> dict[str, Any]:
        return arena.leaderboard.board(language=language, category=category)

    @router.get("/api/prompts")
    def prompts(language: str | None = None) -> list[dict[str, Any]]:
        return arena.prompts(language)

    @router.get("/media/clip/{name}")
    def clip(name: str) -> FileResponse:
        path = arena.clip_path(name)
        if path is None:
            raise Refusal("not_found", "no such video", 404)
        return FileResponse(path, media_type="video/mp4", headers={"Cache-Control": "private, max-age=3600"})

    @router.get("/media/{name}")
    def media(name: str) -> FileResponse:
        token = name.removesuffix(".mp4")
        path = arena.battles.video_for_token(token) if name.endswith(".mp4") else None
        if path is None:
            raise Refusal("not_found", "no such video", 404)
        # No filename, no model, no content hash: only the random per-battle name the client already has.
        return FileResponse(path, media_type="video/mp4", headers={"Cache-Control": "private, max-age=3600"})

    @router.get("/healthz")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return router


def create_api(arena: Arena) -> FastAPI:
    """A FastAPI app with the JSON API and the media route (the Gradio UI is mounted onto it by app.py)."""
    app = FastAPI(title="Video Arena API", docs_url="/api/docs", openapi_url="/api/openapi.json", redoc_url=None)
    app.add_exception_handler(Refusal, refusal_response)
    app.include_router(api_router(arena))
    app.include_router(decision_router(arena))
    return app
