"""The SQLite background search indexer drains the backlog once writes pause."""

from __future__ import annotations

import time

from starlette.testclient import TestClient

from rehber.server.app import build_services, create_app
from tests.conftest import Database
from tests.support.api import Api


def test_backlog_is_indexed_in_the_background(sqlite_database: Database) -> None:
    services = build_services(sqlite_database.settings(background_indexing=True))
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
