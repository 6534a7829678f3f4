"""The floors: what the same machine does with no application in the way, measured in the
same run as rehber so that every target is a ratio.

- echo: the Starlette app of ``bench/floor_app.py`` under uvicorn (httptools, uvloop).
- sqlite3: ``executemany`` of contact rows, 1,000 per transaction, WAL, ``synchronous=NORMAL``
  (rehber's own setting), a table shaped like rehber's contacts without secondary indexes.
- PostgreSQL: psycopg ``COPY`` of the same rows, 1,000 per transaction, into a plain table in
  a scratch schema.
- codecs: parse and serialize 10,000 contact records (orjson, stdlib json, lxml).
"""

from __future__ import annotations

import gc
import json
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson
import psycopg
from lxml import etree

from bench import data, pg, wire
from bench.common import HOST, WORK, Options, free_port, log, median
from bench.load import WrkResult, post_rate
from bench.procs import Service
from bench.server import remove_sqlite
from rehber.service.text import normalize_gsm, search_text
from rehber.storage.engine import create_engine
from rehber.storage.migrate import upgrade
from rehber.storage.repository import NEW_CONTACT_COLUMNS
from rehber.storage.sql import Sql

# Example credentials of the vendor documentation: the floor never checks them.
ECHO_CREDENTIALS = wire.Credentials(
    "3ea65b1e8ba4c7d2f0e1a2b3c4d5e6f7",
    "e8e20e5dcff5ea6ae6e5adf849bbfe66affb0782f384ec16083f290d401ecd41",
)


def echo_body(fmt: wire.Format) -> bytes:
    """An add-contact-shaped body of about 400 bytes in either format (XML spends its bytes
    on tags, so it carries no custom fields)."""
    contact: dict[str, Any] = {
        "id": 1007,
        "name": "Ayşe",
        "surname": "Yılmaz",
        "email": "ayse.yilmaz@ornek.com.tr",
        "gsm": "+905321234567",
    }
    if fmt == "json":
        contact["custom_fields"] = {
            "custom_field": [{"id": 1, "value": "27/09/2024"}, {"id": 2, "value": "VIP"}]
        }
    contact["groups"] = {"group": [{"id": 97101}, {"id": 97489}]}
    return wire.encode(fmt, ECHO_CREDENTIALS, {"contact": contact})


def echo_service(workers: int) -> Service:
    """The echo app under uvicorn (httptools, uvloop) with ``workers`` workers, not started."""
    port = free_port()
    uvicorn = [
        "--http",
        "httptools",
        "--loop",
        "uvloop",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    argv = [sys.executable, "-m", "uvicorn", "bench.floor_app:app", *uvicorn]
    argv += ["--host", HOST, "--port", str(port), "--workers", str(workers)]
    return Service(f"echo-floor-{workers}w", argv, port=port)


def echo_rate(service: Service, fmt: wire.Format, opts: Options, *, warmup: bool) -> WrkResult:
    """Requests/s of one echo endpoint of a running :func:`echo_service`."""
    name = f"{service.name}-{fmt}"
    url = f"{service.url}/echo/{fmt}"
    return post_rate(name, url, [echo_body(fmt)], wire.CONTENT_TYPES[fmt], opts, warmup=warmup)


def _rows(count: int) -> list[tuple[int, str, str, str, str]]:
    return [
        (1, item["name"], item["surname"], item["email"], item["gsm"])
        for item in data.contacts(0, count)
    ]


def _sqlite_file(path: Path) -> sqlite3.Connection:
    """A new SQLite file with rehber's settings: WAL, ``synchronous=NORMAL``."""
    remove_sqlite(path)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def _executemany_seconds(
    conn: sqlite3.Connection, insert: str, rows: Sequence[Sequence[Any]], batch: int
) -> float:
    """Seconds to insert ``rows`` with ``executemany``, one transaction per ``batch`` rows."""
    started = time.perf_counter()
    for first in range(0, len(rows), batch):
        conn.execute("BEGIN")
        conn.executemany(insert, rows[first : first + batch])
        conn.execute("COMMIT")
    return time.perf_counter() - started


def _copy_seconds(
    conn: psycopg.Connection[Any], copy: str, rows: Sequence[Sequence[Any]], batch: int
) -> float:
    """Seconds to ``COPY`` ``rows`` in, one transaction per ``batch`` rows."""
    started = time.perf_counter()
    for first in range(0, len(rows), batch):
        with conn.transaction(), conn.cursor() as cur, cur.copy(copy) as sink:
            for row in rows[first : first + batch]:
                sink.write_row(row)
    return time.perf_counter() - started


def sqlite_floor(opts: Options) -> float:
    """Contact rows/s of raw sqlite3 ``executemany`` in 1,000-row transactions."""
    path = WORK / "floor-sqlite.db"
    rows = _rows(opts.floor_rows)
    conn = _sqlite_file(path)
    try:
        conn.execute(
            "CREATE TABLE contacts (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL,"
            " name TEXT NOT NULL, surname TEXT NOT NULL, email TEXT NOT NULL, gsm TEXT NOT NULL)"
        )
        insert = (
            "INSERT INTO contacts (account_id, name, surname, email, gsm) VALUES (?, ?, ?, ?, ?)"
        )
        seconds = _executemany_seconds(conn, insert, rows, opts.batch)
    finally:
        conn.close()
        remove_sqlite(path)
    rate = len(rows) / seconds
    log(f"  sqlite3 executemany: {rate:,.0f} rows/s")
    return rate


def postgres_floor(opts: Options) -> float:
    """Contact rows/s of psycopg ``COPY`` in 1,000-row transactions (Skip if unreachable)."""
    rows = _rows(opts.floor_rows)
    with (
        pg.scratch_schema(opts.postgres_url, "floor") as schema,
        pg.connect(opts.postgres_url) as conn,
    ):
        conn.execute(
            f'CREATE TABLE "{schema}".contacts (account_id BIGINT NOT NULL,'
            " id BIGINT GENERATED BY DEFAULT AS IDENTITY, name TEXT NOT NULL,"
            " surname TEXT NOT NULL, email TEXT NOT NULL, gsm TEXT NOT NULL,"
            " PRIMARY KEY (account_id, id))"
        )
        copy = f'COPY "{schema}".contacts (account_id, name, surname, email, gsm) FROM STDIN'
        seconds = _copy_seconds(conn, copy, rows, opts.batch)
    rate = len(rows) / seconds
    log(f"  PostgreSQL COPY: {rate:,.0f} rows/s")
    return rate


# -- ceilings: rehber's own contacts table, with nothing else in the way -------------------


def _stored_rows(count: int) -> list[tuple[Any, ...]]:
    """Contact rows exactly as add-contacts stores them (normalised number, search text)."""
    rows = []
    for n, item in enumerate(data.contacts(0, count), start=1):
        gsm = normalize_gsm(item["gsm"])
        text = search_text(item["name"], item["surname"], item["email"], gsm)
        rows.append((1, n, item["name"], item["surname"], item["email"], gsm, text))
    return rows


def _migrate(url: str, schema: str | None = None) -> None:
    engine = create_engine(url, schema=schema)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def sqlite_ceiling(opts: Options) -> float:
    """Rows/s of rehber's own SQLite insert (``Sql.insert_rows``, the call add-contacts makes)
    of ready-made rows into its migrated contacts table (its indexes and search text, new rows
    in the search backlog), 1,000-row transactions: the most add-contacts could store with no
    HTTP, parsing, validation or answer."""
    path = WORK / "ceiling-sqlite.db"
    rows = [(*row, 1) for row in _stored_rows(opts.floor_rows)]
    conn = _sqlite_file(path)
    try:
        _migrate(f"sqlite:///{path}")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(
            "INSERT INTO accounts (id, name, duplicate_gsm, created_at)"
            " VALUES (1, 'bench', 'allow', '2026-01-01 00:00:00')"
        )
        sql = Sql(conn, "sqlite")
        started = time.perf_counter()
        for first in range(0, len(rows), opts.batch):
            conn.execute("BEGIN IMMEDIATE")  # as rehber's own write transactions
            sql.insert_rows("contacts", NEW_CONTACT_COLUMNS, rows[first : first + opts.batch])
            conn.execute("COMMIT")
        seconds = time.perf_counter() - started
    finally:
        conn.close()
        remove_sqlite(path)
    rate = len(rows) / seconds
    log(f"  rehber's contacts table alone (its SQLite insert): {rate:,.0f} rows/s")
    return rate


def postgres_ceiling(opts: Options) -> float:
    """Rows/s of psycopg ``COPY`` (rehber's own insert on PostgreSQL) into its migrated
    contacts table (keys, foreign key, number index; new rows in the search backlog, outside
    the trigram index), 1,000-row transactions."""
    rows = [(*row, 1) for row in _stored_rows(opts.floor_rows)]
    with pg.scratch_schema(opts.postgres_url, "ceiling") as schema:
        _migrate(opts.postgres_url, schema)
        with pg.connect(opts.postgres_url) as conn:
            conn.execute(
                f'INSERT INTO "{schema}".accounts (id, name, duplicate_gsm, created_at)'
                " VALUES (1, 'bench', 'allow', now())"
            )
            copy = f'COPY "{schema}".contacts ({", ".join(NEW_CONTACT_COLUMNS)}) FROM STDIN'
            seconds = _copy_seconds(conn, copy, rows, opts.batch)
    rate = len(rows) / seconds
    log(f"  rehber's contacts table alone (PostgreSQL COPY): {rate:,.0f} rows/s")
    return rate


def _median_rate(records: int, work: Callable[[], object], repeats: int = 5) -> float:
    """Records/s of ``work()``, median of ``repeats``. As ``timeit`` does, the cyclic garbage
    collector is off while timing: otherwise the figure would depend on how many objects the
    harness happens to hold (it varied 2x between runs), not on the codec."""
    timings = []
    for _ in range(repeats):
        gc.collect()
        gc.disable()
        try:
            started = time.perf_counter()
            work()
            timings.append(time.perf_counter() - started)
        finally:
            gc.enable()
    return records / median(timings)


def codec_floors(opts: Options) -> dict[str, float]:
    """Records/s to parse a 10,000-contact add-contacts body into Python values and serialize
    those records again, per codec. XML builds its tree element by element, as any endpoint
    answering the vendor's XML must."""
    records = data.contacts(0, opts.codec_records)
    as_json = wire.encode("json", ECHO_CREDENTIALS, {"contacts": {"contact": records}})
    as_xml = wire.encode("xml", ECHO_CREDENTIALS, {"contacts": {"contact": records}})

    def with_orjson() -> bytes:
        parsed = orjson.loads(as_json)["request"]["contacts"]["contact"]
        return orjson.dumps({"response": {"contacts": parsed}})

    def with_json() -> bytes:
        parsed = json.loads(as_json)["request"]["contacts"]["contact"]
        return json.dumps({"response": {"contacts": parsed}}, ensure_ascii=False).encode()

    def with_lxml() -> bytes:
        root = etree.fromstring(as_xml)
        parsed = [{field.tag: field.text for field in item} for item in root.iter("contact")]
        out = etree.Element("response")
        listed = etree.SubElement(out, "contacts")
        for record in parsed:
            item = etree.SubElement(listed, "contact")
            for tag, text in record.items():
                etree.SubElement(item, tag).text = text
        return etree.tostring(out, xml_declaration=True, encoding="UTF-8")

    rates = {
        "orjson": _median_rate(len(records), with_orjson),
        "json": _median_rate(len(records), with_json),
        "lxml": _median_rate(len(records), with_lxml),
    }
    log("  codecs: " + ", ".join(f"{name} {rate:,.0f} records/s" for name, rate in rates.items()))
    return rates
