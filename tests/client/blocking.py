"""Drive an ``AsyncClient`` from synchronous test code, so one test body checks both clients.

Each coroutine runs to completion on the test's own event loop; async iterators (pages,
``add_many``) are stepped one ``__anext__`` at a time, so laziness is preserved. Nothing of the
client is replaced: every call goes through the real ``AsyncClient`` and its real transport.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from rehber.client import AsyncContactPages
from rehber.client.resources import AsyncContacts, AsyncGroups


class BlockingIterator:
    """An async iterator stepped synchronously."""

    def __init__(self, source: AsyncIterator[Any], loop: asyncio.AbstractEventLoop) -> None:
        self._source = source
        self._loop = loop

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        try:
            return self._loop.run_until_complete(anext(self._source))
        except StopAsyncIteration:
            raise StopIteration from None


class BlockingPages:
    """``AsyncContactPages`` with the sync ``ContactPages`` interface."""

    def __init__(self, pages: AsyncContactPages, loop: asyncio.AbstractEventLoop) -> None:
        self._pages = pages
        self._loop = loop
        self.page_size = pages.page_size

    def __iter__(self) -> Iterator[Any]:
        return BlockingIterator(aiter(self._pages), self._loop)

    def pages(self) -> Iterator[Any]:
        return BlockingIterator(self._pages.pages(), self._loop)


class Blocking:
    """A resource (or client) of the async client, with every method made blocking."""

    def __init__(self, target: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._target = target
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if isinstance(value, (AsyncGroups, AsyncContacts)):
            return Blocking(value, self._loop)
        if callable(value):
            return self._blocking(value)
        return value

    def _blocking(self, method: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            if inspect.isawaitable(result):
                return self._loop.run_until_complete(result)
            if isinstance(result, AsyncContactPages):
                return BlockingPages(result, self._loop)
            if isinstance(result, AsyncIterator):
                return BlockingIterator(result, self._loop)
            return result

        return call
