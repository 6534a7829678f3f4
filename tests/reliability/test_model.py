"""Property-based: random operation sequences against the server agree with a tiny model.

:class:`AddressBook` is a hypothesis state machine. Each example starts from a fresh, empty
database and runs a random sequence of vendor calls, each in a randomly chosen format: add,
rename, move (including forbidden moves under a descendant) and delete groups; add, edit and
delete contacts; subscribe and unsubscribe; add-contacts with failing items; delete-contacts
with unknown ids (all or nothing); group pages and search pages; and moving the SQLite search
backlog into the index. The model is a dict of groups (name, parent) and a dict of contacts
(name, set of groups). After every step the whole group tree (ids, names, nesting, counts)
must equal the model's; page reads must equal the model's slices; every status code must be
the one the model predicts.

The codec round trip is tested at the wire level in ``tests/wire/test_responses.py``; here
the same text strategy goes through the server and the database: stored through one format,
read back through both.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from starlette.testclient import TestClient

from rehber.server.app import Services, build_services, create_app
from rehber.storage.engine import create_engine
from rehber.wire.xml_codec import escape
from tests.conftest import POSTGRES_URL, TABLES, Database
from tests.support.api import Api, Reply
from tests.wire.test_responses import XML_TEXT

NAMES = st.text(alphabet="abcçğıiİöşüÇĞÖŞÜIz <>&]", min_size=1, max_size=10).filter(str.strip)
FORMATS = st.sampled_from(["xml", "json"])
SEARCH_KEYS = ["kişi", "KİŞİ", "Kişi", "KIŞI"]
MAX_ROWS = 1000


class AddressBook(RuleBasedStateMachine):
    """The server against a model; :func:`_machine` binds it to a database kind."""

    fresh_database: ClassVar[Callable[[], Database]]

    def __init__(self) -> None:
        super().__init__()
        self.services: Services = build_services(self.fresh_database().settings())
        self.client = TestClient(create_app(services=self.services))
        self.client.__enter__()
        created = self.services.accounts.create_account("model").credentials
        self.key, self.hash = created.key, created.hash
        self.groups: dict[int, tuple[str, int | None]] = {}
        self.contacts: dict[int, tuple[str, set[int]]] = {}
        self.seen_groups: list[int] = []
        self.seen_contacts: list[int] = []
        self.reads = 0

    def teardown(self) -> None:
        self.client.__exit__(None, None, None)
        self.services.store.dispose()

    # -- helpers ---------------------------------------------------------------------------

    def call(self, fmt: str, action: str, payload: dict[str, Any]) -> Reply:
        return Api(self.client, self.key, self.hash, fmt).call(action, payload)

    def expect(self, reply: Reply, code: int) -> Reply:
        assert (reply.status, reply.code) == (code, code), (reply.body[:300], code)
        return reply

    def pick(self, data: st.DataObject, live: Iterable[int], seen: list[int], missing: int) -> int:
        """Mostly a live id; one time in five a deleted one or one that never existed."""
        alive = sorted(live)
        if alive and data.draw(st.integers(0, 4)) > 0:
            return data.draw(st.sampled_from(alive))
        return data.draw(st.sampled_from([*seen, missing]))

    def group_ref(self, data: st.DataObject) -> int:
        return self.pick(data, self.groups, self.seen_groups, 10**9)

    def contact_ref(self, data: st.DataObject) -> int:
        return self.pick(data, self.contacts, self.seen_contacts, 10**9 + 1)

    def group_refs(self, data: st.DataObject, minimum: int = 0) -> list[int]:
        size = data.draw(st.integers(minimum, 3))
        return [self.group_ref(data) for _ in range(size)]

    def contact_refs(self, data: st.DataObject, minimum: int = 0) -> list[int]:
        size = data.draw(st.integers(minimum, 4))
        return [self.contact_ref(data) for _ in range(size)]

    def descendants(self, group: int) -> set[int]:
        found = {group}
        changed = True
        while changed:
            more = {g for g, (_, parent) in self.groups.items() if parent in found}
            changed = not more <= found
            found |= more
        return found

    def members(self, group: int) -> list[int]:
        return sorted(c for c, (_, groups) in self.contacts.items() if group in groups)

    @staticmethod
    def id_list(fmt: str, ids: list[int]) -> Any:
        return {"id": ids} if fmt == "xml" else ids

    # -- groups ----------------------------------------------------------------------------

    @initialize()
    def start(self) -> None:
        self.expect(self.call("json", "get-groups", {}), 200)

    @rule(fmt=FORMATS, name=NAMES, data=st.data())
    def add_group(self, fmt: str, name: str, data: st.DataObject) -> None:
        parent = self.group_ref(data) if self.seen_groups and data.draw(st.booleans()) else None
        group: dict[str, Any] = {"name": name}
        if parent is not None:
            group["parent"] = parent
        reply = self.call(fmt, "add-group", {"group": group})
        if parent is not None and parent not in self.groups:
            self.expect(reply, 463)
            return
        new = int(self.expect(reply, 200).group()["id"])
        assert new not in self.seen_groups
        self.groups[new] = (name.strip(), parent)
        self.seen_groups.append(new)

    @precondition(lambda self: self.seen_groups)
    @rule(fmt=FORMATS, name=NAMES, data=st.data())
    def edit_group(self, fmt: str, name: str, data: st.DataObject) -> None:
        group = self.group_ref(data)
        move = data.draw(st.sampled_from(["keep", "top", "under"]))
        payload: dict[str, Any] = {"id": group, "name": name}
        if move == "top":
            payload["parent"] = data.draw(st.sampled_from(["", 0]))
        elif move == "under":
            payload["parent"] = self.group_ref(data)
        reply = self.call(fmt, "edit-group", {"group": payload})
        if group not in self.groups:
            self.expect(reply, 463)
            return
        current = self.groups[group][1]
        parent = {"keep": current, "top": None}.get(move, payload.get("parent"))
        moved = parent is not None and parent != current
        if moved and (parent not in self.groups or parent in self.descendants(group)):
            self.expect(reply, 463)
            return
        self.expect(reply, 200)
        self.groups[group] = (name.strip(), parent)

    @precondition(lambda self: self.seen_groups)
    @rule(fmt=FORMATS, data=st.data())
    def delete_group(self, fmt: str, data: st.DataObject) -> None:
        group = self.group_ref(data)
        reply = self.call(fmt, "delete-group", {"group": {"id": group}})
        if group not in self.groups:
            self.expect(reply, 463)
            return
        self.expect(reply, 200)
        gone = self.descendants(group)
        for g in gone:
            del self.groups[g]
        for _, groups in self.contacts.values():
            groups -= gone

    # -- contacts --------------------------------------------------------------------------

    @rule(fmt=FORMATS, name=NAMES, data=st.data())
    def add_contact(self, fmt: str, name: str, data: st.DataObject) -> None:
        groups = self.group_refs(data)
        payload = {"name": "kişi " + name, "groups": self.id_list(fmt, groups)}
        reply = self.call(fmt, "add-contact", {"contact": payload})
        if not set(groups) <= set(self.groups):
            self.expect(reply, 463)
            return
        contact = self.expect(reply, 200).contact()
        assert contact["groups"] == sorted(set(groups))
        assert contact["id"] not in self.seen_contacts
        self.contacts[contact["id"]] = (("kişi " + name).strip(), set(groups))
        self.seen_contacts.append(contact["id"])

    @precondition(lambda self: self.seen_contacts)
    @rule(fmt=FORMATS, name=NAMES, data=st.data())
    def edit_contact(self, fmt: str, name: str, data: st.DataObject) -> None:
        contact = self.contact_ref(data)
        groups = self.group_refs(data) if data.draw(st.booleans()) else None
        payload: dict[str, Any] = {"id": contact, "name": "kişi " + name}
        if groups is not None:
            payload["groups"] = self.id_list(fmt, groups)
        reply = self.call(fmt, "edit-contact", {"contact": payload})
        if contact not in self.contacts:
            self.expect(reply, 465)
            return
        if groups is not None and not set(groups) <= set(self.groups):
            self.expect(reply, 463)
            return
        kept = self.contacts[contact][1]
        self.contacts[contact] = (("kişi " + name).strip(), kept if groups is None else set(groups))
        assert self.expect(reply, 200).contact()["groups"] == sorted(self.contacts[contact][1])

    @precondition(lambda self: self.seen_contacts)
    @rule(fmt=FORMATS, data=st.data())
    def delete_contact(self, fmt: str, data: st.DataObject) -> None:
        contact = self.contact_ref(data)
        reply = self.call(fmt, "delete-contact", {"contact": {"id": contact}})
        self.expect(reply, 200 if self.contacts.pop(contact, None) else 465)

    @precondition(lambda self: self.seen_contacts and self.seen_groups)
    @rule(fmt=FORMATS, subscribe=st.booleans(), data=st.data())
    def change_membership(self, fmt: str, subscribe: bool, data: st.DataObject) -> None:
        contacts = self.contact_refs(data, minimum=1)
        groups = self.group_refs(data, minimum=1)
        action = "subscribe-group" if subscribe else "unsubscribe-group"
        payload = {"contact": {"id": contacts}, "group": {"id": groups}}
        reply = self.call(fmt, action, payload)
        if not set(groups) <= set(self.groups):
            self.expect(reply, 463)
        elif not set(contacts) <= set(self.contacts):
            self.expect(reply, 465)
        else:
            self.expect(reply, 200)
            for contact in contacts:
                member_of = self.contacts[contact][1]
                if subscribe:
                    member_of |= set(groups)
                else:
                    member_of -= set(groups)

    @rule(fmt=FORMATS, data=st.data())
    def add_contacts(self, fmt: str, data: st.DataObject) -> None:
        items = [
            (data.draw(NAMES), self.group_refs(data)) for _ in range(data.draw(st.integers(1, 5)))
        ]
        contacts = [
            {"name": "kişi " + name, "groups": self.id_list(fmt, groups)} for name, groups in items
        ]
        reply = self.expect(
            self.call(fmt, "add-contacts", {"contacts": {"contact": contacts}}), 200
        )
        results = reply.bulk()
        assert len(results) == len(items)
        for (name, groups), result in zip(items, results, strict=True):
            if not set(groups) <= set(self.groups):
                assert result["code"] == 463 and result["id"] is None
                continue
            assert result["code"] == 200 and result["id"] not in self.seen_contacts
            self.contacts[result["id"]] = (("kişi " + name).strip(), set(groups))
            self.seen_contacts.append(result["id"])

    @precondition(lambda self: self.seen_contacts)
    @rule(fmt=FORMATS, data=st.data())
    def delete_contacts(self, fmt: str, data: st.DataObject) -> None:
        ids = self.contact_refs(data, minimum=1)
        payload = {"contacts": {"contact": [{"id": i} for i in ids]}}
        reply = self.call(fmt, "delete-contacts", payload)
        if not set(ids) <= set(self.contacts):
            self.expect(reply, 465)
            return
        self.expect(reply, 200)
        for contact in ids:
            self.contacts.pop(contact, None)

    # -- reads -----------------------------------------------------------------------------

    @precondition(lambda self: self.seen_groups)
    @rule(
        fmt=FORMATS,
        page=st.integers(1, 4),
        rows=st.integers(1, 4) | st.just(MAX_ROWS + 5),
        data=st.data(),
    )
    def read_group_page(self, fmt: str, page: int, rows: int, data: st.DataObject) -> None:
        group = self.group_ref(data)
        payload = {"group": {"id": group, "page": page, "rowCount": rows}}
        reply = self.call(fmt, "get-group-contacts", payload)
        if group not in self.groups:
            self.expect(reply, 463)
            return
        self.expect_page(reply, self.members(group), page, rows)

    @rule(
        fmt=FORMATS,
        page=st.integers(1, 3),
        rows=st.integers(1, 5),
        key=st.sampled_from(SEARCH_KEYS),
    )
    def read_search_page(self, fmt: str, page: int, rows: int, key: str) -> None:
        reply = self.call(
            fmt, "search-contacts", {"search": {"key": key, "page": page, "rowCount": rows}}
        )
        self.expect_page(reply, sorted(self.contacts), page, rows)

    def expect_page(self, reply: Reply, ids: list[int], page: int, rows: int) -> None:
        size = min(rows, MAX_ROWS)
        expected = ids[(page - 1) * size : page * size]
        if not expected:
            self.expect(reply, 465)
            return
        listed = self.expect(reply, 200).contacts()
        assert [c["id"] for c in listed] == expected
        for contact in listed:
            name, groups = self.contacts[contact["id"]]
            assert (contact["name"], contact["groups"]) == (name, sorted(groups))

    @rule()
    def index_search_backlog(self) -> None:
        """SQLite: move stored contacts into the search index (reads must not change)."""
        self.services.store.index_pending()

    @invariant()
    def tree_matches(self) -> None:
        """The whole tree, every name and every count, read in alternating formats."""
        self.reads += 1
        fmt = "xml" if self.reads % 2 else "json"
        actual = self.expect(self.call(fmt, "get-groups", {}), 200).groups()
        assert actual == self.model_tree(None)

    def model_tree(self, parent: int | None) -> list[dict[str, Any]]:
        tree = []
        for group in sorted(g for g, (_, p) in self.groups.items() if p == parent):
            node: dict[str, Any] = {
                "id": group,
                "name": self.groups[group][0],
                "count": len(self.members(group)),
            }
            children = self.model_tree(group)
            if children:
                node["children"] = children
            tree.append(node)
        return tree


def _fresh_database(
    kind: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[], Database]:
    if kind == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")

        def sqlite() -> Database:
            target = tmp_path_factory.mktemp("model") / "rehber.db"
            shutil.copyfile(template, target)
            return Database("sqlite", f"sqlite:///{target}")

        return sqlite
    schema = request.getfixturevalue("postgres_schema")
    engine = create_engine(POSTGRES_URL, schema=schema)

    def postgresql() -> Database:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
        return Database("postgresql", POSTGRES_URL, schema)

    request.addfinalizer(engine.dispose)
    return postgresql


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_random_operations_agree_with_the_model(
    kind: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> None:
    machine = type(
        f"AddressBook_{kind}",
        (AddressBook,),
        {"fresh_database": staticmethod(_fresh_database(kind, request, tmp_path_factory))},
    )
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=30,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


# -- text through the server --------------------------------------------------------------


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=XML_TEXT.filter(lambda t: 0 < len(t) <= 255 and t.strip()), stored_as=FORMATS)
def test_any_text_survives_the_server_in_both_formats(
    services: Services, client: TestClient, text: str, stored_as: str
) -> None:
    """A group name and a custom-field value, stored in one format, read back in both."""
    account = services.accounts.create_account("text")
    key, hash_value = account.credentials.key, account.credentials.hash
    field = services.accounts.create_field(account.account.id, "Not").id
    store = Api(client, key, hash_value, stored_as)
    if stored_as == "json":
        group = store.add_group(text)
        fields = {"custom_field": [{"id": field, "value": text}]}
        added = store.ok("add-contact", {"contact": {"name": "x", "custom_fields": fields}})
    else:  # escaped by the codec's own rules (a raw CR would be read as LF by any parser)
        auth = f"<authentication><key>{key}</key><hash>{hash_value}</hash></authentication>"
        body = f"<request>{auth}<group><name>{escape(text)}</name></group></request>"
        group = int(store.raw("add-group", body.encode()).group()["id"])
        value = f"<custom_field><id>{field}</id><value>{escape(text)}</value></custom_field>"
        body = f"<request>{auth}<contact><name>x</name><custom_fields>{value}</custom_fields></contact></request>"
        added = store.raw("add-contact", body.encode())
    contact_id = added.contact()["id"]
    for fmt in ("xml", "json"):
        api = Api(client, key, hash_value, fmt)
        name = api.ok("get-group", {"group": {"id": group}}).group()["name"]
        assert name == text.strip()
        read = api.ok("get-contact", {"contact": {"id": contact_id}}).contact()
        assert read["custom_fields"] == [{"id": field, "value": text}]
