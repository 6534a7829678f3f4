"""Reads run statement by statement, writes in one transaction, on both databases
(storage/engine.py; docs/api.md, Storage)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from rehber.storage.repository import Repository
from rehber.storage.store import Store
from tests.conftest import Database


@pytest.fixture
def store(database: Database) -> Iterator[Store]:
    store = Store.from_url(database.url, schema=database.schema, background_indexing=False)
    try:
        yield store
    finally:
        store.dispose()


def _in_transaction(repo: Repository) -> bool:
    """Whether the driver connection is inside a transaction after a statement."""
    repo.sql.scalar("SELECT 1")
    raw: Any = repo.sql.connection
    if repo.dialect == "sqlite":
        return bool(raw.in_transaction)
    return str(raw.info.transaction_status.name) != "IDLE"


def test_reads_run_outside_a_transaction_and_writes_inside_one(store: Store) -> None:
    # Alternating on the same pooled connections: each run sets its own mode.
    for _ in range(3):
        assert store.read(_in_transaction) is False
        assert store.write(_in_transaction) is True
        assert store.unit(lambda: store.read(_in_transaction), write=False) is False
        assert store.unit(lambda: store.read(_in_transaction), write=True) is True


def test_a_write_after_reads_still_rolls_back_whole(store: Store) -> None:
    store.read(lambda r: r.sql.scalar("SELECT count(*) FROM accounts"))

    def fails(repo: Repository) -> None:
        repo.create_account("yarım")
        raise RuntimeError("after the insert")

    with pytest.raises(RuntimeError):
        store.write(fails)
    assert store.read(lambda r: r.sql.scalar("SELECT count(*) FROM accounts")) == 0
