"""Which timeout a request goes out with: ``timeout=``, else the ``http_client``'s, else 60 s.

Every request is observed on its way out through a request event hook of the ``http_client``
passed in (httpx calls it with the very request it sends); the servers are real: a
:class:`ScriptedServer` that answers or stays silent, and a real ``rehber serve``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

import rehber
from rehber.client._base import DEFAULT_TIMEOUT
from tests.client.blocking import Blocking
from tests.client.conftest import LiveServer
from tests.client.scripted import Hang, Reply, ScriptedServer

KEY, HASH = "k" * 32, "h" * 64
GROUPS = Reply.envelope(200, payload=',"groups":[]')


@pytest.fixture(params=["sync", "async"])
def flavor(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@contextmanager
def with_http_client(
    flavor: str, base_url: str, http_timeout: Any, **options: Any
) -> Iterator[tuple[Any, Any, list[dict[str, Any]]]]:
    """A rehber client of ``flavor`` on an http client built with ``timeout=http_timeout``.

    Yields the client (async behind :class:`Blocking`), the http client, and the timeout of
    every request it sent, as httpx saw it when sending.
    """
    sent: list[dict[str, Any]] = []
    settings: dict[str, Any] = {"key": KEY, "hash": HASH, "base_url": base_url, **options}
    if flavor == "sync":

        def record(request: httpx.Request) -> None:
            sent.append(request.extensions["timeout"])

        with httpx.Client(timeout=http_timeout, event_hooks={"request": [record]}) as http:
            yield rehber.Client(**settings, http_client=http), http, sent
        return

    async def arecord(request: httpx.Request) -> None:
        sent.append(request.extensions["timeout"])

    loop = asyncio.new_event_loop()
    http_async = httpx.AsyncClient(timeout=http_timeout, event_hooks={"request": [arecord]})
    try:
        client = rehber.AsyncClient(**settings, http_client=http_async)
        yield Blocking(client, loop), http_async, sent
    finally:
        loop.run_until_complete(http_async.aclose())
        loop.close()


def test_the_http_clients_timeout_is_used(flavor: str) -> None:
    with (
        ScriptedServer([GROUPS, Hang()]) as server,
        with_http_client(flavor, server.base_url, 0.25, max_retries=0) as (client, _, sent),
    ):
        assert client.timeout == httpx.Timeout(0.25)
        assert client.groups.list() == []
        assert sent == [httpx.Timeout(0.25).as_dict()]
        # The silent server is given up on after the http client's 0.25 s, not after 60 s.
        with pytest.raises(rehber.APITimeoutError):
            client.groups.list()
    assert sent == [httpx.Timeout(0.25).as_dict()] * 2
    assert len(server.received) == 2


def test_the_http_clients_timeout_is_read_at_each_request(flavor: str) -> None:
    precise = httpx.Timeout(3.0, connect=1.0, pool=0.5)
    with (
        ScriptedServer([GROUPS]) as server,
        with_http_client(flavor, server.base_url, None) as (client, http, sent),
    ):
        client.groups.list()  # an http client without a timeout: none
        http.timeout = precise
        client.groups.list()
        assert client.timeout == precise
    assert sent == [httpx.Timeout(None).as_dict(), precise.as_dict()]


@pytest.mark.parametrize(
    ("explicit", "expected"),
    [(0.25, httpx.Timeout(0.25)), (None, httpx.Timeout(None)), (DEFAULT_TIMEOUT, DEFAULT_TIMEOUT)],
    ids=["seconds", "none", "timeout-object"],
)
def test_an_explicit_timeout_wins_over_the_http_clients(
    flavor: str, explicit: Any, expected: httpx.Timeout
) -> None:
    with (
        ScriptedServer([GROUPS]) as server,
        with_http_client(flavor, server.base_url, 7.0, timeout=explicit) as (client, _, sent),
    ):
        assert client.timeout == expected
        client.groups.list()
    assert sent == [expected.as_dict()]


def test_an_explicit_timeout_ends_a_silent_wait(flavor: str) -> None:
    with (
        ScriptedServer([Hang()]) as server,
        with_http_client(flavor, server.base_url, 120.0, timeout=0.25, max_retries=0) as (
            client,
            _,
            sent,
        ),
        pytest.raises(rehber.APITimeoutError),
    ):
        client.groups.list()
    assert sent == [httpx.Timeout(0.25).as_dict()]


@pytest.mark.parametrize("cls", [rehber.Client, rehber.AsyncClient])
def test_without_an_http_client_the_default_or_the_given_timeout(cls: type[Any]) -> None:
    default = cls(key=KEY, hash=HASH)
    assert default.timeout == DEFAULT_TIMEOUT == httpx.Timeout(60.0, connect=10.0)
    assert default._http.timeout == DEFAULT_TIMEOUT
    given = cls(key=KEY, hash=HASH, timeout=5.0)
    assert given.timeout == given._http.timeout == httpx.Timeout(5.0)
    given.timeout = 2.0  # settable, as before
    assert given.timeout == httpx.Timeout(2.0)


def test_the_http_clients_timeout_against_a_real_server(
    live_server: LiveServer, flavor: str
) -> None:
    credentials = live_server.services.accounts.create_account("timeout").credentials
    auth = {"key": credentials.key, "hash": credentials.hash}
    http_timeout = httpx.Timeout(7.0, connect=2.0)
    with with_http_client(flavor, live_server.base_url, http_timeout, **auth) as (client, _, sent):
        group = client.groups.create("Zaman aşımı")
        assert client.groups.get(group.id) == group
    assert sent == [http_timeout.as_dict()] * 2
