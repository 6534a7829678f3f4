"""Limits on what one client can make the server do: request rate per key, and slow clients.

Three guards, each configurable (``server/settings.py``, ``rehber serve --help``, README
"Limits"):

* **Per-key rate limit** (off by default). A token bucket per API key: ``rate`` requests per
  second sustained, ``burst`` at once. The key is the one authentication will see: the body is
  read (up to the body limit) and parsed with the same functions the vendor API uses, so no
  body can be charged to one key and authenticated as another. A request over the limit is
  answered **429** in the vendor envelope of its format (HTTP status = body code, message
  ``codes.MESSAGES[429]``) with ``Retry-After``, and never reaches the backend. A request
  that turns out to fail authentication (401) gets its token back, so knowing someone's key
  without its hash does not let you use up their quota. Requests without a readable key are
  charged to the peer address. Buckets live in the memory of one worker process: with
  ``--workers N`` a key can get up to N times the rate.
* **Body timeout** (on by default, 60 s). The whole request body must arrive within this many
  seconds of the request head (checked once a second); a body that trickles in slower is cut
  off: the vendor API answers 400 and the connection is closed. Whenever the server answers
  before it has read the whole body (over the size limit, timed out, rate limited) it closes
  the connection.
* **Header timeout** (on by default, 10 s): :class:`GuardedHttpToolsProtocol`, uvicorn's own
  HTTP protocol with a deadline for the request head, counted from the connection opening or
  from the previous response on a kept-alive connection (checked once a second). uvicorn
  alone has none: a client sending its headers one byte at a time would hold a connection
  forever.
"""

from __future__ import annotations

import asyncio
import functools
import math
import os
import time
from collections.abc import Callable
from typing import Any, Protocol

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from rehber import wire
from rehber.codes import Code
from rehber.server.settings import DEFAULT_HEADER_TIMEOUT, Settings
from rehber.server.v1 import route

_CONTENT_TYPES = {
    "xml": (b"content-type", b"application/xml; charset=utf-8"),
    "json": (b"content-type", b"application/json"),
}
_CLOSE = (b"connection", b"close")
_DISCONNECT: Message = {"type": "http.disconnect"}
# Bodies larger than this are parsed for their key in a worker thread, off the event loop.
_PARSE_IN_THREAD_BYTES = 64 * 1024
# Upper bound on remembered buckets; the fullest are forgotten first.
MAX_BUCKETS = 100_000


def protect(app: ASGIApp, settings: Settings) -> ASGIApp:
    """``app`` (the vendor API) behind the configured limits; ``app`` itself if none is on."""
    if settings.rate_limit <= 0 and settings.body_timeout <= 0:
        return app
    buckets = None
    if settings.rate_limit > 0:
        burst = settings.rate_limit_burst or max(1, math.ceil(settings.rate_limit))
        buckets = TokenBuckets(settings.rate_limit, burst)
    return Limits(app, settings.max_body_bytes, settings.body_timeout, buckets)


class TokenBuckets:
    """One token bucket per identity: ``rate`` tokens per second, holding at most ``burst``."""

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_buckets: int = MAX_BUCKETS,
    ) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.clock = clock
        self.max_buckets = max_buckets
        # identity -> (tokens, time of that count)
        self.buckets: dict[str, tuple[float, float]] = {}

    def take(self, identity: str) -> float:
        """Take a token: 0.0 when granted, else the seconds until one will be there."""
        now = self.clock()
        tokens = self._tokens(identity, now)
        if tokens >= 1.0:
            self.buckets[identity] = (tokens - 1.0, now)
            if len(self.buckets) > self.max_buckets:
                self._forget(now)
            return 0.0
        self.buckets[identity] = (tokens, now)
        return (1.0 - tokens) / self.rate

    def give_back(self, identity: str) -> None:
        now = self.clock()
        self.buckets[identity] = (min(self.burst, self._tokens(identity, now) + 1.0), now)

    def _tokens(self, identity: str, now: float) -> float:
        tokens, since = self.buckets.get(identity, (self.burst, now))
        return min(self.burst, tokens + (now - since) * self.rate)

    def _forget(self, now: float) -> None:
        """Keep the half of the buckets that are emptiest.

        Forgetting a bucket refills it, so the fullest are forgotten first (a full one costs
        nothing); a flood of new keys cannot push out a key that has used up its tokens.
        """
        tokens = {identity: self._tokens(identity, now) for identity in self.buckets}
        kept = sorted(tokens, key=tokens.__getitem__)[: self.max_buckets // 2]
        self.buckets = {identity: (tokens[identity], now) for identity in kept}


class BodyGuard:
    """One request's ``receive`` and ``send``, watched by a :class:`Deadlines` sweeper.

    When the request's deadline passes before its body is complete, ``receive`` answers
    ``http.disconnect`` (as if the client had left), so the vendor API answers 400. Any
    response that starts before the whole body was received closes the connection.
    """

    __slots__ = ("_receive", "_send", "complete", "deadline", "timed_out", "waiter")

    def __init__(self, receive: Receive, send: Send, deadline: float) -> None:
        self._receive = receive
        self._send = send
        self.deadline = deadline
        self.complete = False
        self.timed_out = False
        self.waiter: asyncio.Task[Any] | None = None

    async def receive(self) -> Message:
        if self.complete:
            return await self._receive()
        if self.timed_out:
            return _DISCONNECT
        self.waiter = asyncio.current_task()
        try:
            message = await self._receive()
        except asyncio.CancelledError:
            # Cancelled by the sweeper (and by nothing else): the body took too long.
            if self.timed_out and self.waiter is not None and self.waiter.uncancel() == 0:
                return _DISCONNECT
            raise
        finally:
            self.waiter = None
        if message["type"] != "http.request" or not message.get("more_body", False):
            self.complete = True
        return message

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start" and not self.complete:
            # Answered before the whole body arrived: the rest of it must not be read as the
            # next request, and a slow client must not keep the connection.
            message = {**message, "headers": [*message.get("headers", ()), _CLOSE]}
        await self._send(message)

    def overdue(self, now: float) -> bool:
        return self.deadline <= now

    def expire(self) -> None:
        if self.complete:  # the body arrived in time; the request is only still running
            return
        self.timed_out = True
        if self.waiter is not None:
            self.waiter.cancel()


class Expiring(Protocol):
    """Something with a deadline: a request body (:class:`BodyGuard`) or a request head
    (:class:`GuardedHttpToolsProtocol`)."""

    def overdue(self, now: float) -> bool: ...

    def expire(self) -> None: ...


class Deadlines:
    """Deadlines of many watched items, checked once per ``interval`` seconds.

    One sweep for all of them instead of a timer per request: watching costs a set insertion
    and removal, and a deadline is enforced at most ``interval`` late. Times are those of the
    event loop's clock (``loop.time()``).
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.watched: set[Expiring] = set()
        # The loop a sweep is scheduled on (None: no sweep pending). A loop, not a flag, so a
        # test client's short-lived loop cannot leave the sweeper switched off for the next.
        self.sweeping: asyncio.AbstractEventLoop | None = None

    def watch(self, item: Expiring, loop: asyncio.AbstractEventLoop) -> None:
        self.watched.add(item)
        if self.sweeping is not loop:
            self.sweeping = loop
            loop.call_later(self.interval, self._sweep)

    def forget(self, item: Expiring) -> None:
        self.watched.discard(item)

    def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        for item in [i for i in self.watched if i.overdue(now)]:
            self.watched.discard(item)
            item.expire()
        if self.watched:
            loop.call_later(self.interval, self._sweep)
        else:
            self.sweeping = None


class Limits:
    """ASGI middleware in front of the vendor API (``/v1/...``): see the module docstring."""

    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int,
        body_timeout: float,
        buckets: TokenBuckets | None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        # No body timeout: a deadline no request reaches (the guard still closes connections
        # answered early).
        self.body_timeout = body_timeout if body_timeout > 0 else 10.0**9
        self.deadlines = Deadlines(min(1.0, self.body_timeout))
        self.buckets = buckets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        guard = BodyGuard(receive, send, loop.time() + self.body_timeout)
        self.deadlines.watch(guard, loop)
        try:
            if self.buckets is None:
                await self.app(scope, guard.receive, guard.send)
                return
            action, fmt = route(scope["path"])
            if action is None or scope["method"] != "POST":
                await self.app(scope, guard.receive, guard.send)
                return
            await self._rate_limited(scope, guard, fmt, guard.send)
        finally:
            self.deadlines.forget(guard)

    async def _rate_limited(
        self, scope: Scope, guard: BodyGuard, fmt: wire.Format, send: Send
    ) -> None:
        assert self.buckets is not None
        messages, body = await self._peek(scope, guard)
        identity = await self._identity(scope, fmt, body)
        wait = self.buckets.take(identity)
        if wait > 0:
            await _too_many_requests(fmt, wait, send)
            return
        status = 0

        async def replay() -> Message:
            return messages.pop(0) if messages else await guard.receive()

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, replay, noting_status)
        if status == Code.UNAUTHORIZED and not identity.startswith("peer:"):
            self.buckets.give_back(identity)

    async def _peek(self, scope: Scope, guard: BodyGuard) -> tuple[list[Message], bytes | None]:
        """The body's messages (to replay) and the body, or ``None`` when it is unreadable
        (over the size limit, cut off): the vendor API then answers 400 itself."""
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_body_bytes:
                return [], None
        messages: list[Message] = []
        size = 0
        while True:
            message = await guard.receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages, None
            size += len(message.get("body", b""))
            if size > self.max_body_bytes:
                return messages, None
            if not message.get("more_body", False):
                return messages, b"".join(m.get("body", b"") for m in messages)

    async def _identity(self, scope: Scope, fmt: wire.Format, body: bytes | None) -> str:
        """The API key the request presents, or its peer address when it presents none."""
        key = ""
        if body:
            if len(body) > _PARSE_IN_THREAD_BYTES:
                key = await run_in_threadpool(_presented_key, fmt, body)
            else:
                key = _presented_key(fmt, body)
        if key:
            return "key:" + key
        client = scope.get("client")
        return f"peer:{client[0] if client else ''}"


def _presented_key(fmt: wire.Format, body: bytes) -> str:
    """The key the vendor API will authenticate (the same parser and reader); ``""`` if none."""
    try:
        return wire.credentials(wire.parse(fmt, body)).key
    except Exception:  # unreadable: the vendor API answers 400 for it
        return ""


async def _too_many_requests(fmt: wire.Format, wait: float, send: Send) -> None:
    payload = wire.encode_error(fmt, Code.TOO_MANY_REQUESTS)
    headers = [
        _CONTENT_TYPES[fmt],
        (b"content-length", str(len(payload)).encode()),
        (b"retry-after", str(max(1, math.ceil(wait))).encode()),
    ]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


# -- the request head --------------------------------------------------------------------


@functools.cache
def header_timeout() -> float:
    """Seconds a client has to send a request head (``REHBER_HEADER_TIMEOUT``; 0 = none).

    Read once per process: ``rehber serve`` sets it before uvicorn starts its workers.
    """
    return float(os.environ.get("REHBER_HEADER_TIMEOUT") or DEFAULT_HEADER_TIMEOUT)


@functools.cache
def _head_deadlines() -> Deadlines:
    """This process's request-head deadlines (made on first use: ``header_timeout`` is set
    by ``rehber serve`` after this module is imported)."""
    return Deadlines(min(1.0, header_timeout()))


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, closing connections whose request head is too slow.

    The deadline runs while the connection waits for a request head: from the connection
    opening, and again after each response unless a pipelined request is already queued. It
    stops when a head is complete (the body then has its own deadline, :class:`BodyGuard`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_due: float | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_head()

    def on_headers_complete(self) -> None:
        self._head_due = None
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        idle = not self.pipeline
        super().on_response_complete()
        if idle and not self.transport.is_closing():
            self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_due = None
        _head_deadlines().forget(self)
        super().connection_lost(exc)

    def overdue(self, now: float) -> bool:
        return self._head_due is not None and self._head_due <= now

    def expire(self) -> None:
        """The head took too long: close the connection."""
        self._head_due = None
        if not self.transport.is_closing():
            self.transport.close()

    def _await_head(self) -> None:
        seconds = header_timeout()
        if seconds > 0:
            self._head_due = self.loop.time() + seconds
            _head_deadlines().watch(self, self.loop)
