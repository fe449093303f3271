"""The load voters' HTTP client: aiohttp, one keep-alive connection per voter, JSON by orjson.

httpx (async, one pooled client for 200 voters) spent about as much CPU per vote as the app answering it, on the
same two cores, so the load measured the client as much as the server; aiohttp's C parser costs about 0.2 ms a
request here. A lost or refused connection, a timeout or a malformed answer raise :class:`WireError` (the voters
count it as "no answer"). Idle connections are dropped by the client before uvicorn's 5 s keep-alive ends, so a
request is never sent on a connection the server is closing.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson

TIMEOUT_S = 120.0
IDLE_S = 3.0  # below uvicorn's default timeout_keep_alive (5 s)


class WireError(Exception):
    """No usable answer: the connection failed, closed, timed out, or the answer could not be read."""


class Answer:
    def __init__(self, status: int, body: bytes) -> None:
        self.status_code = status
        self.body = body

    def json(self) -> Any:
        return orjson.loads(self.body)


class Wire:
    """One voter's connection to ``base`` (opened on first use inside the running event loop)."""

    def __init__(self, base: str, timeout_s: float = TIMEOUT_S) -> None:
        self.base = base.rstrip("/")
        self.timeout_s = timeout_s
        self._http: aiohttp.ClientSession | None = None

    async def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        return await self.request("GET", path, None, headers)

    async def post(self, path: str, json: Any, headers: dict[str, str] | None = None) -> Answer:
        return await self.request("POST", path, orjson.dumps(json), headers)

    async def request(self, method: str, path: str, body: bytes | None, headers: dict[str, str] | None) -> Answer:
        if self._http is None:
            connector = aiohttp.TCPConnector(limit=1, keepalive_timeout=IDLE_S)
            timeout = aiohttp.ClientTimeout(total=self.timeout_s)
            self._http = aiohttp.ClientSession(self.base, connector=connector, timeout=timeout)
        sent = {name: value for name, value in (headers or {}).items() if value}
        if body is not None:
            sent["content-type"] = "application/json"
        try:
            async with self._http.request(method, path, data=body, headers=sent) as answer:
                return Answer(answer.status, await answer.read())
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise WireError(f"{type(exc).__name__}: {exc}") from exc

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
