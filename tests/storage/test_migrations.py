"""The search-backlog migration goes both ways with contacts waiting in the backlog."""

from __future__ import annotations

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
