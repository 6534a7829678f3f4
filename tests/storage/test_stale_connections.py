"""PostgreSQL connections that went stale in the pool (storage/engine.py PooledConnections).

The server ends pooled connections here with ``pg_terminate_backend`` (waiting until each has
ended), as a restart or a proxy timeout would. A write must still succeed, on a new connection.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from rehber.storage import engine as engine_module
from rehber.storage.engine import (
    PooledConnections,
    StaleConnection,
    create_engine,
    run_transaction,
)
from rehber.storage.migrate import upgrade
from rehber.storage.repository import Repository
from rehber.storage.store import Store
from tests.conftest import POSTGRES_URL, empty_postgres_schema


@pytest.fixture
def store() -> Iterator[Store]:
    with empty_postgres_schema("rehber_stale") as schema:
        store = Store.from_url(POSTGRES_URL, schema=schema, background_indexing=False)
        try:
            upgrade(store.engine)
            yield store
        finally:
            store.dispose()


def _pooled_pids(engine: Engine, count: int) -> list[int]:
    """Open ``count`` connections at once and return them to the pool; their backend pids."""
    connections = [engine.connect() for _ in range(count)]
    try:
        return [c.exec_driver_sql("SELECT pg_backend_pid()").scalar_one() for c in connections]
    finally:
        for connection in connections:
            connection.close()


def _terminate(pids: list[int]) -> None:
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.connect() as conn:
            for pid in pids:  # the timeout makes the call wait until the backend has ended
                ended = conn.exec_driver_sql(f"SELECT pg_terminate_backend({pid}, 10000)")
                assert ended.scalar_one() is True
    finally:
        admin.dispose()


def _account_names(store: Store) -> list[str]:
    return store.read(lambda r: [row[0] for row in r.sql.rows("SELECT name FROM accounts")])


def _backend_pid(store: Store) -> int:
    return int(store.read(lambda r: r.sql.scalar("SELECT pg_backend_pid()")))


def test_a_transaction_on_a_dropped_connection_runs_again_on_a_new_one(store: Store) -> None:
    connections = store.connections
    assert isinstance(connections, PooledConnections)
    (old_pid,) = _pooled_pids(store.engine, 1)
    _terminate([old_pid])

    # Returned a moment ago, the connection is not pinged: the write meets the broken
    # connection, which is discarded, and the transaction runs again.
    store.write(lambda r: r.create_account("yeniden"))

    assert connections.broken_at > 0
    assert _account_names(store) == ["yeniden"]
    assert _backend_pid(store) != old_pid


def test_an_idle_connection_is_pinged_before_use(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    connections = store.connections
    assert isinstance(connections, PooledConnections)
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    (old_pid,) = _pooled_pids(store.engine, 1)
    _terminate([old_pid])

    store.write(lambda r: r.create_account("yoklandı"))

    assert connections.broken_at == 0  # the ping found it: no transaction met it
    assert _account_names(store) == ["yoklandı"]


def test_after_one_broken_connection_the_rest_of_the_pool_is_pinged(store: Store) -> None:
    """Two pooled connections, both dropped. The first is met by the transaction; the
    second, returned before that, is pinged and replaced, so a second run is enough."""
    _terminate(_pooled_pids(store.engine, 2))

    def add(raw: object) -> None:
        Repository(raw, store.dialect, store.anchors).create_account("ikinci")

    run_transaction(store.connections, add, write=True, attempts=2)

    assert _account_names(store) == ["ikinci"]


def test_a_lost_connection_is_retried_only_by_name(store: Store) -> None:
    """What the retry keys on: ``StaleConnection``, raised for a lost connection only."""
    assert engine_module.is_retryable(StaleConnection("lost"))

    def fails(raw: object) -> None:
        raise ValueError("not a connection problem")

    with pytest.raises(ValueError):
        run_transaction(store.connections, fails, write=True)
    assert store.connections.broken_at == 0  # type: ignore[attr-defined]
