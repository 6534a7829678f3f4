"""PostgreSQL scratch schemas: created for one scenario, dropped afterwards."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator

import psycopg

from bench.common import Skip, log


def connect(url: str) -> psycopg.Connection[tuple[object, ...]]:
    """A connection, or Skip with a clear reason when the server cannot be reached."""
    try:
        return psycopg.connect(url, connect_timeout=3, autocommit=True)
    except psycopg.Error as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise Skip(f"unreachable ({first_line})") from exc


@contextlib.contextmanager
def scratch_schema(url: str, purpose: str) -> Iterator[str]:
    """A new, empty schema named after the purpose and this process; dropped on the way out."""
    name = f"bench_{purpose}_{os.getpid()}_{secrets.token_hex(3)}"
    with connect(url) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    try:
        yield name
    finally:
        try:
            with connect(url) as conn:
                conn.execute(f'DROP SCHEMA "{name}" CASCADE')
        except (Skip, psycopg.Error) as exc:
            log(f"could not drop scratch schema {name}: {exc}")
