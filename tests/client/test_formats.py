"""XML and JSON give identical results for every method, and so do both response generations.

One scenario calls every public method of ``client.groups`` and ``client.contacts`` (results
and errors alike) and records what came back. It runs as four fresh accounts: XML and JSON,
each with current and legacy response shapes. Ids differ between accounts, so each id is
recorded by the name the scenario gave the object it belongs to; everything else must match
exactly.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any

import pytest

import rehber
from rehber.client.resources import Contacts, Groups
from tests.client.conftest import Connector

# Which kind of object each id-holding field refers to (id sequences are independent).
_KINDS: dict[tuple[type, str], str] = {
    (rehber.Group, "id"): "group",
    (rehber.Group, "parent"): "group",
    (rehber.Contact, "id"): "contact",
    (rehber.Contact, "groups"): "group",
    (rehber.FieldValue, "id"): "field",
    (rehber.BulkItemResult, "id"): "contact",
}


class Trace:
    """Records each call's outcome, with ids replaced by the scenario's names for them."""

    def __init__(self) -> None:
        self.names: dict[tuple[str, int], str] = {}
        self.entries: list[tuple[str, Any]] = []

    def name(self, value: int, label: str, kind: str) -> int:
        self.names[kind, value] = label
        return value

    def call(self, method: str, thunk: Callable[[], Any]) -> Any:
        """Run ``thunk``, record its outcome; a group it creates is named after its name."""
        try:
            result = thunk()
        except rehber.APIStatusError as error:
            self.entries.append((method, (type(error).__name__, error.code, error.message)))
            return None
        if method == "groups.create":
            self.name(result.id, result.name, "group")
        self.entries.append((method, self._plain(result)))
        return result

    def _plain(self, value: Any, kind: str | None = None) -> Any:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {
                f.name: self._plain(getattr(value, f.name), _KINDS.get((type(value), f.name)))
                for f in dataclasses.fields(value)
            }
        if isinstance(value, (list, tuple)):
            return [self._plain(item, kind) for item in value]
        if isinstance(value, int) and kind is not None:
            return self.names.get((kind, value), f"unnamed {kind}")
        return value


def scenario(client: Any, field_ids: tuple[int, int], t: Trace) -> None:
    note = t.name(field_ids[0], "note", "field")
    segment = t.name(field_ids[1], "segment", "field")
    top = t.call("groups.create", lambda: client.groups.create(" Müşteriler ")).id
    sub = t.call("groups.create", lambda: client.groups.create("VIP <&>", top)).id
    spare = t.call("groups.create", lambda: client.groups.create("Spare")).id
    t.call("groups.create", lambda: client.groups.create(""))
    ayse = t.call(
        "contacts.add",
        lambda: client.contacts.add(
            name="Ayşe",
            surname="Yılmaz ]]>",
            email="ayse@example.com",
            gsm="0532 123 45 67",
            custom_fields={note: "çok\nsatır", segment: "VIP"},
            groups=[top, sub],
        ),
    )
    t.name(ayse.id, "ayse", "contact")
    t.call("contacts.add", lambda: client.contacts.add(gsm="12"))
    rows = [{"name": f"Toplu {i}", "groups": [sub]} for i in range(5)] + [{}, {"gsm": "1"}]
    bulk = t.call("contacts.add_many", lambda: list(client.contacts.add_many(rows, batch_size=3)))
    for index, item in enumerate(bulk):
        if item.id is not None:
            t.name(item.id, f"bulk{index}", "contact")
    t.call("groups.list", client.groups.list)
    t.call("groups.get", lambda: client.groups.get(top))
    t.call("groups.get", lambda: client.groups.get(987654321))
    t.call("groups.contacts", lambda: list(client.groups.contacts(sub, page_size=2)))
    t.call("groups.contacts", lambda: [len(p) for p in client.groups.contacts(sub, 4).pages()])
    t.call("groups.contacts", lambda: list(client.groups.contacts(spare)))
    t.call("groups.subscribe", lambda: client.groups.subscribe(spare, [ayse.id, bulk[0].id]))
    t.call("groups.subscribe", lambda: client.groups.subscribe(spare, [987654321]))
    t.call("groups.unsubscribe", lambda: client.groups.unsubscribe(sub, [ayse.id]))
    t.call("contacts.get", lambda: client.contacts.get(ayse.id))
    t.call(
        "contacts.edit", lambda: client.contacts.edit(ayse.id, email="", custom_fields={note: ""})
    )
    t.call("contacts.edit", lambda: client.contacts.edit(ayse.id, name="", surname="", gsm=""))
    t.call("contacts.search", lambda: list(client.contacts.search("toplu", page_size=2)))
    t.call("contacts.search", lambda: list(client.contacts.search("+90 532 123")))
    t.call("contacts.search", lambda: list(client.contacts.search("xy")))
    t.call("groups.edit", lambda: client.groups.edit(sub, name="Altın"))
    t.call("groups.edit", lambda: client.groups.edit(sub, name="Altın", parent=None))
    t.call("groups.edit", lambda: client.groups.edit(top, name="Döngü", parent=top))
    t.call("contacts.delete", lambda: client.contacts.delete(bulk[1].id))
    t.call("contacts.delete", lambda: client.contacts.delete(bulk[1].id))
    t.call("contacts.delete_many", lambda: client.contacts.delete_many([bulk[2].id, 987654321]))
    t.call("contacts.delete_many", lambda: client.contacts.delete_many([bulk[2].id, bulk[3].id]))
    t.call("groups.delete", lambda: client.groups.delete(top))
    t.call("groups.list", client.groups.list)
    t.call("contacts.get", lambda: client.contacts.get(ayse.id))


def _public_methods(cls: type) -> set[str]:
    return {
        name for name, _ in inspect.getmembers(cls, inspect.isfunction) if not name.startswith("_")
    }


def test_both_formats_and_both_generations_give_identical_results(connector: Connector) -> None:
    traces: dict[tuple[str, str], Trace] = {}
    for generation in ("current", "legacy"):
        for fmt in ("xml", "json"):
            account_id, credentials = connector.target.account(generation)  # type: ignore[arg-type]
            accounts = connector.target.services.accounts
            fields = (
                accounts.create_field(account_id, "Not").id,
                accounts.create_field(account_id, "Segment").id,
            )
            trace = traces[fmt, generation] = Trace()
            scenario(connector.client(credentials, fmt), fields, trace)

    reference = traces["json", "current"].entries
    for key, trace in traces.items():
        assert trace.entries == reference, key
    called = {method for method, _ in reference}
    expected = {f"groups.{m}" for m in _public_methods(Groups)}
    expected |= {f"contacts.{m}" for m in _public_methods(Contacts)}
    assert called == expected
    errors = [outcome for _, outcome in reference if isinstance(outcome, tuple)]
    assert {code for _, code, _ in errors} == {461, 463, 465, 466, 471, 472}


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_the_scenario_itself(connector: Connector, fmt: str) -> None:
    """A few facts of the scenario, so that "identical" is not identical nonsense."""
    account_id, credentials = connector.target.account()
    accounts = connector.target.services.accounts
    fields = (
        accounts.create_field(account_id, "Not").id,
        accounts.create_field(account_id, "S").id,
    )
    trace = Trace()
    scenario(connector.client(credentials, fmt), fields, trace)
    outcomes = dict(trace.entries)  # the last outcome of each method
    ayse = outcomes["contacts.get"]
    assert (ayse["surname"], ayse["email"], ayse["gsm"]) == ("Yılmaz ]]>", "", "+905321234567")
    assert ayse["custom_fields"] == [{"id": "segment", "value": "VIP"}]
    assert ayse["groups"] == ["Spare"]
    assert [g["name"] for g in outcomes["groups.list"]] == ["Altın", "Spare"]  # by id
    assert outcomes["contacts.delete_many"] is None
