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
  the connection. Enforced where bodies are read, by ``body.BodyReader``: no layer is added
  in front of requests for it.
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

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from rehber import wire
from rehber.codes import Code
from rehber.server.body import BodyReader, replaying
from rehber.server.deadlines import Deadlines
from rehber.server.settings import DEFAULT_HEADER_TIMEOUT, Settings
from rehber.server.transport import HeadWaitsForBody
from rehber.server.v1 import envelope_headers, route

# Bodies larger than this are parsed for their key in a worker thread, off the event loop.
_PARSE_IN_THREAD_BYTES = 64 * 1024
# Upper bound on remembered buckets; the fullest are forgotten first.
MAX_BUCKETS = 100_000


def protect(app: ASGIApp, settings: Settings, bodies: BodyReader) -> ASGIApp:
    """``app`` (the vendor API) behind the per-key rate limit; ``app`` itself when it is off.
    ``bodies`` reads the body for its key, within the vendor API's own limits."""
    if settings.rate_limit <= 0:
        return app
    burst = settings.rate_limit_burst or max(1, math.ceil(settings.rate_limit))
    return RateLimit(app, bodies, TokenBuckets(settings.rate_limit, burst))


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


class RateLimit:
    """ASGI middleware in front of the vendor API (``/v1/...``): see the module docstring."""

    def __init__(self, app: ASGIApp, bodies: BodyReader, buckets: TokenBuckets) -> None:
        self.app = app
        self.bodies = bodies
        self.buckets = buckets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        action, fmt = route(scope["path"]) if scope["type"] == "http" else (None, "xml")
        if action is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body = await self.bodies.read(scope, receive)
        identity = await self._identity(scope, fmt, body)
        wait = self.buckets.take(identity)
        if wait > 0:
            await _too_many_requests(fmt, wait, send, body_read=body is not None)
            return
        status = 0

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, replaying(body, receive), noting_status)
        if status == Code.UNAUTHORIZED and not identity.startswith("peer:"):
            self.buckets.give_back(identity)

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


async def _too_many_requests(fmt: wire.Format, wait: float, send: Send, *, body_read: bool) -> None:
    payload = wire.encode_error(fmt, Code.TOO_MANY_REQUESTS)
    headers = envelope_headers(fmt, payload, body_read=body_read)
    headers.append((b"retry-after", str(max(1, math.ceil(wait))).encode()))
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
def _head_deadlines() -> Deadlines[GuardedHttpToolsProtocol]:
    """This process's request-head deadlines (made on first use: ``header_timeout`` is set
    by ``rehber serve`` after this module is imported)."""
    return Deadlines(min(1.0, header_timeout()), GuardedHttpToolsProtocol.expire)


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, closing connections whose request head is too slow, and
    writing each response's head and body in one call (``transport.HeadWaitsForBody``).

    The deadline runs while the connection waits for a request head: from the connection
    opening, and again after each response unless a pipelined request is already queued. It
    stops when a head is complete (the body then has its own deadline, ``body.BodyReader``).
    A header timeout of 0 turns the deadline off.
    """

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_head()

    def on_headers_complete(self) -> None:
        _head_deadlines().forget(self)
        super().on_headers_complete()
        cycle = self.cycle
        if cycle is not None and cycle.transport is self.transport:  # a new request's cycle
            cycle.transport = HeadWaitsForBody(self.transport, self.loop)  # type: ignore[assignment]

    def on_response_complete(self) -> None:
        idle = not self.pipeline
        super().on_response_complete()
        if idle and not self.transport.is_closing():
            self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        _head_deadlines().forget(self)
        super().connection_lost(exc)

    def expire(self) -> None:
        """The head took too long: close the connection."""
        if not self.transport.is_closing():
            self.transport.close()

    def _await_head(self) -> None:
        seconds = header_timeout()
        if seconds > 0:
            _head_deadlines().watch(self, self.loop.time() + seconds, self.loop)
