"""Background WAL checkpoints for a SQLite file.

By default SQLite checkpoints inside the commit that takes the write-ahead log past 1,000
pages: that commit copies the log into the database file and syncs both files. Under bulk
imports that was 70% of all commit time (a commit takes 0.3 ms, one that checkpoints 3-10 ms),
spent on the request's path while the write lock is held. Here a thread of its own
checkpoints after writes (``PASSIVE``: it never waits for, or blocks, readers and writers), and
SQLite does that work without the GIL, on another core. The commit-time checkpoint stays as a
backstop at :data:`BACKSTOP_PAGES`, which also bounds the log when this thread cannot keep up
(under a continuous import the log rarely empties completely, so it grows to about that size).
"""

from __future__ import annotations

import logging
import sqlite3
import threading

from rehber.storage.background import BackgroundThread

logger = logging.getLogger("rehber.checkpointer")

# The log size (4 KiB pages) at which a commit checkpoints by itself: 32 MiB.
BACKSTOP_PAGES = 8000
# Rest between two checkpoints, so that a burst of commits shares one (and its syncs).
PAUSE_SECONDS = 0.01


class Checkpointer(BackgroundThread):
    """Checkpoints ``path`` from a thread of its own each time writes were committed
    (``poke`` after each commit)."""

    def __init__(self, path: str) -> None:
        super().__init__("rehber-checkpointer")
        self.path = path
        # Checkpoints started and finished, under ``passes``: see ``wait_for_pass``.
        self.passes = threading.Condition()
        self.started = 0
        self.finished = 0

    def wait_for_pass(self, timeout: float) -> bool:
        """Wait until a checkpoint that started after this call has finished (True), or
        ``timeout`` seconds (False). It covers every write committed before the call."""
        with self.passes:
            wanted = self.started + 1
        self.poke()
        with self.passes:
            return self.passes.wait_for(lambda: self.finished >= wanted, timeout)

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            while True:
                self.wake.wait()
                if self.stopped.is_set():
                    return
                self.wake.clear()
                with self.passes:
                    self.started += 1
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:  # the next commit's checkpoint (or the backstop) will do
                    logger.exception("WAL checkpoint failed")
                with self.passes:
                    self.finished += 1
                    self.passes.notify_all()
                self.stopped.wait(PAUSE_SECONDS)  # pacing, not synchronisation
        finally:
            conn.close()
