"""One log line per request: time, method, path, status, milliseconds. Never bodies, so never
credentials (they travel in request bodies).

Lines are buffered and written in batches (at most half a second late, and at exit): a write
and flush per request would cost more than serving a point read.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import sys
import threading
import time
from typing import TextIO

from starlette.types import ASGIApp, Message, Receive, Scope, Send

FLUSH_AFTER_SECONDS = 0.5
FLUSH_AT_LINES = 512


# Buffers holding unwritten lines, kept alive until written (at the latest, at exit).
_PENDING: set[LineBuffer] = set()


@atexit.register
def _flush_all() -> None:
    for buffer in list(_PENDING):
        buffer.flush()


class LineBuffer:
    """Collects lines and writes them to ``stream`` (default: the current stderr) in batches."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self.lines: list[str] = []
        self.lock = threading.Lock()
        self.scheduled = False

    def add(self, line: str) -> None:
        with self.lock:
            self.lines.append(line)
            full = len(self.lines) >= FLUSH_AT_LINES
            _PENDING.add(self)
        if full:
            self.flush()
        elif not self.scheduled:
            self.scheduled = True
            try:
                asyncio.get_running_loop().call_later(FLUSH_AFTER_SECONDS, self.flush)
            except RuntimeError:  # no loop (called from a thread): write now
                self.flush()

    def flush(self) -> None:
        with self.lock:
            lines, self.lines = self.lines, []
            self.scheduled = False
            _PENDING.discard(self)
        if lines:
            stream = self.stream or sys.stderr
            stream.write("\n".join(lines) + "\n")
            stream.flush()


@functools.lru_cache(maxsize=2)
def _second(epoch_second: int) -> str:
    """The local date and time of a second: formatted once, not once per request."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch_second))


class AccessLog:
    """ASGI middleware writing one line per HTTP request."""

    def __init__(self, app: ASGIApp, stream: TextIO | None = None) -> None:
        self.app = app
        self.buffer = LineBuffer(stream)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, self._flushing_on_shutdown(receive), send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            now = time.time()
            self.buffer.add(
                f"{_second(int(now))}.{int(now * 1000) % 1000:03d} {scope['method']} "
                f"{scope['path']} {status} {elapsed:.1f}ms"
            )

    def _flushing_on_shutdown(self, receive: Receive) -> Receive:
        """Servers may end by re-raising SIGTERM (no atexit): write the lines at shutdown."""

        async def wrapped() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                self.buffer.flush()
            return message

        return wrapped
