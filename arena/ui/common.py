"""What every tab shares: the injected arena, the per-browser session id, and turning refusals into messages."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any

import gradio as gr

from arena.services.container import Arena
from arena.services.sessions import SESSION_COOKIE, Client
from arena.services.views import Refusal
from arena.ui.i18n import STRINGS, text

log = logging.getLogger(__name__)

LANGUAGE_CHOICES = [("Any / 任意", "any"), ("English", "en"), ("中文", "zh")]


@dataclass(frozen=True)
class Ui:
    """Handed to every tab builder: the services and the shared per-browser session state."""

    arena: Arena
    session: gr.State  # a random id made on the server on first use; never sent to the browser


def identify(arena: Arena, session_id: str | None, request: gr.Request | None) -> Client:
    """The caller of a Gradio event: the signed ``arena_session`` cookie when the browser has one (a forged one is
    refused), else the id this page's state holds, else a new server-made one (gr.Request.session_hash is chosen
    by the client, so it is never the identity)."""
    client, _ = arena.gate.identify(_session_cookie(request), client_ip(request), known_session=session_id)
    return client


def _session_cookie(request: gr.Request | None) -> str | None:
    header = request.headers.get("cookie") if request is not None and request.headers is not None else None
    if not header:
        return None
    jar: SimpleCookie = SimpleCookie()
    with contextlib.suppress(CookieError):
        jar.load(header)
    morsel = jar.get(SESSION_COOKIE)
    return morsel.value if morsel is not None else None


def client_ip(request: gr.Request | None) -> str | None:
    return request.client.host if request is not None and request.client is not None else None


def refusal_message(exc: Refusal, lang: str) -> str:
    """A refusal in the user's language where we have its code, else the service's own reason."""
    key = f"err_{exc.code}"
    return text(key, lang) if key in STRINGS["en"] else exc.reason


def warn_failure(exc: Exception, lang: str) -> str:
    """Show (and return) a refusal's reason; anything else gets a generic message: its text could name a model."""
    if isinstance(exc, Refusal):
        message = refusal_message(exc, lang)
    else:
        log.exception("UI handler failed")
        message = text("error", lang)
    gr.Warning(message)
    return message


def model_choices(arena: Arena) -> list[tuple[str, str]]:
    """(display name, id) of the enabled models, for the named tabs (filled on tab select, not in the page)."""
    models = arena.leaderboard.models()
    return sorted(((m["display_name"], mid) for mid, m in models.items() if m["enabled"]), key=lambda c: c[0])


def prompt_choices(arena: Arena, language: str | None) -> list[tuple[str, int]]:
    """The suite prompts in a language ("any": all), as (text, prompt id)."""
    lang = None if language in (None, "", "any") else language
    return [(str(p["text"]), int(str(p["id"]))) for p in arena.prompts.listed(lang)]


def dropdown_update(choices: list[Any]) -> Any:
    return gr.update(choices=choices, value=None)
