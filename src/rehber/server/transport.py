"""One send per response: a response's head waits for its body.

uvicorn writes a response in two calls, the head on ``http.response.start`` and the body on
``http.response.body``, and each write is a ``send`` on the socket: two system calls and, with
``TCP_NODELAY``, two segments for the client to read, where every answer of this API fits in
one. The body follows the head in the same pass of the event loop (the app awaits nothing in
between unless the socket is full), so holding the head until then costs no time.
"""

from __future__ import annotations

import asyncio
from typing import Any


class HeadWaitsForBody:
    """The transport of one request/response cycle.

    Its first write (the head) is held until the second (the body), and both go out as one.
    A head whose body does not follow goes out at the end of this pass of the event loop, and
    before the connection closes, so nothing is ever held back for long or lost.
    """

    __slots__ = ("_head", "_loop", "_transport", "_used")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._head: bytes | None = None
        self._used = False

    def write(self, data: bytes) -> None:
        if not self._used:
            self._used = True
            self._head = data
            self._loop.call_soon(self._release)
            return
        head, self._head = self._head, None
        self._transport.write(data if head is None else head + data)

    def _release(self) -> None:
        head, self._head = self._head, None
        if head is not None:
            self._transport.write(head)

    def close(self) -> None:
        self._release()
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
