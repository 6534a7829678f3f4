"""SQL spelled once, run on the driver's own cursor.

Hot paths skip SQLAlchemy's statement machinery: on this API a point read is a handful of
indexed lookups, and building, caching and executing Core statements cost far more than
SQLite needs to answer them. Queries are written once with ``:name`` parameters and two
portable extensions, and adapted per dialect on first use:

* ``col IN @ids`` — membership in a list parameter (SQLite: ``json_each`` over a JSON array;
  PostgreSQL: ``= ANY(%(ids)s)``), so one cached statement serves any list length.
* ``:name`` becomes ``%(name)s`` for psycopg; ``%`` in literals is doubled.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

Params = Mapping[str, Any]

_LISTS = (list, tuple, set, frozenset)
_IN_LIST = re.compile(r"([\w.]+) IN @(\w+)")
_NAMED = re.compile(r"(?<![:\w]):(\w+)")


@lru_cache(maxsize=512)
def spell(query: str, dialect: str) -> str:
    """``query`` in the dialect's own syntax."""
    if dialect == "postgresql":
        query = _IN_LIST.sub(r"\1 = ANY(:\2)", query)
        return _NAMED.sub(r"%(\1)s", query.replace("%", "%%"))
    return _IN_LIST.sub(r"\1 IN (SELECT value FROM json_each(:\2))", query)


def _json_array(values: Any) -> str:
    """A JSON array for ``json_each``; integer lists (nearly all of them) without json.dumps."""
    items = list(values)
    if all(type(v) is int for v in items):
        return "[" + ",".join(map(str, items)) + "]"
    return json.dumps(items)


class Sql:
    """Raw statements on one DBAPI connection inside the caller's transaction."""

    def __init__(self, connection: Any, dialect: str) -> None:
        self.connection = connection
        self.dialect = dialect
        self._sqlite = dialect == "sqlite"

    def _params(self, params: Params) -> Params:
        if not any(isinstance(v, _LISTS) for v in params.values()):
            return params
        if not self._sqlite:
            return {
                k: list(v) if isinstance(v, (set, frozenset, tuple)) else v
                for k, v in params.items()
            }
        return {
            k: _json_array(v) if isinstance(v, (list, tuple, set, frozenset)) else v
            for k, v in params.items()
        }

    def rows(self, query: str, params: Params | None = None) -> list[Any]:
        cursor = self.connection.execute(spell(query, self.dialect), self._params(params or {}))
        try:
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def one(self, query: str, params: Params | None = None) -> Any | None:
        found = self.rows(query, params)
        return found[0] if found else None

    def scalar(self, query: str, params: Params | None = None) -> Any:
        row = self.one(query, params)
        return None if row is None else row[0]

    def run(self, query: str, params: Params | None = None) -> int:
        """Execute a statement; returns the number of rows it changed."""
        cursor = self.connection.execute(spell(query, self.dialect), self._params(params or {}))
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def many(self, query: str, rows: Sequence[Sequence[Any]]) -> None:
        """Execute ``query`` (positional ``?`` parameters) once per row, in one batch."""
        if not rows:
            return
        spelled = query.replace("?", "%s") if not self._sqlite else query
        cursor = self.connection.cursor()
        try:
            cursor.executemany(spelled, rows)
        finally:
            cursor.close()
