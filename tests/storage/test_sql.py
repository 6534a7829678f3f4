"""SQLite's multi-row insert: every row lands once, in order, whatever the count and width."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rehber.storage import sql
from rehber.storage.sql import Sql


@given(count=st.integers(0, 5000), largest=st.sampled_from([1, 2, 8, 64, 512]))
def test_chunk_sizes_add_up_and_come_from_few_shapes(count: int, largest: int) -> None:
    sizes = sql._chunk_sizes(count, largest)
    assert sum(sizes) == count
    assert all(size <= largest and size & (size - 1) == 0 for size in sizes)
    # Full chunks first, then strictly smaller powers of two: a handful of statement shapes.
    rest = [size for size in sizes if size != largest]
    assert rest == sorted(set(rest), reverse=True)


@pytest.mark.parametrize(("limit", "width", "expected"), [(32766, 8, 512), (999, 8, 64), (7, 8, 1)])
def test_largest_chunk_fits_the_parameter_limit(limit: int, width: int, expected: int) -> None:
    assert sql._largest_chunk(limit, width) == expected


@pytest.mark.parametrize("count", [1, 2, 63, 64, 65, 511, 512, 513, 1000, 1537])
@pytest.mark.parametrize("variable_limit", [None, 200])
def test_insert_rows_stores_every_row_in_order(count: int, variable_limit: int | None) -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    if variable_limit is not None:  # as a SQLite built with a small SQLITE_MAX_VARIABLE_NUMBER
        conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, variable_limit)
    conn.execute("CREATE TABLE t (n INTEGER, label TEXT, note TEXT)")
    rows = [(n, f"row {n}", None if n % 3 else "ş'\"") for n in range(count)]
    Sql(conn, "sqlite").insert_rows("t", ("n", "label", "note"), rows)
    assert conn.execute("SELECT n, label, note FROM t ORDER BY rowid").fetchall() == rows
