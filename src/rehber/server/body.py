"""Reading a request body within the limits: at most ``max_bytes``, all of it within
``timeout`` seconds of the request head.

Every part of the server that reads bodies (the vendor API, the rate limiter, the emulator's
journal) reads them with a :class:`BodyReader`, so the limits hold whichever reads first; a
later reader gets the same body again from :func:`replaying`. Whoever answers a request whose
body could not be read in full closes the connection (``CLOSE``): the rest of the body must not
be read as the next request, and a slow client must not keep the connection.
"""

from __future__ import annotations

import asyncio

from starlette.types import Message, Receive, Scope

from rehber.server.deadlines import Deadlines

CLOSE = (b"connection", b"close")
_DISCONNECT: Message = {"type": "http.disconnect"}


class BodyReader:
    """Reads whole request bodies, or reports that one cannot be read within the limits."""

    def __init__(self, max_bytes: int, timeout: float) -> None:
        self.max_bytes = max_bytes
        self.timeout = timeout
        # Tasks reading a body, by deadline; those the sweep interrupted.
        self.deadlines: Deadlines[asyncio.Task[object]] | None = None
        if timeout > 0:
            self.deadlines = Deadlines(min(1.0, timeout), self._time_out)
        self.timed_out: set[asyncio.Task[object]] = set()

    async def read(self, scope: Scope, receive: Receive) -> bytes | None:
        """The whole body; ``None`` when it is larger than the limit (refused from its
        ``Content-Length`` without reading it), arrives too slowly, or the client left."""
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                return None
        if self.deadlines is None:
            return await self._receive_all(receive)
        loop = asyncio.get_running_loop()
        task = asyncio.current_task(loop)
        if task is None:  # not in a task: nothing to interrupt (never so under a server)
            return await self._receive_all(receive)
        self.deadlines.watch(task, loop.time() + self.timeout, loop)
        try:
            return await self._receive_all(receive)
        except asyncio.CancelledError:
            # Cancelled by the sweep (unless the server cancelled it too): the body took too long.
            if task in self.timed_out:
                self.timed_out.discard(task)
                if task.uncancel() == 0:
                    return None
            raise
        finally:
            self.deadlines.forget(task)

    def _time_out(self, task: asyncio.Task[object]) -> None:
        self.timed_out.add(task)
        task.cancel()

    async def _receive_all(self, receive: Receive) -> bytes | None:
        message = await receive()
        if message["type"] != "http.request":
            return None
        body: bytes = message.get("body", b"")
        if not message.get("more_body", False):  # nearly every request: one message
            return body if len(body) <= self.max_bytes else None
        chunks = [body]
        size = len(body)
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def replaying(body: bytes | None, receive: Receive) -> Receive:
    """A ``receive`` that hands a body already read to the next reader: the whole body in one
    message (a client that left, when it could not be read), then the rest of the stream."""
    pending: list[Message] = [
        _DISCONNECT if body is None else {"type": "http.request", "body": body}
    ]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay
