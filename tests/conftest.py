"""Shared fixtures: a fresh real database per test (SQLite always, PostgreSQL when configured).

PostgreSQL runs when ``REHBER_TEST_POSTGRES_URL`` is set. Each test session (each xdist worker)
works in its own schema, emptied before every test, and dropped at the end, so runs never see
each other's rows. With ``CI`` set, a missing or unreachable PostgreSQL fails the run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from rehber.server.app import Services, build_services, create_app
from rehber.server.settings import Settings
from rehber.service.accounts import NewAccount
from rehber.storage.engine import create_engine
from rehber.storage.migrate import upgrade
from tests.support import coverage
from tests.support.api import Api

POSTGRES_URL = os.environ.get("REHBER_TEST_POSTGRES_URL", "")
IN_CI = bool(os.environ.get("CI"))
TABLES = "accounts, api_keys, custom_fields, groups, contacts, contact_fields, memberships"
DATABASES = ["sqlite", "postgresql"]


@dataclass(frozen=True)
class Database:
    """Where one test's data lives."""

    kind: str
    url: str
    schema: str | None = None

    def settings(self, **overrides: Any) -> Settings:
        # No background indexer in-process: tests that compare database dumps must not race
        # it. Tests of the indexed search path index explicitly (store.index_pending()).
        base = Settings(
            database_url=self.url,
            database_schema=self.schema,
            auto_migrate=False,
            pool_size=4,
            background_indexing=False,
        )
        return replace(base, **overrides)


def _require_postgres() -> str:
    if not POSTGRES_URL:
        if IN_CI:
            pytest.fail("REHBER_TEST_POSTGRES_URL is not set; CI must run the PostgreSQL suite")
        pytest.skip("REHBER_TEST_POSTGRES_URL not set")
    return POSTGRES_URL


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per session; tests get copies of it."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = create_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@contextlib.contextmanager
def empty_postgres_schema(prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL schema named ``prefix_<random>``, dropped afterwards."""
    url = _require_postgres()
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except sa.exc.OperationalError as exc:
        admin.dispose()
        if IN_CI:
            pytest.fail(f"PostgreSQL unreachable in CI: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    try:
        yield schema
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    """A migrated schema of this session's own, dropped afterwards."""
    with empty_postgres_schema("rehber_test") as schema:
        engine = create_engine(POSTGRES_URL, schema=schema)
        upgrade(engine)
        engine.dispose()
        yield schema


def fresh_database(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    if kind == "sqlite":
        target = tmp_path / "rehber.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        return Database("sqlite", f"sqlite:///{target}")
    schema = request.getfixturevalue("postgres_schema")
    engine = create_engine(POSTGRES_URL, schema=schema)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
    engine.dispose()
    return Database("postgresql", POSTGRES_URL, schema)


@pytest.fixture(params=DATABASES)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    """A fresh, migrated, empty database of each kind."""
    return fresh_database(request.param, request, tmp_path)


@pytest.fixture
def sqlite_database(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    """For tests about SQLite itself."""
    return fresh_database("sqlite", request, tmp_path)


@pytest.fixture
def services(database: Database) -> Iterator[Services]:
    built = build_services(database.settings())
    yield built
    built.store.dispose()


@pytest.fixture
def client(services: Services, request: pytest.FixtureRequest) -> Iterator[TestClient]:
    app = coverage.wrap(create_app(services=services), request.node.nodeid)
    with TestClient(app) as test_client:
        yield test_client


def pytest_sessionfinish(session: pytest.Session) -> None:
    coverage.flush(os.environ.get("PYTEST_XDIST_WORKER", "main"))


@pytest.fixture
def account(services: Services) -> NewAccount:
    return services.accounts.create_account("test")


@pytest.fixture(params=["xml", "json"])
def fmt(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def api(client: TestClient, account: NewAccount, fmt: str) -> Api:
    """The vendor API as ``account``, in each format."""
    return Api(client, account.credentials.key, account.credentials.hash, fmt)


@pytest.fixture
def json_api(client: TestClient, account: NewAccount) -> Api:
    """The vendor API as ``account``, JSON only (for JSON-specific request shapes)."""
    return Api(client, account.credentials.key, account.credentials.hash, "json")


@pytest.fixture
def xml_api(client: TestClient, account: NewAccount) -> Api:
    """The vendor API as ``account``, XML only (for XML-specific request shapes)."""
    return Api(client, account.credentials.key, account.credentials.hash, "xml")
