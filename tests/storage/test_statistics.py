"""PostgreSQL's planner statistics follow bulk loads: each table that grew is analyzed at
1,000, 2,000, 4,000… and last 64,000 inserted rows (storage/statistics.py)."""

from __future__ import annotations

from rehber.service.text import search_text
from rehber.storage.migrate import upgrade
from rehber.storage.repository import ContactRow, Repository
from rehber.storage.statistics import LAST_MARK, InsertTally, analyze
from rehber.storage.store import Store
from tests.conftest import POSTGRES_URL, empty_postgres_schema


def test_each_table_is_due_once_per_mark_it_passes_and_never_past_the_last() -> None:
    tally = InsertTally()
    tally.add("contacts", 999)
    assert tally.due() == []
    tally.add("contacts", 1)
    assert tally.due() == ["contacts"]
    assert tally.due() == []
    tally.add("memberships", 5000)  # past 1,000, 2,000 and 4,000 at once: one refresh
    assert tally.due() == ["memberships"]
    marks = []
    for _ in range(300):
        tally.add("contacts", 1000)
        if tally.due() == ["contacts"]:
            marks.append(tally.rows["contacts"])
    assert marks == [2000, 4000, 8000, 16_000, 32_000, 64_000]
    assert LAST_MARK == 64_000
    tally.add("memberships", 3000)  # 8,000: the next mark of its own
    assert tally.due() == ["memberships"]


def test_the_statement_names_the_tables_that_grew_and_groups() -> None:
    assert analyze(["memberships", "contacts"]) == "ANALYZE contacts, groups, memberships"
    assert analyze(["groups"]) == "ANALYZE groups"


def _analyzed(store: Store) -> dict[str, bool]:
    """Which tables have statistics (PostgreSQL keeps reltuples -1 until the first)."""
    rows = store.read(
        lambda r: r.sql.rows(
            "SELECT relname, reltuples >= 0 FROM pg_class "
            "WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r' "
            "AND relname IN ('contacts', 'memberships', 'contact_fields', 'groups')"
        )
    )
    return dict(rows)


def test_postgres_analyzes_the_tables_a_bulk_insert_grew() -> None:
    with empty_postgres_schema("rehber_statistics") as schema:
        store = Store.from_url(POSTGRES_URL, schema=schema, background_indexing=False)
        try:
            upgrade(store.engine)
            assert _analyzed(store) == {
                "contacts": False,
                "memberships": False,
                "contact_fields": False,
                "groups": False,
            }
            names = [f"Kişi {n}" for n in range(1000)]
            rows = [ContactRow(name, "", "", "", search_text(name, "", "", "")) for name in names]

            def add(r: Repository) -> None:
                account = r.create_account("istatistik").id
                r.insert_contacts(account, rows)

            store.write(add)
            assert _analyzed(store) == {
                "contacts": True,
                "memberships": False,
                "contact_fields": False,
                "groups": True,
            }
        finally:
            store.dispose()
