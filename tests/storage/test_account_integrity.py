"""Contacts belong to an existing account, whatever enforces it: a foreign key on SQLite,
statement triggers on PostgreSQL (migration 0005). Each test runs the same SQL on both."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from rehber.service.text import search_text
from rehber.storage.repository import ContactRow, Repository
from rehber.storage.store import Store
from tests.conftest import POSTGRES_URL, Database, fresh_database

INTEGRITY_ERRORS = (sqlite3.IntegrityError, psycopg.IntegrityError)
MISSING_ACCOUNT = 987_654


@pytest.fixture
def store(database: Database) -> Iterator[Store]:
    opened = Store.from_url(database.url, schema=database.schema, background_indexing=False)
    yield opened
    opened.dispose()


def _rows(*names: str) -> list[ContactRow]:
    return [ContactRow(name, "", "", "", search_text(name, "", "", "")) for name in names]


def _count(store: Store, table: str, account: int) -> int:
    return int(
        store.read(
            lambda r: r.sql.scalar(
                f"SELECT count(*) FROM {table} WHERE account_id = :a", {"a": account}
            )
        )
    )


def _account_with_contacts(store: Store, name: str, contacts: int) -> tuple[int, list[int]]:
    def build(r: Repository) -> tuple[int, list[int]]:
        account = r.create_account(name).id
        ids = r.insert_contacts(account, _rows(*(f"{name} {n}" for n in range(contacts))))
        group = r.insert_group(account, "grup", None)
        r.add_memberships(account, [(group, ids[0])], new_contacts=True)
        return account, ids

    return store.write(build)


@pytest.mark.parametrize("count", [1, 3, 1000])
def test_a_bulk_insert_naming_a_missing_account_fails_whole(store: Store, count: int) -> None:
    account, _ = _account_with_contacts(store, "var", 1)

    def insert(r: Repository) -> None:
        # The valid account's rows come first: the check is for the statement, not one row.
        r.insert_contacts(account, _rows(*(f"k {n}" for n in range(count))))
        r.insert_contacts(MISSING_ACCOUNT, _rows(*(f"y {n}" for n in range(count))))

    with pytest.raises(INTEGRITY_ERRORS):
        store.write(insert)
    assert _count(store, "contacts", account) == 1
    assert _count(store, "contacts", MISSING_ACCOUNT) == 0


def test_a_single_insert_naming_a_missing_account_fails(store: Store) -> None:
    with pytest.raises(INTEGRITY_ERRORS):
        store.write(
            lambda r: r.sql.run(
                "INSERT INTO contacts (account_id, name) VALUES (:a, 'yok')",
                {"a": MISSING_ACCOUNT},
            )
        )
    assert _count(store, "contacts", MISSING_ACCOUNT) == 0


def test_deleting_an_account_deletes_its_contacts_and_their_memberships(store: Store) -> None:
    doomed, _ = _account_with_contacts(store, "gider", 3)
    kept, kept_ids = _account_with_contacts(store, "kalır", 2)
    store.write(lambda r: r.sql.run("DELETE FROM accounts WHERE id = :a", {"a": doomed}))
    assert _count(store, "contacts", doomed) == 0
    assert _count(store, "memberships", doomed) == 0
    assert _count(store, "contacts", kept) == len(kept_ids)
    assert _count(store, "memberships", kept) == 1


def test_an_account_id_cannot_change_under_its_contacts(store: Store) -> None:
    def build(r: Repository) -> int:  # contacts only: no group or key names the account
        account = r.create_account("sabit").id
        r.insert_contacts(account, _rows("bir", "iki"))
        return account

    account = store.write(build)
    with pytest.raises(INTEGRITY_ERRORS):
        store.write(
            lambda r: r.sql.run(
                "UPDATE accounts SET id = :new WHERE id = :a",
                {"new": MISSING_ACCOUNT, "a": account},
            )
        )
    assert _count(store, "contacts", account) == 2


def test_a_contact_cannot_move_to_a_missing_account(store: Store) -> None:
    account, ids = _account_with_contacts(store, "yerinde", 2)
    with pytest.raises(INTEGRITY_ERRORS):
        store.write(
            lambda r: r.sql.run(
                "UPDATE contacts SET account_id = :new WHERE account_id = :a AND id = :id",
                {"new": MISSING_ACCOUNT, "a": account, "id": ids[1]},
            )
        )
    assert _count(store, "contacts", account) == 2


def test_other_updates_of_contacts_pass_the_checks(store: Store) -> None:
    account, ids = _account_with_contacts(store, "eski", 2)
    store.write(lambda r: r.update_contact(account, ids[0], _rows("yeni")[0]))
    assert store.read(lambda r: r.contact_row(account, ids[0])) == _rows("yeni")[0]


# -- PostgreSQL: what the triggers add over a plain check --------------------------------


@pytest.fixture
def postgres(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Database]]:
    database = fresh_database("postgresql", request, tmp_path)
    opened = Store.from_url(database.url, schema=database.schema, background_indexing=False)
    yield opened, database
    opened.dispose()


def _connect(database: Database) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(POSTGRES_URL, options=f"-csearch_path={database.schema},public")


def _must_wait(
    conn: psycopg.Connection[tuple[object, ...]], statement: str, params: tuple[int]
) -> None:
    """``statement`` waits for a lock the other transaction holds: with a short lock timeout
    it fails instead of waiting (no sleep), and its transaction is rolled back."""
    conn.execute("SET lock_timeout = '50ms'")
    with pytest.raises(psycopg.errors.LockNotAvailable):
        conn.execute(statement, params)
    conn.rollback()


def test_postgres_a_contact_cannot_move_to_another_existing_account(
    postgres: tuple[Store, Database],
) -> None:
    store, database = postgres
    with _connect(database) as conn:
        first, ids = _account_with_contacts(store, "bir", 2)
        second, _ = _account_with_contacts(store, "iki", 1)
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match="another account"):
            conn.execute(
                "UPDATE contacts SET account_id = %s WHERE account_id = %s AND id = %s",
                (second, first, ids[1]),
            )
    assert _count(store, "contacts", first) == 2


def test_postgres_an_account_cannot_be_deleted_under_a_transaction_adding_to_it(
    postgres: tuple[Store, Database],
) -> None:
    """The insert check locks the account as the foreign key did: the deletion waits for the
    adding transaction, then takes its contacts with it."""
    store, database = postgres
    account, _ = _account_with_contacts(store, "kilit", 1)
    with _connect(database) as adding, _connect(database) as deleting:
        adding.execute("INSERT INTO contacts (account_id, name) VALUES (%s, 'yeni')", (account,))
        _must_wait(deleting, "DELETE FROM accounts WHERE id = %s", (account,))
        adding.commit()
        assert _count(store, "contacts", account) == 2
        deleting.execute("DELETE FROM accounts WHERE id = %s", (account,))
        deleting.commit()
    assert _count(store, "contacts", account) == 0


def test_postgres_contacts_cannot_be_added_to_an_account_being_deleted(
    postgres: tuple[Store, Database],
) -> None:
    store, database = postgres
    account, _ = _account_with_contacts(store, "gidiyor", 1)
    with _connect(database) as adding, _connect(database) as deleting:
        deleting.execute("DELETE FROM accounts WHERE id = %s", (account,))
        insert = "INSERT INTO contacts (account_id, name) VALUES (%s, 'geç')"
        _must_wait(adding, insert, (account,))
        deleting.commit()
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            adding.execute(insert, (account,))
    assert _count(store, "contacts", account) == 0
