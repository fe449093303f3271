"""Every refusal of the JSON API in one format, ``{"error": {"code", "reason"}}``, never echoing the input.

FastAPI's default 422 repeats the offending input (a 100 MB body came back whole); these handlers say which field
and what is wrong with it, and nothing more. A 429 carries ``Retry-After``.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from arena.services.sessions import SESSION_COOKIE
from arena.services.views import Refusal

log = logging.getLogger(__name__)

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type"}
_MAX_REASON = 300


def error_response(code: str, reason: str, status: int, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "reason": reason[:_MAX_REASON]}}, status_code=status, headers=headers)


def _refusal(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Refusal)
    headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after)))} if exc.retry_after is not None else None
    response = error_response(exc.code, exc.reason, exc.status, headers)
    if exc.code == "invalid_session":  # a browser holding a stale cookie gets a fresh session on its next call
        response.delete_cookie(SESSION_COOKIE)
    return response


def _where(loc: tuple[Any, ...]) -> str:
    """The top-level field only: deeper parts of a location can be keys the client chose."""
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return parts[0][:40] if parts else "the request"


def describe_validation(errors: list[Any]) -> tuple[str, str]:
    """(code, reason) for pydantic errors: the field and the kind of problem, without the input."""
    first = errors[0] if errors else {}
    loc = tuple(first.get("loc", ()))
    kind = str(first.get("type", "invalid"))
    where = _where(loc)
    if kind == "json_invalid":
        return "invalid_json", "the body is not valid JSON"
    if "choice" in loc and kind in ("literal_error", "enum"):
        return "invalid_choice", "choice must be one of 'left', 'right', 'tie', 'both_bad'"
    if kind == "extra_forbidden":
        return "invalid", "unknown field in the request (the field names are in /api/docs)"
    if kind == "missing":
        return "invalid", f"missing field: {where}"
    # pydantic's messages describe the rule ("Input should be a valid integer"), never the value itself.
    message = str(first.get("msg", "invalid value")).splitlines()[0][:120]
    return "invalid", f"{where}: {message}"


def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    code, reason = describe_validation(list(exc.errors()))
    return error_response(code, reason, 422)


def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "error")
    reason = exc.detail if isinstance(exc.detail, str) and exc.status_code < 500 else "the request failed"
    return error_response(code, str(reason), exc.status_code, dict(exc.headers or {}))


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response("internal", "the server failed on this request; it was logged", 500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Refusal, _refusal)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
