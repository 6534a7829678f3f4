"""pytest fixtures for testing iletimerkezi integrations against rehber (entry point
``pytest11``: active wherever rehber is installed). See docs/testing.md.

* ``rehber_server`` (session): a real ``rehber serve --emulator`` on a free 127.0.0.1 port and
  a fresh SQLite file, or the emulator at ``--rehber-url`` / ``REHBER_EMULATOR_URL``. Under
  pytest-xdist each worker starts its own.
* ``rehber_account``: a fresh account on that server for each test; faults it added are
  removed afterwards. Tests stay isolated by account, so they can share one server.
* ``rehber_app``: the app in-process on a fresh SQLite file in ``tmp_path`` (no port, no
  subprocess): ``.client`` (sync), ``.async_client()`` (httpx ASGI transport), ``.control``.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from rehber.testing.control import EmulatorAccount, EmulatorControl
from rehber.testing.server import emulator_server, wait_healthy


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("rehber", "rehber emulator")
    group.addoption(
        "--rehber-url",
        default=None,
        help="Use the rehber emulator at this URL instead of starting one "
        "(env: REHBER_EMULATOR_URL).",
    )
    group.addoption(
        "--rehber-database",
        default=None,
        help="Database URL for the emulator the plugin starts (default: a fresh SQLite file).",
    )


@pytest.fixture(scope="session")
def rehber_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EmulatorControl]:
    """The control API of a running emulator (``.base_url`` for your client's settings)."""
    url = request.config.getoption("--rehber-url") or os.environ.get("REHBER_EMULATOR_URL")
    with ExitStack() as stack:
        if not url:
            url = stack.enter_context(
                emulator_server(
                    tmp_path_factory.mktemp("rehber"),
                    database_url=request.config.getoption("--rehber-database"),
                )
            )
        else:
            url = url.rstrip("/")
            wait_healthy(url)
        http = stack.enter_context(httpx.Client(base_url=url, timeout=30))
        yield EmulatorControl(http)


@pytest.fixture
def rehber_account(
    rehber_server: EmulatorControl, request: pytest.FixtureRequest
) -> Iterator[EmulatorAccount]:
    """A fresh, isolated account: ``key``, ``hash``, ``base_url``, ``client``, ``http``."""
    account = rehber_server.create_account(name=request.node.name[:200])
    sdk = sdk_client(account)
    account.client = sdk or account.http
    yield account
    account.clear_faults()
    if sdk is not None and callable(getattr(sdk, "close", None)):
        sdk.close()


def sdk_client(account: EmulatorAccount) -> Any | None:
    """``rehber.Client`` for the account when this rehber ships one, else ``None``.

    Looked up at run time: the plugin works the same with and without the client package.
    """
    client_class = getattr(importlib.import_module("rehber"), "Client", None)
    if client_class is None:
        return None
    try:
        return client_class(key=account.key, hash=account.hash, base_url=account.base_url)
    except TypeError:
        return None


@dataclass
class InProcessRehber:
    """An emulator app in this process: ``client`` (sync httpx), ``control``, ``app``."""

    app: Any
    client: httpx.Client
    control: EmulatorControl
    base_url: str = "http://rehber.test"

    def create_account(self, **options: Any) -> EmulatorAccount:
        return self.control.create_account(**options)

    def async_client(self) -> httpx.AsyncClient:
        """An ``httpx.AsyncClient`` on the app through httpx's ASGI transport."""
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url=self.base_url
        )


@pytest.fixture
def rehber_app(tmp_path: Path) -> Iterator[InProcessRehber]:
    """The emulator in-process on a fresh SQLite file in ``tmp_path``."""
    from rehber.server.app import build_services, create_app
    from rehber.server.settings import Settings
    from rehber.testing.asgi import SyncASGITransport

    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'rehber.db'}",
        emulator=True,
        background_indexing=False,
    )
    services = build_services(settings)
    app = create_app(services=services)
    try:
        transport = SyncASGITransport(app)
        with httpx.Client(transport=transport, base_url=InProcessRehber.base_url) as client:
            yield InProcessRehber(app=app, client=client, control=EmulatorControl(client))
    finally:
        services.store.dispose()
