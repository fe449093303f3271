"""A lean HTTP/1.1 client for the load voters: one keep-alive connection per voter, requests written and answers
read on asyncio streams, JSON by orjson.

httpx (async, one pooled client for 200 voters) spent about as much CPU per vote as the app answering it, on the
same two cores, so the load measured the client as much as the server. This speaks only what the JSON API needs:
a JSON or empty body out; an answer with a Content-Length (uvicorn sends one with every JSON answer) or chunked.
A lost or refused connection, a timeout or a malformed answer raise :class:`WireError` (the voters count it as
"no answer"); the next request opens a new connection, as does one after the server closed an idle connection.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

TIMEOUT_S = 120.0


class WireError(Exception):
    """No usable answer: the connection failed, closed, timed out, or the answer could not be read."""


class Answer:
    def __init__(self, status: int, body: bytes) -> None:
        self.status_code = status
        self.body = body

    def json(self) -> Any:
        return orjson.loads(self.body)


class Wire:
    """One connection to ``host:port`` (opened on first use, reopened after a failure)."""

    def __init__(self, base: str, timeout_s: float = TIMEOUT_S) -> None:
        host, _, port = base.removeprefix("http://").rstrip("/").partition(":")
        self.host, self.port = host, int(port or 80)
        self.timeout_s = timeout_s
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        return await self.request("GET", path, None, headers)

    async def post(self, path: str, json: Any, headers: dict[str, str] | None = None) -> Answer:
        return await self.request("POST", path, orjson.dumps(json), headers)

    async def request(self, method: str, path: str, body: bytes | None, headers: dict[str, str] | None) -> Answer:
        try:
            return await asyncio.wait_for(self._exchange(method, path, body, headers or {}), self.timeout_s)
        except (OSError, EOFError, asyncio.IncompleteReadError, ValueError) as exc:
            self.close()
            raise WireError(f"{type(exc).__name__}: {exc}") from exc

    async def _exchange(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> Answer:
        if self._streams is not None and self._streams[0].at_eof():
            self.close()  # the server closed it while idle (keep-alive timeout): never send on it
        if self._streams is None:
            self._streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._streams
        lines = [f"{method} {path} HTTP/1.1", f"host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items() if value]
        if body is not None:
            lines += ["content-type: application/json", f"content-length: {len(body)}"]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b""))
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *fields = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        named = {k.strip().lower(): v.strip() for k, _, v in (f.partition(":") for f in fields if f)}
        if "content-length" in named:
            payload = await reader.readexactly(int(named["content-length"]))
        elif named.get("transfer-encoding", "").lower() == "chunked":
            payload = await _chunked(reader)
        else:
            raise ValueError("an answer without a length")
        if named.get("connection", "").lower() == "close":
            self.close()
        return Answer(status, payload)

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None


async def _chunked(reader: asyncio.StreamReader) -> bytes:
    parts = []
    while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
    await reader.readuntil(b"\r\n")  # the empty trailer
    return b"".join(parts)
