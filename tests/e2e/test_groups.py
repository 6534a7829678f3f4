"""Groups end to end: tree, counts, editing, moving, deleting — both formats, both databases."""

from __future__ import annotations

from typing import Any

from rehber.server.app import Services
from tests.support.api import Api, envelope
from tests.support.snapshot import snapshot


def test_add_group_returns_id_and_trimmed_name(api: Api) -> None:
    reply = api.ok("add-group", {"group": {"name": "  Müşteriler  "}})
    group = reply.group()
    assert group["name"] == "Müşteriler"
    assert group["id"] > 0
    assert reply.keys() == {"status", "group"}


def test_get_groups_builds_recursive_tree_with_direct_counts(api: Api) -> None:
    top = api.add_group("Müşteriler")
    child = api.add_group("VIP", top)
    grandchild = api.add_group("Altın", child)
    other = api.add_group("Tedarikçiler")
    api.add_contact(name="Ayşe", groups=[top, child])
    api.add_contact(name="Mehmet", groups=[grandchild])

    groups = api.ok("get-groups").groups()
    assert [g["id"] for g in groups] == [top, other]
    assert groups[0]["count"] == 1
    assert "children" not in groups[1]
    [vip] = groups[0]["children"]
    assert (vip["id"], vip["count"]) == (child, 1)
    [gold] = vip["children"]
    assert (gold["id"], gold["name"], gold["count"]) == (grandchild, "Altın", 1)
    assert "children" not in gold


def test_get_groups_empty_account(api: Api) -> None:
    assert api.ok("get-groups").groups() == []


def test_get_group_shows_subtree(api: Api) -> None:
    top = api.add_group("A")
    child = api.add_group("B", top)
    group = api.ok("get-group", {"group": {"id": child}}).group()
    assert group == {"id": child, "name": "B", "count": 0}
    group = api.ok("get-group", {"group": {"id": str(top)}}).group()
    assert group["children"] == [{"id": child, "name": "B", "count": 0}]


def test_get_group_nests_every_depth(api: Api) -> None:
    """One and two levels are read without recursion, deeper trees with it: same answers."""
    top = api.add_group("A")
    child = api.add_group("B", top)
    sibling = api.add_group("B2", top)
    grandchild = api.add_group("C", child)
    great = api.add_group("D", grandchild)
    api.add_contact(name="Ayşe", groups=[grandchild, sibling])

    def tree(group_id: int) -> dict[str, Any]:
        return api.ok("get-group", {"group": {"id": group_id}}).group()

    d = {"id": great, "name": "D", "count": 0}
    c = {"id": grandchild, "name": "C", "count": 1, "children": [d]}
    b = {"id": child, "name": "B", "count": 0, "children": [c]}
    b2 = {"id": sibling, "name": "B2", "count": 1}
    assert tree(top) == {"id": top, "name": "A", "count": 0, "children": [b, b2]}
    assert tree(child) == b
    assert tree(grandchild) == c
    assert tree(great) == d
    assert tree(sibling) == b2


def test_get_group_lists_children_by_id_after_a_move(api: Api) -> None:
    older = api.add_group("Eski")
    parent = api.add_group("Ana")
    api.ok("edit-group", {"group": {"id": older, "name": "Eski", "parent": parent}})
    newer = api.add_group("Yeni", parent)
    group = api.ok("get-group", {"group": {"id": parent}}).group()
    assert [g["id"] for g in group["children"]] == [older, newer]
    assert older < parent < newer


def test_edit_group_renames_and_keeps_parent_when_absent(api: Api) -> None:
    top = api.add_group("A")
    child = api.add_group("B", top)
    reply = api.ok("edit-group", {"group": {"id": child, "name": "B2"}})
    assert reply.group() == {"id": child, "name": "B2"}
    [a] = api.ok("get-groups").groups()
    assert a["children"][0]["name"] == "B2"


def test_edit_group_parent_zero_or_empty_moves_to_top(api: Api) -> None:
    top = api.add_group("A")
    child = api.add_group("B", top)
    api.ok("edit-group", {"group": {"id": child, "name": "B", "parent": 0}})
    assert [g["id"] for g in api.ok("get-groups").groups()] == [top, child]
    api.ok("edit-group", {"group": {"id": child, "name": "B", "parent": top}})
    api.ok("edit-group", {"group": {"id": child, "name": "B", "parent": ""}})
    assert [g["id"] for g in api.ok("get-groups").groups()] == [top, child]


def test_edit_group_cannot_become_its_own_ancestor(api: Api, services: Services) -> None:
    top = api.add_group("A")
    child = api.add_group("B", top)
    before = snapshot(services)
    assert api.call("edit-group", {"group": {"id": top, "name": "A", "parent": child}}).code == 463
    assert api.call("edit-group", {"group": {"id": top, "name": "A", "parent": top}}).code == 463
    assert snapshot(services) == before


def test_delete_group_removes_descendants_but_keeps_contacts(api: Api) -> None:
    top = api.add_group("A")
    child = api.add_group("B", top)
    keep = api.add_group("C")
    contact = api.add_contact(name="Ayşe", groups=[child, keep])
    api.ok("delete-group", {"group": {"id": top}})
    assert [g["id"] for g in api.ok("get-groups").groups()] == [keep]
    assert api.call("get-group", {"group": {"id": child}}).code == 463
    fetched = api.ok("get-contact", {"contact": {"id": contact["id"]}}).contact()
    assert fetched["groups"] == [keep]


def _members(api: Api, group: int, **paging: Any) -> list[int]:
    return api.ok("get-group-contacts", {"group": {"id": group, **paging}}).contact_ids()


def test_group_contacts_are_paged_by_ascending_id(api: Api) -> None:
    group = api.add_group("G")
    ids = [api.add_contact(name=f"K{i}", groups=[group])["id"] for i in range(5)]
    assert _members(api, group) == ids
    assert _members(api, group, page=1, rowCount=2) == ids[:2]
    assert _members(api, group, page="2", rowCount="2") == ids[2:4]
    assert _members(api, group, page=3, rowCount=2) == ids[4:]
    assert (
        api.call("get-group-contacts", {"group": {"id": group, "page": 4, "rowCount": 2}}).code
        == 465
    )


def test_group_contacts_rowcount_above_1000_is_clamped(api: Api) -> None:
    group = api.add_group("G")
    contact = api.add_contact(name="A", groups=[group])
    assert _members(api, group, rowCount=5000) == [contact["id"]]


def test_group_contacts_excludes_subgroup_members(api: Api) -> None:
    top = api.add_group("A")
    child = api.add_group("B", top)
    api.add_contact(name="Only child", groups=[child])
    assert api.call("get-group-contacts", {"group": {"id": top}}).code == 465


def test_subscribe_and_unsubscribe_keep_counts(api: Api) -> None:
    group = api.add_group("G")
    a = api.add_contact(name="A")["id"]
    b = api.add_contact(name="B")["id"]
    api.ok("subscribe-group", {"contact": [{"id": a}, {"id": b}], "group": [{"id": group}]})
    api.ok("subscribe-group", {"contact": {"id": a}, "group": {"id": group}})  # again: no error
    assert api.ok("get-groups").groups()[0]["count"] == 2
    assert _members(api, group) == [a, b]
    api.ok("unsubscribe-group", {"contact": {"id": a}, "group": {"id": group}})
    api.ok("unsubscribe-group", {"contact": {"id": a}, "group": {"id": group}})  # non-member
    assert api.ok("get-groups").groups()[0]["count"] == 1
    assert _members(api, group) == [b]


def test_subscribe_with_unknown_contact_changes_nothing(api: Api, services: Services) -> None:
    group = api.add_group("G")
    a = api.add_contact(name="A")["id"]
    before = snapshot(services)
    reply = api.call(
        "subscribe-group", {"contact": [{"id": a}, {"id": 999999}], "group": {"id": group}}
    )
    assert reply.code == 465
    assert snapshot(services) == before


def test_deep_pages_follow_membership_changes(api: Api, services: Services) -> None:
    """Pages beyond the 5,000th member are served from cached page boundaries; every change
    of membership must retire them."""
    group = api.add_group("Büyük")
    items = [{"name": f"K{i}", "groups": {"group": {"id": group}}} for i in range(7_100)]
    ids = [r["id"] for r in api.ok("add-contacts", {"contacts": {"contact": items}}).bulk()]
    page = {"group": {"id": group, "page": 8, "rowCount": 1000}}
    assert api.ok("get-group-contacts", page).contact_ids() == ids[7000:]
    api.ok("unsubscribe-group", {"contact": {"id": ids[10]}, "group": {"id": group}})
    assert api.ok("get-group-contacts", page).contact_ids() == ids[7001:]
    page6 = {"group": {"id": group, "page": 6, "rowCount": 1000}}
    assert api.ok("get-group-contacts", page6).contact_ids() == ids[5001:6001]
    api.ok("delete-contact", {"contact": {"id": ids[7050]}})
    assert api.ok("get-group-contacts", page).contact_ids() == ids[7001:7050] + ids[7051:]
    odd = {"group": {"id": group, "page": 21, "rowCount": 350}}
    assert (
        api.ok("get-group-contacts", odd).contact_ids()
        == [i for i in ids if i not in (ids[10], ids[7050])][7000:7098]
    )
    past = {"group": {"id": group, "page": 9, "rowCount": 1000}}
    assert api.call("get-group-contacts", past).code == 465


def test_a_very_deep_group_chain(api: Api, services: Services, account: object) -> None:
    """Groups nest to any depth: deeper than Python's recursion limit still works."""
    from rehber.commands import GetGroups

    new_account = account.account  # type: ignore[attr-defined]

    def chain(repo: object) -> int:
        parent = None
        for depth in range(1500):
            parent = repo.insert_group(new_account.id, f"L{depth}", parent)  # type: ignore[attr-defined]
        return parent  # type: ignore[return-value]

    deepest = services.store.write(chain)
    [node] = services.backend.get_groups(new_account, GetGroups())
    depth = 0
    while node.children:
        [node], depth = node.children, depth + 1
    assert (depth, node.id) == (1499, deepest)
    # Over the wire the tree is too deep for stock parsers (lxml stops at 256 levels, orjson
    # at 1024), so check the status line and the closing of the body.
    response = api.client.post(
        api.path("get-groups"), content=envelope(api.fmt, api.key, api.hash, {})
    )
    assert response.status_code == 200
    assert response.content.rstrip().endswith(b"</response>" if api.fmt == "xml" else b"]}}")
    assert api.ok("get-group", {"group": {"id": deepest}}).group()["name"] == "L1499"
