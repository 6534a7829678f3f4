"""``client.contacts``: every method, through both clients, both formats, in-process and over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import rehber
from rehber import BulkItemResult, Contact, ContactFields, FieldValue
from tests.client.conftest import Api


def test_add_returns_the_stored_contact(api: Api) -> None:
    birthday, segment = api.field("Doğum tarihi"), api.field("Segment")
    group = api.groups.create("Müşteriler")

    contact = api.contacts.add(
        name="Ayşe",
        surname="Yılmaz <&> ]]>",
        email="ayse@example.com",
        gsm="+90 532 123 45 67",
        custom_fields={birthday: "27/09/2024", segment: "VIP"},
        groups=[group.id],
    )

    assert contact == Contact(
        id=contact.id,
        name="Ayşe",
        surname="Yılmaz <&> ]]>",
        email="ayse@example.com",
        gsm="+905321234567",
        custom_fields=(FieldValue(birthday, "27/09/2024"), FieldValue(segment, "VIP")),
        groups=(group.id,),
    )
    assert api.contacts.get(contact.id) == contact


def test_add_accepts_field_values_and_any_iterable_of_groups(api: Api) -> None:
    field = api.field("Not")
    groups = [api.groups.create(n).id for n in ("A", "B")]
    contact = api.contacts.add(
        name="x", custom_fields=[FieldValue(field, "çok\nsatırlı")], groups=iter(groups)
    )
    assert contact.custom_fields == (FieldValue(field, "çok\nsatırlı"),)
    assert contact.groups == tuple(groups)


@pytest.mark.parametrize(
    ("values", "error", "code"),
    [
        ({}, rehber.EmptyContactError, 472),
        ({"name": "", "gsm": ""}, rehber.EmptyContactError, 472),
        ({"gsm": "123"}, rehber.InvalidNumberError, 466),
        ({"name": "x", "email": "not-an-address"}, rehber.ValidationError, 422),
        ({"name": "x", "groups": [987654321]}, rehber.GroupNotFoundError, 463),
        ({"name": "x", "custom_fields": {987654321: "v"}}, rehber.CustomFieldNotFoundError, 473),
    ],
)
def test_add_errors(
    api: Api, values: dict[str, object], error: type[rehber.APIStatusError], code: int
) -> None:
    with pytest.raises(error) as caught:
        api.contacts.add(**values)
    assert caught.value.code == code
    assert list(api.contacts.search("+90")) == []


def test_get_and_delete_unknown(api: Api) -> None:
    with pytest.raises(rehber.ContactNotFoundError) as caught:
        api.contacts.get(987654321)
    assert caught.value.message == "Kişi bulunamadı."
    with pytest.raises(rehber.ContactNotFoundError):
        api.contacts.delete(987654321)


def test_edit_keeps_what_is_left_out_and_clears_empty_values(api: Api) -> None:
    note, segment = api.field("Not"), api.field("Segment")
    a, b = api.groups.create("A").id, api.groups.create("B").id
    contact = api.contacts.add(
        name="Ayşe",
        surname="Yılmaz",
        email="ayse@example.com",
        gsm="05321234567",
        custom_fields={note: "n", segment: "s"},
        groups=[a],
    )

    edited = api.contacts.edit(contact.id, surname="Kaya", email="")
    assert (edited.name, edited.surname, edited.email) == ("Ayşe", "Kaya", "")
    assert edited.groups == (a,) and len(edited.custom_fields) == 2

    edited = api.contacts.edit(contact.id, custom_fields={note: "", segment: "Gold"}, groups=[b])
    assert edited.custom_fields == (FieldValue(segment, "Gold"),)
    assert edited.groups == (b,)

    edited = api.contacts.edit(contact.id, groups=[])
    assert edited.groups == ()
    assert api.contacts.get(contact.id) == edited


def test_edit_errors(api: Api) -> None:
    contact = api.contacts.add(name="Ayşe")
    with pytest.raises(rehber.ContactNotFoundError):
        api.contacts.edit(987654321, name="x")
    with pytest.raises(rehber.EmptyContactError):
        api.contacts.edit(contact.id, name="")
    with pytest.raises(rehber.InvalidNumberError):
        api.contacts.edit(contact.id, gsm="12")
    with pytest.raises(rehber.GroupNotFoundError):
        api.contacts.edit(contact.id, groups=[987654321])
    assert api.contacts.get(contact.id) == contact


def test_delete_and_delete_many(api: Api) -> None:
    ids = [api.contacts.add(name=f"n{i}").id for i in range(4)]
    assert api.contacts.delete(ids[0]) is None
    with pytest.raises(rehber.ContactNotFoundError):
        api.contacts.get(ids[0])

    with pytest.raises(rehber.ContactNotFoundError):
        api.contacts.delete_many([ids[1], 987654321])  # all or nothing
    assert api.contacts.get(ids[1]).id == ids[1]

    assert api.contacts.delete_many(iter(ids[1:3])) is None
    assert api.contacts.get(ids[3]).id == ids[3]
    for gone in ids[1:3]:
        with pytest.raises(rehber.ContactNotFoundError):
            api.contacts.get(gone)


def test_search_folds_turkish_letters_and_matches_numbers(api: Api) -> None:
    ayse = api.contacts.add(name="AYŞE", surname="Işık", gsm="05321234567").id
    izmir = api.contacts.add(name="İzmir Şubesi", email="izmir@example.com").id
    api.contacts.add(name="Başka", gsm="+905339876543")

    assert [c.id for c in api.contacts.search("ayşe")] == [ayse]
    assert [c.id for c in api.contacts.search("ışık")] == [ayse]
    assert [c.id for c in api.contacts.search("izmir")] == [izmir]
    assert [c.id for c in api.contacts.search("0532 123")] == [ayse]
    assert [c.id for c in api.contacts.search("+90 532 123 45 67")] == [ayse]
    assert list(api.contacts.search("bulunmayan")) == []


def test_search_pages_and_short_terms(api: Api) -> None:
    ids = [api.contacts.add(name=f"Yılmaz {i}").id for i in range(5)]
    assert [c.id for c in api.contacts.search("yılmaz", page_size=2)] == ids
    assert [len(p) for p in api.contacts.search("yılmaz", page_size=2).pages()] == [2, 2, 1]
    short = api.contacts.search(" ab ")
    with pytest.raises(rehber.SearchTermTooShortError) as caught:
        list(short)
    assert caught.value.code == 471
    with pytest.raises(ValueError, match="page_size"):
        api.contacts.search("yılmaz", page_size=0)


def test_add_many_answers_per_item_in_order(api: Api) -> None:
    field = api.field("Segment")
    group = api.groups.create("Toplu")
    items: list[object] = [
        {"name": "Ayşe", "gsm": "05321234567", "custom_fields": {field: "VIP"}},
        {"gsm": "12"},
        ContactFields(name="Mehmet", groups=(group.id,)),
        {},
        {"name": "x", "custom_fields": {987654321: "v"}},
        {"name": "Son", "groups": [group.id]},
    ]

    results = list(api.contacts.add_many(items, batch_size=4))

    assert [r.code for r in results] == [200, 466, 200, 472, 473, 200]
    assert results[0] == BulkItemResult(200, results[0].id, "+905321234567")
    assert results[1] == BulkItemResult(466)
    assert results[2].gsm is None
    stored = api.contacts.get(results[0].id)
    assert stored.custom_fields == (FieldValue(field, "VIP"),)
    assert [c.id for c in api.groups.contacts(group.id)] == [results[2].id, results[5].id]


def test_add_many_streams_batches_lazily(api: Api) -> None:
    pulled = 0

    def endless() -> Iterator[dict[str, str]]:
        nonlocal pulled
        while True:
            pulled += 1
            yield {"name": f"Akış {pulled}"}

    results = api.contacts.add_many(endless(), batch_size=10)
    assert pulled == 0  # nothing read or sent before iteration
    first = [next(results) for _ in range(25)]
    assert pulled == 30  # three batches of 10, not the endless whole
    assert all(r.code == 200 for r in first)
    assert len(list(api.contacts.search("akış"))) == 30


def test_add_many_of_nothing_sends_nothing(api: Api) -> None:
    assert list(api.contacts.add_many([])) == []


def test_add_many_checks_its_arguments(api: Api) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        api.contacts.add_many([], batch_size=10_001)
    with pytest.raises(ValueError, match="batch_size"):
        api.contacts.add_many([], batch_size=0)
    with pytest.raises(TypeError, match="phone"):
        list(api.contacts.add_many([{"name": "x", "phone": "1"}]))
    with pytest.raises(TypeError):
        list(api.contacts.add_many(["Ayşe"]))
