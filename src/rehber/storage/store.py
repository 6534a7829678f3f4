"""The storage entry point: an engine plus "run this unit of work in one transaction"."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy.engine import Engine

from rehber.storage.anchors import PageAnchors
from rehber.storage.engine import (
    connections_for,
    create_engine,
    run_transaction,
)
from rehber.storage.indexer import SearchIndexer
from rehber.storage.repository import Repository
from rehber.storage.statistics import InsertTally, analyze

T = TypeVar("T")


class Store:
    """Owns the engine; every read or write runs in its own short transaction."""

    def __init__(self, engine: Engine, *, background_indexing: bool = True) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.connections = connections_for(engine)
        self._local = threading.local()
        self.anchors = PageAnchors()
        self.tally = InsertTally() if self.dialect == "postgresql" else None
        self.sequences: dict[str, str] = {}  # id sequence names (Repository._sequence)
        self.indexer: SearchIndexer | None = None
        # Counts the committed writes of this process that changed accounts or keys
        # (``Repository.changed_credentials``): the key cache of AccountService is valid only
        # while it stands still.
        self.credentials_epoch = 0
        if background_indexing:
            self.indexer = SearchIndexer(self.index_pending)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        schema: str | None = None,
        pool_size: int = 8,
        background_indexing: bool = True,
    ) -> Store:
        engine = create_engine(url, schema=schema, pool_size=pool_size)
        return cls(engine, background_indexing=background_indexing)

    def read(self, work: Callable[[Repository], T]) -> T:
        return self._run(work, write=False)

    def write(self, work: Callable[[Repository], T]) -> T:
        """Run ``work`` atomically; re-run on transient lock contention, never half-applied."""
        return self._run(work, write=True)

    def _run(self, work: Callable[[Repository], T], *, write: bool) -> T:
        unit: tuple[Repository, bool] | None = getattr(self._local, "unit", None)
        if unit is not None:
            repo, unit_writes = unit
            if write and not unit_writes:
                raise RuntimeError("a write inside a read-only unit of work")
            return work(repo)
        if not write:
            return run_transaction(
                self.connections, lambda raw: work(self._repository(raw)), write=False
            )
        opened: list[Repository] = []
        result = run_transaction(
            self.connections, lambda raw: work(self._repository(raw, opened)), write=True
        )
        self._after_write(opened)
        return result

    def _repository(self, raw: Any, opened: list[Repository] | None = None) -> Repository:
        """A repository on ``raw``; write calls note it in ``opened`` for ``_after_write``."""
        repo = Repository(raw, self.dialect, self.anchors, self.tally, self.sequences)
        if opened is not None:
            opened.append(repo)
        return repo

    def _after_write(self, opened: Sequence[Repository]) -> None:
        """After a commit: tell the key cache, wake the search indexer, refresh statistics."""
        if any(repo.changed_credentials for repo in opened):
            self.credentials_epoch += 1
        if self.indexer is not None:
            self.indexer.poke()
        due = self.tally.due() if self.tally is not None else None
        if due:
            run_transaction(self.connections, lambda raw: raw.execute(analyze(due)), write=True)

    def unit(self, work: Callable[[], T], *, write: bool) -> T:
        """Run ``work`` — any number of ``read``/``write`` calls — as ONE transaction.

        A request authenticates and then acts; doing both in one transaction halves the
        per-request database overhead and means the key is checked in the same snapshot.
        """

        opened: list[Repository] = []

        def body(raw: Any) -> T:
            self._local.unit = (self._repository(raw, opened if write else None), write)
            try:
                return work()
            finally:
                self._local.unit = None

        result = run_transaction(self.connections, body, write=write)
        if write:
            self._after_write(opened)
        return result

    def units(self, works: Sequence[Callable[[], T]]) -> list[T | Exception]:
        """Run several write units in ONE transaction, each isolated by a savepoint.

        Group commit: on SQLite the commit is most of a small write's cost, so concurrent
        write requests share one. A unit that raises is rolled back to its savepoint and its
        exception returned in its place; the others are unaffected. If the commit itself fails,
        the whole call raises and nothing was applied.
        """

        opened: list[Repository] = []

        def body(raw: Any) -> list[T | Exception]:
            results: list[T | Exception] = []
            self._local.unit = (self._repository(raw, opened), True)
            try:
                for work in works:
                    raw.execute("SAVEPOINT unit")
                    try:
                        results.append(work())
                    except Exception as exc:
                        raw.execute("ROLLBACK TO unit")
                        results.append(exc)
                    raw.execute("RELEASE unit")
            finally:
                self._local.unit = None
            return results

        results = run_transaction(self.connections, body, write=True)
        self._after_write(opened)
        return results

    def index_pending(self, limit: int = 2000) -> int:
        """Index up to ``limit`` contacts of the search backlog now; returns how many."""
        return run_transaction(
            self.connections,
            lambda raw: self._repository(raw).index_pending(limit),
            write=True,
        )

    def search_backlog(self) -> int:
        return self.read(lambda repo: repo.search_backlog())

    def ping(self) -> None:
        self.read(lambda repo: repo.sql.scalar("SELECT 1"))

    def dispose(self) -> None:
        if self.indexer is not None:
            self.indexer.stop()
        self.connections.close()
        self.engine.dispose()
