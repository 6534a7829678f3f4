"""Deadlines of many watched items (request heads, request bodies), checked by one sweep."""

from __future__ import annotations

import asyncio
from typing import Protocol


class Expiring(Protocol):
    """Something with a deadline: a request head (``limits.GuardedHttpToolsProtocol``) or a
    request body being read (``body.BodyReader``)."""

    def overdue(self, now: float) -> bool: ...

    def expire(self) -> None: ...


class Deadlines:
    """Deadlines of many watched items, checked once per ``interval`` seconds.

    One sweep for all of them instead of a timer per request: watching costs a set insertion
    and removal, and a deadline is enforced at most ``interval`` late. Times are those of the
    event loop's clock (``loop.time()``).
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.watched: set[Expiring] = set()
        # The loop a sweep is scheduled on (None: no sweep pending). A loop, not a flag, so a
        # test client's short-lived loop cannot leave the sweeper switched off for the next.
        self.sweeping: asyncio.AbstractEventLoop | None = None

    def watch(self, item: Expiring, loop: asyncio.AbstractEventLoop) -> None:
        self.watched.add(item)
        if self.sweeping is not loop:
            self.sweeping = loop
            loop.call_later(self.interval, self._sweep)

    def forget(self, item: Expiring) -> None:
        self.watched.discard(item)

    def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        for item in [i for i in self.watched if i.overdue(now)]:
            self.watched.discard(item)
            item.expire()
        if self.watched:
            loop.call_later(self.interval, self._sweep)
        else:
            self.sweeping = None
