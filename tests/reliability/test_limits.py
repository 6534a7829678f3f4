"""Limits and abuse: body size, per-key rate limit, slow clients (``server/limits.py``).

In process for the rules, over real sockets against ``rehber serve`` for what only a real
HTTP server can show (a trickling body or head, kept-alive connections being closed).
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Message

from rehber.codes import MESSAGES
from rehber.server.app import build_services, create_app
from rehber.server.limits import TokenBuckets
from rehber.server.settings import Settings
from rehber.wire.actions import ACTIONS
from tests.conftest import Database
from tests.reliability.support import envelope_code
from tests.support.api import Api, envelope
from tests.support.server import connect, running_server
from tests.support.snapshot import snapshot

# -- the token buckets ----------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_grants_the_burst_then_the_rate() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=2.0, burst=3, clock=clock)
    assert [buckets.take("k") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("k") == pytest.approx(0.5)  # the next token is half a second away
    clock.now += 0.5
    assert buckets.take("k") == 0.0
    assert buckets.take("k") > 0
    clock.now += 60  # a long pause refills to the burst, not beyond it
    assert [buckets.take("k") for _ in range(4)][-1] > 0
    assert buckets.take("other") == 0.0  # every identity has its own bucket


def test_bucket_gives_a_token_back_but_never_beyond_the_burst() -> None:
    buckets = TokenBuckets(rate=1.0, burst=2, clock=Clock())
    buckets.take("k")
    buckets.give_back("k")
    buckets.give_back("k")
    assert [buckets.take("k") for _ in range(3)] == [0.0, 0.0, pytest.approx(1.0)]


def test_bucket_memory_is_bounded_and_forgets_idle_keys_first() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=1.0, burst=2, clock=clock, max_buckets=100)
    buckets.take("busy")
    buckets.take("busy")
    for i in range(1000):
        clock.now += 0.0001
        buckets.take(f"random-{i}")
    assert len(buckets.buckets) <= 100
    assert buckets.take("busy") > 0  # the busy key was not forgotten (and so not refilled)


# -- the rate limit through the app ---------------------------------------------------------


@pytest.fixture
def limited(sqlite_database: Database) -> Iterator[TestClient]:
    # 3 at once, then one per 1,000 seconds: nothing refills while the test runs.
    settings = sqlite_database.settings(rate_limit=0.001, rate_limit_burst=3)
    services = build_services(settings)
    with TestClient(create_app(services=services)) as client:
        client.services = services  # type: ignore[attr-defined]
        yield client
    services.store.dispose()


def _api(client: TestClient, fmt: str) -> Api:
    created = client.services.accounts.create_account("rate").credentials  # type: ignore[attr-defined]
    return Api(client, created.key, created.hash, fmt)


def test_over_the_limit_is_429_in_the_vendor_envelope(limited: TestClient, fmt: str) -> None:
    api = _api(limited, fmt)
    assert [api.call("get-groups").status for _ in range(3)] == [200, 200, 200]
    before = snapshot(limited.services)  # type: ignore[attr-defined]
    for action in ("get-groups", "add-group"):
        response = limited.post(
            api.path(action), content=envelope(fmt, api.key, api.hash, {"group": {"name": "X"}})
        )
        assert envelope_code(fmt, response.status_code, response.content) == 429
        assert MESSAGES[429] == "Çok fazla istek gönderildi."
        assert int(response.headers["retry-after"]) >= 1
    assert snapshot(limited.services) == before  # type: ignore[attr-defined]


def test_each_key_has_its_own_limit(limited: TestClient) -> None:
    first, second = _api(limited, "json"), _api(limited, "json")
    assert [first.call("get-groups").status for _ in range(4)] == [200, 200, 200, 429]
    assert [second.call("get-groups").status for _ in range(3)] == [200, 200, 200]
    spare = limited.services.accounts.create_key(  # type: ignore[attr-defined]
        limited.services.accounts.list_accounts()[0].id  # type: ignore[attr-defined]
    )
    assert first.as_other(spare.key, spare.hash).call("get-groups").status == 200


def test_failed_authentication_does_not_use_up_the_keys_quota(limited: TestClient) -> None:
    """Knowing a key without its hash must not let anyone lock its owner out."""
    victim = _api(limited, "json")
    attacker = victim.as_other(victim.key, "0" * 64)
    assert {attacker.call("get-groups").status for _ in range(20)} == {401}
    assert [victim.call("get-groups").status for _ in range(3)] == [200, 200, 200]


def test_requests_without_a_key_are_limited_by_peer_address(limited: TestClient) -> None:
    statuses = [limited.post("/v1/get-groups/json", content=b"{").status_code for _ in range(4)]
    assert statuses == [400, 400, 400, 429]
    response = limited.post("/v1/get-groups", content=b"<request/>")
    assert envelope_code("xml", response.status_code, response.content) == 429


def test_no_rate_limit_by_default(sqlite_database: Database) -> None:
    assert Settings().rate_limit == 0
    services = build_services(sqlite_database.settings())
    with TestClient(create_app(services=services)) as client:
        created = services.accounts.create_account("free").credentials
        api = Api(client, created.key, created.hash, "json")
        assert {api.call("get-groups").status for _ in range(300)} == {200}
    services.store.dispose()


def test_settings_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "REHBER_RATE_LIMIT": "2.5",
            "REHBER_RATE_LIMIT_BURST": "10",
            "REHBER_BODY_TIMEOUT": "0",
        }
    )
    assert (settings.rate_limit, settings.rate_limit_burst, settings.body_timeout) == (2.5, 10, 0)
    assert Settings.from_env({}).body_timeout == 60.0


# -- a body that never arrives, in process -----------------------------------------------


def _stalled_body_response(app: ASGIApp) -> tuple[int, dict[bytes, bytes], bytes]:
    """Call ``app`` with a body whose first piece arrives and whose rest never does."""
    sent: list[Message] = []

    async def call() -> None:
        pieces: list[Message] = [{"type": "http.request", "body": b"{", "more_body": True}]
        never = asyncio.Event()

        async def receive() -> Message:
            if pieces:
                return pieces.pop()
            await never.wait()  # the client stalls: only the body deadline ends this
            raise AssertionError("unreachable")

        async def send(message: Message) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "method": "POST",
            "path": "/v1/get-groups/json",
            "headers": [(b"content-length", b"100")],
            "client": ("127.0.0.1", 5000),
        }
        await asyncio.wait_for(app(scope, receive, send), timeout=30)

    asyncio.run(call())
    start, body = sent
    return start["status"], dict(start["headers"]), body["body"]


@pytest.mark.parametrize(
    "options",
    [{}, {"rate_limit": 100.0}, {"emulator": True}],
    ids=["vendor API", "rate limited", "emulator"],
)
def test_a_stalled_body_is_cut_off_whoever_reads_it_first(
    sqlite_database: Database, options: dict[str, Any]
) -> None:
    """The rate limiter and the emulator read bodies before the vendor API: the body deadline
    must hold for their reads too."""
    services = build_services(sqlite_database.settings(body_timeout=0.2, **options))
    status, headers, body = _stalled_body_response(create_app(services=services))
    services.store.dispose()
    assert envelope_code("json", status, body) == 400
    assert headers[b"connection"] == b"close"


# -- real sockets ---------------------------------------------------------------------------

HEAD = b"POST /v1/get-groups/json HTTP/1.1\r\nHost: test\r\n"


def _read_until_closed(sock: socket.socket, limit: float = 10) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and when that was."""
    started = time.monotonic()
    data = b""
    sock.settimeout(limit)
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    return data, time.monotonic() - started


def _trickle(sock: socket.socket, data: bytes, seconds_per_byte: float) -> float:
    """Send one byte at a time until the server closes; returns how long that took."""
    started = time.monotonic()
    try:
        for index in range(len(data)):
            sock.sendall(data[index : index + 1])
            time.sleep(seconds_per_byte)  # the pace of a slow client, not a synchronisation
    except (BrokenPipeError, ConnectionResetError):
        pass
    return time.monotonic() - started


@pytest.fixture(scope="module")
def guarded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One server with short slow-client timeouts and a small body limit (no rate limit)."""
    workdir = tmp_path_factory.mktemp("guarded")
    url = f"sqlite:///{workdir / 'rehber.db'}"
    options = ("--body-timeout", "1", "--header-timeout", "1", "--timeout-keep-alive", "1")
    with running_server(
        url, None, workdir / "server.log", *options, "--max-body-bytes", "4096"
    ) as base:
        yield base


def test_a_trickling_body_is_cut_off_with_400_and_a_closed_connection(guarded_server: str) -> None:
    sock = connect(guarded_server)
    sock.sendall(HEAD + b"Content-Length: 200\r\n\r\n")
    sent_for = _trickle(sock, b"{" * 200, 0.05)
    answer, _ = _read_until_closed(sock)
    assert 0.9 < sent_for < 5, sent_for
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ") and b"connection: close" in head.lower()
    assert envelope_code("json", 400, body) == 400


def test_a_trickling_head_is_cut_off(guarded_server: str) -> None:
    sock = connect(guarded_server)
    sent_for = _trickle(sock, HEAD + b"X-Slow: " + b"a" * 200, 0.05)
    answer, _ = _read_until_closed(sock)
    assert answer == b"" and 0.9 < sent_for < 5, (answer, sent_for)


def test_a_silent_connection_is_closed(guarded_server: str) -> None:
    sock = connect(guarded_server)
    answer, waited = _read_until_closed(sock)
    assert answer == b"" and 0.9 < waited < 5, waited


def test_an_idle_kept_alive_connection_is_closed(guarded_server: str) -> None:
    with httpx.Client(base_url=guarded_server) as http:
        assert http.post("/v1/get-groups/json", content=b"{").status_code == 400
        assert http.post("/v1/get-groups/json", content=b"{").status_code == 400  # kept alive
    sock = connect(guarded_server)
    sock.sendall(HEAD + b"Content-Length: 1\r\n\r\n{")
    answer, waited = _read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 400 ") and 0.9 < waited < 5, (answer[:40], waited)


def test_a_body_in_quick_pieces_is_fine(guarded_server: str) -> None:
    sock = connect(guarded_server)
    body = b'{"request":{"authentication":{"key":"k","hash":"h"}}}'
    sock.sendall(HEAD + f"Content-Length: {len(body)}\r\n\r\n".encode())
    for start in range(0, len(body), 8):
        sock.sendall(body[start : start + 8])
        time.sleep(0.01)
    answer, _ = _read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 401 ")  # read in full, authenticated, refused


@pytest.mark.parametrize("chunked", [False, True])
def test_an_oversized_body_is_400_and_the_connection_closed(
    guarded_server: str, chunked: bool
) -> None:
    body = b'{"request":{"x":"' + b"a" * 8000 + b'"}}'
    with httpx.Client(base_url=guarded_server) as http:
        content = iter([body[:4000], body[4000:]]) if chunked else body
        response = http.post("/v1/add-group/json", content=content)
    assert envelope_code("json", response.status_code, response.content) == 400
    if not chunked:  # refused from Content-Length alone, so the body is still on the wire
        assert response.headers["connection"] == "close"


def test_serve_options_turn_the_rate_limit_on(tmp_path: Path, sqlite_database: Database) -> None:
    services = build_services(sqlite_database.settings())
    created = services.accounts.create_account("cli").credentials
    services.store.dispose()
    options = ("--rate-limit", "0.001", "--rate-limit-burst", "2")
    with (
        running_server(sqlite_database.url, None, tmp_path / "server.log", *options) as base,
        httpx.Client(base_url=base) as http,
    ):
        api = Api(http, created.key, created.hash, "xml")
        assert [api.call("get-groups").status for _ in range(3)] == [200, 200, 429]


def test_429_is_in_the_published_description_of_every_route(limited: TestClient) -> None:
    from tests.test_openapi import response_validator

    api = _api(limited, "json")
    replies = [api.call("get-groups") for _ in range(4)]
    body = orjson.loads(replies[-1].body)
    assert replies[-1].status == 429
    for name in ACTIONS:
        assert list(response_validator(name, 429).iter_errors(body)) == [], name
