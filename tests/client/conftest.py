"""The clients under test, against the real rehber app, every way it can be reached.

``api`` is parametrized over: the database (SQLite; PostgreSQL when configured), the target
(``asgi``: the app in this process through httpx's ASGI transport or Starlette's TestClient;
``server``: a real ``rehber serve`` process on a 127.0.0.1 port), the client (``sync``:
``rehber.Client``; ``async``: ``rehber.AsyncClient``, driven through :mod:`.blocking`) and the
wire format (``json``, ``xml``). Every test using it therefore runs 16 ways (8 without
PostgreSQL). Each test gets a fresh account; the ``server`` target keeps one server and one
database per session and database kind, and tests stay apart by account.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from starlette.types import ASGIApp

from rehber import AsyncClient, Client
from rehber.credentials import KeyPair
from rehber.server.app import Services, build_services, create_app
from rehber.server.settings import Settings
from rehber.storage.engine import create_engine
from rehber.storage.migrate import upgrade
from rehber.testing import EmulatorControl
from rehber.types import WireGeneration
from tests.client.blocking import Blocking
from tests.conftest import POSTGRES_URL, Database, _require_postgres
from tests.support import coverage
from tests.support.server import running_server

IN_PROCESS_URL = "http://testserver/v1/"


@dataclass
class LiveServer:
    """A ``rehber serve`` process, and services on its database to create accounts with."""

    kind: str
    base_url: str
    services: Services
    database_url: str = ""
    schema: str | None = None
    # The control API (/_rehber/: accounts, journal, faults) of a server in emulator mode.
    control: EmulatorControl | None = None


class LiveServers:
    """One real server per database kind for the session, started on first use.

    ``get(kind, emulator=True)`` is another one, ``rehber serve --emulator`` on a database of
    its own, for tests that inject faults (the faults and journal are per account).
    """

    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir
        self._stack = ExitStack()
        self._servers: dict[tuple[str, bool], LiveServer] = {}

    def get(self, kind: str, *, emulator: bool = False) -> LiveServer:
        if (kind, emulator) not in self._servers:
            self._servers[kind, emulator] = self._start(kind, emulator)
        return self._servers[kind, emulator]

    def _start(self, kind: str, emulator: bool) -> LiveServer:
        name = "live-emulator" if emulator else "live"
        if kind == "sqlite":
            url, schema = f"sqlite:///{self._workdir / f'{name}.db'}", None
        else:
            url, schema = _require_postgres(), self._postgres_schema()
        settings = Settings(database_url=url, database_schema=schema, background_indexing=False)
        services = build_services(settings)  # migrates SQLite
        self._stack.callback(services.store.dispose)
        log = self._workdir / f"server-{name}-{kind}.log"
        extra = ("--emulator",) if emulator else ()
        base = self._stack.enter_context(running_server(url, schema, log, *extra))
        control = None
        if emulator:
            control = EmulatorControl(self._stack.enter_context(httpx.Client(base_url=base)))
        return LiveServer(kind, f"{base}/v1/", services, url, schema, control)

    def _postgres_schema(self) -> str:
        schema = f"rehber_client_{uuid.uuid4().hex[:12]}"
        admin = create_engine(POSTGRES_URL)
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        engine = create_engine(POSTGRES_URL, schema=schema)
        upgrade(engine)
        engine.dispose()

        def drop() -> None:
            with admin.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            admin.dispose()

        self._stack.callback(drop)
        return schema

    def close(self) -> None:
        self._stack.close()


@pytest.fixture(scope="session")
def live_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServers]:
    servers = LiveServers(tmp_path_factory.mktemp("live"))
    yield servers
    servers.close()


@pytest.fixture
def live_server(database: Database, live_servers: LiveServers) -> LiveServer:
    """The session's real server on this test's kind of database."""
    return live_servers.get(database.kind)


@pytest.fixture
def emulator_server(database: Database, live_servers: LiveServers) -> LiveServer:
    """The session's real server in emulator mode (faults, journal) on this kind of database."""
    return live_servers.get(database.kind, emulator=True)


@dataclass
class Target:
    """Where the clients send requests: the app in-process, or a real server."""

    name: str
    services: Services
    base_url: str
    app: ASGIApp | None = None

    def account(self, generation: WireGeneration | None = None) -> tuple[int, KeyPair]:
        created = self.services.accounts.create_account("client", wire_generation=generation)
        return created.account.id, created.credentials


@pytest.fixture(params=["asgi", "server"])
def target(request: pytest.FixtureRequest, database: Database) -> Target:
    if request.param == "server":
        live: LiveServer = request.getfixturevalue("live_servers").get(database.kind)
        return Target("server", live.services, live.base_url)
    services: Services = request.getfixturevalue("services")
    app = coverage.wrap(create_app(services=services), request.node.nodeid)
    return Target("asgi", services, IN_PROCESS_URL, app)


@dataclass
class Connector:
    """Makes clients of one kind (sync or async) for a target, and closes them afterwards."""

    target: Target
    flavor: str
    stack: ExitStack = field(default_factory=ExitStack)
    loop: asyncio.AbstractEventLoop | None = None
    shared: TestClient | None = None

    def client(self, credentials: KeyPair, fmt: str, **options: Any) -> Any:
        """A ``Client``, or an ``AsyncClient`` behind :class:`Blocking`, as these credentials."""
        auth: dict[str, Any] = {"key": credentials.key, "hash": credentials.hash}
        settings = {"base_url": self.target.base_url, "format": fmt, **auth, **options}
        if self.flavor == "sync":
            if self.target.app is not None:
                settings["http_client"] = self._test_client()
            return self.stack.enter_context(Client(**settings))
        loop = self._loop()
        if self.target.app is not None:
            transport = httpx.ASGITransport(app=self.target.app)
            settings["http_client"] = httpx.AsyncClient(transport=transport)
        client = AsyncClient(**settings)
        http = client._http
        self.stack.callback(lambda: loop.run_until_complete(http.aclose()))
        return Blocking(client, loop)

    def _test_client(self) -> TestClient:
        assert self.target.app is not None
        if self.shared is None:
            self.shared = self.stack.enter_context(TestClient(self.target.app))
        return self.shared

    def _loop(self) -> asyncio.AbstractEventLoop:
        if self.loop is None:
            self.loop = asyncio.new_event_loop()
            self.stack.callback(self.loop.close)
        return self.loop


@pytest.fixture(params=["sync", "async"])
def connector(request: pytest.FixtureRequest, target: Target) -> Iterator[Connector]:
    connector = Connector(target, request.param)
    with connector.stack:
        yield connector


@dataclass
class Api:
    """One client under test, as a fresh account, and what a test needs around it."""

    client: Any
    fmt: str
    connector: Connector
    account_id: int
    credentials: KeyPair

    @property
    def groups(self) -> Any:
        return self.client.groups

    @property
    def contacts(self) -> Any:
        return self.client.contacts

    @property
    def services(self) -> Services:
        return self.connector.target.services

    def field(self, name: str) -> int:
        """Define a custom field for this account; its id."""
        return self.services.accounts.create_field(self.account_id, name).id

    def twin(self, fmt: str | None = None, **options: Any) -> Any:
        """Another client of the same kind, as the same account."""
        return self.connector.client(self.credentials, fmt or self.fmt, **options)


@pytest.fixture
def api(connector: Connector, fmt: str) -> Api:
    account_id, credentials = connector.target.account()
    return Api(connector.client(credentials, fmt), fmt, connector, account_id, credentials)
