"""The request journal: what the emulated API received and answered, newest last.

Kept in memory of the one server process and bounded (the last :data:`MAX_ENTRIES` requests,
bodies cut at :data:`MAX_BODY_CHARS`), so a long test session cannot grow the server without
limit. Entries hold bodies with credentials already masked; nothing else stores them.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from dataclasses import asdict, dataclass, replace
from typing import Any

MAX_ENTRIES = 10_000
MAX_BODY_CHARS = 64 * 1024


@dataclass(frozen=True, slots=True)
class Entry:
    """One ``/v1`` request as the journal shows it (``GET /_rehber/requests``)."""

    id: int
    time: str  # ISO 8601, UTC, milliseconds
    account_id: int | None  # None when the request did not authenticate
    action: str | None  # None for a path that names no vendor action
    format: str
    method: str
    path: str
    status: int
    duration_ms: float
    fault: int | None  # id of the injected fault that shaped the answer
    request: str
    response: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def clip(text: str) -> str:
    if len(text) <= MAX_BODY_CHARS:
        return text
    return text[:MAX_BODY_CHARS] + f"…[{len(text) - MAX_BODY_CHARS} more characters]"


class Journal:
    """Thread-safe bounded list of :class:`Entry`, filterable by account and action."""

    def __init__(self, capacity: int = MAX_ENTRIES) -> None:
        self._entries: deque[Entry] = deque(maxlen=capacity)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, entry: Entry) -> Entry:
        """Store ``entry`` under the next id (ids grow in the order requests finish)."""
        with self._lock:
            stored = replace(entry, id=next(self._ids))
            self._entries.append(stored)
        return stored

    def select(
        self,
        *,
        account_id: int | None = None,
        action: str | None = None,
        since: int | None = None,
        limit: int | None = None,
    ) -> list[Entry]:
        """Matching entries, oldest first; ``limit`` keeps the newest ones; ``since`` is an
        entry id (only later entries are returned)."""
        with self._lock:
            found = [e for e in self._entries if _matches(e, account_id, action, since)]
        return found[-limit:] if limit else found

    def clear(self, account_id: int | None = None) -> int:
        """Forget every entry (or one account's); returns how many were dropped."""
        with self._lock:
            before = len(self._entries)
            if account_id is None:
                self._entries.clear()
            else:
                kept = [e for e in self._entries if e.account_id != account_id]
                self._entries.clear()
                self._entries.extend(kept)
            return before - len(self._entries)


def _matches(entry: Entry, account_id: int | None, action: str | None, since: int | None) -> bool:
    return (
        (account_id is None or entry.account_id == account_id)
        and (action is None or entry.action == action)
        and (since is None or entry.id > since)
    )
