"""Tenant isolation on every route: another account's ids are ids that do not exist.

Account B sends, on each of the 30 routes, requests that name account A's groups, sub-groups,
contacts, custom fields and search terms, alone and mixed with B's own objects. Each must be
answered with exactly the bytes (status and body) that the same request gets when it names
ids that exist nowhere, and the whole database must be unchanged. B's list views never show
A's objects. A revoked key gets 401 on every route and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from rehber.server.app import Services
from rehber.service.accounts import NewAccount
from rehber.wire.actions import ACTIONS
from tests.conftest import Database
from tests.reliability.support import World, build_world, dump, envelope_code
from tests.support.api import Api


@dataclass(frozen=True)
class Target:
    """The ids a probe names: account A's, or ones that exist nowhere."""

    group: int
    child: int
    contact: int
    field: int
    term: str


Probe = Callable[[Target, World], dict[str, Any]]


def _groups(ids: list[int], fmt: str) -> Any:
    return {"id": ids} if fmt == "xml" else ids


def probes(fmt: str) -> dict[str, list[Probe]]:
    """Requests naming the target's ids (``t``), with B's own objects (``b``) where a route
    needs a valid object beside them."""
    field = lambda t: {"custom_field": [{"id": t.field, "value": "v"}]}  # noqa: E731
    return {
        "get-groups": [lambda t, b: {}],
        "get-group": [
            lambda t, b: {"group": {"id": t.group}},
            lambda t, b: {"group": {"id": t.child}},
        ],
        "add-group": [lambda t, b: {"group": {"name": "Yeni", "parent": t.group}}],
        "edit-group": [
            lambda t, b: {"group": {"id": t.group, "name": "Ele geçirildi"}},
            lambda t, b: {"group": {"id": t.child, "name": "X", "parent": ""}},
            lambda t, b: {"group": {"id": b.group, "name": "X", "parent": t.group}},
        ],
        "delete-group": [
            lambda t, b: {"group": {"id": t.group}},
            lambda t, b: {"group": {"id": t.child}},
        ],
        "get-group-contacts": [
            lambda t, b: {"group": {"id": t.group}},
            lambda t, b: {"group": {"id": t.group, "page": 1, "rowCount": 1}},
        ],
        "add-contact": [
            lambda t, b: {"contact": {"name": "X", "groups": _groups([t.group], fmt)}},
            lambda t, b: {"contact": {"name": "X", "groups": _groups([b.group, t.child], fmt)}},
            lambda t, b: {"contact": {"name": "X", "custom_fields": field(t)}},
        ],
        "edit-contact": [
            lambda t, b: {"contact": {"id": t.contact, "name": "X"}},
            lambda t, b: {"contact": {"id": t.contact, "groups": _groups([], fmt)}},
            lambda t, b: {"contact": {"id": b.contact, "groups": _groups([t.group], fmt)}},
            lambda t, b: {"contact": {"id": b.contact, "custom_fields": field(t)}},
        ],
        "delete-contact": [lambda t, b: {"contact": {"id": t.contact}}],
        "get-contact": [lambda t, b: {"contact": {"id": t.contact}}],
        "search-contacts": [
            lambda t, b: {"search": {"key": t.term}},
            lambda t, b: {"search": {"key": t.term, "page": 1, "rowCount": 1}},
        ],
        "subscribe-group": [
            lambda t, b: {"contact": {"id": t.contact}, "group": {"id": b.group}},
            lambda t, b: {"contact": {"id": b.contact}, "group": {"id": t.group}},
            lambda t, b: {"contact": {"id": [b.contact, t.contact]}, "group": {"id": b.group}},
        ],
        "unsubscribe-group": [
            lambda t, b: {"contact": {"id": t.contact}, "group": {"id": t.group}},
            lambda t, b: {"contact": {"id": b.contact}, "group": {"id": t.group}},
            lambda t, b: {"contact": {"id": [b.contact, t.contact]}, "group": {"id": b.group}},
        ],
        "add-contacts": [
            lambda t, b: {
                "contacts": {
                    "contact": [
                        {"name": "X", "groups": _groups([t.group], fmt)},
                        {"name": "Y", "custom_fields": field(t)},
                    ]
                }
            }
        ],
        "delete-contacts": [
            lambda t, b: {"contacts": {"contact": [{"id": t.contact}]}},
            lambda t, b: {"contacts": {"contact": [{"id": b.contact}, {"id": t.contact}]}},
        ],
    }


def _worlds(services: Services, client: Any, fmt: str) -> tuple[Api, World, Api, World, NewAccount]:
    a_account = services.accounts.create_account("A")
    b_account = services.accounts.create_account("B")
    a = Api(client, a_account.credentials.key, a_account.credentials.hash, fmt)
    b = Api(client, b_account.credentials.key, b_account.credentials.hash, fmt)
    a_world = build_world(a, services, a_account.account.id)
    a.add_contact(name="Zülfikar", surname="Kıraç", email="zulfikar@example.com")
    b_world = build_world(b, services, b_account.account.id)
    return a, a_world, b, b_world, b_account


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_other_accounts_ids_behave_as_nonexistent(
    database: Database, services: Services, client: Any, fmt: str, action: str
) -> None:
    _a, a_world, b, b_world, _ = _worlds(services, client, fmt)
    theirs = Target(a_world.group, a_world.child, a_world.contact, a_world.field, "Zülfikar")
    nowhere = Target(10**9, 10**9 + 1, 10**9 + 2, 10**9 + 3, "Qxwzyq")
    before = dump(database, services)
    for index, probe in enumerate(probes(fmt)[action]):
        seen = b.call(action, probe(theirs, b_world))
        unseen = b.call(action, probe(nowhere, b_world))
        assert (seen.status, seen.body) == (unseen.status, unseen.body), (index, seen.body)
        if action == "get-groups":
            assert {g["id"] for g in seen.groups()} == {b_world.group, b_world.empty}
        elif action == "add-contacts":
            assert seen.status == 200 and [i["code"] for i in seen.bulk()] == [463, 473]
        else:
            code = envelope_code(fmt, seen.status, seen.body)
            assert 400 <= code < 500 and code != 401, (index, code)
        assert dump(database, services) == before, (index, seen.body)


def test_list_views_show_only_the_accounts_own_objects(services: Services, client: Any) -> None:
    a, a_world, b, b_world, _ = _worlds(services, client, "json")
    both = "Ayşe"  # a contact of that name exists in both accounts
    for api, own, other in ((a, a_world, b_world), (b, b_world, a_world)):
        found = api.ok("search-contacts", {"search": {"key": both}}).contact_ids()
        assert found == [own.contact]
        members = api.ok("get-group-contacts", {"group": {"id": own.group}}).contact_ids()
        assert members == [own.contact]
        listed = {g["id"] for g in api.ok("get-groups").groups()}
        assert own.group in listed and other.group not in listed
        assert api.ok("get-contact", {"contact": {"id": own.contact}}).contact()["groups"] == [
            own.group,
            own.child,
        ]


@pytest.mark.parametrize("revoked_by", ["revoke", "another_key_left"])
def test_revoked_key_is_401_on_every_route(
    database: Database, services: Services, client: Any, fmt: str, revoked_by: str
) -> None:
    _a, _a_world, b, b_world, b_account = _worlds(services, client, fmt)
    account_id = b_account.account.id
    spare = services.accounts.create_key(account_id) if revoked_by == "another_key_left" else None
    services.accounts.revoke_key(account_id, b.key)
    before = dump(database, services)
    own = Target(b_world.group, b_world.child, b_world.contact, b_world.field, "Ayşe")
    for action in sorted(ACTIONS):
        for probe in probes(fmt)[action]:
            reply = b.call(action, probe(own, b_world))
            assert envelope_code(fmt, reply.status, reply.body) == 401, action
    assert dump(database, services) == before
    if spare is not None:  # the account's other key still works
        assert b.as_other(spare.key, spare.hash).call("get-groups").code == 200
