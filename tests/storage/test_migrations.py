"""Migrations go both ways with contacts waiting in the search backlog."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from rehber.service.text import search_needle, search_text
from rehber.storage.migrate import current_revision, downgrade, head_revision, upgrade
from rehber.storage.repository import ContactRow
from rehber.storage.store import Store
from tests.conftest import DATABASES, POSTGRES_URL, empty_postgres_schema


@pytest.fixture(params=DATABASES)
def empty_database(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[str, str | None]]:
    """An unmigrated database of its own: the test moves its schema up and down."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}", None
        return
    with empty_postgres_schema("rehber_migrations") as schema:
        yield POSTGRES_URL, schema


def _row(name: str) -> ContactRow:
    return ContactRow(name, "", "", "", search_text(name, "", "", ""))


def test_backlog_survives_a_downgrade_and_an_upgrade(
    empty_database: tuple[str, str | None],
) -> None:
    url, schema = empty_database
    store = Store.from_url(url, schema=schema, background_indexing=False)
    try:
        upgrade(store.engine)
        account = store.write(lambda r: r.create_account("migrations")).id
        indexed = store.write(lambda r: r.insert_contacts(account, [_row("Eski Kayıt")]))
        assert store.index_pending(10) == 1
        waiting = store.write(lambda r: r.insert_contacts(account, [_row("Yeni Kayıt")]))
        assert store.search_backlog() == 1

        def found() -> list[int]:
            return [
                c.id
                for c in store.read(lambda r: r.search_page(account, search_needle("kayıt"), 10, 0))
            ]

        assert found() == indexed + waiting
        downgrade(store.engine, "0003")
        assert current_revision(store.engine) == "0003"
        assert found() == indexed + waiting
        upgrade(store.engine)
        assert current_revision(store.engine) == head_revision()
        assert found() == indexed + waiting
        # PostgreSQL's downgrade indexed the backlog; SQLite's backlog predates 0004.
        backlog = store.search_backlog()
        assert backlog == (1 if store.dialect == "sqlite" else 0)
        later = store.write(lambda r: r.insert_contacts(account, [_row("Son Kayıt")]))
        assert store.search_backlog() == backlog + 1
        assert found() == indexed + waiting + later
        assert store.index_pending(10) == backlog + 1
        assert (store.search_backlog(), found()) == (0, indexed + waiting + later)
    finally:
        store.dispose()


def test_rows_written_outside_rehber_are_found_by_search_before_and_after_0006(
    empty_database: tuple[str, str | None],
) -> None:
    """From 0006 a row inserted without ``search_pending`` joins the backlog (before it, it
    was indexed at once); either way search finds it, and the indexer takes it from there."""
    url, schema = empty_database
    store = Store.from_url(url, schema=schema, background_indexing=False)
    try:
        upgrade(store.engine)
        account = store.write(lambda r: r.create_account("migrations")).id

        def insert_outside(name: str) -> int:
            text = search_text(name, "", "", "")
            store.write(
                lambda r: r.sql.run(
                    "INSERT INTO contacts (account_id, name, search_text) "
                    "VALUES (:account, :name, :text)",
                    {"account": account, "name": name, "text": text},
                )
            )
            return int(store.read(lambda r: r.sql.scalar("SELECT max(id) FROM contacts")))

        def found() -> list[int]:
            needle = search_needle("elle")
            return [c.id for c in store.read(lambda r: r.search_page(account, needle, 10, 0))]

        first = insert_outside("Elle Yazılan")
        assert (store.search_backlog(), found()) == (1, [first])
        assert store.index_pending(10) == 1
        assert (store.search_backlog(), found()) == (0, [first])

        downgrade(store.engine, "0005")
        second = insert_outside("Elle Eklenen")
        assert (store.search_backlog(), found()) == (0, [first, second])

        upgrade(store.engine)
        third = insert_outside("Elle Girilen")
        assert (store.search_backlog(), found()) == (1, [first, second, third])
        assert store.index_pending(10) == 1
        assert (store.search_backlog(), found()) == (0, [first, second, third])
    finally:
        store.dispose()


def test_sqlite_stores_new_contacts_without_running_an_insert_trigger(tmp_path: Path) -> None:
    """0006 drops SQLite's FTS insert trigger (its program ran for every stored contact) and
    keeps the two that index changes to rows already in the index."""
    store = Store.from_url(f"sqlite:///{tmp_path / 'triggers.db'}", background_indexing=False)
    try:
        upgrade(store.engine)

        def triggers() -> set[str]:
            query = (
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'contacts'"
            )
            return {row[0] for row in store.read(lambda r: r.sql.rows(query))}

        assert triggers() == {"contacts_fts_delete", "contacts_fts_update"}
        downgrade(store.engine, "0005")
        assert triggers() == {"contacts_fts_insert", "contacts_fts_delete", "contacts_fts_update"}
        upgrade(store.engine)
        assert triggers() == {"contacts_fts_delete", "contacts_fts_update"}
        assert store.read(lambda r: r.sql.rows("PRAGMA integrity_check")) == [("ok",)]
    finally:
        store.dispose()


def test_0006_on_sqlite_stops_without_a_trace_when_the_column_is_spelled_otherwise(
    tmp_path: Path,
) -> None:
    """The schema text edit runs only on the text migration 0002 wrote; on any other it fails
    before anything is committed: the trigger, the default and the revision stay as they were."""
    path = tmp_path / "respelled.db"
    store = Store.from_url(f"sqlite:///{path}", background_indexing=False)
    try:
        upgrade(store.engine, "0005")
    finally:
        store.dispose()
    with sqlite3.connect(path, isolation_level=None) as conn:
        (created,) = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'contacts'"
        ).fetchone()
        (version,) = conn.execute("PRAGMA schema_version").fetchone()
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'contacts'",
            (created.replace("search_pending SMALLINT", "search_pending smallint"),),
        )
        conn.execute(f"PRAGMA schema_version = {version + 1}")
        conn.execute("PRAGMA writable_schema = OFF")
    conn.close()

    store = Store.from_url(f"sqlite:///{path}", background_indexing=False)
    try:
        with pytest.raises(RuntimeError, match="search_pending not found"):
            upgrade(store.engine)
        assert current_revision(store.engine) == "0005"
        triggers = store.read(
            lambda r: r.sql.rows(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name = :name",
                {"name": "contacts_fts_insert"},
            )
        )
        assert triggers == [("contacts_fts_insert",)]
        columns = store.read(lambda r: r.sql.rows("PRAGMA table_info(contacts)"))
        assert [c[4] for c in columns if c[1] == "search_pending"] == ["'0'"]
    finally:
        store.dispose()


def test_0007_sets_the_search_index_merge_step_on_sqlite_and_back(tmp_path: Path) -> None:
    """FTS5 keeps ``automerge`` in the index's configuration table (FTS5 default 4, rehber 8);
    an index written under either setting answers searches and passes FTS5's own check."""
    store = Store.from_url(f"sqlite:///{tmp_path / 'merges.db'}", background_indexing=False)
    try:
        upgrade(store.engine, "0006")

        def automerge() -> list[tuple[str, int]]:
            query = "SELECT k, v FROM contacts_fts_config WHERE k = 'automerge'"
            return [tuple(row) for row in store.read(lambda r: r.sql.rows(query))]

        assert automerge() == []  # FTS5's default applies
        upgrade(store.engine)
        assert automerge() == [("automerge", 8)]
        account = store.write(lambda r: r.create_account("birleştirme"))
        names = [f"Birleşme{n:03d}" for n in range(40)]
        for name in names:  # one segment per batch: enough of them to be merged
            store.write(lambda r, name=name: r.insert_contacts(account.id, [_row(name)]))
            assert store.index_pending(10) == 1
        downgrade(store.engine, "0006")
        assert automerge() == [("automerge", 4)]
        upgrade(store.engine)
        assert automerge() == [("automerge", 8)]
        check = "INSERT INTO contacts_fts(contacts_fts, rank) VALUES ('integrity-check', 1)"
        store.write(lambda r: r.sql.run(check))
        found = store.read(lambda r: r.search_page(account.id, search_needle("birleşme01"), 100, 0))
        assert sorted(c.name for c in found) == [f"Birleşme01{n}" for n in range(10)]
        assert store.search_backlog() == 0
    finally:
        store.dispose()
