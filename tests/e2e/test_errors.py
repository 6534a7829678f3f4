"""Every status code of spec.md on every endpoint that can return it.

Each case asserts HTTP status == body code, the Turkish literal, a status-only body, and that
the database is unchanged afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from rehber.codes import MESSAGES
from rehber.server.app import Services
from rehber.wire.actions import ACTIONS
from tests.support.api import Api, parse_reply
from tests.support.snapshot import snapshot


@dataclass
class World:
    group: int
    child: int
    contact: int
    empty_group: int


@pytest.fixture
def world(api: Api) -> World:
    group = api.add_group("G")
    child = api.add_group("C", group)
    empty = api.add_group("E")
    contact = api.add_contact(name="Ayşe", gsm="5321234567", groups=[group])["id"]
    return World(group, child, contact, empty)


Payload = Callable[[World], dict[str, Any]]
LONG = "x" * 256
CASES: list[tuple[str, int, Payload]] = [
    # 422 — values that cannot be validated
    ("get-group", 422, lambda w: {"group": {"id": "abc"}}),
    ("add-group", 422, lambda w: {"group": {"name": LONG}}),
    ("add-group", 422, lambda w: {"group": {"name": "G", "parent": "1.5"}}),
    ("edit-group", 422, lambda w: {"group": {"id": w.group, "name": LONG}}),
    ("delete-group", 422, lambda w: {"group": {"id": "x1"}}),
    ("get-group-contacts", 422, lambda w: {"group": {"id": w.group, "rowCount": 0}}),
    ("get-group-contacts", 422, lambda w: {"group": {"id": w.group, "rowCount": -5}}),
    ("add-contact", 422, lambda w: {"contact": {"name": LONG}}),
    ("add-contact", 422, lambda w: {"contact": {"name": "A", "email": "not-an-email"}}),
    ("edit-contact", 422, lambda w: {"contact": {"name": "A"}}),
    ("edit-contact", 422, lambda w: {"contact": {"id": w.contact, "email": "a@"}}),
    ("delete-contact", 422, lambda w: {"contact": {}}),
    ("get-contact", 422, lambda w: {"contact": {"id": ""}}),
    ("search-contacts", 422, lambda w: {"search": {"key": "Ayşe", "rowCount": 0}}),
    ("subscribe-group", 422, lambda w: {"group": {"id": w.group}}),
    ("unsubscribe-group", 422, lambda w: {"group": {"id": w.group}}),
    ("delete-contacts", 422, lambda w: {"contacts": {"contact": []}}),
    # 461 — group name empty
    ("add-group", 461, lambda w: {"group": {"name": ""}}),
    ("add-group", 461, lambda w: {"group": {}}),
    ("edit-group", 461, lambda w: {"group": {"id": w.group, "name": "   "}}),
    # 462 — group id empty
    ("get-group", 462, lambda w: {"group": {"id": ""}}),
    ("edit-group", 462, lambda w: {"group": {"name": "X"}}),
    ("delete-group", 462, lambda w: {"group": {"id": 0}}),
    ("get-group-contacts", 462, lambda w: {"group": {}}),
    ("subscribe-group", 462, lambda w: {"contact": {"id": w.contact}}),
    ("unsubscribe-group", 462, lambda w: {"contact": {"id": w.contact}, "group": {"id": ""}}),
    # 463 — group not found (also: another account's, negative, huge)
    ("get-group", 463, lambda w: {"group": {"id": 999999}}),
    ("get-group", 463, lambda w: {"group": {"id": -3}}),
    ("get-group", 463, lambda w: {"group": {"id": "99999999999999999999999"}}),
    ("add-group", 463, lambda w: {"group": {"name": "X", "parent": 999999}}),
    ("edit-group", 463, lambda w: {"group": {"id": 999999, "name": "X"}}),
    ("edit-group", 463, lambda w: {"group": {"id": w.group, "name": "X", "parent": 999999}}),
    ("edit-group", 463, lambda w: {"group": {"id": w.group, "name": "X", "parent": w.child}}),
    ("delete-group", 463, lambda w: {"group": {"id": 999999}}),
    ("get-group-contacts", 463, lambda w: {"group": {"id": 999999}}),
    ("add-contact", 463, lambda w: {"contact": {"name": "A", "groups": {"id": [w.group, 999999]}}}),
    ("edit-contact", 463, lambda w: {"contact": {"id": w.contact, "groups": {"id": [999999]}}}),
    ("subscribe-group", 463, lambda w: {"contact": {"id": w.contact}, "group": {"id": 999999}}),
    ("unsubscribe-group", 463, lambda w: {"contact": {"id": w.contact}, "group": {"id": 999999}}),
    # 464 — page below 1
    ("get-group-contacts", 464, lambda w: {"group": {"id": w.group, "page": 0}}),
    ("get-group-contacts", 464, lambda w: {"group": {"id": w.group, "page": "-1"}}),
    ("search-contacts", 464, lambda w: {"search": {"key": "Ayşe", "page": -2}}),
    # 465 — contact not found / empty page / no hits
    ("get-group-contacts", 465, lambda w: {"group": {"id": w.empty_group}}),
    ("get-group-contacts", 465, lambda w: {"group": {"id": w.group, "page": 2}}),
    ("edit-contact", 465, lambda w: {"contact": {"id": 999999, "name": "X"}}),
    ("delete-contact", 465, lambda w: {"contact": {"id": 999999}}),
    ("get-contact", 465, lambda w: {"contact": {"id": 999999}}),
    ("search-contacts", 465, lambda w: {"search": {"key": "yokböyle"}}),
    ("subscribe-group", 465, lambda w: {"contact": {"id": 999999}, "group": {"id": w.group}}),
    ("unsubscribe-group", 465, lambda w: {"contact": {"id": 999999}, "group": {"id": w.group}}),
    (
        "delete-contacts",
        465,
        lambda w: {"contacts": {"contact": [{"id": w.contact}, {"id": 999999}]}},
    ),
    # 466 — invalid number
    ("add-contact", 466, lambda w: {"contact": {"name": "A", "gsm": "12345"}}),
    ("add-contact", 466, lambda w: {"contact": {"gsm": "abc"}}),
    ("edit-contact", 466, lambda w: {"contact": {"id": w.contact, "gsm": "0000"}}),
    # 471 — search term too short
    ("search-contacts", 471, lambda w: {"search": {"key": "ab"}}),
    # 472 — empty contact
    ("add-contact", 472, lambda w: {"contact": {"name": " ", "gsm": ""}}),
    ("add-contact", 472, lambda w: {}),
    ("edit-contact", 472, lambda w: {"contact": {"id": w.contact, "name": "", "gsm": ""}}),
    # 473 — unknown custom field
    (
        "add-contact",
        473,
        lambda w: {"contact": {"name": "A", "custom_fields": [{"id": 999999, "value": "x"}]}},
    ),
    (
        "edit-contact",
        473,
        lambda w: {"contact": {"id": w.contact, "custom_fields": [{"id": 5, "value": "x"}]}},
    ),
]


def _assert_error(reply: Any, code: int) -> None:
    assert reply.status == code, reply.body[:300]
    assert reply.code == code
    assert reply.message == MESSAGES[code]
    assert reply.keys() == {"status"}


@pytest.mark.parametrize(
    ("action", "code", "payload"),
    CASES,
    ids=[f"{a}-{c}-{i}" for i, (a, c, _) in enumerate(CASES)],
)
def test_error_code(
    api: Api, services: Services, world: World, action: str, code: int, payload: Payload
) -> None:
    before = snapshot(services)
    _assert_error(api.call(action, payload(world)), code)
    assert snapshot(services) == before


def test_control_characters_are_refused(api: Api, services: Services) -> None:
    """JSON can carry U+0001, XML cannot: 422 and 400, and nothing is stored either way."""
    before = snapshot(services)
    reply = api.call("add-contact", {"contact": {"name": "A", "surname": "\u0001"}})
    _assert_error(reply, 422 if api.fmt == "json" else 400)
    assert snapshot(services) == before


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_malformed_body_is_400(api: Api, services: Services, action: str) -> None:
    before = snapshot(services)
    body = b'{"request": {' if api.fmt == "json" else b"<request><group></request>"
    _assert_error(api.raw(action, body), 400)
    _assert_error(api.raw(action, b""), 400)
    wrong_root = b'{"istek": {}}' if api.fmt == "json" else b"<istek/>"
    _assert_error(api.raw(action, wrong_root), 400)
    assert snapshot(services) == before


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_bad_credentials_are_401(api: Api, services: Services, action: str) -> None:
    before = snapshot(services)
    _assert_error(api.as_other(api.key, "0" * 64).call(action, {}), 401)
    _assert_error(api.as_other("unknown-key", api.hash).call(action, {}), 401)
    _assert_error(api.as_other("", "").call(action, {}), 401)
    assert snapshot(services) == before


def test_hash_comparison_ignores_hex_case(api: Api) -> None:
    assert api.as_other(api.key, api.hash.upper()).call("get-groups").code == 200


def test_revoked_key_is_401(api: Api, services: Services, account: Any) -> None:
    services.accounts.revoke_key(account.account.id, api.key)
    _assert_error(api.call("get-groups"), 401)


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_non_post_methods_are_404(api: Api, action: str) -> None:
    for method in ("GET", "PUT", "DELETE"):
        response = api.client.request(method, api.path(action))
        _assert_error(parse_reply(api.fmt, response.status_code, response.content), 404)


@pytest.mark.parametrize(
    "path", ["/v1/no-such-action", "/v1/", "/v2/get-groups", "/", "/v1/get-groups/xml"]
)
def test_unknown_paths_are_404_in_the_suggested_format(api: Api, path: str) -> None:
    suffix = "/json" if api.fmt == "json" and not path.endswith("/xml") else ""
    target = (path.rstrip("/") + suffix) if suffix else path
    fmt = "json" if target.endswith("/json") else "xml"
    response = api.client.post(target, content=b"{}")
    _assert_error(parse_reply(fmt, response.status_code, response.content), 404)


def test_trailing_slash_is_accepted(api: Api) -> None:
    reply = api.raw("get-groups", b"", path=api.path("get-groups") + "/")
    assert reply.code == 400  # routed (the empty body is what fails)
    from tests.support.api import envelope

    ok = api.raw(
        "get-groups", envelope(api.fmt, api.key, api.hash, {}), path=api.path("get-groups") + "/"
    )
    assert ok.code == 200


def test_other_accounts_ids_look_nonexistent(api: Api, services: Services, world: World) -> None:
    other = services.accounts.create_account("other").credentials
    intruder = api.as_other(other.key, other.hash)
    before = snapshot(services)
    assert intruder.call("get-group", {"group": {"id": world.group}}).code == 463
    assert intruder.call("delete-group", {"group": {"id": world.group}}).code == 463
    assert intruder.call("get-contact", {"contact": {"id": world.contact}}).code == 465
    assert (
        intruder.call("edit-contact", {"contact": {"id": world.contact, "name": "X"}}).code == 465
    )
    assert (
        intruder.call("delete-contacts", {"contacts": {"contact": {"id": world.contact}}}).code
        == 465
    )
    own_group = intruder.add_group("Mine")
    assert (
        intruder.call(
            "subscribe-group", {"contact": {"id": world.contact}, "group": {"id": own_group}}
        ).code
        == 465
    )
    assert (
        intruder.call(
            "add-contact", {"contact": {"name": "X", "groups": {"id": [world.group]}}}
        ).code
        == 463
    )
    after = snapshot(services)
    assert {k: v for k, v in after.items() if k not in ("groups",)} == {
        k: v for k, v in before.items() if k not in ("groups",)
    }
