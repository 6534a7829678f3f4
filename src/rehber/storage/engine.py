"""Engines for SQLite (default) and PostgreSQL, and the one way to run a transaction.

SQLite runs in WAL mode with foreign keys on; the driver's own transaction handling is switched
off so that write transactions can start with ``BEGIN IMMEDIATE`` (taking the write lock up
front instead of failing half-way with "database is locked").
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

T = TypeVar("T")

DEFAULT_DATABASE_URL = "sqlite:///./rehber.db"
_WRITE = "rehber_write"
_SQLITE_BUSY_TIMEOUT_MS = 10_000
# PostgreSQL SQLSTATEs that mean "run the transaction again": serialization failure,
# deadlock, and the foreign-key / unique races a concurrent delete or insert can cause.
_RETRYABLE_PG_STATES = frozenset({"40001", "40P01", "23503", "23505"})


def normalize_url(url: str) -> str:
    """Map ``postgres://`` and ``postgresql://`` to the psycopg 3 driver we ship."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def create_engine(url: str, *, pool_size: int = 8, schema: str | None = None) -> Engine:
    """An engine for ``url``; ``schema`` puts PostgreSQL's search_path on that schema."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        return _sqlite_engine(url, pool_size)
    connect_args: dict[str, Any] = {}
    if schema:
        connect_args["options"] = f"-csearch_path={schema},public"
    return sa.create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args=connect_args,
    )


def _sqlite_engine(url: str, pool_size: int) -> Engine:
    engine = sa.create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args={"check_same_thread": False, "timeout": _SQLITE_BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        if ":memory:" not in url and url not in ("sqlite://", "sqlite:///"):
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def is_retryable(exc: BaseException) -> bool:
    """Transient contention that a fresh run of the same transaction can get past."""
    if isinstance(exc, OperationalError):
        text = str(exc.orig).lower()
        if "locked" in text or "busy" in text:
            return True
    if isinstance(exc, DBAPIError):
        state = getattr(exc.orig, "sqlstate", None)
        if state in _RETRYABLE_PG_STATES:
            return True
    return isinstance(exc, IntegrityError) and "FOREIGN KEY" in str(exc.orig)


@contextmanager
def transaction(engine: Engine, *, write: bool) -> Iterator[Connection]:
    """One transaction: committed when the block ends, rolled back on any exception."""
    with engine.connect() as conn:
        if write:
            conn = conn.execution_options(**{_WRITE: True})
        with conn.begin():
            yield conn


def run_transaction(
    engine: Engine, work: Callable[[Connection], T], *, write: bool, attempts: int = 8
) -> T:
    """Run ``work`` in a transaction, re-running it on transient contention.

    The whole unit is re-run, so ``work`` must not have effects outside the connection.
    """
    for attempt in range(1, attempts + 1):
        try:
            with transaction(engine, write=write) as conn:
                return work(conn)
        except DBAPIError as exc:
            if attempt == attempts or not is_retryable(exc):
                raise
            time.sleep(random.uniform(0, 0.005 * 2**attempt))
    raise AssertionError("unreachable")
