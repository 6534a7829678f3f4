"""Keep PostgreSQL's planner statistics in step with bulk loads.

Foreign-key checks run on plans cached per connection. Planned while a table was small, they
scan instead of seek once it is large: a 1,000-contact add-contacts went from 70 ms to over a
second as a fresh account filled up. Refreshing the statistics (ANALYZE samples a bounded
number of rows, so it stays cheap) invalidates those plans. It runs after 1,000, 2,000, 4,000…
inserted rows per process, so a load of n rows triggers about log2(n) refreshes.
"""

from __future__ import annotations

import threading

FIRST_MARK = 1000


class InsertTally:
    """Counts inserted rows; ``due()`` is true once each time the count passes a mark."""

    def __init__(self) -> None:
        self.rows = 0
        self.next_mark = FIRST_MARK
        self._lock = threading.Lock()

    def add(self, count: int) -> None:
        with self._lock:
            self.rows += count

    def due(self) -> bool:
        with self._lock:
            if self.rows < self.next_mark:
                return False
            while self.next_mark <= self.rows:
                self.next_mark *= 2
            return True


ANALYZE = "ANALYZE contacts, memberships, contact_fields, groups"
