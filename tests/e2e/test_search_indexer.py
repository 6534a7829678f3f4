"""The background search indexer drains the backlog once writes pause (both databases)."""

from __future__ import annotations

import threading
import time

from starlette.testclient import TestClient

from rehber.server.app import build_services, create_app
from rehber.storage.indexer import QUIET_SECONDS, SearchIndexer
from rehber.storage.repository import ContactRow
from rehber.storage.store import Store
from tests.conftest import Database
from tests.support.api import Api


def test_backlog_is_indexed_in_the_background(database: Database) -> None:
    services = build_services(database.settings(background_indexing=True))
    try:
        created = services.accounts.create_account("indexer").credentials
        with TestClient(create_app(services=services)) as client:
            api = Api(client, created.key, created.hash, "json")
            items = [{"name": f"Kişi {i}", "gsm": f"0532{i:07d}"} for i in range(2500)]
            results = api.ok("add-contacts", {"contacts": {"contact": items}}).bulk()
            assert {r["code"] for r in results} == {200}
            deadline = time.monotonic() + 30
            while services.store.search_backlog() and time.monotonic() < deadline:
                time.sleep(0.05)  # polling observable state, bounded by the deadline
            assert services.store.search_backlog() == 0
            found = api.ok("search-contacts", {"search": {"key": "kişi 2499"}}).contacts()
            assert [c["name"] for c in found] == ["Kişi 2499"]
            assert (
                api.ok("search-contacts", {"search": {"key": "05320001234"}}).contacts()[0]["name"]
                == "Kişi 1234"
            )
    finally:
        services.store.dispose()


def test_a_burst_of_writes_is_indexed_only_after_it_is_over() -> None:
    rounds: list[float] = []
    indexed = threading.Event()

    def index_batch(limit: int) -> int:
        rounds.append(time.monotonic())
        indexed.set()
        return 0

    indexer = SearchIndexer(index_batch)
    writes = []
    try:
        for _ in range(2000):
            indexer.poke()
            writes.append(indexer.last_write)
        assert indexed.wait(timeout=10)
    finally:
        indexer.stop()
    for started in rounds:  # each round began after a quiet period, not during the burst
        latest = max(w for w in writes if w <= started)
        assert started - latest >= QUIET_SECONDS


def test_a_write_during_the_last_batch_gets_a_round_of_its_own() -> None:
    rounds: list[int] = []
    second_round = threading.Event()

    def index_batch(limit: int) -> int:
        rounds.append(limit)
        if len(rounds) == 1:
            indexer.poke()  # a write commits while this (short, so last) batch runs
        else:
            second_round.set()
        return 0

    indexer = SearchIndexer(index_batch)
    try:
        indexer.poke()
        assert second_round.wait(timeout=10), "the write during the batch was never indexed"
    finally:
        indexer.stop()
    assert len(rounds) == 2


def test_indexers_of_two_processes_share_the_backlog(database: Database) -> None:
    """Each server process runs an indexer; together they index every contact exactly once."""
    services = build_services(database.settings())
    other = Store.from_url(database.url, schema=database.schema, background_indexing=False)
    try:
        account = services.accounts.create_account("paylaşım").account.id
        rows = [ContactRow(f"Kişi {i}", "", "", "", f"kişi {i}") for i in range(400)]
        services.store.write(lambda r: r.insert_contacts(account, rows))
        counts: list[int] = []
        start = threading.Barrier(2)

        def drain(store: Store) -> None:
            start.wait()
            while indexed := store.index_pending(7):
                counts.append(indexed)

        workers = [threading.Thread(target=drain, args=(s,)) for s in (services.store, other)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
        assert sum(counts) == len(rows)
        assert services.store.search_backlog() == 0
    finally:
        other.dispose()
        services.store.dispose()
