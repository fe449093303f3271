"""Serve any :class:`VideoAdapter` over the arena's HTTP protocol (docs/http-protocol.md).

``create_app(adapter, token)`` builds the FastAPI app; ``serve(adapter, host, port, token)`` runs it with
uvicorn. Generation runs in a worker thread, at most ``capabilities().max_concurrency`` at a time; a
request beyond that gets ``503 busy`` with ``Retry-After`` at once instead of queueing unseen.
"""

# No `from __future__ import annotations`: FastAPI must resolve the handlers' annotations, which name
# classes imported inside create_app.
import contextlib
import logging
import secrets
import threading
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from adapters.base import GeneratedVideo, GenerationRequest, VideoAdapter
from adapters.errors import (
    AdapterError,
    AdapterUnavailableError,
    OutputContractError,
    RequestError,
    WeightsNotFoundError,
)
from adapters.http_protocol import (
    GENERATE_PATH,
    H_PROTOCOL,
    HEALTH_PATH,
    PROTOCOL_VERSION,
    STATUS_OF,
    VIDEO_MEDIA_TYPE,
    ErrorBody,
    ErrorCode,
    HealthResponse,
    video_headers,
)

if TYPE_CHECKING:
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

log = logging.getLogger(__name__)
RETRY_AFTER_S = 5


def _error(code: ErrorCode, message: str, headers: dict[str, str] | None = None) -> "JSONResponse":
    from fastapi.responses import JSONResponse

    return JSONResponse(
        ErrorBody.of(code, message).model_dump(),
        status_code=STATUS_OF[code],
        headers={H_PROTOCOL: PROTOCOL_VERSION, **(headers or {})},
    )


def _adapter_error(exc: AdapterError) -> "JSONResponse":
    """Map a typed adapter error to its protocol error (the message is the one the adapter gave)."""
    if isinstance(exc, RequestError):
        return _error(ErrorCode.UNSUPPORTED_REQUEST, exc.reason)
    if isinstance(exc, AdapterUnavailableError | WeightsNotFoundError):
        return _error(ErrorCode.UNAVAILABLE, exc.reason)
    if isinstance(exc, OutputContractError):
        return _error(ErrorCode.OUTPUT_CONTRACT, exc.reason)
    return _error(ErrorCode.GENERATION_FAILED, exc.reason)


def _describe_validation(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "body"
        parts.append(f"field {where}: {err['msg']}")
    return "; ".join(parts)


def create_app(adapter: VideoAdapter, token: str | None = None, *, max_concurrency: int | None = None) -> "FastAPI":
    """The protocol's app for one adapter. ``token``: the bearer token every request must carry (None: none).

    ``max_concurrency`` defaults to the adapter's ``capabilities().max_concurrency``.
    """
    import anyio.to_thread
    from fastapi import FastAPI, Request
    from fastapi.responses import Response
    from starlette.exceptions import HTTPException as StarletteHTTPException

    slots_total = max(1, max_concurrency or adapter.capabilities().max_concurrency)
    slots = threading.BoundedSemaphore(slots_total)
    in_use = [0]  # guarded by `counter_lock`; only for /v1/health's "busy"
    counter_lock = threading.Lock()
    expected = f"Bearer {token}".encode() if token else None

    def authorised(request: Request) -> bool:
        if expected is None:
            return True
        given = request.headers.get("authorization", "").encode("latin-1", errors="replace")
        return secrets.compare_digest(given, expected)

    def unauthorised() -> "JSONResponse":
        return _error(ErrorCode.UNAUTHORIZED, "wrong or missing bearer token", headers={"WWW-Authenticate": "Bearer"})

    def run_generate(req: GenerationRequest) -> tuple[bytes, GeneratedVideo]:
        from adapters.video_io import encode_mp4

        video = adapter.generate(req)  # the base class loads the weights once, however many calls come at once
        return encode_mp4(video.frames, video.fps), video

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        adapter.close()

    app = FastAPI(
        title=f"Arena model server: {adapter.model_id}",
        version=PROTOCOL_VERSION,
        lifespan=lifespan,
    )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> "JSONResponse":
        code = {404: ErrorCode.NOT_FOUND, 405: ErrorCode.METHOD_NOT_ALLOWED}.get(exc.status_code)
        if code is None:
            code = ErrorCode.BAD_REQUEST if exc.status_code < 500 else ErrorCode.INTERNAL
        return _error(code, str(exc.detail))

    @app.get(HEALTH_PATH, response_model=HealthResponse)
    async def health(request: Request) -> Any:
        if not authorised(request):
            return unauthorised()
        try:
            caps = await anyio.to_thread.run_sync(adapter.capabilities)
        except AdapterError as exc:
            return _adapter_error(exc)
        with counter_lock:
            busy = in_use[0] >= slots_total
        body = HealthResponse(
            status="busy" if busy else "ok", model=adapter.model_id, kind=adapter.kind, capabilities=caps
        )
        return Response(body.model_dump_json(), media_type="application/json", headers={H_PROTOCOL: PROTOCOL_VERSION})

    @app.post(
        GENERATE_PATH,
        response_class=Response,
        responses={200: {"content": {VIDEO_MEDIA_TYPE: {}}, "description": "The video as MP4 bytes"}},
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": GenerationRequest.model_json_schema()}},
            }
        },
    )
    async def generate(request: Request) -> Response:
        if not authorised(request):  # before reading the body: strangers learn nothing about it
            return unauthorised()
        raw = await request.body()
        try:
            req = GenerationRequest.model_validate_json(raw)
        except ValidationError as exc:
            if any(e["type"] in ("json_invalid", "model_type") for e in exc.errors()):
                return _error(ErrorCode.BAD_REQUEST, "the body must be a JSON object: " + _describe_validation(exc))
            return _error(ErrorCode.INVALID_REQUEST, _describe_validation(exc))
        if not slots.acquire(blocking=False):
            return _error(
                ErrorCode.BUSY,
                f"all {slots_total} generation slot(s) are in use; retry later",
                headers={"Retry-After": str(RETRY_AFTER_S)},
            )
        with counter_lock:
            in_use[0] += 1
        try:
            # Not cancellable: a client that hangs up does not free the slot before the model is done.
            data, video = await anyio.to_thread.run_sync(run_generate, req)
        except AdapterError as exc:
            log.warning("generate failed: %s", exc)
            return _adapter_error(exc)
        except Exception as exc:
            log.exception("generate crashed")
            return _error(ErrorCode.INTERNAL, f"{type(exc).__name__}: {exc}")
        finally:
            with counter_lock:
                in_use[0] -= 1
            slots.release()
        return Response(data, media_type=VIDEO_MEDIA_TYPE, headers=video_headers(video))

    return app


def serve(
    adapter: VideoAdapter, host: str = "127.0.0.1", port: int = 8100, token: str | None = None, **uvicorn_kw: Any
) -> None:
    """Run the protocol's server for ``adapter`` until interrupted (blocking)."""
    import uvicorn

    if token is None and host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("serving %s on %s without a token: anyone who can reach it can use it", adapter, host)
    uvicorn.run(create_app(adapter, token), host=host, port=port, **uvicorn_kw)
