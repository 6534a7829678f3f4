"""The one shape of rehber's background threads (search indexer, WAL checkpointer)."""

from __future__ import annotations

import threading


class BackgroundThread:
    """A daemon thread that the first ``poke`` starts and every later one wakes.

    ``poke`` is on the path of every write, so it only reads and sets a flag once the thread
    runs; ``_run`` waits on ``wake`` and returns once ``stopped`` is set.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.wake = threading.Event()
        self.stopped = threading.Event()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()

    def poke(self) -> None:
        if not self.wake.is_set():  # a flag read: no lock, no wake-up while one is pending
            self.wake.set()
        if self.thread is None:
            with self.lock:
                if self.thread is None and not self.stopped.is_set():
                    self.thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                    self.thread.start()

    def stop(self) -> None:
        """End the thread (after the pass it is in); later pokes start nothing."""
        with self.lock:
            self.stopped.set()
            self.wake.set()
            thread = self.thread
        if thread is not None:
            thread.join(timeout=30)

    def _run(self) -> None:
        raise NotImplementedError
