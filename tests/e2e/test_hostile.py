"""Hostile bodies over the real app: each gets a 400 envelope and the database is unchanged."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from rehber.server.app import build_services, create_app
from tests.conftest import Database
from tests.support.api import Api, envelope
from tests.support.snapshot import snapshot

LIMIT = 64 * 1024


def _auth_xml(api: Api) -> str:
    return f"<authentication><key>{api.key}</key><hash>{api.hash}</hash></authentication>"


def hostile_xml(api: Api) -> dict[str, bytes]:
    auth = _auth_xml(api)
    laughs = (
        '<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
        + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
        + "]>"
    )
    return {
        "billion_laughs": f"{laughs}<request>{auth}<group><name>&i;</name></group></request>".encode(),
        "quadratic": (
            '<!DOCTYPE r [<!ENTITY x "'
            + "x" * 50_000
            + '">]><request>'
            + auth
            + "<group><name>"
            + "&x;" * 1000
            + "</name></group></request>"
        ).encode(),
        "external_entity": (
            '<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            f"<request>{auth}<group><name>&e;</name></group></request>"
        ).encode(),
        "doctype_only": f"<!DOCTYPE request><request>{auth}</request>".encode(),
        "xinclude": (
            f'<request xmlns:xi="http://www.w3.org/2001/XInclude">{auth}'
            '<group><name><xi:include href="file:///etc/passwd" parse="text"/></name></group>'
            "</request>"
        ).encode(),
        "deep": ("<a>" * 10_000 + "</a>" * 10_000).encode(),
        "invalid_utf8": b"<request>"
        + auth.encode()
        + b"<group><name>\xff\xfe</name></group></request>",
        "nul": b"<request>" + auth.encode() + b"<group><name>a\x00b</name></group></request>",
        "oversized": b"<request>" + b" " * (LIMIT + 1) + b"</request>",
    }


def hostile_json(api: Api) -> dict[str, bytes]:
    auth = f'"authentication":{{"key":"{api.key}","hash":"{api.hash}"}}'
    return {
        "deep": b"[" * 10_000 + b"]" * 10_000,
        "deep_object": b'{"request":' + b'{"a":' * 5000 + b"1" + b"}" * 5001,
        "invalid_utf8": b'{"request":{' + auth.encode() + b',"group":{"name":"\xff"}}}',
        "not_object": b'{"request":[1,2]}',
        "nan": b'{"request":{' + auth.encode() + b',"group":{"name":NaN}}}',
        "oversized": b'{"request":{"x":"' + b"a" * (LIMIT + 1) + b'"}}',
        "trailing_garbage": b'{"request":{' + auth.encode() + b"}} trailing",
    }


@pytest.fixture
def small_limit_client(database: Database) -> Iterator[TestClient]:
    services = build_services(database.settings(max_body_bytes=LIMIT))
    with TestClient(create_app(services=services)) as client:
        client.services = services  # type: ignore[attr-defined]
        yield client
    services.store.dispose()


@pytest.mark.parametrize("action", ["add-group", "add-contacts", "get-groups"])
def test_hostile_bodies_get_400_and_change_nothing(
    small_limit_client: TestClient, fmt: str, action: str
) -> None:
    services = small_limit_client.services  # type: ignore[attr-defined]
    created = services.accounts.create_account("victim").credentials
    api = Api(small_limit_client, created.key, created.hash, fmt)
    api.add_group("Existing")
    before = snapshot(services)
    bodies = hostile_xml(api) if fmt == "xml" else hostile_json(api)
    for name, body in bodies.items():
        reply = api.raw(action, body)
        assert (reply.status, reply.code) == (400, 400), name
        assert reply.keys() == {"status"}, name
    assert snapshot(services) == before
    # The same endpoint still works for a well-formed request afterwards.
    assert api.raw("get-groups", envelope(fmt, api.key, api.hash, {})).code == 200
