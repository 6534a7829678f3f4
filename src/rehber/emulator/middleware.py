"""The emulator's wrapper around the vendor API: journal every ``/v1`` call, apply faults.

Installed only by ``--emulator`` (``RehberApp.vendor_api`` is replaced by this wrapper), so a
server without it runs exactly the code it ran before. The wrapper reads the request body once
(with the vendor API's own ``BodyReader``, so within the same limits), finds the account the
body authenticates as (a fault bound to an account must never fire for another one), decides
the fault, then replays the same body to the vendor API.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rehber import wire
from rehber.codes import ServiceError
from rehber.emulator.faults import Effect, FaultBook
from rehber.emulator.journal import Entry, Journal, clip
from rehber.emulator.masking import mask_body
from rehber.server.body import BodyReader, replaying
from rehber.server.v1 import envelope_headers, route
from rehber.service.accounts import AccountService

# Bodies larger than this are parsed for their credentials off the event loop.
_PARSE_INLINE_BYTES = 64 * 1024


@dataclass(slots=True)
class Captured:
    """A response as the vendor API (or a fault) produced it, before it is sent."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class EmulatorMiddleware:
    """ASGI middleware for ``/v1/...`` in emulator mode."""

    def __init__(
        self,
        app: ASGIApp,
        accounts: AccountService,
        journal: Journal,
        faults: FaultBook,
        bodies: BodyReader,
    ) -> None:
        self.app = app
        self.accounts = accounts
        self.journal = journal
        self.faults = faults
        self.bodies = bodies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        action, fmt = route(scope["path"])
        read = await self.bodies.read(scope, receive)
        body = read or b""
        key, hash_value, account_id = await self._account(fmt, body)
        effect = None
        if action is not None and scope["method"] == "POST":
            effect = self.faults.take(action.name, account_id, fmt)
        if effect is not None and effect.latency_ms:
            await asyncio.sleep(effect.latency_ms / 1000)
        if effect is not None and effect.code is not None:
            # The vendor API never sees it: no change.
            captured = _error(fmt, effect.code, body_read=read is not None)
        else:
            captured = await _capture(self.app, scope, replaying(read, receive))
        if effect is not None:
            captured = _truncated(captured, effect)
        await send(
            {"type": "http.response.start", "status": captured.status, "headers": captured.headers}
        )
        await send({"type": "http.response.body", "body": captured.body})
        self.journal.add(
            Entry(
                id=0,
                time=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                account_id=account_id,
                action=action.name if action else None,
                format=fmt,
                method=scope["method"],
                path=scope["path"],
                status=captured.status,
                duration_ms=round((time.perf_counter() - started) * 1000, 3),
                fault=effect.fault_id if effect else None,
                request=clip(mask_body(fmt, _text(body), key, hash_value)),
                response=clip(_text(captured.body)),
            )
        )

    async def _account(self, fmt: wire.Format, body: bytes) -> tuple[str, str, int | None]:
        """The presented key and hash and the account they authenticate, if any."""
        try:
            if len(body) > _PARSE_INLINE_BYTES:
                creds = await run_in_threadpool(_credentials, fmt, body)
            else:
                creds = _credentials(fmt, body)
        except ServiceError:
            return "", "", None  # unreadable body: the vendor API answers 400
        try:
            return creds.key, creds.hash, self.accounts.authenticate(creds.key, creds.hash).id
        except Exception:  # 401, or the database is down (the vendor API will say 503)
            return creds.key, creds.hash, None


def _credentials(fmt: wire.Format, body: bytes) -> wire.Credentials:
    return wire.credentials(wire.parse(fmt, body))


def _text(body: bytes) -> str:
    return body.decode("utf-8", errors="replace")


async def _capture(app: ASGIApp, scope: Scope, receive: Receive) -> Captured:
    captured = Captured(500, [], b"")
    chunks: list[bytes] = []

    async def keep(message: Message) -> None:
        if message["type"] == "http.response.start":
            captured.status = message["status"]
            captured.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, keep)
    captured.body = b"".join(chunks)
    return captured


def _error(fmt: wire.Format, code: int, *, body_read: bool) -> Captured:
    payload = wire.encode_error(fmt, code)
    return Captured(code, envelope_headers(fmt, payload, body_read=body_read), payload)


def _truncated(captured: Captured, effect: Effect) -> Captured:
    body = effect.cut(captured.body)
    if body is captured.body:
        return captured
    return Captured(captured.status, _with_length(captured.headers, body), body)


def _with_length(headers: list[tuple[bytes, bytes]], body: bytes) -> list[tuple[bytes, bytes]]:
    kept = [(k, v) for k, v in headers if k.lower() != b"content-length"]
    return [*kept, (b"content-length", str(len(body)).encode())]
