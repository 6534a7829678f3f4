"""Background search indexing (migrations 0002 and 0004).

New contacts wait in a backlog that searches scan directly; this thread moves them into the
search index (SQLite: FTS5 trigram; PostgreSQL: pg_trgm GIN) once writes have been quiet for a
moment, in bounded batches, so a bulk import runs at storage speed and the index catches up
afterwards. Each batch is one write transaction:
a crash leaves every contact either indexed or still in the backlog, never half of either.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from rehber.storage.background import BackgroundThread

logger = logging.getLogger("rehber.indexer")

QUIET_SECONDS = 0.2
BATCH = 2000


class SearchIndexer(BackgroundThread):
    """Runs ``index_batch(limit) -> indexed`` whenever writes pause, until the backlog is empty.

    ``wake`` is set by the first write after the thread went idle; the quiet-period wait below
    is a timer on ``stopped`` instead, so the writes of a burst do not wake the thread (each
    wake-up would take the GIL from the request handlers).
    """

    def __init__(self, index_batch: Callable[[int], int]) -> None:
        super().__init__("rehber-search-indexer")
        self.index_batch = index_batch
        self.last_write = 0.0

    def poke(self) -> None:
        """Note a write; the backlog will be indexed once writes pause."""
        self.last_write = time.monotonic()
        super().poke()

    def _run(self) -> None:
        while not self.stopped.is_set():
            self.wake.wait()
            try:
                self._drain()
            except Exception:  # never let the thread die: the backlog stays searchable
                logger.exception("search indexing failed; will retry on the next write")

    def _drain(self) -> None:
        while not self.stopped.is_set():
            quiet_for = time.monotonic() - self.last_write
            if quiet_for < QUIET_SECONDS:
                # A deliberate pause, not synchronisation: let bursts of writes finish first.
                self.stopped.wait(QUIET_SECONDS - quiet_for)
                continue
            # Writes from here on set ``wake`` again, so the backlog they add is not missed
            # when this batch turns out to be the last.
            self.wake.clear()
            if self.index_batch(BATCH) < BATCH:
                return
