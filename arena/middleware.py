"""Request-body caps for the whole server (Starlette has none of its own), and Gradio's routes that store files
from a request (uploads, deep links) turned off.

Pure ASGI: the declared Content-Length is checked before the app runs, and a streamed (chunked) body is counted
as it arrives, so neither a large declared nor a large undeclared body ever reaches the app or is held in memory;
a refused body is read and dropped (at most DRAIN_BYTES) so that the refusal reaches the client.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio
from starlette.exceptions import HTTPException as StarletteHTTPException

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

API_BODY_LIMIT = 64 * 1024  # the JSON API: a battle start or a vote is a few hundred bytes
OTHER_BODY_LIMIT = 1024 * 1024  # Gradio's queue: a typed prompt of the longest allowed length fits easily
# No component of the arena takes a file: Gradio's file routes are off, and so is every multipart body under
# /gradio_api/ (Gradio parses one into files on disk wherever it meets it, e.g. /gradio_api/component_server).
UPLOAD_PATHS = ("/gradio_api/upload", "/gradio_api/process_recording")
# GET /gradio_api/deep_link?session_hash=… writes that session's whole page state (~80 KB) to a file on disk for
# anyone, once per distinct state and never cleaned; the arena offers no deep links.
DEEP_LINK = "/gradio_api/deep_link"
# A refused body is read and dropped, up to these, before the refusal closes the connection (see _drain).
DRAIN_BYTES = 4 * 1024 * 1024
DRAIN_S = 2.0


async def _drain(receive: Receive) -> None:
    """Read and drop the rest of a refused request's body (at most DRAIN_BYTES and DRAIN_S) before the refusal
    closes the connection. RFC 9112 §9.6: closed with the client's bytes unread, the connection is reset, and the
    reset may erase the answer before the client reads it. Seen in the tests: a 2 MB body refused at once (413)
    reached the client as "connection reset" in 3 of about 20 runs of tests/ui/test_gradio_guards.py. A body
    longer than DRAIN_BYTES still ends in a reset; nothing read here is kept."""
    received = 0
    with anyio.move_on_after(DRAIN_S):
        while received <= DRAIN_BYTES:
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                return
            received += len(message.get("body", b""))


class _TooLarge(StarletteHTTPException):
    """Raised from ``receive``: FastAPI passes HTTP exceptions through its body parsing unchanged."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


async def _refuse(send: Send, status: int, code: str, reason: str) -> None:
    body = json.dumps({"error": {"code": code, "reason": reason}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": [*headers, (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


async def _refuse_unread(receive: Receive, send: Send, status: int, code: str, reason: str) -> None:
    """:func:`_refuse` a request whose body may still be arriving, once it is drained (:func:`_drain`)."""
    await _drain(receive)
    await _refuse(send, status, code, reason)


class BodyLimitMiddleware:
    """413 for bodies over the limit of their path (``api_limit`` under /api/, ``other_limit`` elsewhere);
    403 for Gradio's file routes, its deep links and any multipart body under /gradio_api/. ``root_path`` is the
    public prefix behind a reverse proxy."""

    def __init__(
        self, app: ASGIApp, api_limit: int = API_BODY_LIMIT, other_limit: int = OTHER_BODY_LIMIT, root_path: str = ""
    ) -> None:
        self.app = app
        self.api_limit = api_limit
        self.other_limit = other_limit
        self.root_path = root_path.rstrip("/")

    def _path(self, scope: Scope) -> str:
        path = str(scope.get("path", ""))
        prefix = self.root_path or str(scope.get("root_path", "")).rstrip("/")
        return path[len(prefix) :] if prefix and path.startswith(prefix) else path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = self._path(scope)
        content_type = dict(scope.get("headers") or []).get(b"content-type", b"")
        multipart = content_type.lower().lstrip().startswith(b"multipart/")
        limit = self.api_limit if path.startswith("/api/") else self.other_limit
        if path.startswith(UPLOAD_PATHS) or (multipart and "/gradio_api/" in path):  # a login form stays multipart
            await _refuse_unread(receive, send, 403, "uploads_disabled", "this arena accepts no file uploads")
            return
        if path.rstrip("/").endswith(DEEP_LINK):  # the page's and the Admin tab's
            await _refuse(send, 403, "deep_links_disabled", "this arena makes no deep links")
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > limit
            except ValueError:
                await _refuse(send, 400, "invalid", "bad Content-Length header")
                return
            if too_large:
                await _refuse_unread(receive, send, 413, "too_large", f"the request body is larger than {limit} bytes")
                return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _refuse_unread(receive, send, 413, "too_large", f"the request body is larger than {limit} bytes")


class EventGuard:
    """422 for a Gradio event call (any JSON POST under ``…/gradio_api/``) whose ``fn_index`` names no event of
    its page: Gradio looks it up unchecked, so each such request was a KeyError, a dropped connection and a
    100-line traceback in the log. The known events per page prefix are ``app.state.gradio_events`` (set where
    the Blocks are mounted: arena.server.create_app); without it nothing is checked. Runs inside
    BodyLimitMiddleware, so the body it reads is already capped."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        headers = dict(scope.get("headers") or [])
        if (
            scope["type"] != "http"
            or scope.get("method") != "POST"
            or "/gradio_api/" not in path
            or b"json" not in headers.get(b"content-type", b"").lower()
        ):
            await self.app(scope, receive, send)
            return
        state = getattr(scope.get("app"), "state", None)
        events: dict[str, frozenset[int]] = getattr(state, "gradio_events", {}) if state is not None else {}
        known = events.get(path.split("/gradio_api/", 1)[0].removeprefix(str(scope.get("root_path", ""))))
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            more = bool(message.get("more_body"))
        body = b"".join(chunks)
        if known is not None and _unknown_event(body, known):
            await _refuse(send, 422, "invalid", "fn_index: no such event on this page")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _unknown_event(body: bytes, known: frozenset[int]) -> bool:
    try:
        value = json.loads(body).get("fn_index")
    except (ValueError, AttributeError):
        return False  # not a JSON object: Gradio's own validation refuses it (422)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)  # pydantic's lax mode would turn it into an int
    return isinstance(value, int) and not isinstance(value, bool) and value not in known
