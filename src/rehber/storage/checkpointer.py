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

logger = logging.getLogger("rehber.checkpointer")

# The log size (4 KiB pages) at which a commit checkpoints by itself: 32 MiB.
BACKSTOP_PAGES = 8000
# Rest between two checkpoints, so that a burst of commits shares one (and its syncs).
PAUSE_SECONDS = 0.01


class Checkpointer:
    """Checkpoints ``path`` from a thread of its own each time writes were committed."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.wake = threading.Event()
        self.stopped = threading.Event()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()
        # Checkpoints started and finished, under ``passes``: see ``wait_for_pass``.
        self.passes = threading.Condition()
        self.started = 0
        self.finished = 0

    def poke(self) -> None:
        """Note a commit; a checkpoint follows."""
        if not self.wake.is_set():  # a flag read: no wake-up while one is pending
            self.wake.set()
        if self.thread is None:
            with self.lock:
                if self.thread is None and not self.stopped.is_set():
                    self.thread = threading.Thread(
                        target=self._run, name="rehber-checkpointer", daemon=True
                    )
                    self.thread.start()

    def wait_for_pass(self, timeout: float) -> bool:
        """Wait until a checkpoint that started after this call has finished (True), or
        ``timeout`` seconds (False). It covers every write committed before the call."""
        with self.passes:
            wanted = self.started + 1
        self.poke()
        with self.passes:
            return self.passes.wait_for(lambda: self.finished >= wanted, timeout)

    def stop(self) -> None:
        with self.lock:
            self.stopped.set()
            self.wake.set()
            thread = self.thread
        if thread is not None:
            thread.join(timeout=30)

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
