"""Typed results -> response bodies: the canonical examples, shapes and text round trips."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rehber import commands as c
from rehber.codes import MESSAGES, Code
from rehber.types import BulkItemResult, Contact, FieldValue, Group, WireGeneration
from rehber.wire import Format, decode_command, encode_error, encode_success, json_codec, parse
from rehber.wire.actions import ACTIONS, LEGACY_SHAPED, Result
from rehber.wire.xml_codec import cdata, escape
from tests.support.compare import json_comparable, xml_comparable
from tests.wire.examples import CASES

# The address book the canonical responses describe.
VIP = Group(97489, "VIP Müşteriler", count=1, parent=97101)
CUSTOMERS = Group(97101, "Müşteriler", count=2, children=(VIP,))
SUPPLIERS = Group(97102, "Tedarikçiler", count=0)
AYSE = Contact(
    1007,
    "Ayşe",
    "Yılmaz",
    "ayse@example.com",
    "+905321234567",
    (FieldValue(1, "27/09/2024"), FieldValue(2, "VIP")),
    (97101, 97489),
)
MEHMET = Contact(1008, "Mehmet", "Demir", "", "+905339876543", (), (97101,))
AYSE_EDITED = replace(
    AYSE, surname="Yılmaz Kaya", custom_fields=(FieldValue(1, "27/09/2024"), FieldValue(2, "Gold"))
)
STORED = (
    BulkItemResult(200, 1007, "+905321234567"),
    BulkItemResult(200, 1008, "+905339876543"),
)

RESULTS: dict[str, Result] = {
    "get-groups.xml": (CUSTOMERS, SUPPLIERS),
    "get-groups.json": (CUSTOMERS, SUPPLIERS),
    "get-group.json": CUSTOMERS,
    "add-group.xml": Group(97489, "VIP Müşteriler", parent=97101),
    "add-group.json": Group(97101, "Müşteriler"),
    "edit-group.xml": Group(97489, "Altın Müşteriler", parent=97101),
    "edit-group.json": Group(97489, "Altın Müşteriler"),
    "delete-group.xml": None,
    "delete-group.json": None,
    "get-group-contacts.xml": (AYSE, MEHMET),
    "get-group-contacts.json": (AYSE, MEHMET),
    "add-contact.xml": AYSE,
    "add-contact.json": replace(AYSE, groups=(97101,)),
    "edit-contact.xml": replace(AYSE_EDITED, groups=(97101,)),
    "edit-contact.json": AYSE_EDITED,
    "delete-contact.xml": None,
    "delete-contact.json": None,
    "get-contact.xml": AYSE,
    "get-contact.json": AYSE,
    "search-contacts.xml": (AYSE,),
    "search-contacts.json": (AYSE,),
    "legacy.get-groups.json": (CUSTOMERS, SUPPLIERS),
    "legacy.get-group-contacts.xml": (AYSE, MEHMET),
    "legacy.get-group-contacts.json": (AYSE, MEHMET),
    "legacy.subscribe-group.xml": None,
    "legacy.unsubscribe-group.xml": None,
    "legacy.subscribe-group.json": None,
    "legacy.unsubscribe-group.json": None,
    "legacy.add-contacts.xml": STORED,
    "legacy.add-contacts.json": STORED[:1],
    "legacy.delete-contacts.xml": None,
    "legacy.delete-contacts.json": None,
    "legacy.get-contact.xml": AYSE,
    "legacy.get-contact.json": AYSE,
    "legacy.search-contacts.xml": (MEHMET,),
    "legacy.search-contacts.json": (MEHMET,),
}

ERROR_CASES = sorted(i for i, case in CASES.items() if case["error_example"])


def comparable(fmt: str, body: bytes) -> Any:
    return xml_comparable(body) if fmt == "xml" else json_comparable(body)


def encode(case_id: str, generation: WireGeneration | None = None) -> bytes:
    case = CASES[case_id]
    action = ACTIONS[case["endpoint"]]
    return encode_success(
        case["format"], action, RESULTS[case_id], generation or case["generation"]
    )


def test_every_documented_case_has_a_result() -> None:
    assert set(RESULTS) == set(CASES)


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_canonical_success_response(case_id: str) -> None:
    case = CASES[case_id]
    expected = case["canonical_success_response"].encode()
    assert comparable(case["format"], encode(case_id)) == comparable(case["format"], expected)


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_only_legacy_shaped_actions_change_with_generation(case_id: str) -> None:
    case = CASES[case_id]
    current, legacy = encode(case_id, "current"), encode(case_id, "legacy")
    # The legacy XML of get-groups was the same as the current one.
    same_xml = case["format"] == "xml" and case["endpoint"] == "get-groups"
    reshaped = case["endpoint"] in LEGACY_SHAPED and not same_xml
    assert (current != legacy) == reshaped


@pytest.mark.parametrize("case_id", ERROR_CASES)
def test_error_example(case_id: str) -> None:
    case = CASES[case_id]
    error = case["error_example"]
    body = encode_error(case["format"], error["status_code"])
    assert comparable(case["format"], body) == comparable(case["format"], error["body"].encode())


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_error_bodies_carry_status_only(code: int) -> None:
    as_json = orjson.loads(encode_error("json", code))
    assert as_json == {"response": {"status": {"code": int(code), "message": MESSAGES[code]}}}
    assert type(as_json["response"]["status"]["code"]) is int
    assert xml_comparable(encode_error("xml", code)) == (
        "response",
        [("status", [("code", str(int(code))), ("message", MESSAGES[code])])],
    )


# --- envelope details --------------------------------------------------------------------


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_xml_declaration_and_literal_utf8(case_id: str) -> None:
    body = encode(case_id)
    assert "İşlem başarılı".encode() in body
    if CASES[case_id]["format"] == "xml":
        assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    else:
        assert b"\\u" not in body
        assert orjson.loads(body)["response"]["status"]["code"] == 200


def test_xml_free_text_is_cdata_and_other_values_escaped() -> None:
    contact = Contact(1, "a]]>b", "<s>", "e&", "+90<", (FieldValue(3, "v&<"),))
    body = encode_success("xml", ACTIONS["get-contact"], contact, "current").decode()
    assert "<name><![CDATA[a]]]]><![CDATA[>b]]></name>" in body
    assert "<surname><![CDATA[<s>]]></surname>" in body
    assert "<gsm>+90&lt;</gsm>" in body
    assert "<value>v&amp;&lt;</value>" in body
    assert "<custom_fields><custom_field><id>3</id>" in body
    assert "<groups/>" in body


def test_xml_contact_element_order() -> None:
    body = encode_success("xml", ACTIONS["get-contact"], AYSE, "current")
    contact = xml_comparable(body)[1][1]
    assert [child[0] for child in contact[1]] == [
        "id",
        "name",
        "surname",
        "email",
        "gsm",
        "custom_fields",
        "groups",
    ]


def test_empty_lists() -> None:
    bare = Contact(5, gsm="+905321234567")
    for generation in ("current", "legacy"):
        xml_body = encode_success("xml", ACTIONS["get-contact"], bare, generation).decode()
        assert "<custom_fields/><groups/>" in xml_body
    current = orjson.loads(encode_success("json", ACTIONS["get-contact"], bare, "current"))
    assert current["response"]["contact"]["custom_fields"] == []
    assert current["response"]["contact"]["groups"] == []
    legacy = orjson.loads(encode_success("json", ACTIONS["get-contact"], bare, "legacy"))
    assert legacy["response"]["contact"]["custom_fields"] == {"custom_field": []}
    assert legacy["response"]["contact"]["groups"] == {"group": []}


@pytest.mark.parametrize("generation", ["current", "legacy"])
def test_no_groups_at_all(generation: WireGeneration) -> None:
    assert "<groups/>" in encode_success("xml", ACTIONS["get-groups"], (), generation).decode()
    payload = orjson.loads(encode_success("json", ACTIONS["get-groups"], (), generation))
    assert payload["response"]["groups"] == ([] if generation == "current" else {"group": []})


def test_group_ref_carries_id_and_name_only() -> None:
    for action in ("add-group", "edit-group"):
        body = encode_success("json", ACTIONS[action], CUSTOMERS, "legacy")
        assert orjson.loads(body)["response"]["group"] == {"id": 97101, "name": "Müşteriler"}
        xml_body = encode_success("xml", ACTIONS[action], CUSTOMERS, "current")
        assert xml_comparable(xml_body)[1][1] == (
            "group",
            [("id", "97101"), ("name", "Müşteriler")],
        )


def test_failed_bulk_items_have_empty_id_and_gsm() -> None:
    items = (
        BulkItemResult(200, 7, "+905321234567"),
        BulkItemResult(466),
        BulkItemResult(472, 9, "ignored"),
    )
    payload = orjson.loads(encode_success("json", ACTIONS["add-contacts"], items, "current"))
    assert payload["response"]["contacts"]["contact"] == [
        {"id": 7, "gsm": "+905321234567", "status": {"code": 200, "message": "İşlem başarılı"}},
        {"id": "", "gsm": "", "status": {"code": 466, "message": "Hatalı numara."}},
        {"id": "", "gsm": "", "status": {"code": 472, "message": MESSAGES[Code.EMPTY_CONTACT]}},
    ]
    xml_body = encode_success("xml", ACTIONS["add-contacts"], items, "legacy")
    assert xml_comparable(xml_body)[1][1][1][1] == (
        "contact",
        [("id", ""), ("gsm", ""), ("code", "466"), ("message", "Hatalı numara.")],
    )


def tree_of_depth(depth: int) -> Group:
    """A chain of ``depth`` groups, each with one child, plus a leaf sibling at every level."""
    group = Group(depth, f"g{depth}")
    for level in range(depth - 1, 0, -1):
        group = Group(level, f"g{level}", count=level, children=(group, Group(-level, "leaf")))
    return group


def json_chain(node: dict[str, Any]) -> list[int]:
    ids = []
    while True:
        ids.append(node["id"])
        if "children" not in node:
            return ids
        assert node["children"][1] == {"id": -node["id"], "name": "leaf", "count": 0}
        node = node["children"][0]


def test_nested_children_at_every_depth() -> None:
    root = tree_of_depth(4)
    payload = orjson.loads(encode_success("json", ACTIONS["get-group"], root, "current"))
    assert json_chain(payload["response"]["group"]) == [1, 2, 3, 4]
    body = encode_success("xml", ACTIONS["get-groups"], (root, SUPPLIERS), "current").decode()
    assert "<children><child><id>2</id>" in body
    assert "<child><id>4</id><name><![CDATA[g4]]></name><count>0</count></child>" in body
    assert "<child><id>-3</id><name><![CDATA[leaf]]></name><count>0</count></child>" in body
    assert body.count("<children>") == body.count("</children>") == 3


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_very_deep_group_tree_encodes(fmt: Format) -> None:
    # Deeper than orjson's 254 nesting levels and than Python's default recursion limit.
    depth = 1200
    body = encode_success(fmt, ACTIONS["get-groups"], (tree_of_depth(depth),), "current")
    text = body.decode()
    if fmt == "xml":
        assert text.count("<children>") == text.count("</children>") == depth - 1
        assert text.endswith("</child></children></group></groups></response>")
    else:
        assert text.count('"children":[') == depth - 1
        assert text.endswith('"name":"leaf","count":0}]}]}}')
    assert len(re.findall(r"leaf", text)) == depth - 1


@pytest.mark.parametrize("depth", [1, 2, 99, 100, 101, 150, 300])
def test_json_group_trees_are_the_same_bytes_either_way(depth: int) -> None:
    """Ordinary trees go through one orjson.dumps, deep ones are spliced: same bytes."""
    roots = (tree_of_depth(depth), SUPPLIERS, Group(7, 'Tırnak " \\ ve \u00e7', count=3))
    assert json_codec._group_tree(roots) == json_codec._spliced_group_tree(roots)
    assert (json_codec._nested_groups(roots) is None) == (depth > 100)


def test_json_tree_parses_as_json() -> None:
    body = encode_success("json", ACTIONS["get-groups"], (tree_of_depth(150),), "legacy")
    tree = orjson.loads(body)["response"]["groups"]["group"]
    assert json_chain(tree[0]) == list(range(1, 151))


# --- text round trips --------------------------------------------------------------------

XML_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("]]><&'\"İıŞşĞğÜüÖöÇç\t\r\n ")),
        st.characters(
            blacklist_categories=("Cs",),
            blacklist_characters=[chr(i) for i in range(32) if chr(i) not in "\t\n\r"]
            + ["\ufffe", "\uffff"],
        ),
    )
)


@settings(deadline=None, max_examples=200)
@given(text=XML_TEXT)
def test_text_survives_response_encoding(text: str) -> None:
    contact = Contact(1, text, text, text, text, (FieldValue(2, text),))
    group = Group(3, text)
    xml_contact = xml_comparable(encode_success("xml", ACTIONS["get-contact"], contact, "current"))
    values = dict(xml_contact[1][1][1])
    assert [values[k] for k in ("name", "surname", "email", "gsm")] == [text] * 4
    assert values["custom_fields"] == [("custom_field", [("id", "2"), ("value", text)])]
    xml_group = xml_comparable(encode_success("xml", ACTIONS["get-group"], group, "current"))
    assert xml_group[1][1][1][1] == ("name", text)
    json_contact = orjson.loads(encode_success("json", ACTIONS["get-contact"], contact, "legacy"))
    assert json_contact["response"]["contact"]["name"] == text
    assert json_contact["response"]["contact"]["custom_fields"]["custom_field"][0]["value"] == text
    json_group = orjson.loads(encode_success("json", ACTIONS["get-groups"], (group,), "current"))
    assert json_group["response"]["groups"][0]["name"] == text


@settings(deadline=None, max_examples=200)
@given(text=XML_TEXT)
def test_text_survives_request_decoding(text: str) -> None:
    expected = c.AddContact(c.ContactFields(name=text, surname=text, custom_fields=()))
    xml_body = (
        f"<request><contact><name>{cdata(text)}</name><surname>{escape(text)}</surname>"
        "<custom_fields/></contact></request>"
    ).encode()
    contact = {"name": text, "surname": text, "custom_fields": []}
    bodies: dict[Format, bytes] = {
        "xml": xml_body,
        "json": orjson.dumps({"request": {"contact": contact}}),
    }
    for fmt, body in bodies.items():
        assert decode_command(ACTIONS["add-contact"], parse(fmt, body)) == expected
