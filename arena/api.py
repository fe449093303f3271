"""The JSON API beside the UI (same services): battles, votes, reveal, leaderboard, and the media route.

Sessions are issued and signed by the server: the first answer carries one in the ``arena_session`` cookie and the
``X-Arena-Session`` header; send either back. A session the server did not sign is refused (401). A battle can be
voted on only by the session that started it. Refusals: ``{"error": {"code", "reason"}}`` (see arena.api_errors).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match

from arena.api_admin import admin_router
from arena.api_decisions import decision_router
from arena.api_errors import install_error_handlers
from arena.api_simulation import simulation_router
from arena.bench.api import bench_router
from arena.services.container import Arena
from arena.services.inputs import MAX_DB_INT, MAX_PROMPT_CHARS, is_token
from arena.services.rating_views import Board
from arena.services.sessions import SESSION_COOKIE, SESSION_HEADER, Client
from arena.services.views import BattleJSON, BattleView, PromptJSON, Refusal, RevealJSON
from arena.services.votes import VoteRequest
from db.models import BattleMode

SESSION_MAX_AGE_S = 30 * 24 * 3600
ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\w.\-]+$")]
QueryWord = Annotated[str | None, Query(max_length=32, pattern=r"^[\w\-]+$")]


class StartBattle(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str | None = Field(  # its length is checked with its content: an over-long prompt is a 400 like others
        default=None, description=f"a typed prompt (generated live), at most {MAX_PROMPT_CHARS} characters"
    )
    prompt_id: int | None = Field(default=None, ge=1, le=MAX_DB_INT, description="a suite prompt")
    mode: Literal["anonymous", "named"] = "anonymous"
    language: str | None = Field(
        default=None, max_length=8, pattern=r"^[A-Za-z\-]+$", description="suite prompts of this language only"
    )
    models: list[Name] | None = Field(default=None, max_length=2, description="named mode: the two models")


class CastVote(BaseModel):
    model_config = ConfigDict(extra="forbid")

    choice: Literal["left", "right", "tie", "both_bad"]
    aspects: dict[Annotated[str, Field(max_length=32)], Any] | None = Field(default=None, max_length=8)


class MediaResponse(FileResponse):
    """A video with its length and nothing else from the file system (no Last-Modified, no ETag: the time a
    copy was prepared could link it to an earlier battle)."""

    def set_stat_headers(self, stat_result: Any) -> None:
        self.headers.setdefault("content-length", str(stat_result.st_size))


def client(arena: Arena) -> Any:
    """A dependency: the caller's verified session (issuing a new one when it has none) and IP hash. On the event
    loop (a signature check), unless the rate-limit counts live on the network."""

    async def resolve(request: Request, response: Response) -> Client:
        token = request.headers.get(SESSION_HEADER) or request.cookies.get(SESSION_COOKIE)
        ip = request.client.host if request.client else None
        if arena.gate.limiter.may_block:
            who, new_token = await run_in_threadpool(arena.gate.identify, token, ip)
        else:
            who, new_token = arena.gate.identify(token, ip)
        if new_token:
            secure = request.url.scheme == "https"
            response.set_cookie(
                SESSION_COOKIE, new_token, max_age=SESSION_MAX_AGE_S, httponly=True, samesite="lax", secure=secure
            )
            response.headers[SESSION_HEADER] = new_token
        return who

    return resolve


def battle_id_ok(battle_id: str) -> str:
    if not is_token(battle_id):
        raise Refusal("unknown_battle", "no such battle in this session", 404)
    return battle_id


def api_router(arena: Arena) -> APIRouter:
    router = APIRouter()
    caller = Depends(client(arena))

    @router.get("/api/session")
    def session(who: Client = caller) -> dict[str, str]:
        """This caller's signed session token (new callers get a new one)."""
        return {"session": arena.gate.signer.token(who.session_id)}

    # Starts take turns here, not in the thread pool: 40 threads starting battles at once share one interpreter,
    # and a vote, a video or /healthz waited behind all of them (start-and-vote load: p99 1.1-1.4 s -> 63-75 ms).
    starts = asyncio.Semaphore(arena.settings.start_concurrency)

    @router.post("/api/battles")
    async def start_battle(body: StartBattle, who: Client = caller) -> BattleJSON:
        async with starts:
            view = await run_in_threadpool(_start_battle, body, who)
        # Out of the turn and of any thread: a pool battle answers no sooner than its copies' slow time would take,
        # so its duration names neither clip (arena/services/copy_times.py).
        await asyncio.sleep(arena.media.copy_times.remaining(view.hand_over_at))
        return view.public()

    def _start_battle(body: StartBattle, who: Client) -> BattleView:
        if body.mode == "named" and not body.models:
            raise Refusal("invalid", "named battles need 'models': two model ids", 400)
        if body.mode == "anonymous" and body.models:
            raise Refusal("invalid", "anonymous battles choose their own models; use mode 'named' to pick", 400)
        arena.gate.allow("battle", who)
        if body.prompt is not None:
            arena.gate.allow("typed", who)
        return arena.battles.start(
            who.session_id,
            prompt_id=body.prompt_id,
            prompt_text=body.prompt,
            mode=BattleMode(body.mode),
            models=body.models,
            language=body.language,
            ip_hash=who.ip_hash,
        )

    @router.get("/api/battles/{battle_id}")
    def get_battle(battle_id: str, who: Client = caller) -> BattleJSON:
        return arena.battles.get(battle_id_ok(battle_id), who.session_id).public()

    @router.post("/api/battles/{battle_id}/vote")
    async def vote(battle_id: str, body: CastVote, request: Request, who: Client = caller) -> RevealJSON:
        """On the event loop: the vote waits for its batch to commit (arena.services.vote_writer), not in a thread."""
        battle_id_ok(battle_id)
        if arena.gate.limiter.may_block:
            await run_in_threadpool(arena.gate.allow, "vote", who)
        else:
            arena.gate.allow("vote", who)
        ip = request.client.host if request.client else None
        cast = VoteRequest(battle_id, who.session_id, body.choice, body.aspects, ip, simulated=who.simulated)
        return (await arena.vote_writer.vote(cast)).public()

    @router.get("/api/battles/{battle_id}/reveal")
    def reveal(battle_id: str, who: Client = caller) -> RevealJSON:
        return arena.votes.reveal(battle_id_ok(battle_id), who.session_id).public()

    @router.get("/api/leaderboard")
    def leaderboard(language: QueryWord = None, category: QueryWord = None) -> Board:
        return arena.leaderboard.board(language=language, category=category)

    @router.get("/api/prompts")
    def prompts(language: QueryWord = None) -> list[PromptJSON]:
        return arena.prompts.listed(language)

    @router.get("/media/clip/{name}")
    def clip(name: str) -> FileResponse:
        path = arena.playground.clip_path(name) if len(name) < 100 else None
        if path is None:
            raise Refusal("not_found", "no such video", 404)
        return MediaResponse(path, media_type="video/mp4", headers={"Cache-Control": "private, max-age=3600"})

    @router.get("/media/{name}")
    def media(name: str) -> FileResponse:
        token = name.removesuffix(".mp4")
        path = arena.battles.video_for_token(token) if name.endswith(".mp4") and is_token(token) else None
        if path is None:
            raise Refusal("not_found", "no such video", 404)
        # No filename, no model, no content hash, no file time: only the random per-battle name the client has.
        return MediaResponse(path, media_type="video/mp4", headers={"Cache-Control": "private, max-age=3600"})

    @router.get("/healthz")
    async def health() -> dict[str, str]:  # on the event loop: never waits for a worker thread
        return {"status": "ok"}

    return router


def unknown_api(routes: list[BaseRoute]) -> Any:
    """An endpoint for every other path under /api: 405 (with Allow) where the path exists for other methods."""

    def unknown(request: Request) -> None:
        matched = [r for r in routes if r.matches(request.scope)[0] == Match.PARTIAL]
        allowed = ", ".join(sorted({m for r in matched for m in getattr(r, "methods", None) or ()}))
        if allowed:
            raise HTTPException(405, f"this route takes {allowed}", headers={"Allow": allowed})
        raise Refusal("not_found", "no such API route", 404)

    return unknown


def create_api(arena: Arena) -> FastAPI:
    """A FastAPI app with the JSON API and the media route (the Gradio UI is mounted onto it by app.py)."""
    from arena.middleware import BodyLimitMiddleware, EventGuard

    app = FastAPI(title="Video Arena API", docs_url="/api/docs", openapi_url="/api/openapi.json", redoc_url=None)
    install_error_handlers(app)
    # The battle and vote routes first: each request walks the routes in order until one matches (no path of one
    # router is a path of another).
    routers = [api_router(arena), decision_router(arena), bench_router(arena), simulation_router(arena)]
    routers.append(admin_router(arena))
    for router in routers:
        app.include_router(router)
    routes = [route for router in routers for route in router.routes]
    for path in ("/api", "/api/{rest:path}"):  # after every API route: other paths under /api are ours, not Gradio's
        app.add_api_route(path, unknown_api(routes), methods=ANY_METHOD, include_in_schema=False)
    app.add_middleware(EventGuard)  # inside the body limit (added last: outermost)
    app.add_middleware(BodyLimitMiddleware)
    return app
