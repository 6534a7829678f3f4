"""The vendor API: ``POST /v1/<action>`` (XML) and ``/v1/<action>/json`` (JSON).

One pipeline serves all 30 routes: route -> read body -> parse -> authenticate -> decode ->
backend -> encode. Every failure is a :class:`ServiceError` turned into an envelope here, in
one place, with HTTP status equal to the vendor code.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from rehber import wire
from rehber.codes import Code, ServiceError
from rehber.server.body import CLOSE, BodyReader
from rehber.service.accounts import AccountService
from rehber.service.backend import Backend
from rehber.storage.store import Store
from rehber.types import Account
from rehber.wire.actions import ACTIONS, Action

logger = logging.getLogger("rehber.server")

_CONTENT_TYPES = {
    "xml": (b"content-type", b"application/xml; charset=utf-8"),
    "json": (b"content-type", b"application/json"),
}


def envelope_headers(
    fmt: wire.Format, payload: bytes, *, body_read: bool
) -> list[tuple[bytes, bytes]]:
    """The headers of an answer in the vendor envelope. An answer given without the whole
    request body read closes the connection (body.py says why)."""
    headers = [_CONTENT_TYPES[fmt], (b"content-length", str(len(payload)).encode())]
    if not body_read:
        headers.append(CLOSE)
    return headers


def route(path: str) -> tuple[Action | None, wire.Format]:
    """The action and format a path names; format is JSON iff the path ends in ``/json``."""
    return _ROUTES.get(path) or _route(path)


def _route(path: str) -> tuple[Action | None, wire.Format]:
    trimmed = path.rstrip("/")
    fmt: wire.Format = "json" if trimmed.endswith("/json") else "xml"
    if fmt == "json":
        trimmed = trimmed[: -len("/json")]
    if not trimmed.startswith("/v1/"):
        return None, fmt
    return ACTIONS.get(trimmed[len("/v1/") :]), fmt


# The paths clients use, routed once: a dictionary lookup per request instead of the above.
_ROUTES = {
    path: _route(path)
    for name in ACTIONS
    for path in (f"/v1/{name}", f"/v1/{name}/", f"/v1/{name}/json", f"/v1/{name}/json/")
}


class VendorApi:
    """ASGI app for ``/v1/...``."""

    def __init__(
        self, store: Store, accounts: AccountService, backend: Backend, bodies: BodyReader
    ) -> None:
        self.store = store
        self.accounts = accounts
        self.backend = backend
        self.bodies = bodies
        self.batcher = WriteBatcher(store) if store.dialect == "sqlite" else None
        # SQLite: bulk requests of one process run one at a time, on one thread. Side by side
        # they only contend for the GIL and the one write lock (3 senders: 6-10% slower), and
        # on one thread they share one connection, whose page cache SQLite would otherwise
        # discard whenever another connection had written (8% of add-contacts XML). On
        # PostgreSQL one request's Python runs while another waits for the database.
        self.bulk_thread = (
            ThreadPoolExecutor(1, thread_name_prefix="rehber-bulk")
            if store.dialect == "sqlite"
            else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        action, fmt = route(scope["path"])
        body = None
        try:
            if action is None or scope["method"] != "POST":
                raise ServiceError(Code.NOT_FOUND)
            body = await self.bodies.read(scope, receive)
            if body is None:
                raise ServiceError(Code.BAD_REQUEST, "body too large, too slow or cut off")
            status, payload = 200, await self._serve(action, fmt, body)
        except ServiceError as exc:
            status, payload = exc.code, wire.encode_error(fmt, exc.code)
        except SQLAlchemyError:
            logger.exception("database error")
            status = Code.SERVICE_UNAVAILABLE
            payload = wire.encode_error(fmt, status)
        except Exception:
            logger.exception("unexpected error")
            status = Code.SERVICE_UNAVAILABLE
            payload = wire.encode_error(fmt, status)
        headers = envelope_headers(fmt, payload, body_read=body is not None)
        await send({"type": "http.response.start", "status": int(status), "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    async def _serve(self, action: Action, fmt: wire.Format, body: bytes) -> bytes:
        # Most requests are a few indexed lookups on SQLite or one short round trip on
        # PostgreSQL: cheaper to run on the event loop than to hop to a thread and back. Actions
        # whose work grows with the request (bulk add/delete, cascading group deletes) run off
        # the event loop so they never stall other requests: on SQLite on ``bulk_thread``, on
        # PostgreSQL in the thread pool.
        if action.name in _RUN_IN_THREAD:
            if self.bulk_thread is None:
                return await run_in_threadpool(self._respond, action, fmt, body)
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self.bulk_thread, self._respond, action, fmt, body)
        if action.writes and self.batcher is not None:
            act = self._act(action, fmt, body)
            account, result = await self.batcher.submit(act)
            return wire.encode_success(fmt, action, result, account.wire_generation)
        return self._respond(action, fmt, body)

    def _respond(self, action: Action, fmt: wire.Format, body: bytes) -> bytes:
        """parse -> authenticate -> decode -> backend -> encode (401 before 422, as the vendor)."""
        act = self._act(action, fmt, body)
        if action.name in _OWN_TRANSACTIONS:
            account, result = act()
        else:
            account, result = self.store.unit(act, write=action.writes)
        return wire.encode_success(fmt, action, result, account.wire_generation)

    def _act(self, action: Action, fmt: wire.Format, body: bytes) -> Callable[[], Outcome]:
        creds, command = wire.read(fmt, action, body)
        handler: Callable[[Account, Any], Any] = getattr(self.backend, action.handler)

        def act() -> Outcome:
            account = self.accounts.authenticate(creds.key, creds.hash)
            return account, handler(account, command())

        return act


_RUN_IN_THREAD = frozenset({"add-contacts", "delete-contacts", "delete-group"})
# Actions whose handler validates a whole batch before it writes: run outside one unit, so the
# write transaction (on SQLite, the one writer) holds the lock for the SQL only, not for
# checking thousands of values. The handler's write is still one transaction.
_OWN_TRANSACTIONS = frozenset({"add-contacts"})
Outcome = tuple[Account, Any]


class WriteBatcher:
    """Group commit for SQLite: writes that arrive together share one transaction.

    Requests whose bodies were read in the same event-loop turn are queued; the batch then
    runs as savepoint-isolated units of one transaction (``Store.units``), so each request
    still succeeds or fails on its own, and one commit serves them all.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.pending: list[tuple[Callable[[], Outcome], asyncio.Future[Outcome]]] = []

    async def submit(self, act: Callable[[], Outcome]) -> Outcome:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        if not self.pending:
            loop.call_soon(self._flush)
        self.pending.append((act, future))
        return await future

    def _flush(self) -> None:
        batch, self.pending = self.pending, []
        try:
            outcomes = self.store.units([act for act, _ in batch])
        except Exception as exc:  # the commit failed: nothing of the batch was applied
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():  # the client went away; its unit was applied all the same
                continue
            if isinstance(outcome, Exception):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
