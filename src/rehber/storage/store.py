"""The storage entry point: an engine plus "run this unit of work in one transaction"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.engine import Engine

from rehber.storage.engine import connections_for, create_engine, run_transaction
from rehber.storage.repository import Repository

T = TypeVar("T")


class Store:
    """Owns the engine; every read or write runs in its own short transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.connections = connections_for(engine)

    @classmethod
    def from_url(cls, url: str, *, schema: str | None = None, pool_size: int = 8) -> Store:
        return cls(create_engine(url, schema=schema, pool_size=pool_size))

    def read(self, work: Callable[[Repository], T]) -> T:
        return run_transaction(self.connections, self._bind(work), write=False)

    def write(self, work: Callable[[Repository], T]) -> T:
        """Run ``work`` atomically; re-run on transient lock contention, never half-applied."""
        return run_transaction(self.connections, self._bind(work), write=True)

    def _bind(self, work: Callable[[Repository], T]) -> Callable[[Any], T]:
        return lambda raw: work(Repository(raw, self.dialect))

    def ping(self) -> None:
        self.read(lambda repo: repo.sql.scalar("SELECT 1"))

    def dispose(self) -> None:
        self.connections.close()
        self.engine.dispose()
