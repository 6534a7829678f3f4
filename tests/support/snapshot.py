"""A dump of every table, to prove that a failed request changed nothing."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from rehber.server.app import Services
from rehber.storage.tables import metadata


def snapshot(services: Services) -> dict[str, list[tuple[Any, ...]]]:
    with services.store.engine.connect() as conn:
        return {
            name: sorted(tuple(r) for r in conn.execute(sa.select(table)))
            for name, table in sorted(metadata.tables.items())
        }
