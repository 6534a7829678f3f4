"""``client.groups``: every method, through both clients, both formats, in-process and over HTTP."""

from __future__ import annotations

from dataclasses import replace

import pytest

import rehber
from rehber import Group
from tests.client.conftest import Api


def test_create_list_get_the_tree(api: Api) -> None:
    customers = api.groups.create("  Müşteriler  ")
    vip = api.groups.create("VIP <&> ]]>", parent=customers.id)
    gold = api.groups.create("Altın", parent=vip.id)
    suppliers = api.groups.create("Tedarikçiler", parent=None)
    assert customers == Group(customers.id, "Müşteriler")
    assert vip == Group(vip.id, "VIP <&> ]]>", parent=customers.id)
    api.contacts.add(name="Ayşe", groups=[customers.id, gold.id])

    listed = api.groups.list()

    gold_node = Group(gold.id, "Altın", count=1, parent=vip.id)
    vip_node = Group(vip.id, "VIP <&> ]]>", parent=customers.id, children=(gold_node,))
    assert listed == [
        Group(customers.id, "Müşteriler", count=1, children=(vip_node,)),
        Group(suppliers.id, "Tedarikçiler"),
    ]
    assert api.groups.get(vip.id) == replace(vip_node, parent=None)  # parent not on the wire
    assert api.groups.get(gold.id) == Group(gold.id, "Altın", count=1)  # parent not on the wire


def test_list_is_empty_for_a_new_account(api: Api) -> None:
    assert api.groups.list() == []


def test_create_errors(api: Api) -> None:
    with pytest.raises(rehber.GroupNameRequiredError) as caught:
        api.groups.create("   ")
    assert (caught.value.code, caught.value.message) == (461, "Grup adını boş bırakamazsınız.")
    with pytest.raises(rehber.GroupNotFoundError):
        api.groups.create("Orphan", parent=987654321)
    with pytest.raises(rehber.ValidationError):
        api.groups.create("x" * 256)
    assert api.groups.list() == []


def test_get_unknown_group(api: Api) -> None:
    with pytest.raises(rehber.GroupNotFoundError) as caught:
        api.groups.get(987654321)
    assert caught.value.code == caught.value.status_code == 463


def test_edit_renames_moves_and_keeps(api: Api) -> None:
    a = api.groups.create("A")
    b = api.groups.create("B", parent=a.id)

    renamed = api.groups.edit(b.id, name="B2")
    assert renamed == Group(b.id, "B2")
    assert api.groups.get(a.id).children == (Group(b.id, "B2", parent=a.id),)  # parent kept

    moved = api.groups.edit(b.id, name="B3", parent=None)
    assert moved == Group(b.id, "B3")
    assert [g.id for g in api.groups.list()] == [a.id, b.id]

    back = api.groups.edit(b.id, name="B4", parent=a.id)
    assert back.parent == a.id
    assert api.groups.get(a.id).children == (Group(b.id, "B4", parent=a.id),)


def test_edit_errors(api: Api) -> None:
    a = api.groups.create("A")
    b = api.groups.create("B", parent=a.id)
    with pytest.raises(rehber.GroupNameRequiredError):
        api.groups.edit(a.id, name="")
    with pytest.raises(rehber.GroupNotFoundError):
        api.groups.edit(a.id, name="A", parent=b.id)  # would be its own ancestor
    with pytest.raises(rehber.GroupNotFoundError):
        api.groups.edit(987654321, name="X")
    assert api.groups.get(a.id).name == "A"


def test_delete_removes_the_subtree_and_keeps_contacts(api: Api) -> None:
    a = api.groups.create("A")
    b = api.groups.create("B", parent=a.id)
    keep = api.groups.create("Keep")
    contact = api.contacts.add(name="Ayşe", groups=[b.id, keep.id])

    assert api.groups.delete(a.id) is None

    assert api.groups.list() == [Group(keep.id, "Keep", count=1)]
    assert api.contacts.get(contact.id).groups == (keep.id,)
    with pytest.raises(rehber.GroupNotFoundError):
        api.groups.delete(a.id)


def test_contacts_pages_through_the_group(api: Api) -> None:
    group = api.groups.create("Big")
    other = api.groups.create("Other")
    ids = [api.contacts.add(name=f"Kişi {i}", groups=[group.id]).id for i in range(7)]
    api.contacts.add(name="Elsewhere", groups=[other.id])

    assert [c.id for c in api.groups.contacts(group.id, page_size=3)] == ids
    assert [len(p) for p in api.groups.contacts(group.id, page_size=3).pages()] == [3, 3, 1]
    assert [len(p) for p in api.groups.contacts(group.id, page_size=7).pages()] == [7]
    assert [c.name for c in api.groups.contacts(group.id)][:2] == ["Kişi 0", "Kişi 1"]


def test_contacts_of_an_empty_or_unknown_group(api: Api) -> None:
    empty = api.groups.create("Empty")
    assert list(api.groups.contacts(empty.id)) == []
    assert list(api.groups.contacts(empty.id).pages()) == []
    pages = api.groups.contacts(987654321)  # nothing is fetched until iteration
    with pytest.raises(rehber.GroupNotFoundError):
        list(pages)


@pytest.mark.parametrize("size", [0, 1001])
def test_contacts_page_size_is_checked(api: Api, size: int) -> None:
    with pytest.raises(ValueError, match="page_size"):
        api.groups.contacts(1, page_size=size)


def test_subscribe_and_unsubscribe(api: Api) -> None:
    group = api.groups.create("G")
    first = api.contacts.add(name="Bir").id
    second = api.contacts.add(name="İki").id

    assert api.groups.subscribe(group.id, [first, second]) is None
    api.groups.subscribe(group.id, iter([first]))  # a member again: fine
    assert [c.id for c in api.groups.contacts(group.id)] == [first, second]

    assert api.groups.unsubscribe(group.id, [first]) is None
    api.groups.unsubscribe(group.id, [first])  # not a member: fine
    assert [c.id for c in api.groups.contacts(group.id)] == [second]


def test_subscribe_errors_change_nothing(api: Api) -> None:
    group = api.groups.create("G")
    contact = api.contacts.add(name="Bir").id
    with pytest.raises(rehber.ContactNotFoundError):
        api.groups.subscribe(group.id, [contact, 987654321])
    with pytest.raises(rehber.GroupNotFoundError):
        api.groups.subscribe(987654321, [contact])
    with pytest.raises(rehber.GroupNotFoundError):
        api.groups.unsubscribe(987654321, [contact])
    assert api.contacts.get(contact).groups == ()


def test_ids_must_be_integers(api: Api) -> None:
    with pytest.raises(TypeError):
        api.groups.get("5")
    with pytest.raises(TypeError):
        api.groups.subscribe(1, "12")
    with pytest.raises(TypeError):
        api.groups.delete(True)
