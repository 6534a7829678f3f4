"""Keep PostgreSQL's planner statistics in step with bulk loads.

Foreign-key checks run on plans cached per connection. Planned while a table was small, they
scan instead of seek once it is large: a 1,000-contact add-contacts went from 70 ms to over a
second as a fresh account filled up. Refreshing the statistics (ANALYZE samples a bounded
number of rows, so it stays cheap) invalidates those plans. A table is refreshed once 1,000,
2,000, 4,000… and last 64,000 rows were inserted into it by this process: 7 refreshes at most,
each of the table that grew (and ``groups``, whose rows every membership check looks up).

Past 64,000 rows the planner needs no help. Once a table has statistics, PostgreSQL scales
its row estimate by the table's current size in pages, so the estimates grow with the table
and an index lookup that was cheapest at 64,000 rows stays cheapest at a million; autovacuum
refreshes the rest as the table grows. Each later refresh held up the request that crossed
the mark for 110-125 ms (ANALYZE of 100,000 and of 600,000 contacts); without the marks at
128,000 and 256,000 rows a 6-second bulk import on PostgreSQL stored 57,700 instead of 53,900
contacts/s (means of three runs each; single runs ranged 52,300 to 60,800).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

FIRST_MARK = 1000
LAST_MARK = 64_000  # FIRST_MARK times a power of two
ALWAYS = "groups"


class InsertTally:
    """Counts inserted rows per table; ``due()`` names each table once per mark it passed."""

    def __init__(self) -> None:
        self.rows: dict[str, int] = {}
        self.next_marks: dict[str, int] = {}
        self._lock = threading.Lock()

    def add(self, table: str, count: int) -> None:
        with self._lock:
            self.rows[table] = self.rows.get(table, 0) + count

    def due(self) -> list[str]:
        """The tables whose count passed their next mark since the last call."""
        due = []
        with self._lock:
            for table, rows in self.rows.items():
                mark = self.next_marks.get(table, FIRST_MARK)
                if rows < mark or mark > LAST_MARK:
                    continue
                while mark <= rows:
                    mark *= 2
                self.next_marks[table] = mark
                due.append(table)
        return due


def analyze(tables: Sequence[str]) -> str:
    """The ANALYZE statement that refreshes ``tables`` (from ``due()``) and ``groups``."""
    return "ANALYZE " + ", ".join(sorted({*tables, ALWAYS}))
