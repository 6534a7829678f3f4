"""Concurrent writes share a transaction on SQLite, but each succeeds or fails on its own."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
import orjson
import pytest

from rehber.server.app import Services, create_app
from tests.support.api import envelope


def test_batched_writes_are_isolated(services: Services) -> None:
    created = services.accounts.create_account("batch").credentials

    async def scenario() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=create_app(services=services))
        async with httpx.AsyncClient(transport=transport, base_url="http://rehber") as client:

            def post(action: str, payload: dict[str, object]) -> object:
                body = envelope("json", created.key, created.hash, payload)
                return client.post(f"/v1/{action}/json", content=body)

            return list(
                await asyncio.gather(
                    post("add-contact", {"contact": {"name": "Bir"}}),
                    post("add-contact", {"contact": {"name": ""}}),
                    post("add-group", {"group": {"name": "Grup"}}),
                    post("delete-group", {"group": {"id": 424242}}),
                    post("add-contact", {"contact": {"name": "İki", "gsm": "123"}}),
                    post("add-contact", {"contact": {"name": "Üç"}}),
                )
            )

    responses = asyncio.run(scenario())
    assert [r.status_code for r in responses] == [200, 472, 200, 463, 466, 200]
    codes = [orjson.loads(r.content)["response"]["status"]["code"] for r in responses]
    assert codes == [200, 472, 200, 463, 466, 200]
    first = orjson.loads(responses[0].content)["response"]["contact"]["id"]
    last = orjson.loads(responses[5].content)["response"]["contact"]["id"]
    account = services.accounts.authenticate(created.key, created.hash)
    stored = services.store.read(lambda repo: repo.get_contacts(account.id, range(1, last + 1)))
    assert [c.name for c in stored] == ["Bir", "Üç"]
    assert [c.id for c in stored] == [first, last]
    assert [g.name for g in services.store.read(lambda repo: repo.list_groups(account.id))] == [
        "Grup"
    ]


def test_bulk_requests_take_turns_on_sqlite(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite a process runs one bulk request at a time (they would only contend for the
    GIL and the write lock); on PostgreSQL they overlap. Every request still succeeds."""
    created = services.accounts.create_account("turns").credentials
    inside = 0
    most = 0
    lock = threading.Lock()
    second_inside = threading.Event()
    add_contacts = services.backend.add_contacts

    def observed(account: Any, cmd: Any) -> Any:
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
            if inside > 1:
                second_inside.set()
        try:
            # A bounded window in which a second request could enter, if it may.
            second_inside.wait(timeout=1.0)
            return add_contacts(account, cmd)
        finally:
            with lock:
                inside -= 1

    monkeypatch.setattr(services.backend, "add_contacts", observed)

    async def scenario() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=create_app(services=services))
        async with httpx.AsyncClient(transport=transport, base_url="http://rehber") as client:
            items = [{"name": f"Sıra {n}"} for n in range(3)]
            body = envelope("json", created.key, created.hash, {"contacts": {"contact": items}})
            return list(
                await asyncio.gather(
                    *(client.post("/v1/add-contacts/json", content=body) for _ in range(3))
                )
            )

    responses = asyncio.run(scenario())
    assert [r.status_code for r in responses] == [200, 200, 200]
    if services.store.dialect == "sqlite":
        assert most == 1
    else:
        assert most > 1
