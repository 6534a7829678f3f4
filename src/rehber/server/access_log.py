"""One log line per request: time, method, path, status, milliseconds. Never bodies, so never
credentials (they travel in request bodies).

A request only notes its entry (a tuple); entries are formatted and written in batches (at most
half a second late, and at exit). A write and flush per request, or even formatting the line
while the request is answered, would cost a large part of serving a point read.
"""

from __future__ import annotations

import asyncio
import atexit
import sys
import time
from typing import TextIO

from starlette.types import ASGIApp, Message, Receive, Scope, Send

FLUSH_AFTER_SECONDS = 0.5
FLUSH_AT_ENTRIES = 512

# wall-clock time at the end, seconds taken, method, path, status
Entry = tuple[float, float, str, str, int]

# Buffers holding unwritten entries, kept alive until written (at the latest, at exit).
_PENDING: set[EntryBuffer] = set()


@atexit.register
def _flush_all() -> None:
    for buffer in list(_PENDING):
        buffer.flush()


class EntryBuffer:
    """Collects entries and writes them as lines to ``stream`` (default: the current stderr).

    Entries are added on the event loop only; ``flush`` may also run at exit. Swapping the
    list is one atomic step, so an entry is written exactly once without a lock.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self.entries: list[Entry] = []
        self.scheduled = False

    def add(self, entry: Entry) -> None:
        self.entries.append(entry)
        if len(self.entries) >= FLUSH_AT_ENTRIES:
            self.flush()
        elif not self.scheduled:
            self.scheduled = True
            _PENDING.add(self)
            try:
                asyncio.get_running_loop().call_later(FLUSH_AFTER_SECONDS, self.flush)
            except RuntimeError:  # no loop (called from a thread): write now
                self.flush()

    def flush(self) -> None:
        entries, self.entries = self.entries, []
        self.scheduled = False
        _PENDING.discard(self)
        if entries:
            stream = self.stream or sys.stderr
            stream.write(format_entries(entries))
            stream.flush()


def format_entries(entries: list[Entry]) -> str:
    """``2026-11-23 14:18:42.832 POST /v1/get-contact/json 200 1.2ms`` per entry, local time."""
    lines = []
    second, stamp = -1, ""
    for now, seconds, method, path, status in entries:
        if int(now) != second:
            second = int(now)
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
        millis = int((now - second) * 1000)
        lines.append(f"{stamp}.{millis:03d} {method} {path} {status} {seconds * 1000:.1f}ms\n")
    return "".join(lines)


class AccessLog:
    """ASGI middleware noting one entry per HTTP request."""

    def __init__(self, app: ASGIApp, stream: TextIO | None = None) -> None:
        self.app = app
        self.buffer = EntryBuffer(stream)

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
            self.buffer.add(
                (time.time(), time.perf_counter() - started, scope["method"], scope["path"], status)
            )

    def _flushing_on_shutdown(self, receive: Receive) -> Receive:
        """Servers may end by re-raising SIGTERM (no atexit): write the lines at shutdown."""

        async def wrapped() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                self.buffer.flush()
            return message

        return wrapped
