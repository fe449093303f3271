"""The arena's HTTP protocol for remote models, shared by the client and the server (docs/http-protocol.md).

``POST /v1/generate`` takes a :class:`GenerationRequest` as JSON and answers MP4 bytes with the seed,
fps and provenance in headers; ``GET /v1/health`` answers a :class:`HealthResponse`. Every error is a
JSON :class:`ErrorBody` ``{"error": {"code", "message"}}`` with the status code of :data:`STATUS_OF`.
"""

from __future__ import annotations

import json
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from adapters.base import Capabilities, GeneratedVideo, GenerationRequest, ResolvedRequest

PROTOCOL_VERSION = "1"
GENERATE_PATH = "/v1/generate"
HEALTH_PATH = "/v1/health"
VIDEO_MEDIA_TYPE = "video/mp4"

# Response headers of a successful generate.
H_SEED = "X-Seed"
H_FPS = "X-FPS"
H_NUM_FRAMES = "X-Num-Frames"
H_WIDTH = "X-Width"
H_HEIGHT = "X-Height"
H_LATENCY = "X-Latency-S"
H_PROVENANCE = "X-Provenance"  # JSON, ASCII only; absent when too large for a header
H_PROTOCOL = "X-Arena-Protocol"
MAX_PROVENANCE_HEADER = 8192  # clients (h11) refuse header blocks much larger than 16 KiB


class ErrorCode(StrEnum):
    BAD_REQUEST = "bad_request"  # body is not JSON / not an object
    UNAUTHORIZED = "unauthorized"  # missing or wrong bearer token
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    INVALID_REQUEST = "invalid_request"  # JSON that breaks the schema (a field out of range, an unknown key)
    UNSUPPORTED_REQUEST = "unsupported_request"  # valid, but this model cannot serve it (language, ...)
    GENERATION_FAILED = "generation_failed"
    OUTPUT_CONTRACT = "output_contract"  # the model made frames that break the output contract
    INTERNAL = "internal"  # an unexpected exception in the server
    BUSY = "busy"  # every slot is in use; retry after Retry-After seconds
    UNAVAILABLE = "unavailable"  # the model cannot run on the server (weights missing, ...)


STATUS_OF: MappingProxyType[ErrorCode, int] = MappingProxyType(
    {
        ErrorCode.BAD_REQUEST: 400,
        ErrorCode.UNAUTHORIZED: 401,
        ErrorCode.NOT_FOUND: 404,
        ErrorCode.METHOD_NOT_ALLOWED: 405,
        ErrorCode.INVALID_REQUEST: 422,
        ErrorCode.UNSUPPORTED_REQUEST: 422,
        ErrorCode.GENERATION_FAILED: 500,
        ErrorCode.OUTPUT_CONTRACT: 500,
        ErrorCode.INTERNAL: 500,
        ErrorCode.BUSY: 503,
        ErrorCode.UNAVAILABLE: 503,
    }
)


class ErrorDetail(BaseModel):
    code: str  # an ErrorCode value; clients must tolerate codes they do not know
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail

    @classmethod
    def of(cls, code: ErrorCode, message: str) -> ErrorBody:
        return cls(error=ErrorDetail(code=code.value, message=message))


class HealthResponse(BaseModel):
    """``GET /v1/health``: the server is up, which model it serves, and what that model accepts."""

    model_config = ConfigDict(extra="ignore")  # newer servers may add fields

    status: Literal["ok", "busy"]
    model: str
    kind: str = "unknown"
    capabilities: Capabilities
    protocol: str = PROTOCOL_VERSION


def request_body(resolved: ResolvedRequest) -> dict[str, Any]:
    """The JSON body a client sends for an already-resolved request (every value concrete)."""
    return resolved.model_dump(include=set(GenerationRequest.model_fields))


def video_headers(video: GeneratedVideo) -> dict[str, str]:
    """Headers of a successful generate answer."""
    headers = {
        H_SEED: str(video.seed),
        H_FPS: f"{video.fps:g}",
        H_NUM_FRAMES: str(video.num_frames),
        H_WIDTH: str(video.size[0]),
        H_HEIGHT: str(video.size[1]),
        H_LATENCY: f"{video.provenance.latency_s:.3f}",
        H_PROTOCOL: PROTOCOL_VERSION,
    }
    # The client knows its own prompt: leave prompts out of the header to keep it small.
    prov = video.provenance.model_dump(mode="json")
    prov["params"] = {k: v for k, v in prov["params"].items() if k not in ("prompt", "negative_prompt")}
    text = json.dumps(prov, ensure_ascii=True, separators=(",", ":"))
    if len(text) <= MAX_PROVENANCE_HEADER:
        headers[H_PROVENANCE] = text
    return headers


def parse_error(status: int, content: bytes) -> ErrorDetail:
    """Read an error answer; a body that is not our JSON still gives a readable message."""
    try:
        return ErrorBody.model_validate_json(content).error
    except ValidationError:
        snippet = content[:300].decode("utf-8", errors="replace").strip() or "(empty body)"
        return ErrorDetail(code=f"http_{status}", message=f"HTTP {status}: {snippet}")


def parse_provenance(header: str | None) -> dict[str, Any]:
    """The server's provenance from its header, or ``{}`` when absent or unreadable."""
    if not header:
        return {}
    try:
        value = json.loads(header)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
