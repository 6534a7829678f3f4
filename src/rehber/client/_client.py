"""``rehber.Client`` and ``rehber.AsyncClient``: the base plus httpx, blocking or awaited."""

from __future__ import annotations

import asyncio
import time
from itertools import count
from types import TracebackType
from typing import TypeVar

import httpx

from rehber.client._base import (
    DEFAULT_MAX_RETRIES,
    NOT_GIVEN,
    BaseClient,
    Call,
    Format,
    NotGiven,
)
from rehber.client._exceptions import RehberError
from rehber.client.resources.contacts import AsyncContacts, Contacts
from rehber.client.resources.groups import AsyncGroups, Groups

T = TypeVar("T")


class Client(BaseClient):
    """A client of the iletimerkezi Contacts API, or of any rehber server.

    ``key`` and ``hash`` (or ``secret``, from which the hash is derived as the vendor does) are
    read from ``REHBER_API_KEY`` / ``REHBER_API_HASH`` when not given, ``base_url`` from
    ``REHBER_BASE_URL`` (default ``https://api.iletimerkezi.com/v1/``; a bare
    ``http://host:port`` gets ``/v1/``). ``format`` picks the XML or the JSON routes; results are
    the same. Reads, edits, deletes and (un)subscribes are retried ``max_retries`` times on
    connection errors, timeouts, 503 and rehber's 429, with exponential backoff and jitter (or
    the server's ``Retry-After``); adds never are. ``http_client`` is used as given and not
    closed by this client.

    ``timeout`` is in seconds (or an ``httpx.Timeout``; ``None`` for none). The rule: an
    explicit ``timeout=`` always wins; without one, requests go out with the timeout of the
    ``http_client`` passed in, as configured there (``httpx.Client(timeout=5.0)``: 5 s;
    httpx's own default when it was built without one); without either, 60 s (10 s to
    connect, :data:`~rehber.client._base.DEFAULT_TIMEOUT`). ``client.timeout`` tells which.

    Example::

        with rehber.Client(key="...", hash="...") as client:
            group = client.groups.create("Müşteriler")
            client.contacts.add(name="Ayşe", gsm="05321234567", groups=[group.id])

        local = rehber.Client(key=KEY, secret=SECRET, base_url="http://127.0.0.1:8080/v1/")

        # Your own pool and timeout: 5 s, since no timeout= overrides it.
        shared = rehber.Client(http_client=httpx.Client(timeout=5.0, limits=limits))
    """

    groups: Groups
    contacts: Contacts
    _http: httpx.Client

    def __init__(
        self,
        *,
        key: str | None = None,
        hash: str | None = None,
        secret: str | None = None,
        base_url: str | None = None,
        format: Format = "json",
        timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(
            key=key,
            hash=hash,
            secret=secret,
            base_url=base_url,
            format=format,
            timeout=timeout,
            max_retries=max_retries,
        )
        self._owns_http = http_client is None
        self._http = (
            http_client if http_client is not None else httpx.Client(timeout=self._own_timeout())
        )
        self.groups = Groups(self)
        self.contacts = Contacts(self)

    def _request(self, call: Call[T]) -> T:
        for attempt in count():
            request = self._build_request(call)
            try:
                sent: httpx.Response | httpx.TransportError = self._http.send(request)
            except httpx.TransportError as error:
                sent = error
            outcome = self._conclude(call, request, sent)
            delay = self._retry_delay(call, attempt, outcome)
            if delay is None:
                if isinstance(outcome, RehberError):
                    raise outcome
                return outcome
            time.sleep(delay)
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Close the connection pool (unless ``http_client`` was passed in).

        Example::

            client = rehber.Client()
            try:
                client.groups.list()
            finally:
                client.close()
        """
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AsyncClient(BaseClient):
    """:class:`Client` for asyncio: the same arguments, methods awaited, pages ``async for``.

    The same timeout rule: an explicit ``timeout=`` wins, else that of the ``http_client``
    (an ``httpx.AsyncClient``) passed in, else :data:`~rehber.client._base.DEFAULT_TIMEOUT`.

    Example::

        async with rehber.AsyncClient(key="...", hash="...") as client:
            group = await client.groups.create("Müşteriler")
            async for contact in client.groups.contacts(group.id):
                print(contact.name)
    """

    groups: AsyncGroups
    contacts: AsyncContacts
    _http: httpx.AsyncClient

    def __init__(
        self,
        *,
        key: str | None = None,
        hash: str | None = None,
        secret: str | None = None,
        base_url: str | None = None,
        format: Format = "json",
        timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(
            key=key,
            hash=hash,
            secret=secret,
            base_url=base_url,
            format=format,
            timeout=timeout,
            max_retries=max_retries,
        )
        self._owns_http = http_client is None
        self._http = (
            http_client
            if http_client is not None
            else httpx.AsyncClient(timeout=self._own_timeout())
        )
        self.groups = AsyncGroups(self)
        self.contacts = AsyncContacts(self)

    async def _request(self, call: Call[T]) -> T:
        for attempt in count():
            request = self._build_request(call)
            try:
                sent: httpx.Response | httpx.TransportError = await self._http.send(request)
            except httpx.TransportError as error:
                sent = error
            outcome = self._conclude(call, request, sent)
            delay = self._retry_delay(call, attempt, outcome)
            if delay is None:
                if isinstance(outcome, RehberError):
                    raise outcome
                return outcome
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        """Close the connection pool (unless ``http_client`` was passed in).

        Example::

            client = rehber.AsyncClient()
            try:
                await client.groups.list()
            finally:
                await client.aclose()
        """
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
