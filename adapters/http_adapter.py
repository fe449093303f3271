"""A model served over the arena's HTTP protocol (docs/http-protocol.md), e.g. the team's in-house model.

The token comes from an environment variable named by ``token_env``; never write it in the models file.
Capabilities come from the server's ``/v1/health`` on first use unless ``capabilities`` is set here.
"""

from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, SecretStr, field_validator, model_validator

from adapters.base import AdapterParams, Availability, Capabilities, RawVideo, ResolvedRequest, VideoAdapter
from adapters.errors import (
    AdapterUnavailableError,
    GenerationError,
    OutputContractError,
    RequestError,
)
from adapters.http_protocol import (
    GENERATE_PATH,
    H_FPS,
    H_PROVENANCE,
    H_SEED,
    HEALTH_PATH,
    ErrorCode,
    HealthResponse,
    parse_error,
    parse_provenance,
    request_body,
)

if TYPE_CHECKING:
    import httpx

MAX_RETRY_WAIT_S = 10.0


class HTTPParams(AdapterParams):
    url: str = Field(description="Base URL of the server, e.g. http://gpu-box:8100")
    token_env: str | None = Field(
        default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="Environment variable holding the token"
    )
    token: SecretStr | None = Field(default=None, description="The token itself (discouraged: use token_env)")
    timeout_s: float = Field(default=600.0, gt=0, description="Read timeout: longest wait for the answer")
    connect_timeout_s: float = Field(default=5.0, gt=0)
    health_timeout_s: float = Field(default=5.0, gt=0, description="Timeout of check() and the health call")
    retries: int = Field(default=2, ge=0, le=10, description="Retries of a '503 busy' answer (nothing else)")
    capabilities: Capabilities | None = Field(default=None, description="Override; default: from /v1/health")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _one_token_source(self) -> HTTPParams:
        if self.token is not None and self.token_env is not None:
            raise ValueError("give token_env or token, not both")
        return self


class HTTPAdapter(VideoAdapter):
    """Client of one model server. Thread-safe: one pooled ``httpx.Client`` per adapter."""

    kind: ClassVar[str] = "http"
    Params: ClassVar[type[AdapterParams]] = HTTPParams
    params: HTTPParams

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._client: httpx.Client | None = None
        self._client_lock = threading.Lock()
        self._caps: Capabilities | None = self.params.capabilities

    # -- plumbing ------------------------------------------------------------------------------------
    def _token(self) -> str | None:
        p = self.params
        if p.token is not None:
            return p.token.get_secret_value()
        if p.token_env is None:
            return None
        value = os.environ.get(p.token_env)
        if not value:
            raise AdapterUnavailableError(
                self.model_id, f"environment variable {p.token_env} (token_env) is not set: no token for {p.url}"
            )
        return value

    def _headers(self) -> dict[str, str]:
        token = self._token()
        return {"Authorization": f"Bearer {token}"} if token else {}

    def _http(self) -> httpx.Client:
        import httpx

        with self._client_lock:  # concurrent first calls must share one client
            if self._client is None:
                p = self.params
                self._client = httpx.Client(
                    base_url=p.url,
                    timeout=httpx.Timeout(p.timeout_s, connect=p.connect_timeout_s),
                    follow_redirects=False,
                )
            return self._client

    def _transport_error(self, exc: Exception, read_timeout: float) -> Exception:
        import httpx

        url = self.params.url
        if isinstance(exc, httpx.ConnectTimeout):
            return AdapterUnavailableError(
                self.model_id, f"no connection to {url} within {self.params.connect_timeout_s:g} s"
            )
        if isinstance(exc, httpx.ConnectError):
            return AdapterUnavailableError(self.model_id, f"cannot connect to {url}: {exc}")
        if isinstance(exc, httpx.TimeoutException):
            return GenerationError(self.model_id, f"{url} timed out: no answer after {read_timeout:g} s")
        return GenerationError(self.model_id, f"request to {url} failed: {type(exc).__name__}: {exc}")

    def _status_error(self, status: int, content: bytes) -> Exception:
        detail = parse_error(status, content)
        where = self.params.url
        if status in (401, 403):
            hint = f" (token from ${self.params.token_env})" if self.params.token_env else ""
            return AdapterUnavailableError(self.model_id, f"{where}: wrong or missing token{hint}: {detail.message}")
        if detail.code == ErrorCode.BUSY:
            return GenerationError(self.model_id, f"{where} is busy: {detail.message}")
        if detail.code == ErrorCode.UNAVAILABLE or status == 503:
            return AdapterUnavailableError(self.model_id, f"{where}: {detail.message}")
        if detail.code == ErrorCode.OUTPUT_CONTRACT:
            return OutputContractError(self.model_id, f"{where}: {detail.message}")
        if 400 <= status < 500:
            return RequestError(self.model_id, f"{where} refused the request ({status}): {detail.message}")
        return GenerationError(self.model_id, f"{where} failed ({status} {detail.code}): {detail.message}")

    # -- the contract ----------------------------------------------------------------------------------
    def health(self) -> HealthResponse:
        """``GET /v1/health`` with the short health timeout; raises typed errors."""
        import httpx

        timeout = self.params.health_timeout_s
        try:
            resp = self._http().get(HEALTH_PATH, headers=self._headers(), timeout=timeout)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, timeout) from exc
        if resp.status_code != 200:
            raise self._status_error(resp.status_code, resp.content)
        try:
            return HealthResponse.model_validate_json(resp.content)
        except ValueError as exc:
            raise AdapterUnavailableError(
                self.model_id, f"{self.params.url}{HEALTH_PATH} did not answer the protocol's health JSON: {exc}"
            ) from exc

    def check(self) -> Availability:
        try:
            h = self.health()
        except (AdapterUnavailableError, GenerationError, RequestError) as exc:
            return Availability(ok=False, detail=f"unreachable or refused: {exc.reason}")
        return Availability(ok=True, detail=f"{self.params.url} serves {h.model!r} ({h.kind}), status {h.status}")

    def capabilities(self) -> Capabilities:
        if self._caps is None:
            try:
                self._caps = self.health().capabilities
            except (AdapterUnavailableError, GenerationError, RequestError) as exc:
                raise AdapterUnavailableError(
                    self.model_id,
                    f"cannot read capabilities from {self.params.url}{HEALTH_PATH} ({exc.reason}); "
                    "start the server or set params.capabilities",
                ) from exc
        return self._caps

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _post(self, body: dict[str, Any]) -> httpx.Response:
        import httpx

        for attempt in range(self.params.retries + 1):  # bounded: only '503 busy' is retried
            try:
                resp = self._http().post(GENERATE_PATH, json=body, headers=self._headers())
            except httpx.HTTPError as exc:
                raise self._transport_error(exc, self.params.timeout_s) from exc
            busy = resp.status_code == 503 and parse_error(503, resp.content).code == ErrorCode.BUSY
            if not busy or attempt == self.params.retries:
                return resp
            try:
                wait = float(resp.headers.get("Retry-After", "1"))
            except ValueError:
                wait = 1.0
            time.sleep(min(max(wait, 0.0), MAX_RETRY_WAIT_S))
        raise AssertionError("unreachable")  # the loop always returns

    def _generate(self, request: ResolvedRequest) -> RawVideo:
        from adapters.video_io import decode_mp4

        try:
            body = request_body(request)
            resp = self._post(body)
        except TypeError as exc:  # `extra` holds something JSON cannot carry
            raise RequestError(self.model_id, f"request is not JSON-serialisable: {exc}") from exc
        if resp.status_code != 200:
            raise self._status_error(resp.status_code, resp.content)
        kind = resp.headers.get("content-type", "?")
        try:
            frames, file_fps = decode_mp4(resp.content)
        except ValueError as exc:
            raise OutputContractError(
                self.model_id,
                f"{self.params.url} answered {len(resp.content)} bytes ({kind}) that are not a video: {exc}",
            ) from exc
        seed = resp.headers.get(H_SEED)
        if seed is not None and seed != str(request.seed):
            raise OutputContractError(self.model_id, f"asked for seed {request.seed}, the server used {seed}")
        try:
            fps: float | None = float(resp.headers[H_FPS])
        except (KeyError, ValueError):
            fps = file_fps or None
        remote = parse_provenance(resp.headers.get(H_PROVENANCE))
        details: dict[str, Any] = {"params": {"remote": remote}} if remote else {}
        for key in ("revision", "weights_hash", "device", "dtype", "library_versions"):
            if remote.get(key) is not None:
                details[key] = remote[key]
        return RawVideo(frames=frames, layout="FHWC", fps=fps, details=details)
