"""Deadlines of many watched items (request heads, request bodies), checked by one sweep."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

Item = TypeVar("Item", bound=Hashable)


class Deadlines(Generic[Item]):
    """Deadlines of many watched items, checked once per ``interval`` seconds; ``expire`` is
    called with each item whose deadline passed before it was forgotten.

    One sweep for all of them instead of a timer per request: watching costs a dictionary
    insertion and removal, and a deadline is enforced at most ``interval`` late. Times are
    those of the event loop's clock (``loop.time()``).
    """

    def __init__(self, interval: float, expire: Callable[[Item], None]) -> None:
        self.interval = interval
        self.expire = expire
        self.watched: dict[Item, float] = {}
        # The loop a sweep is scheduled on (None: no sweep pending). A loop, not a flag, so a
        # test client's short-lived loop cannot leave the sweeper switched off for the next.
        self.sweeping: asyncio.AbstractEventLoop | None = None

    def watch(self, item: Item, due: float, loop: asyncio.AbstractEventLoop) -> None:
        self.watched[item] = due
        if self.sweeping is not loop:
            self.sweeping = loop
            loop.call_later(self.interval, self._sweep)

    def forget(self, item: Item) -> None:
        self.watched.pop(item, None)

    def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        for item in [item for item, due in self.watched.items() if due <= now]:
            del self.watched[item]
            self.expire(item)
        if self.watched:
            loop.call_later(self.interval, self._sweep)
        else:
            self.sweeping = None
