"""Request trees -> typed commands: the documented examples and every accepted shape."""

from __future__ import annotations

import sys
from typing import Any

import orjson
import pytest

from rehber import commands as c
from rehber.codes import Code, ServiceError
from rehber.types import FieldValue
from rehber.wire import Credentials, credentials, decode_command, parse
from rehber.wire.actions import ACTIONS
from rehber.wire.requests import _NOT_XML_CHAR
from rehber.wire.tree import parse_json, parse_xml
from tests.wire.examples import CASES, CREDENTIALS

AYSE_FIELDS = (FieldValue(1, "27/09/2024"), FieldValue(2, "VIP"))

EXPECTED: dict[str, c.Command] = {
    "get-groups.xml": c.GetGroups(),
    "get-groups.json": c.GetGroups(),
    "get-group.json": c.GetGroup(97101),
    "add-group.xml": c.AddGroup("VIP Müşteriler", 97101),
    "add-group.json": c.AddGroup("Müşteriler", None),
    "edit-group.xml": c.EditGroup(97489, "Altın Müşteriler", 97101),
    "edit-group.json": c.EditGroup(97489, "Altın Müşteriler", None),
    "delete-group.xml": c.DeleteGroup(97102),
    "delete-group.json": c.DeleteGroup(97102),
    "get-group-contacts.xml": c.GetGroupContacts(97101, 1, 100),
    "get-group-contacts.json": c.GetGroupContacts(97101, 1, 100),
    "add-contact.xml": c.AddContact(
        c.ContactFields(
            "Ayşe", "Yılmaz", "ayse@example.com", "+905321234567", AYSE_FIELDS, (97101, 97489)
        )
    ),
    "add-contact.json": c.AddContact(
        c.ContactFields(
            "Ayşe", "Yılmaz", "ayse@example.com", "+905321234567", AYSE_FIELDS, (97101,)
        )
    ),
    "edit-contact.xml": c.EditContact(
        1007,
        c.ContactFields(
            "Ayşe",
            "Yılmaz Kaya",
            "ayse@example.com",
            "+905321234567",
            (FieldValue(2, "Gold"),),
            (97101,),
        ),
    ),
    "edit-contact.json": c.EditContact(
        1007,
        c.ContactFields(
            "Ayşe",
            "Yılmaz Kaya",
            "ayse@example.com",
            "+905321234567",
            (FieldValue(2, "Gold"),),
            (97101, 97489),
        ),
    ),
    "delete-contact.xml": c.DeleteContact(1008),
    "delete-contact.json": c.DeleteContact(1008),
    "get-contact.xml": c.GetContact(1007),
    "get-contact.json": c.GetContact(1007),
    "search-contacts.xml": c.SearchContacts("Yılmaz", 1, 10),
    "search-contacts.json": c.SearchContacts("532123", 1, 10),
    "legacy.get-groups.json": c.GetGroups(),
    "legacy.get-group-contacts.xml": c.GetGroupContacts(97101, 1, 1000),
    "legacy.get-group-contacts.json": c.GetGroupContacts(97101, 1, 1000),
    "legacy.subscribe-group.xml": c.SubscribeGroup((97489,), (1008,)),
    "legacy.unsubscribe-group.xml": c.UnsubscribeGroup((97489,), (1008,)),
    "legacy.subscribe-group.json": c.SubscribeGroup((97489,), (1007, 1008)),
    "legacy.unsubscribe-group.json": c.UnsubscribeGroup((97489,), (1007, 1008)),
    "legacy.add-contacts.xml": c.AddContacts(
        (
            c.ContactFields(
                "Ayşe",
                "Yılmaz",
                "ayse@example.com",
                "5321234567",
                (FieldValue(1, "27/09/2024"),),
                (97101,),
            ),
            c.ContactFields("Mehmet", "Demir", "", "5339876543", None, (97101,)),
        )
    ),
    "legacy.add-contacts.json": c.AddContacts(
        (
            c.ContactFields(
                "Ayşe",
                "Yılmaz",
                "ayse@example.com",
                "5321234567",
                (FieldValue(1, "27/09/2024"),),
                (97101,),
            ),
        )
    ),
    "legacy.delete-contacts.xml": c.DeleteContacts((1007, 1008)),
    "legacy.delete-contacts.json": c.DeleteContacts((1007, 1008)),
    "legacy.get-contact.xml": c.GetContact(1007),
    "legacy.get-contact.json": c.GetContact(1007),
    "legacy.search-contacts.xml": c.SearchContacts("Demir", 1, 1000),
    "legacy.search-contacts.json": c.SearchContacts("Demir", 1, 1000),
}


def test_every_documented_case_has_an_expectation() -> None:
    assert set(EXPECTED) == set(CASES)


def test_every_action_decodes_from_an_empty_request() -> None:
    for action in ACTIONS.values():
        assert isinstance(decode_command(action, {}), action.command)


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_documented_request_decodes(case_id: str) -> None:
    case = CASES[case_id]
    tree = parse(case["format"], case["request_example"].encode())
    assert credentials(tree) == Credentials(CREDENTIALS["key"], CREDENTIALS["hash"])
    assert decode_command(ACTIONS[case["endpoint"]], tree) == EXPECTED[case_id]


# --- helpers -----------------------------------------------------------------------------


def xml(inner: str) -> dict[str, Any]:
    return parse_xml(f"<request>{inner}</request>".encode())


def js(request: dict[str, Any]) -> dict[str, Any]:
    return parse_json(orjson.dumps({"request": request}))


def decode(action: str, tree: dict[str, Any]) -> c.Command:
    return decode_command(ACTIONS[action], tree)


def validation_error(action: str, tree: dict[str, Any]) -> None:
    with pytest.raises(ServiceError) as caught:
        decode(action, tree)
    assert caught.value.code == Code.VALIDATION


def contact_groups(tree: dict[str, Any]) -> tuple[int, ...] | None:
    command = decode("add-contact", tree)
    assert isinstance(command, c.AddContact)
    return command.contact.groups


def contact_fields(tree: dict[str, Any]) -> tuple[FieldValue, ...] | None:
    command = decode("add-contact", tree)
    assert isinstance(command, c.AddContact)
    return command.contact.custom_fields


# --- integers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (5, 5),
        ("5", 5),
        (" 42\n", 42),
        ("+7", 7),
        ("-3", -3),
        (-3, -3),
        (2**62, 2**62),
        ("123456789012345678901234567890", 123456789012345678901234567890),
        ("", None),
        ("   ", None),
        ([], None),
        ({}, None),
        (None, None),
        (0, None),
        ("0", None),
        ("-0", None),
    ],
)
def test_integer_fields_coerce(value: Any, expected: int | None) -> None:
    assert decode("get-group", js({"group": {"id": value}})) == c.GetGroup(expected)
    assert decode("delete-contact", js({"contact": {"id": value}})) == c.DeleteContact(expected)


def test_absent_integer_is_not_given() -> None:
    assert decode("get-group", js({"group": {}})) == c.GetGroup(None)
    assert decode("get-contact", xml("<contact/>")) == c.GetContact(None)


@pytest.mark.parametrize(
    "value", ["abc", "12a", "1.5", "1e3", "1_000", "٣", 1.0, 1.5, True, False, [1], {"id": 1}]
)
def test_unusable_integer_is_422(value: Any) -> None:
    validation_error("get-group", js({"group": {"id": value}}))


def test_integer_beyond_python_conversion_limit_is_422() -> None:
    validation_error("get-group", js({"group": {"id": "9" * 5000}}))


def test_json_integer_beyond_64_bits_is_422() -> None:
    # orjson reads it as a float; a float is not an id.
    tree = parse_json(b'{"request": {"group": {"id": 123456789012345678901234567890}}}')
    validation_error("get-group", tree)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0", 0), (0, 0), ("-2", -2), ("", None), ([], None), (None, None), ("3", 3)],
)
def test_page_and_row_count_keep_zero_and_negatives(value: Any, expected: int | None) -> None:
    paged = {"id": 1, "page": value, "rowCount": value}
    assert decode("get-group-contacts", js({"group": paged})) == c.GetGroupContacts(
        1, expected, expected
    )
    search = {"key": "abc", "page": value, "rowCount": value}
    assert decode("search-contacts", js({"search": search})) == c.SearchContacts(
        "abc", expected, expected
    )


def test_legacy_empty_array_paging_means_default() -> None:
    tree = js({"search": {"key": "Demir", "page": [], "rowCount": []}})
    assert decode("search-contacts", tree) == c.SearchContacts("Demir", None, None)


# --- groups: parent ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        ({"id": 5, "name": "A"}, c.MISSING),
        ({"id": 5, "name": "A", "parent": None}, c.MISSING),
        ({"id": 5, "name": "A", "parent": ""}, None),
        ({"id": 5, "name": "A", "parent": 0}, None),
        ({"id": 5, "name": "A", "parent": "0"}, None),
        ({"id": 5, "name": "A", "parent": []}, None),
        ({"id": 5, "name": "A", "parent": 9}, 9),
        ({"id": 5, "name": "A", "parent": "9"}, 9),
    ],
)
def test_edit_group_parent(group: dict[str, Any], expected: Any) -> None:
    assert decode("edit-group", js({"group": group})) == c.EditGroup(5, "A", expected)


def test_edit_group_parent_in_xml() -> None:
    assert decode("edit-group", xml("<group><id>5</id><name>A</name></group>")) == c.EditGroup(
        5, "A", c.MISSING
    )
    assert decode(
        "edit-group", xml("<group><id>5</id><name>A</name><parent/></group>")
    ) == c.EditGroup(5, "A", None)


@pytest.mark.parametrize("parent", ["", 0, [], None])
def test_add_group_without_parent_is_top_level(parent: Any) -> None:
    assert decode("add-group", js({"group": {"name": "A", "parent": parent}})) == c.AddGroup(
        "A", None
    )


def test_bad_parent_is_422() -> None:
    validation_error("add-group", js({"group": {"name": "A", "parent": "üst"}}))
    validation_error("edit-group", js({"group": {"id": 1, "name": "A", "parent": 1.5}}))


# --- text --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Ayşe", "Ayşe"),
        ("  padded  ", "  padded  "),
        ("", ""),
        (5321234567, "5321234567"),
        (None, None),
        ([], None),
        ({}, None),
    ],
)
def test_text_fields_coerce(value: Any, expected: str | None) -> None:
    fields = {"name": value, "surname": value, "email": value, "gsm": value}
    command = decode("add-contact", js({"contact": fields}))
    assert command == c.AddContact(c.ContactFields(expected, expected, expected, expected))
    assert decode("search-contacts", js({"search": {"key": value}})) == c.SearchContacts(expected)
    assert decode("add-group", js({"group": {"name": value}})) == c.AddGroup(expected)


@pytest.mark.parametrize(
    "value", [True, False, 1.5, ["a"], {"a": "b"}, "a\x00b", "\x1f", "\ufffe", "\uffff", "\ud800"]
)
def test_unusable_text_is_422(value: Any) -> None:
    validation_error("add-contact", {"contact": {"name": value}})
    validation_error("search-contacts", {"search": {"key": value}})
    validation_error("add-group", {"group": {"name": value}})


def test_every_printable_character_is_one_xml_can_carry() -> None:
    """Text fields skip the full character check for printable strings: that is only right
    while no printable code point lies outside XML's Char production (checked for all)."""
    printable = "".join(ch for ch in map(chr, range(sys.maxunicode + 1)) if ch.isprintable())
    assert len(printable) > 100_000
    assert _NOT_XML_CHAR.search(printable) is None


@pytest.mark.parametrize(
    "bad", ["\x00", "\x08", "\x0b", "\x1f", "\ud800", "\ufffe", "\uffff"], ids=ascii
)
def test_one_bad_character_among_printable_text_is_422(bad: str) -> None:
    validation_error("add-contact", {"contact": {"name": "Ayşe " * 20 + bad + " Yılmaz"}})


def test_json_escaped_control_character_is_422() -> None:
    validation_error("add-contact", parse_json(b'{"request": {"contact": {"name": "a\\u0001"}}}'))


def test_xml_legal_whitespace_and_astral_text_pass() -> None:
    value = "a\tb\nc\rd \U0001f600 \ue000"
    assert decode("add-group", {"group": {"name": value}}) == c.AddGroup(value)


def test_absent_contact_keys_stay_absent_and_empty_xml_elements_are_empty() -> None:
    command = decode("edit-contact", xml("<contact><id>7</id><surname/><email></email></contact>"))
    assert command == c.EditContact(7, c.ContactFields(surname="", email=""))


# --- id lists: contact groups ------------------------------------------------------------


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        ({"group": {"id": 7}}, (7,)),
        ({"group": [{"id": 7}, {"id": "12"}]}, (7, 12)),
        ({"id": [7, 12]}, (7, 12)),
        ({"id": 7}, (7,)),
        ([7, 12], (7, 12)),
        ([{"id": 7}, {"id": 12}], (7, 12)),
        (7, (7,)),
        ("7", (7,)),
        ({"group": ["7", 12]}, (7, 12)),
    ],
)
def test_json_group_shapes(groups: Any, expected: tuple[int, ...]) -> None:
    assert contact_groups(js({"contact": {"name": "A", "groups": groups}})) == expected


@pytest.mark.parametrize(
    "groups",
    [
        "<groups><id>7</id><id>12</id></groups>",
        "<groups><group><id>7</id></group><group><id>12</id></group></groups>",
        "<groups><group><id>7</id><id>12</id></group></groups>",
        "<groups>\n  <id>7</id>\n  <id>12</id>\n</groups>",
    ],
)
def test_xml_group_shapes(groups: str) -> None:
    assert contact_groups(xml(f"<contact><name>A</name>{groups}</contact>")) == (7, 12)


def test_single_xml_group() -> None:
    assert contact_groups(xml("<contact><groups><id>7</id></groups></contact>")) == (7,)
    assert contact_groups(xml("<contact><groups><group><id>7</id></group></groups></contact>")) == (
        7,
    )


@pytest.mark.parametrize("groups", ["", [], {}, {"group": []}, {"id": []}, {"group": {"id": ""}}])
def test_present_but_empty_groups_is_empty_set(groups: Any) -> None:
    assert contact_groups(js({"contact": {"groups": groups}})) == ()


@pytest.mark.parametrize("inner", ["<groups/>", "<groups></groups>", "<groups>\n</groups>"])
def test_present_but_empty_xml_groups_is_empty_set(inner: str) -> None:
    assert contact_groups(xml(f"<contact>{inner}</contact>")) == ()


def test_absent_or_null_groups_is_absent() -> None:
    assert contact_groups(js({"contact": {"name": "A"}})) is None
    assert contact_groups(js({"contact": {"groups": None}})) is None


def test_not_given_ids_are_dropped_and_duplicates_collapse() -> None:
    assert contact_groups(js({"contact": {"groups": [0, "", 7, None, "7", 12, 7]}})) == (7, 12)


def test_unusable_group_id_is_422() -> None:
    validation_error("add-contact", {"contact": {"groups": ["yedi"]}})
    validation_error("add-contact", {"contact": {"groups": {"id": [1.5]}}})


# --- custom fields -----------------------------------------------------------------------


TWO_FIELDS = (FieldValue(1, "27/09/2024"), FieldValue(2, "VIP"))


@pytest.mark.parametrize(
    "fields",
    [
        {"custom_field": [{"id": 1, "value": "27/09/2024"}, {"id": "2", "value": "VIP"}]},
        [{"id": 1, "value": "27/09/2024"}, {"id": 2, "value": "VIP"}],
        {
            "custom_field": [
                {"id": 1, "value": "27/09/2024", "custom_field_settings": ""},
                {"id": 2, "value": "VIP", "custom_field_settings": {"x": 1}},
            ]
        },
    ],
)
def test_json_custom_field_shapes(fields: Any) -> None:
    assert contact_fields(js({"contact": {"custom_fields": fields}})) == TWO_FIELDS


def test_single_custom_field_shapes() -> None:
    one = (FieldValue(1, "x"),)
    assert (
        contact_fields(
            js({"contact": {"custom_fields": {"custom_field": {"id": 1, "value": "x"}}}})
        )
        == one
    )
    assert contact_fields(js({"contact": {"custom_fields": {"id": 1, "value": "x"}}})) == one


def test_xml_custom_fields_with_legacy_settings() -> None:
    body = (
        "<contact><custom_fields>"
        "<custom_field><id>1</id><value>27/09/2024</value><custom_field_settings/></custom_field>"
        "<custom_field><id>2</id><value><![CDATA[VIP]]></value></custom_field>"
        "</custom_fields></contact>"
    )
    assert contact_fields(xml(body)) == TWO_FIELDS


@pytest.mark.parametrize(
    ("value", "expected"), [(None, ""), ("", ""), ([], ""), (12, "12"), ("  x ", "  x ")]
)
def test_custom_field_value_is_text(value: Any, expected: str) -> None:
    fields = contact_fields(js({"contact": {"custom_fields": [{"id": 3, "value": value}]}}))
    assert fields == (FieldValue(3, expected),)


def test_custom_field_without_value_is_empty() -> None:
    assert contact_fields(js({"contact": {"custom_fields": [{"id": 3}]}})) == (FieldValue(3, ""),)


@pytest.mark.parametrize(
    "fields",
    [
        [{"value": "x"}],
        [{"id": "", "value": "x"}],
        [{"id": 0, "value": "x"}],
        [{"id": "bir", "value": "x"}],
        [{"id": 1, "value": True}],
        ["x"],
        [5],
    ],
)
def test_unreadable_custom_field_is_422(fields: Any) -> None:
    validation_error("add-contact", {"contact": {"custom_fields": fields}})


@pytest.mark.parametrize("fields", ["", [], {}, {"custom_field": []}, [{}], [""]])
def test_present_but_empty_custom_fields(fields: Any) -> None:
    assert contact_fields(js({"contact": {"custom_fields": fields}})) == ()


def test_absent_custom_fields() -> None:
    assert contact_fields(js({"contact": {"name": "A"}})) is None
    assert contact_fields(js({"contact": {"custom_fields": None}})) is None
    assert contact_fields(xml("<contact><custom_fields/></contact>")) == ()


# --- single operation elements -----------------------------------------------------------


def test_operation_element_given_as_list_uses_first() -> None:
    assert decode("get-group", js({"group": [{"id": 5}, {"id": 6}]})) == c.GetGroup(5)
    assert decode(
        "get-contact", xml("<contact><id>5</id></contact><contact><id>6</id></contact>")
    ) == c.GetContact(5)


@pytest.mark.parametrize("element", [None, "", "5", 5, [], "abc"])
def test_missing_or_non_object_operation_element_gives_none_ids(element: Any) -> None:
    tree = {} if element is None else {"group": element, "contact": element, "search": element}
    assert decode("get-group", tree) == c.GetGroup(None)
    assert decode("edit-group", tree) == c.EditGroup(None, None, c.MISSING)
    assert decode("edit-contact", tree) == c.EditContact(None, c.ContactFields())
    assert decode("search-contacts", tree) == c.SearchContacts(None)
    assert decode("add-contact", tree) == c.AddContact(c.ContactFields())


def test_unknown_keys_are_ignored() -> None:
    tree = js({"group": {"id": 5, "colour": {"deep": [1, 2]}}, "extra": [1, {"x": None}]})
    assert decode("get-group", tree) == c.GetGroup(5)
    assert decode("get-group", xml("<group><id>5</id><x><y>1</y></x></group><z/>")) == c.GetGroup(5)


# --- subscribe / unsubscribe -------------------------------------------------------------


MEMBERSHIP = {"subscribe-group": c.SubscribeGroup, "unsubscribe-group": c.UnsubscribeGroup}


@pytest.mark.parametrize("action", sorted(MEMBERSHIP))
@pytest.mark.parametrize(
    "body",
    [
        "<contact><id>1</id></contact><contact><id>2</id></contact><group><id>9</id></group>",
        "<contact><id>1</id><id>2</id></contact><group><id>9</id></group>",
        "<group><id>9</id></group><contact>\n<id>1</id>\n<id>2</id>\n</contact>",
    ],
)
def test_membership_xml_shapes(action: str, body: str) -> None:
    assert decode(action, xml(body)) == MEMBERSHIP[action]((9,), (1, 2))


@pytest.mark.parametrize(
    ("contact", "group"),
    [
        ([{"id": 1}, {"id": 2}], [{"id": 9}]),
        ({"id": [1, 2]}, {"id": 9}),
        ([1, 2], [9]),
        ([{"id": "1"}, {"id": "2"}], 9),
        ({"contact": [{"id": 1}, {"id": 2}]}, {"group": {"id": "9"}}),
    ],
)
def test_membership_json_shapes(contact: Any, group: Any) -> None:
    tree = js({"contact": contact, "group": group})
    assert decode("subscribe-group", tree) == c.SubscribeGroup((9,), (1, 2))
    assert decode("unsubscribe-group", tree) == c.UnsubscribeGroup((9,), (1, 2))


def test_membership_accepts_several_groups() -> None:
    tree = xml("<contact><id>1</id></contact><group><id>9</id></group><group><id>8</id></group>")
    assert decode("subscribe-group", tree) == c.SubscribeGroup((9, 8), (1,))


def test_membership_with_missing_ids_gives_empty_tuples() -> None:
    assert decode("subscribe-group", {}) == c.SubscribeGroup((), ())
    tree = xml("<contact><id/></contact><group/>")
    assert decode("unsubscribe-group", tree) == c.UnsubscribeGroup((), ())


def test_membership_with_unusable_id_is_422() -> None:
    validation_error("subscribe-group", {"contact": [{"id": "x"}], "group": [{"id": 9}]})


# --- add-contacts ------------------------------------------------------------------------


def bulk_items(tree: dict[str, Any]) -> tuple[c.ContactFields | ServiceError, ...]:
    command = decode("add-contacts", tree)
    assert isinstance(command, c.AddContacts)
    return command.items


def test_add_contacts_list_forms() -> None:
    one = c.ContactFields(name="A")
    two = c.ContactFields(gsm="5321234567")
    for contacts in (
        {"contact": [{"name": "A"}, {"gsm": 5321234567}]},
        [{"name": "A"}, {"gsm": "5321234567"}],
    ):
        assert bulk_items(js({"contacts": contacts})) == (one, two)
    assert bulk_items(js({"contacts": {"contact": {"name": "A"}}})) == (one,)


def test_add_contacts_item_groups_accept_every_shape() -> None:
    contacts = [
        {"name": "A", "groups": {"group": {"id": 1}}},
        {"name": "A", "groups": {"group": [{"id": 1}, {"id": 2}]}},
        {"name": "A", "groups": [1, 2]},
        {"name": "A", "groups": {"id": [1, 2]}},
    ]
    assert bulk_items(js({"contacts": contacts})) == (
        c.ContactFields(name="A", groups=(1,)),
        c.ContactFields(name="A", groups=(1, 2)),
        c.ContactFields(name="A", groups=(1, 2)),
        c.ContactFields(name="A", groups=(1, 2)),
    )


def test_add_contacts_bad_items_fail_alone_in_place() -> None:
    contacts = [
        {"name": "A"},
        "not a contact",
        {"name": True},
        {"name": "B", "custom_fields": [{"value": "no id"}]},
        7,
        {"name": "C", "groups": ["x"]},
        {"name": "D"},
    ]
    items = bulk_items(js({"contacts": contacts}))
    assert len(items) == 7
    assert items[0] == c.ContactFields(name="A")
    assert items[6] == c.ContactFields(name="D")
    for bad in items[1:6]:
        assert isinstance(bad, ServiceError)
        assert bad.code == Code.VALIDATION


def test_add_contacts_xml_keeps_positions_including_empty_items() -> None:
    body = (
        "<contacts><contact><name>A</name></contact><contact/>"
        "<contact><name>B</name><groups><group><id>3</id></group></groups></contact></contacts>"
    )
    assert bulk_items(xml(body)) == (
        c.ContactFields(name="A"),
        c.ContactFields(),
        c.ContactFields(name="B", groups=(3,)),
    )


def test_a_lone_empty_contact_is_one_empty_item_in_both_formats() -> None:
    assert bulk_items(xml("<contacts><contact/></contacts>")) == (c.ContactFields(),)
    assert bulk_items(xml("<contacts><contact> </contact></contacts>")) == (c.ContactFields(),)
    assert bulk_items(js({"contacts": {"contact": {}}})) == (c.ContactFields(),)
    assert bulk_items(js({"contacts": [{}]})) == (c.ContactFields(),)


@pytest.mark.parametrize("contacts", [None, "", [], {}, {"contact": []}, {"contact": None}])
def test_add_contacts_without_items(contacts: Any) -> None:
    assert bulk_items({} if contacts is None else {"contacts": contacts}) == ()


# --- delete-contacts ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "contacts",
    [
        {"contact": [{"id": 1}, {"id": 2}]},
        {"contact": {"id": [1, 2]}},
        [1, 2],
        [{"id": 1}, {"id": "2"}],
        {"id": [1, 2]},
    ],
)
def test_delete_contacts_json_shapes(contacts: Any) -> None:
    assert decode("delete-contacts", js({"contacts": contacts})) == c.DeleteContacts((1, 2))


def test_delete_contacts_xml_shapes() -> None:
    expected = c.DeleteContacts((1, 2))
    repeated = "<contacts><contact><id>1</id></contact><contact><id>2</id></contact></contacts>"
    assert decode("delete-contacts", xml(repeated)) == expected
    inner = "<contacts><contact><id>1</id><id>2</id></contact></contacts>"
    assert decode("delete-contacts", xml(inner)) == expected
    assert decode("delete-contacts", xml("<contacts/>")) == c.DeleteContacts(())
