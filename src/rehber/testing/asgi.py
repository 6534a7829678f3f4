"""A synchronous httpx transport onto an ASGI app, in this process.

httpx ships only an async ASGI transport; starlette's TestClient is deprecated with plain
httpx. This runs httpx's own ``ASGITransport`` on a private event loop, one request at a
time, so ordinary synchronous tests (and the synchronous clients they exercise) can talk to
the app with no server, no port and no thread.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx


class SyncASGITransport(httpx.BaseTransport):
    """``httpx.Client(transport=SyncASGITransport(app), base_url=...)``."""

    def __init__(self, app: Any) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self._loop = asyncio.new_event_loop()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._loop.run_until_complete(self._send(request))

    async def _send(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        body = await response.aread()
        return httpx.Response(response.status_code, headers=response.headers, content=body)

    def close(self) -> None:
        if not self._loop.is_closed():
            self._loop.run_until_complete(self._inner.aclose())
            self._loop.close()
