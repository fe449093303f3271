"""The admin API, behind the admin secret (``Authorization: Bearer <ARENA_ADMIN_PASSWORD>``; off when none is set).

GET  /api/admin/models                    models: enabled, load failures and back-off, queue, limit
POST /api/admin/models/{id}               {"enabled": true | false | null}  (null: as the models file says)
POST /api/admin/models/{id}/retry         try loading a model again now
POST /api/admin/battles/{id}/void         {"reason": "..."}  (a voted battle keeps its vote, off the board)
GET  /api/admin/exclusions                sessions and IP hashes kept off the board
POST /api/admin/exclusions                {"kind": "session" | "ip_hash", "value": "...", "reason": "..."}
DELETE /api/admin/exclusions/{kind}/{value}
GET  /api/admin/queue                     per-model lines and the jobs waiting or running
GET  /api/admin/rate-limits               the latest rate-limit refusals of this process
GET  /api/admin/suspicious                sessions with win streaks for one model or superhuman speed
GET  /api/admin/votes.jsonl[?simulated=true]   every voted battle (named ones too)
GET  /api/admin/integrity                 the crash and consistency check
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.background import BackgroundTask
from typing_extensions import TypedDict  # not typing's: pydantic (the API's schema) needs this one below 3.12

from arena.services.admin import Exclusion, ModelRow, WaitingJob
from arena.services.container import Arena
from arena.services.jobs import QueueLine
from arena.services.limits import LimitHit
from arena.services.suspicious import SuspiciousSession


class SetEnabled(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool | None


class VoidBattle(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=500)


class Exclude(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["session", "ip_hash"]
    value: str = Field(min_length=1, max_length=128)
    reason: str = Field(default="", max_length=500)


# What each route answers (the dataclasses of the admin service are answered as they are).
class ModelSwitch(TypedDict):
    model: str
    enabled: bool | None  # None: as the models file says


class ModelRetry(TypedDict):
    model: str
    retry: str


class VoidedBattle(TypedDict):
    battle: str
    status: str


class ExclusionChange(TypedDict):
    kind: str
    value: str
    votes: int  # stored votes it now keeps off (or lets back on) the board


class AdminQueue(TypedDict):
    lines: list[QueueLine]
    jobs: list[WaitingJob]


class Integrity(TypedDict):
    ok: bool
    database: str  # "ok", or what the database's own check said
    problems: dict[str, list[str]]


def admin_router(arena: Arena) -> APIRouter:
    def admin(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
        arena.admin.auth.check(authorization, request.client.host if request.client else None)

    router = APIRouter(prefix="/api/admin", dependencies=[Depends(admin)])
    service = arena.admin

    @router.get("/models")
    def models() -> list[ModelRow]:
        return service.models()

    @router.post("/models/{model_id}")
    def set_enabled(model_id: str, body: SetEnabled) -> ModelSwitch:
        service.set_enabled(model_id, body.enabled)
        return ModelSwitch(model=model_id, enabled=body.enabled)

    @router.post("/models/{model_id}/retry")
    def retry(model_id: str) -> ModelRetry:
        service.retry(model_id)
        return ModelRetry(model=model_id, retry="on the next job")

    @router.post("/battles/{battle_id}/void")
    def void(battle_id: str, body: VoidBattle) -> VoidedBattle:
        return VoidedBattle(battle=battle_id, status=service.void(battle_id, body.reason))

    @router.get("/exclusions")
    def exclusions() -> list[Exclusion]:
        return service.exclusions()

    @router.post("/exclusions")
    def exclude(body: Exclude) -> ExclusionChange:
        votes = service.exclude(body.kind, body.value, body.reason)
        return ExclusionChange(kind=body.kind, value=body.value, votes=votes)

    @router.delete("/exclusions/{kind}/{value}")
    def include(kind: str, value: str) -> ExclusionChange:
        return ExclusionChange(kind=kind, value=value, votes=service.include(kind, value))

    @router.get("/queue")
    def queue() -> AdminQueue:
        return AdminQueue(lines=arena.queue.lines(), jobs=service.waiting_jobs())

    @router.get("/rate-limits")
    def rate_limits() -> list[LimitHit]:
        return service.rate_limit_hits()

    @router.get("/suspicious")
    def suspicious() -> list[SuspiciousSession]:
        return service.suspicious()

    @router.get("/votes.jsonl")
    def votes(simulated: bool = False) -> FileResponse:
        fd, name = tempfile.mkstemp(suffix=".jsonl")
        os.close(fd)
        service.export(Path(name), simulated=simulated)
        return FileResponse(
            name, media_type="application/x-ndjson", filename="votes.jsonl", background=BackgroundTask(os.unlink, name)
        )

    @router.get("/integrity")
    def integrity() -> Integrity:
        report = service.integrity()
        return Integrity(ok=report.ok, database=report.database, problems=report.problems)

    return router
