"""Sessions for simulated voters over HTTP, for the admin only: a simulator elsewhere gets server-issued simulated
sessions here, and the server marks every vote of such a session as simulated (a client cannot claim it).

    POST /api/simulation/sessions  Authorization: Bearer <ARENA_ADMIN_PASSWORD>  {"count": 10, "label": "crowd"}
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Header
from pydantic import BaseModel, ConfigDict, Field

from arena.services.container import Arena
from arena.services.views import Refusal
from arena.settings import Settings


class IssueSessions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: int = Field(default=1, ge=1, le=200)
    label: str = Field(default="sim", max_length=12, pattern=r"^[A-Za-z0-9]+$")


def admin_secret(settings: Settings) -> str | None:
    """The admin secret (ARENA_ADMIN_PASSWORD, or the file ARENA_ADMIN_PASSWORD_FILE names), None when unset."""
    if settings.admin_password is not None:
        return settings.admin_password.get_secret_value() or None
    if settings.admin_password_file is not None and settings.admin_password_file.is_file():
        return settings.admin_password_file.read_text(encoding="utf-8").strip() or None
    return None


def require_admin(settings: Settings, authorization: str | None) -> None:
    secret = admin_secret(settings)
    if secret is None:
        raise Refusal("admin_off", "the admin API is off on this arena (no admin password is set)", 403)
    given = (authorization or "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), secret.encode()):
        raise Refusal("unauthorized", "the admin password is missing or wrong", 401)


def simulation_router(arena: Arena) -> APIRouter:
    router = APIRouter()

    @router.post("/api/simulation/sessions")
    def issue(body: IssueSessions, authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        """Signed session tokens for simulated voters (send one as X-Arena-Session, as any client does)."""
        require_admin(arena.settings, authorization)
        tokens = [arena.gate.signer.issue_simulated(body.label)[1] for _ in range(body.count)]
        return {"sessions": tokens, "simulated": True}

    return router
