"""Two conflicting writes released at the same instant, many times, on both databases.

The 32-client soak (``test_concurrency.py``) mixes everything; these pin the pairs whose
windows are too narrow for a soak to hit reliably. Each round starts both operations from a
barrier in two threads (each with its own connection) and then checks the invariant the
pair could break. On PostgreSQL (READ COMMITTED) the first two broke before the fixes in
``Repository.delete_contacts`` and ``Repository.lock_group_tree``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from rehber import commands as c
from rehber.codes import ServiceError
from rehber.server.app import Services
from rehber.types import Account

ROUNDS = 60


def race(first: Callable[[], object], second: Callable[[], object]) -> list[int]:
    """Run both at once; the status each ended with (200 or its ServiceError code)."""
    barrier = threading.Barrier(2)
    codes = [0, 0]

    def run(index: int, work: Callable[[], object]) -> None:
        barrier.wait()
        try:
            work()
            codes[index] = 200
        except ServiceError as exc:
            codes[index] = exc.code

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate((first, second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return codes


def counts_are_true(services: Services, account: Account) -> None:
    stored = {g.id: g.count for g in services.store.read(lambda r: r.list_groups(account.id))}
    rows = services.store.read(
        lambda r: r.sql.rows(
            "SELECT group_id, count(*) FROM memberships WHERE account_id = :a GROUP BY group_id",
            {"a": account.id},
        )
    )
    true = {g: 0 for g in stored} | {g: n for g, n in rows}
    assert stored == true


@pytest.fixture
def owner(services: Services) -> Account:
    return services.accounts.create_account("race").account


@pytest.mark.slow
def test_crossing_moves_never_make_a_cycle(services: Services, owner: Account) -> None:
    backend = services.backend
    outcomes = set()
    for _ in range(ROUNDS):
        a = backend.add_group(owner, c.AddGroup("A", None)).id
        b = backend.add_group(owner, c.AddGroup("B", None)).id
        codes = race(
            lambda a=a, b=b: backend.edit_group(owner, c.EditGroup(a, "A", b)),
            lambda a=a, b=b: backend.edit_group(owner, c.EditGroup(b, "B", a)),
        )
        outcomes.add(tuple(sorted(codes)))
        parents = {g.id: g.parent for g in services.store.read(lambda r: r.list_groups(owner.id))}
        assert not (parents[a] == b and parents[b] == a), codes
    assert outcomes <= {(200, 463)}


@pytest.mark.slow
@pytest.mark.parametrize("membership", ["subscribe", "unsubscribe"])
def test_deleting_a_contact_while_its_membership_changes_keeps_counts_true(
    services: Services, owner: Account, membership: str
) -> None:
    backend = services.backend
    group = backend.add_group(owner, c.AddGroup("G", None)).id
    other = backend.add_group(owner, c.AddGroup("H", None)).id
    for _ in range(ROUNDS):
        member_of = (group, other) if membership == "unsubscribe" else (other,)
        fields = c.ContactFields(name="x", groups=member_of)
        contact = backend.add_contact(owner, c.AddContact(fields)).id
        change = (
            c.SubscribeGroup((group,), (contact,))
            if membership == "subscribe"
            else c.UnsubscribeGroup((group,), (contact,))
        )
        handler = getattr(backend, f"{membership}_group")
        race(
            lambda change=change, handler=handler: handler(owner, change),
            lambda contact=contact: backend.delete_contacts(owner, c.DeleteContacts((contact,))),
        )
    counts_are_true(services, owner)
    assert backend.get_group(owner, c.GetGroup(group)).count == 0


@pytest.mark.slow
def test_the_same_membership_from_two_sides_counts_once(services: Services, owner: Account) -> None:
    backend = services.backend
    group = backend.add_group(owner, c.AddGroup("G", None)).id
    for _ in range(ROUNDS):
        contact = backend.add_contact(owner, c.AddContact(c.ContactFields(name="x"))).id
        race(
            lambda contact=contact: backend.subscribe_group(
                owner, c.SubscribeGroup((group,), (contact,))
            ),
            lambda contact=contact: backend.edit_contact(
                owner, c.EditContact(contact, c.ContactFields(groups=(group,)))
            ),
        )
    counts_are_true(services, owner)
    assert backend.get_group(owner, c.GetGroup(group)).count == ROUNDS


@pytest.mark.slow
def test_adding_into_a_group_being_deleted_leaves_no_orphan(
    services: Services, owner: Account
) -> None:
    backend = services.backend
    for _ in range(ROUNDS):
        parent = backend.add_group(owner, c.AddGroup("P", None)).id
        race(
            lambda parent=parent: backend.add_group(owner, c.AddGroup("child", parent)),
            lambda parent=parent: backend.delete_group(owner, c.DeleteGroup(parent)),
        )
        doomed = backend.add_group(owner, c.AddGroup("D", None)).id
        contact = backend.add_contact(owner, c.AddContact(c.ContactFields(name="x"))).id
        race(
            lambda doomed=doomed, contact=contact: backend.subscribe_group(
                owner, c.SubscribeGroup((doomed,), (contact,))
            ),
            lambda doomed=doomed: backend.delete_group(owner, c.DeleteGroup(doomed)),
        )
    groups = {g.id: g.parent for g in services.store.read(lambda r: r.list_groups(owner.id))}
    assert all(parent is None or parent in groups for parent in groups.values())
    assert groups == {}  # every parent and every doomed group is gone, children with them
    counts_are_true(services, owner)
