"""Concurrent writes share a transaction on SQLite, but each succeeds or fails on its own."""

from __future__ import annotations

import asyncio

import httpx
import orjson

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
