"""Sessions for simulated voters over HTTP, for the admin only: a simulator elsewhere gets server-issued simulated
sessions here, and the server marks every vote of such a session as simulated (a client cannot claim it).

    POST /api/simulation/sessions  Authorization: Bearer <ARENA_ADMIN_PASSWORD>  {"count": 10, "label": "crowd"}
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Request
from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict  # not typing's: pydantic (the API's schema) needs this one below 3.12

from arena.services.container import Arena


class IssueSessions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: int = Field(default=1, ge=1, le=200)
    label: str = Field(default="sim", max_length=12, pattern=r"^[A-Za-z0-9]+$")


class SimulatedSessions(TypedDict):
    sessions: list[str]  # signed tokens, each marking its votes as simulated
    simulated: Literal[True]


def simulation_router(arena: Arena) -> APIRouter:
    router = APIRouter()

    @router.post("/api/simulation/sessions")
    def issue(
        body: IssueSessions, request: Request, authorization: Annotated[str | None, Header()] = None
    ) -> SimulatedSessions:
        """Signed session tokens for simulated voters (send one as X-Arena-Session, as any client does)."""
        arena.admin.auth.check(authorization, request.client.host if request.client else None)
        tokens = [arena.gate.signer.issue_simulated(body.label)[1] for _ in range(body.count)]
        return SimulatedSessions(sessions=tokens, simulated=True)

    return router
