"""32 concurrent clients for 20 seconds against a real ``rehber serve`` with 2 workers.

Every client mixes writes on the same groups (four shared top-level groups, and sub-groups
that any client may nest under, move and subscribe into) with reads: add, edit, delete
contacts; subscribe and unsubscribe; add-contacts; add, move, rename and delete groups;
group pages. Afterwards:

* no response was a 5xx (SQLite busy/locked is retried inside the server, never shown), and
  every response had a status its operation allows;
* no lost memberships: each (group, contact) pair is written by exactly one client (see
  :class:`Client`), so the pair must exist exactly when that client's last successful write
  added it and both the group and the contact still exist; the stored pairs equal that set;
* no lost or phantom contacts: the stored contacts are exactly those created and not deleted;
* every group's stored count equals its true number of members, and get-groups shows every
  group exactly once with that count (so no cycle or orphan appeared);
* no id was handed out twice; SQLite's integrity and foreign-key checks pass.
"""

from __future__ import annotations

import contextlib
import random
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from rehber.server.app import Services
from tests.conftest import Database
from tests.support.api import Api, Reply
from tests.support.server import running_server

# Load-heavy tests share one xdist worker, so the speed bounds of the hostile-input test are
# never measured while a concurrency or crash test saturates the other core.
pytestmark = pytest.mark.xdist_group("heavy")

CLIENTS = 32
SECONDS = 20.0
SHARED_GROUPS = 4
SEED = 20261123


@dataclass
class World:
    """What all clients can see: shared groups, and registries of sub-groups and public
    contacts (appended to from many threads; list.append is atomic)."""

    shared: list[int]
    subgroups: list[int] = field(default_factory=list)
    public: list[tuple[int, int]] = field(default_factory=list)  # (owner, contact)


@dataclass
class Outcome:
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    unexpected: list[tuple[str, int, bytes]] = field(default_factory=list)


class Client:
    """One client thread and its model of the pairs it owns.

    Ownership of a (group, contact) pair: the owner of a *private* contact writes all its
    pairs (add-contact, edit-contact replacing groups, subscribe into any group); the owner
    of a *public* contact writes its pairs with the shared groups only; the owner of a
    sub-group writes the pairs of other clients' public contacts with it. No pair has two
    writers, so each owner's last successful write decides the pair.
    """

    def __init__(self, index: int, api: Api, world: World, deadline: float) -> None:
        self.index = index
        self.api = api
        self.world = world
        self.deadline = deadline
        self.rng = random.Random(SEED + index)
        self.private: dict[int, set[int]] = {}
        self.public: set[int] = set()
        self.groups: set[int] = set()
        self.pairs: dict[tuple[int, int], bool] = {}
        self.created_contacts: list[int] = []
        self.created_groups: list[int] = []
        self.deleted_contacts: set[int] = set()
        self.deleted_groups: set[int] = set()
        self.outcome = Outcome()

    # -- plumbing ---------------------------------------------------------------------------

    def call(self, op: str, allowed: Iterable[int], action: str, payload: dict[str, Any]) -> Reply:
        self.api.fmt = self.rng.choice(("xml", "json"))
        reply = self.api.call(action, payload)
        self.outcome.statuses[(op, reply.status)] += 1
        if reply.status not in allowed or reply.code != reply.status:
            self.outcome.unexpected.append((op, reply.status, reply.body[:300]))
        return reply

    @staticmethod
    def ids(values: list[int]) -> Any:
        return {"id": values}  # read the same in both formats, and present even when empty

    def some_groups(self, most: int = 3, shared_only: bool = False) -> list[int]:
        pool = list(self.world.shared)
        if not shared_only and self.world.subgroups:
            pool += self.rng.sample(self.world.subgroups, min(6, len(self.world.subgroups)))
        return self.rng.sample(pool, self.rng.randint(0, min(most, len(pool))))

    def set_pairs(self, groups: Iterable[int], contacts: Iterable[int], value: bool) -> None:
        for group in groups:
            for contact in contacts:
                self.pairs[(group, contact)] = value

    def remember_contact(self, contact: int, groups: list[int], public: bool) -> None:
        self.created_contacts.append(contact)
        if public:
            self.public.add(contact)
            self.world.public.append((self.index, contact))
        else:
            self.private[contact] = set(groups)
        self.set_pairs(groups, [contact], True)

    # -- operations -------------------------------------------------------------------------

    def add_contact(self) -> None:
        public = self.rng.random() < 0.3
        groups = self.some_groups(shared_only=public)
        payload = {"name": f"k{self.index}", "groups": self.ids(groups)}
        reply = self.call("add-contact", (200, 463), "add-contact", {"contact": payload})
        if reply.status == 200:
            self.remember_contact(reply.contact()["id"], groups, public)

    def edit_contact(self) -> None:
        if not self.private:
            return
        contact = self.rng.choice(sorted(self.private))
        groups = self.some_groups()
        payload = {"id": contact, "name": f"e{self.index}", "groups": self.ids(groups)}
        reply = self.call("edit-contact", (200, 463), "edit-contact", {"contact": payload})
        if reply.status == 200:  # the contact's groups are now exactly ``groups``
            self.set_pairs({g for g, c in self.pairs if c == contact}, [contact], False)
            self.set_pairs(groups, [contact], True)
            self.private[contact] = set(groups)

    def change_own(self, subscribe: bool) -> None:
        own = sorted(self.private) + sorted(self.public)
        if not own:
            return
        contacts = self.rng.sample(own, self.rng.randint(1, min(3, len(own))))
        shared_only = any(c in self.public for c in contacts)
        groups = self.some_groups(most=2, shared_only=shared_only) or [self.world.shared[0]]
        action = "subscribe-group" if subscribe else "unsubscribe-group"
        payload = {"contact": {"id": contacts}, "group": {"id": groups}}
        if self.call(action, (200, 463), action, payload).status == 200:
            self.set_pairs(groups, contacts, subscribe)
            for contact in contacts:
                if contact in self.private:
                    changed = self.private[contact]
                    changed.update(groups) if subscribe else changed.difference_update(groups)

    def change_foreign(self, subscribe: bool) -> None:
        others = [c for owner, c in self.world.public if owner != self.index]
        if not others or not self.groups:
            return
        contacts = self.rng.sample(others, min(2, len(others)))
        group = self.rng.choice(sorted(self.groups))
        action = "subscribe-group" if subscribe else "unsubscribe-group"
        payload = {"contact": {"id": contacts}, "group": {"id": group}}
        if self.call(f"foreign-{action}", (200, 463, 465), action, payload).status == 200:
            self.set_pairs([group], contacts, subscribe)

    def delete_contacts(self) -> None:
        own = sorted(self.private) + sorted(self.public)
        if not own:
            return
        doomed = self.rng.sample(own, self.rng.randint(1, min(3, len(own))))
        if len(doomed) == 1:
            reply = self.call(
                "delete-contact", (200,), "delete-contact", {"contact": {"id": doomed[0]}}
            )
        else:
            payload = {"contacts": {"contact": [{"id": c} for c in doomed]}}
            reply = self.call("delete-contacts", (200,), "delete-contacts", payload)
        if reply.status == 200:
            for contact in doomed:
                self.private.pop(contact, None)
                self.public.discard(contact)
                self.deleted_contacts.add(contact)

    def add_contacts(self) -> None:
        items = [(f"b{self.index}", self.some_groups()) for _ in range(self.rng.randint(2, 15))]
        contacts = [{"name": name, "groups": self.ids(groups)} for name, groups in items]
        reply = self.call(
            "add-contacts", (200,), "add-contacts", {"contacts": {"contact": contacts}}
        )
        if reply.status != 200:
            return
        for (_, groups), result in zip(items, reply.bulk(), strict=True):
            if result["code"] == 200:
                self.remember_contact(result["id"], groups, public=False)
            elif result["code"] != 463:
                self.outcome.unexpected.append(("add-contacts item", result["code"], b""))

    def add_group(self) -> None:
        parent = self.rng.choice(self.world.shared + self.world.subgroups[-20:])
        payload = {"group": {"name": f"g{self.index}", "parent": parent}}
        reply = self.call("add-group", (200, 463), "add-group", payload)
        if reply.status == 200:
            group = reply.group()["id"]
            self.groups.add(group)
            self.created_groups.append(group)
            self.world.subgroups.append(group)

    def move_group(self) -> None:
        if not self.groups:
            return
        group = self.rng.choice(sorted(self.groups))
        parent: int | str = self.rng.choice([*self.world.shared, *self.world.subgroups[-20:], ""])
        payload = {"group": {"id": group, "name": f"m{self.index}", "parent": parent}}
        self.call("move-group", (200, 463), "edit-group", payload)

    def rename_shared(self) -> None:
        payload = {"group": {"id": self.rng.choice(self.world.shared), "name": f"s{self.index}"}}
        self.call("rename-group", (200,), "edit-group", payload)

    def delete_group(self) -> None:
        if not self.groups:
            return
        group = self.rng.choice(sorted(self.groups))
        reply = self.call("delete-group", (200, 463), "delete-group", {"group": {"id": group}})
        self.groups.discard(group)
        if reply.status == 200:
            self.deleted_groups.add(group)

    def read_page(self) -> None:
        payload = {"group": {"id": self.rng.choice(self.world.shared), "page": 1, "rowCount": 50}}
        self.call("get-group-contacts", (200, 465), "get-group-contacts", payload)

    def run(self) -> None:
        ops: list[tuple[Callable[[], None], int]] = [
            (self.add_contact, 8),
            (self.edit_contact, 8),
            (lambda: self.change_own(True), 10),
            (lambda: self.change_own(False), 8),
            (lambda: self.change_foreign(True), 6),
            (lambda: self.change_foreign(False), 4),
            (self.delete_contacts, 5),
            (self.add_contacts, 2),
            (self.add_group, 3),
            (self.move_group, 3),
            (self.rename_shared, 3),
            (self.delete_group, 2),
            (self.read_page, 4),
        ]
        functions, weights = zip(*ops, strict=True)
        while time.monotonic() < self.deadline:
            self.rng.choices(functions, weights)[0]()


def _rows(database: Database, services: Services, query: str, account: int) -> list[Any]:
    with services.store.engine.connect() as conn:
        return list(conn.execute(sa.text(query), {"account": account}))


@pytest.mark.slow
def test_concurrent_clients_keep_the_address_book_consistent(
    database: Database, services: Services, tmp_path: Path
) -> None:
    created = services.accounts.create_account("crowd")
    account = created.account.id
    log = tmp_path / "server.log"
    crashed: list[tuple[int, BaseException]] = []

    def run(client: Client) -> None:
        try:
            client.run()
        except Exception as exc:  # a client that dies leaves its model unsure: the test fails
            crashed.append((client.index, exc))

    with (
        running_server(database.url, database.schema, log, "--workers", "2") as base,
        contextlib.ExitStack() as connections,
    ):
        # One HTTP client (and connection) per client thread, as separate users would have.
        def http() -> httpx.Client:
            return connections.enter_context(httpx.Client(base_url=base, timeout=60))

        key, hash_value = created.credentials.key, created.credentials.hash
        setup = Api(http(), key, hash_value, "json")
        world = World([setup.add_group(f"Ortak {i}") for i in range(SHARED_GROUPS)])
        deadline = time.monotonic() + SECONDS
        clients = [
            Client(i, Api(http(), key, hash_value, "json"), world, deadline) for i in range(CLIENTS)
        ]
        threads = [
            threading.Thread(target=run, args=(c,), name=f"client-{c.index}") for c in clients
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        tree = setup.ok("get-groups").groups()
    server_log = log.read_text()
    assert not crashed, crashed

    statuses: Counter[tuple[str, int]] = Counter()
    for client in clients:
        statuses.update(client.outcome.statuses)
    total = sum(statuses.values())
    unexpected = [u for c in clients for u in c.outcome.unexpected]
    print(f"\n{database.kind}: {total} requests in {SECONDS:.0f} s by {CLIENTS} clients")
    for (op, status), n in sorted(statuses.items()):
        print(f"  {op:32} {status} x{n}")
    assert not unexpected, unexpected[:10]
    assert not [s for (_, s) in statuses if s >= 500]
    assert "locked" not in server_log and "busy" not in server_log.lower()
    assert "Traceback" not in server_log, server_log[-3000:]

    # No id handed out twice.
    contact_ids = [i for c in clients for i in c.created_contacts]
    group_ids = [i for c in clients for i in c.created_groups] + world.shared
    assert len(contact_ids) == len(set(contact_ids))
    assert len(group_ids) == len(set(group_ids))

    # Contacts: exactly those created and not deleted.
    stored_contacts = {
        r[0]
        for r in _rows(
            database, services, "SELECT id FROM contacts WHERE account_id = :account", account
        )
    }
    deleted = {i for c in clients for i in c.deleted_contacts}
    assert stored_contacts == set(contact_ids) - deleted

    # Groups: counts are true member counts; the tree shows every group once, with that count.
    groups = {
        r[0]: (r[1], r[2])
        for r in _rows(
            database,
            services,
            "SELECT id, parent_id, member_count FROM groups WHERE account_id = :account",
            account,
        )
    }
    pairs = {
        (r[0], r[1])
        for r in _rows(
            database,
            services,
            "SELECT group_id, contact_id FROM memberships WHERE account_id = :account",
            account,
        )
    }
    true_counts = Counter(g for g, _ in pairs)
    wrong = {
        g: (count, true_counts[g]) for g, (_, count) in groups.items() if count != true_counts[g]
    }
    assert not wrong, f"stored vs true member counts: {wrong}"
    assert not {g for c in clients for g in c.deleted_groups} & set(groups)
    assert set(world.shared) <= set(groups)
    listed: dict[int, int] = {}
    stack = list(tree)
    while stack:
        node = stack.pop()
        assert node["id"] not in listed
        listed[node["id"]] = node["count"]
        stack.extend(node.get("children", []))
    assert listed == {g: count for g, (_, count) in groups.items()}, (
        "a group is missing from the tree (cycle or orphan)"
    )

    # Memberships: exactly the pairs whose owner last added them, where both ends still exist.
    expected = {
        (g, c)
        for client in clients
        for (g, c), present in client.pairs.items()
        if present and g in groups and c in stored_contacts
    }
    lost, phantom = expected - pairs, pairs - expected
    assert not lost and not phantom, (sorted(lost)[:10], sorted(phantom)[:10])

    if database.kind == "sqlite":
        conn = sqlite3.connect(database.url.removeprefix("sqlite:///"))
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        conn.close()
