"""Page boundaries of large groups, so deep pages of get-group-contacts cost what the first does.

``OFFSET n`` walks n index entries: the last page of a million-member group would cost a
thousand times the first. The boundaries (the contact id at every 1,000th position) are
found once per membership version, kept per process, and turn a deep page into an index seek
plus an offset below 1,000. Any membership change bumps ``groups.member_version`` and so
retires the cached boundaries.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

STEP = 1000
# Offsets below this are cheap enough to walk directly.
MIN_OFFSET = 5 * STEP


class PageAnchors:
    """Bounded, thread-safe cache: (account, group) -> (member_version, boundary ids)."""

    def __init__(self, capacity: int = 256) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[tuple[int, int], tuple[int, list[int]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, account_id: int, group_id: int, version: int) -> list[int]:
        """The boundaries known for this version (possibly only the first few), as a copy."""
        with self._lock:
            entry = self._entries.get((account_id, group_id))
            if entry is None or entry[0] != version:
                return []
            self._entries.move_to_end((account_id, group_id))
            return list(entry[1])

    def put(self, account_id: int, group_id: int, version: int, anchors: list[int]) -> None:
        with self._lock:
            self._entries[(account_id, group_id)] = (version, anchors)
            self._entries.move_to_end((account_id, group_id))
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)
