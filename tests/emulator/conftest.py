"""Emulator-mode fixtures: the app in-process with ``emulator=True`` on each database, its
control API, and fresh accounts on it. (The ``pytester`` fixture comes from ``-p pytester``
in pyproject's addopts: pytest refuses ``pytest_plugins`` in a conftest below the root.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from rehber.server.app import Services, build_services, create_app
from rehber.testing import EmulatorAccount, EmulatorControl
from tests.conftest import Database


@pytest.fixture
def emulator_services(database: Database) -> Iterator[Services]:
    built = build_services(database.settings(emulator=True))
    yield built
    built.store.dispose()


@pytest.fixture
def http(emulator_services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services=emulator_services)) as client:
        yield client


@pytest.fixture
def control(http: TestClient) -> EmulatorControl:
    return EmulatorControl(http)


@pytest.fixture
def alice(control: EmulatorControl) -> EmulatorAccount:
    return control.create_account(name="alice")


@pytest.fixture
def bob(control: EmulatorControl) -> EmulatorAccount:
    return control.create_account(name="bob")
