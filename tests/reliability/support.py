"""What the reliability suite shares: exact database dumps, a small world, envelope checks."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

import orjson
from lxml import etree

from rehber.codes import MESSAGES
from rehber.server.app import Services
from rehber.storage.tables import metadata
from tests.conftest import Database
from tests.support.api import Api


def dump(database: Database, services: Services) -> Any:
    """Everything the database holds, exactly.

    SQLite: ``iterdump()`` of a fresh connection, i.e. the SQL text that recreates the file
    (schema, every row, ``sqlite_sequence``, the search index). PostgreSQL: an MD5 of the
    text of every row of every table, in order, and the position of every id sequence (a
    failed INSERT would move one), in one statement.
    """
    if database.kind == "sqlite":
        path = database.url.removeprefix("sqlite:///")
        conn = sqlite3.connect(path)
        try:
            return "\n".join(conn.iterdump())
        finally:
            conn.close()
    with services.store.engine.connect() as conn:
        return conn.exec_driver_sql(_PG_DUMP).one()


_PG_DUMP = "SELECT " + ", ".join(
    [
        f"(SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {name} t)"
        for name in sorted(metadata.tables)
    ]
    + [
        "(SELECT string_agg(sequencename || '=' || coalesce(last_value::text, '-'), ',' "
        "ORDER BY sequencename) FROM pg_sequences WHERE schemaname = current_schema())"
    ]
)


@dataclass(frozen=True)
class World:
    """One account's address book: a group with a sub-group, a contact in the group with a
    custom-field value, an empty group, and a second contact in no group."""

    group: int
    child: int
    empty: int
    contact: int
    loner: int
    field: int


def build_world(api: Api, services: Services, account_id: int) -> World:
    field = services.accounts.create_field(account_id, "Segment").id
    group = api.add_group("Müşteriler")
    child = api.add_group("VIP", group)
    empty = api.add_group("Boş")
    contact = api.ok(
        "add-contact",
        {
            "contact": {
                "name": "Ayşe",
                "surname": "Yılmaz",
                "gsm": "5321234567",
                "custom_fields": {"custom_field": [{"id": field, "value": "VIP"}]},
                "groups": {"id": [group, child]} if api.fmt == "xml" else [group, child],
            }
        },
    ).contact()["id"]
    loner = api.add_contact(name="Mehmet", gsm="5339876543")["id"]
    return World(group, child, empty, contact, loner, field)


def envelope_code(fmt: str, status: int, body: bytes) -> int:
    """The code of a vendor envelope that carries ``status`` only, checked in full: the body
    is in the route's format, HTTP status equals the code, the message is the vendor's."""
    if fmt == "json":
        document = orjson.loads(body)
        assert set(document) == {"response"}, body[:200]
        response = document["response"]
        assert set(response) == {"status"}, body[:200]
        code, message = response["status"]["code"], response["status"]["message"]
        assert isinstance(code, int)
    else:
        assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>'), body[:200]
        root = etree.fromstring(body)
        assert root.tag == "response" and [c.tag for c in root] == ["status"], body[:200]
        code = int(root.findtext("status/code") or 0)
        message = root.findtext("status/message")
    assert status == code, (status, body[:200])
    assert message == MESSAGES[code], body[:200]
    return int(code)
