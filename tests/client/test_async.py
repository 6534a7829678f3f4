"""``AsyncClient`` in its own idiom: ``async with``, ``async for``, concurrent calls.

The resource tests drive the async client through :mod:`.blocking`; these run it natively on
an event loop, in-process over httpx's ASGI transport and against a real server.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

import rehber
from rehber.server.app import Services, create_app
from tests.client.conftest import LiveServer


def _in_process(services: Services, fmt: str) -> rehber.AsyncClient:
    credentials = services.accounts.create_account("async").credentials
    transport = httpx.ASGITransport(app=create_app(services=services))
    return rehber.AsyncClient(
        key=credentials.key,
        hash=credentials.hash,
        base_url="http://testserver/v1/",
        format=fmt,  # type: ignore[arg-type]
        http_client=httpx.AsyncClient(transport=transport),
    )


async def _rows(count: int) -> AsyncIterator[dict[str, object]]:
    for i in range(count):
        await asyncio.sleep(0)  # a real async source yields to the loop between items
        yield {"name": f"Eşzamansız {i}", "gsm": f"0532{i:07d}"}


async def _exercise(client: rehber.AsyncClient) -> None:
    async with client:
        group = await client.groups.create("Async")
        results = [r async for r in client.contacts.add_many(_rows(25), batch_size=10)]
        assert [r.code for r in results] == [200] * 25
        await client.groups.subscribe(group.id, [r.id for r in results if r.id is not None])

        ids = [c.id async for c in client.groups.contacts(group.id, page_size=10)]
        assert ids == [r.id for r in results]
        sizes = [len(page) async for page in client.contacts.search("eşzamansız", 10).pages()]
        assert sizes == [10, 10, 5]

        fetched = await asyncio.gather(*(client.contacts.get(i) for i in ids[:8]))
        assert [c.id for c in fetched] == ids[:8]
        with pytest.raises(rehber.ContactNotFoundError):
            await client.contacts.get(987654321)
        assert [c async for c in client.contacts.search("bulunmayan")] == []


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_in_process(services: Services, fmt: str) -> None:
    asyncio.run(_exercise(_in_process(services, fmt)))


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_against_a_real_server(live_server: LiveServer, fmt: str) -> None:
    credentials = live_server.services.accounts.create_account("async").credentials
    client = rehber.AsyncClient(
        key=credentials.key,
        hash=credentials.hash,
        base_url=live_server.base_url,
        format=fmt,  # type: ignore[arg-type]
    )
    asyncio.run(_exercise(client))


def test_add_many_accepts_plain_iterables_and_is_lazy(services: Services) -> None:
    async def run() -> int:
        pulled = 0

        def rows() -> Iterator[dict[str, str]]:
            nonlocal pulled
            for i in range(100):
                pulled += 1
                yield {"name": f"n{i}"}

        async with _in_process(services, "json") as client:
            results = client.contacts.add_many(rows(), batch_size=7)
            assert pulled == 0
            async for _ in results:
                break
            return pulled

    assert asyncio.run(run()) == 7
