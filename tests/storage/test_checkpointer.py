"""SQLite: committed writes reach the database file from the checkpointer's thread, not from
the commit (storage/checkpointer.py)."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from rehber.service.text import search_text
from rehber.storage.checkpointer import BACKSTOP_PAGES, Checkpointer
from rehber.storage.engine import SqliteConnections
from rehber.storage.migrate import upgrade
from rehber.storage.repository import ContactRow
from rehber.storage.store import Store

WAIT = 30.0  # seconds; a bound on a hung thread, not a pace


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store.from_url(f"sqlite:///{tmp_path / 'wal.db'}", background_indexing=False)
    upgrade(store.engine)
    try:
        yield store
    finally:
        store.dispose()


def _checkpointer(store: Store) -> Checkpointer:
    assert isinstance(store.connections, SqliteConnections)
    return store.connections.checkpointer


def _add_contacts(store: Store, count: int) -> int:
    rows = [
        ContactRow(f"Kişi {n}", "", "", "", search_text(f"Kişi {n}", "", "", ""))
        for n in range(count)
    ]
    account = store.write(lambda r: r.create_account("wal")).id
    store.write(lambda r: r.insert_contacts(account, rows))
    return account


def _contacts_in_file_alone(path: Path, copy: Path) -> int:
    """Contacts in the database file without its write-ahead log: what checkpoints put there."""
    shutil.copyfile(path, copy)
    conn = sqlite3.connect(copy)
    try:
        return int(conn.execute("SELECT count(*) FROM contacts").fetchone()[0])
    finally:
        conn.close()


def test_a_commit_starts_a_checkpoint_on_its_own(store: Store) -> None:
    checkpointer = _checkpointer(store)
    assert checkpointer.thread is None
    _add_contacts(store, 3)
    with checkpointer.passes:
        assert checkpointer.passes.wait_for(lambda: checkpointer.finished >= 1, WAIT)
    assert checkpointer.thread is not None and checkpointer.thread.name == "rehber-checkpointer"


def test_committed_rows_reach_the_database_file(store: Store, tmp_path: Path) -> None:
    database = tmp_path / "wal.db"
    _add_contacts(store, 500)
    assert _checkpointer(store).wait_for_pass(WAIT)
    assert _contacts_in_file_alone(database, tmp_path / "copy.db") == 500
    _add_contacts(store, 250)
    assert _checkpointer(store).wait_for_pass(WAIT)
    assert _contacts_in_file_alone(database, tmp_path / "copy.db") == 750


def test_commits_leave_checkpoints_to_the_thread_up_to_the_backstop(store: Store) -> None:
    def setting(raw: sqlite3.Connection) -> int:
        return int(raw.execute("PRAGMA wal_autocheckpoint").fetchone()[0])

    assert store.read(lambda r: setting(r.sql.connection)) == BACKSTOP_PAGES


def test_dispose_stops_the_thread(tmp_path: Path) -> None:
    store = Store.from_url(f"sqlite:///{tmp_path / 'stop.db'}", background_indexing=False)
    upgrade(store.engine)
    _add_contacts(store, 1)
    checkpointer = _checkpointer(store)
    assert checkpointer.wait_for_pass(WAIT)
    thread = checkpointer.thread
    store.dispose()
    assert thread is not None and not thread.is_alive()
    checkpointer.poke()  # a late commit's poke starts nothing once stopped
    assert checkpointer.thread is thread and not thread.is_alive()
