"""Engines for SQLite (default) and PostgreSQL, and the one way to run a transaction.

SQLite runs in WAL mode with foreign keys on; the driver's own transaction handling is switched
off so that write transactions can start with ``BEGIN IMMEDIATE`` (taking the write lock up
front instead of failing half-way with "database is locked").
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError

from rehber.storage.checkpointer import BACKSTOP_PAGES, Checkpointer

T = TypeVar("T")

DEFAULT_DATABASE_URL = "sqlite:///./rehber.db"
_WRITE = "rehber_write"
_SQLITE_BUSY_TIMEOUT_MS = 10_000
# PostgreSQL SQLSTATEs that mean "run the transaction again": serialization failure,
# deadlock, and the foreign-key / unique races a concurrent delete or insert can cause.
# (SQLite serialises writers with BEGIN IMMEDIATE, so there such errors are real defects.)
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
    # No ``pool_pre_ping``: it costs a round trip per transaction. The store's connections
    # are checked where they can have gone stale (``PooledConnections``).
    return sa.create_engine(
        url, pool_size=pool_size, max_overflow=pool_size, connect_args=connect_args
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
        configure_sqlite(dbapi_conn)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # SQLAlchemy-level transactions (migrations, operator tools) need a real BEGIN too.
        conn.connection.driver_connection.execute("BEGIN")

    return engine


def configure_sqlite(conn: Any) -> None:
    """WAL, foreign keys, a busy timeout, and BEGIN under our control (autocommit driver)."""
    conn.isolation_level = None
    if conn.execute("PRAGMA database_list").fetchone()[2]:  # a file, not :memory:
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")


def is_retryable(exc: BaseException) -> bool:
    """Transient contention, or a connection lost before the commit: a fresh run of the same
    transaction can get past it."""
    if isinstance(exc, StaleConnection):
        return True
    original = exc.orig if isinstance(exc, DBAPIError) else exc
    if isinstance(original, sqlite3.OperationalError):
        text = str(original).lower()
        return "locked" in text or "busy" in text
    return getattr(original, "sqlstate", None) in _RETRYABLE_PG_STATES


# A pooled connection idle this long is pinged before use (``PooledConnections``).
PING_AFTER_IDLE_SECONDS = 5.0
_RETURNED_AT = "rehber_returned_at"


def _note_return(_dbapi_conn: Any, record: Any) -> None:
    record.info[_RETURNED_AT] = time.monotonic()


class Connections:
    """Where transactions get their driver connection from."""

    dialect: str

    def run(self, work: Callable[[Any], T], *, write: bool) -> T:
        """``work(connection)`` inside one transaction: committed when it returns, rolled back
        if it raises. (A plain method, not a context manager: this is on every request's
        path, and a generator-based context manager costs more than SQLite's point read.)"""
        raise NotImplementedError

    def close(self) -> None:
        """Close every connection this source opened."""


class StaleConnection(Exception):
    """The connection broke before the transaction committed (the server restarted, a proxy
    dropped it): nothing of the transaction was applied, so it can run again."""


class PooledConnections(Connections):
    """SQLAlchemy's pool (PostgreSQL, in-memory SQLite).

    A pooled PostgreSQL connection can go stale while it waits in the pool. SQLAlchemy's
    ``pool_pre_ping`` sends a ``SELECT 1`` before every checkout; under a bulk import that was
    3.5-4 ms of every transaction. Here only the connections that may be stale are pinged:
    those idle for :data:`PING_AFTER_IDLE_SECONDS`, and every one returned before some
    connection was found broken (the server likely dropped them all). A connection that
    breaks inside a transaction anyway is discarded and the transaction re-run
    (:class:`StaleConnection`, retried by :func:`run_transaction`).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.broken_at = 0.0  # monotonic time a connection was last found broken
        if self.dialect != "sqlite":  # an in-memory SQLite database cannot go away
            event.listen(engine, "checkin", _note_return)
            event.listen(engine, "checkout", self._ping_if_stale)

    def _ping_if_stale(self, dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get(_RETURNED_AT)
        if returned is None:  # a connection opened for this checkout
            return
        if returned > self.broken_at and time.monotonic() - returned < PING_AFTER_IDLE_SECONDS:
            return
        try:
            self.engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            # The pool discards this connection and opens a new one for the checkout.
            raise DisconnectionError("stale pooled connection") from exc

    def run(self, work: Callable[[Any], T], *, write: bool) -> T:
        with self.engine.connect() as conn:
            raw: Any = conn.connection.driver_connection
            if self.dialect == "sqlite":
                raw.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            else:
                # Reads run statement by statement, as on SQLite (SqliteConnections.run):
                # psycopg's BEGIN and the COMMIT are a round trip each, two of a point
                # read's three.
                raw.autocommit = not write
            try:
                result = work(raw)
            except BaseException as exc:
                if self._discarded_if_broken(conn, raw):
                    raise StaleConnection(str(exc)) from exc
                raw.rollback()
                raise
            try:
                raw.commit()
            except BaseException:
                self._discarded_if_broken(conn, raw)  # did it commit? Unknown: not re-run
                raise
            return result

    def _discarded_if_broken(self, conn: sa.Connection, raw: Any) -> bool:
        """Whether the connection is lost (psycopg's ``broken``); if so the pool discards it,
        and the connections returned before now are pinged at their next checkout."""
        if not getattr(raw, "broken", False):
            return False
        self.broken_at = time.monotonic()
        conn.invalidate()
        return True

    def close(self) -> None:
        self.engine.dispose()


class SqliteConnections(Connections):
    """One connection per thread for a SQLite file.

    SQLite connections are cheap to keep and expensive to check out of a general-purpose pool
    on every request; a thread-local connection makes a transaction just ``BEGIN``/``COMMIT``.
    """

    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self.checkpointer = Checkpointer(path)

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path,
                isolation_level=None,
                check_same_thread=False,
                timeout=_SQLITE_BUSY_TIMEOUT_MS / 1000,
            )
            configure_sqlite(conn)
            conn.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")  # checkpointer.py
            self._local.conn = conn
            with self._lock:
                self._opened.append(conn)
        return conn

    def run(self, work: Callable[[Any], T], *, write: bool) -> T:
        conn = self.connection()
        if not write:
            # Reads run statement by statement in autocommit mode: each statement sees one
            # consistent snapshot, and skipping BEGIN/COMMIT is a fifth of a point read's cost.
            return work(conn)
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = work(conn)
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
        self.checkpointer.poke()
        return result

    def close(self) -> None:
        self.checkpointer.stop()
        with self._lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            conn.close()
        self._local = threading.local()


def connections_for(engine: Engine) -> Connections:
    """The fastest transaction source for ``engine``'s database."""
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        return SqliteConnections(database)
    return PooledConnections(engine)


def run_transaction(
    source: Connections, work: Callable[[Any], T], *, write: bool, attempts: int = 8
) -> T:
    """Run ``work`` on a driver connection in one transaction, re-running it on transient
    contention or a lost connection (:func:`is_retryable`). The whole unit is re-run, so
    ``work`` must not have effects outside it."""
    for attempt in range(1, attempts + 1):
        try:
            return source.run(work, write=write)
        except Exception as exc:
            if attempt == attempts or not is_retryable(exc):
                raise
            time.sleep(random.uniform(0, 0.005 * 2**attempt))
    raise AssertionError("unreachable")
