"""Retries: only for calls safe to repeat, on connection errors, timeouts and 503.

Failures come from real servers: :class:`ScriptedServer` (503s, dropped connections, silence)
and the rehber app in emulator mode with injected faults. Request counts are read after the
servers have stopped, so no test waits for anything but the client itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

import rehber
from rehber.client._base import RETRY_SAFE, parse_retry_after, retry_delay
from rehber.server.app import Services, build_services, create_app
from rehber.testing import EmulatorControl
from tests.client.blocking import Blocking
from tests.client.scripted import Drop, Hang, Reply, ScriptedServer, Step
from tests.conftest import Database
from tests.support.snapshot import snapshot

KEY, HASH = "k" * 32, "h" * 64
NOW = Reply.envelope(503, "Sunucu geçici olarak servis dışı", Retry_After="0")
GROUP = ',"group":{"id":5,"name":"G"}'
CONTACT = ',"contact":{"id":7,"name":"A"}'

# Every retry-safe method: how to call it, and a success payload for it.
SAFE_CALLS: dict[str, tuple[Callable[[Any], Any], str]] = {
    "get-groups": (lambda c: c.groups.list(), ',"groups":[]'),
    "get-group": (lambda c: c.groups.get(5), GROUP),
    "edit-group": (lambda c: c.groups.edit(5, name="G"), GROUP),
    "delete-group": (lambda c: c.groups.delete(5), ""),
    "get-group-contacts": (lambda c: list(c.groups.contacts(5)), ',"contacts":[]'),
    "subscribe-group": (lambda c: c.groups.subscribe(5, [7]), ""),
    "unsubscribe-group": (lambda c: c.groups.unsubscribe(5, [7]), ""),
    "get-contact": (lambda c: c.contacts.get(7), CONTACT),
    "edit-contact": (lambda c: c.contacts.edit(7, name="A"), CONTACT),
    "delete-contact": (lambda c: c.contacts.delete(7), ""),
    "delete-contacts": (lambda c: c.contacts.delete_many([7]), ""),
    "search-contacts": (lambda c: list(c.contacts.search("abc")), ',"contacts":[]'),
}
UNSAFE_CALLS: dict[str, Callable[[Any], Any]] = {
    "add-group": lambda c: c.groups.create("G"),
    "add-contact": lambda c: c.contacts.add(name="A"),
    "add-contacts": lambda c: list(c.contacts.add_many([{"name": "A"}])),
}


@pytest.fixture(params=["sync", "async"])
def flavor(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@contextmanager
def client_for(flavor: str, base_url: str, **options: Any) -> Iterator[Any]:
    """A sync client, or an async one behind :class:`Blocking`, on ``base_url``."""
    settings: dict[str, Any] = {"key": KEY, "hash": HASH, "base_url": base_url, **options}
    if flavor == "sync":
        with rehber.Client(**settings) as client:
            yield client
        return
    loop = asyncio.new_event_loop()
    client = rehber.AsyncClient(**settings)
    try:
        yield Blocking(client, loop)
    finally:
        loop.run_until_complete(client.aclose())
        loop.close()


def test_every_action_is_classified() -> None:
    assert set(SAFE_CALLS) == RETRY_SAFE
    assert set(SAFE_CALLS) | set(UNSAFE_CALLS) == set(rehber.client._base.ACTIONS)


@contextmanager
def scripted(
    flavor: str, steps: list[Step], **options: Any
) -> Iterator[tuple[ScriptedServer, Any]]:
    """A scripted server and a client of it; the server's record is complete on leaving."""
    with ScriptedServer(steps) as server, client_for(flavor, server.base_url, **options) as client:
        yield server, client


@pytest.mark.parametrize("action", sorted(SAFE_CALLS))
def test_safe_calls_are_retried_after_503(flavor: str, action: str) -> None:
    call, payload = SAFE_CALLS[action]
    with scripted(flavor, [NOW, NOW, Reply.envelope(200, payload=payload)]) as (server, client):
        call(client)
    assert len(server.received) == 3
    assert {r.path for r in server.received} == {f"/v1/{action}/json"}
    assert len({r.body for r in server.received}) == 1  # the same request each time


@pytest.mark.parametrize("action", sorted(UNSAFE_CALLS))
@pytest.mark.parametrize("failure", [NOW, Drop()], ids=["503", "dropped"])
def test_adds_are_never_retried(flavor: str, action: str, failure: Reply | Drop) -> None:
    expected = (
        rehber.ServiceUnavailableError if isinstance(failure, Reply) else rehber.APIConnectionError
    )
    steps: list[Step] = [failure, Reply.envelope(200)]
    with scripted(flavor, steps, max_retries=5) as (server, client), pytest.raises(expected):
        UNSAFE_CALLS[action](client)
    assert server.paths() == [f"/v1/{action}/json"]


@pytest.mark.parametrize(("max_retries", "requests"), [(2, 3), (0, 1)])
def test_retries_stop_at_max_retries(flavor: str, max_retries: int, requests: int) -> None:
    with (
        scripted(flavor, [NOW], max_retries=max_retries) as (server, client),
        pytest.raises(rehber.ServiceUnavailableError),
    ):
        client.groups.list()
    assert len(server.received) == requests


def test_dropped_connections_are_retried_with_backoff(flavor: str) -> None:
    ok = Reply.envelope(200, payload=',"groups":[{"id":"1","name":"A","count":"0"}]')
    with scripted(flavor, [Drop(), Drop(), ok]) as (server, client):
        assert client.groups.list() == [rehber.Group(1, "A")]
    assert len(server.received) == 3


def test_dropped_connections_end_in_a_connection_error(flavor: str) -> None:
    with (
        scripted(flavor, [Drop()], max_retries=1) as (server, client),
        pytest.raises(rehber.APIConnectionError) as caught,
    ):
        client.contacts.get(7)
    assert type(caught.value) is rehber.APIConnectionError
    assert isinstance(caught.value.__cause__, httpx.TransportError)
    assert len(server.received) == 2


def test_a_timeout_is_retried(flavor: str) -> None:
    steps: list[Step] = [Hang(), Reply.envelope(200, payload=CONTACT)]
    with scripted(flavor, steps, timeout=0.5) as (server, client):
        assert client.contacts.get(7).id == 7
    assert len(server.received) == 2


def test_timeouts_end_in_a_timeout_error(flavor: str) -> None:
    with (
        scripted(flavor, [Hang()], timeout=0.2, max_retries=1) as (server, client),
        pytest.raises(rehber.APITimeoutError),
    ):
        client.contacts.get(7)
    assert len(server.received) == 2


def test_no_server_at_all(flavor: str) -> None:
    with ScriptedServer([]) as server:
        base_url = server.base_url  # closed on leaving: nothing listens there any more
    with (
        client_for(flavor, base_url, max_retries=0) as client,
        pytest.raises(rehber.APIConnectionError),
    ):
        client.groups.list()


@pytest.mark.parametrize("code", [400, 401, 404, 422, 463, 465])
def test_other_errors_are_not_retried(flavor: str, code: int) -> None:
    with (
        scripted(flavor, [Reply.envelope(code)]) as (server, client),
        pytest.raises(rehber.APIStatusError),
    ):
        client.groups.get(5)
    assert len(server.received) == 1


# -- against the real app, with the emulator's injected faults ----------------------------


@pytest.fixture
def emulator(database: Database) -> Iterator[tuple[Services, TestClient]]:
    services = build_services(database.settings(emulator=True))
    with TestClient(create_app(services=services)) as http:
        yield services, http
    services.store.dispose()


def test_injected_503s_on_the_real_app(emulator: tuple[Services, TestClient], flavor: str) -> None:
    services, http = emulator
    control = EmulatorControl(http)
    account = control.create_account()
    settings = {"key": account.key, "hash": account.hash, "base_url": "http://testserver/v1/"}
    account.fault("get-groups", code=503, count=2)
    account.fault("add-contact", code=503, count=1)
    before = snapshot(services)
    if flavor == "sync":
        client: Any = rehber.Client(**settings, http_client=http)
    else:
        loop = asyncio.new_event_loop()
        transport = httpx.ASGITransport(app=http.app)
        async_client = rehber.AsyncClient(
            **settings, http_client=httpx.AsyncClient(transport=transport)
        )
        client = Blocking(async_client, loop)

    assert client.groups.list() == []
    with pytest.raises(rehber.ServiceUnavailableError):
        client.contacts.add(name="Ayşe")

    assert snapshot(services) == before
    assert len(account.requests("get-groups")) == 3
    assert len(account.requests("add-contact")) == 1
    if flavor == "async":
        loop.run_until_complete(async_client.aclose())
        loop.close()


def test_the_real_rate_limit_is_waited_out(database: Database, flavor: str) -> None:
    """One request per second per key: the second read waits for Retry-After; adds do not."""
    services = build_services(database.settings(rate_limit=1.0, rate_limit_burst=1))
    credentials = services.accounts.create_account("limited").credentials
    app = create_app(services=services)
    settings = {"key": credentials.key, "hash": credentials.hash, "base_url": "http://t/v1/"}
    loop = asyncio.new_event_loop()
    with TestClient(app) as http:
        if flavor == "sync":
            client: Any = rehber.Client(**settings, http_client=http)
        else:
            transport = httpx.ASGITransport(app=app)
            async_client = rehber.AsyncClient(
                **settings, http_client=httpx.AsyncClient(transport=transport)
            )
            client = Blocking(async_client, loop)
        group = client.groups.create("Sınırlı")
        assert client.groups.get(group.id) == group  # 429 first, then after Retry-After: 200
        with pytest.raises(rehber.RateLimitError) as caught:
            client.groups.create("Hemen")
    assert caught.value.response.headers["Retry-After"] == "1"
    if flavor == "async":
        loop.run_until_complete(async_client.aclose())
    loop.close()
    services.store.dispose()


def test_429_is_retried_only_for_safe_calls(flavor: str) -> None:
    limited = Reply.envelope(429, "Çok fazla istek gönderildi.", Retry_After="0")
    with scripted(flavor, [limited, Reply.envelope(200, payload=CONTACT)]) as (server, client):
        assert client.contacts.get(7).id == 7
    assert len(server.received) == 2
    with scripted(flavor, [limited]) as (server, client), pytest.raises(rehber.RateLimitError):
        client.contacts.add(name="A")
    assert len(server.received) == 1


# -- the delay rule -----------------------------------------------------------------------


def test_backoff_doubles_up_to_a_cap_with_jitter() -> None:
    assert [retry_delay(n, rand=lambda: 0.0) for n in range(6)] == [0.5, 1, 2, 4, 8, 8]
    assert [retry_delay(n, rand=lambda: 1.0) for n in range(3)] == [0.375, 0.75, 1.5]
    assert all(0.375 <= retry_delay(0) <= 0.5 for _ in range(200))


def test_retry_after_is_honoured_when_sane() -> None:
    assert retry_delay(3, 0.0) == 0.0
    assert retry_delay(0, 30.0) == 30.0
    assert retry_delay(0, 3600.0, rand=lambda: 0.0) == 0.5  # too long: our own backoff
    assert retry_delay(0, -5.0, rand=lambda: 0.0) == 0.5
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert parse_retry_after("") is None and parse_retry_after("later") is None
