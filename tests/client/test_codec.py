"""The client's half of the wire, without HTTP.

Requests: every command the client can build, encoded in each format, reads back as the same
command through the server's own decoder. Responses: every documented example (current and
legacy, XML and JSON) decodes into values the server's encoders turn back into that example.
"""

from __future__ import annotations

import string
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rehber import commands as c
from rehber.types import BulkItemResult, Contact, FieldValue, Group
from rehber.wire import credentials, decode_command, encode_success, parse
from rehber.wire.actions import ACTIONS
from rehber.wire.client_requests import encode_request
from rehber.wire.client_responses import ShapeError, decode_result, read_envelope
from tests.support.compare import json_comparable, xml_comparable
from tests.wire.examples import CASES

FORMATS = ["xml", "json"]
FULL = c.ContactFields(
    name="Ayşe <&> ]]>",
    surname="",
    email="a@example.com",
    gsm="+905321234567",
    custom_fields=(FieldValue(1, "27/09/2024"), FieldValue(2, "")),
    groups=(5, 7),
)
COMMANDS: list[c.Command] = [
    c.GetGroups(),
    c.GetGroup(5),
    c.AddGroup("Müşteriler", None),
    c.AddGroup("VIP", 5),
    c.EditGroup(5, "Yeni", c.MISSING),
    c.EditGroup(5, "Yeni", None),
    c.EditGroup(5, "Yeni", 9),
    c.DeleteGroup(5),
    c.GetGroupContacts(5, 2, 100),
    c.AddContact(FULL),
    c.AddContact(c.ContactFields(name="x")),
    c.EditContact(9, c.ContactFields(surname="", groups=(), custom_fields=())),
    c.EditContact(9, FULL),
    c.DeleteContact(9),
    c.GetContact(9),
    c.SearchContacts("yılmaz", 3, 10),
    c.SubscribeGroup((5,), (1, 2, 3)),
    c.UnsubscribeGroup((5,), (1,)),
    c.AddContacts((FULL, c.ContactFields(name="y"), c.ContactFields(gsm="05321234567"))),
    c.DeleteContacts((1, 2)),
]


def _round_trip(fmt: str, command: c.Command) -> c.Command:
    action = next(a for a in ACTIONS.values() if isinstance(command, a.command))
    tree = parse(fmt, encode_request(fmt, command, "k" * 32, "h" * 64))  # type: ignore[arg-type]
    assert credentials(tree) == credentials({"authentication": {"key": "k" * 32, "hash": "h" * 64}})
    return decode_command(action, tree)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("command", COMMANDS, ids=lambda cmd: type(cmd).__name__)
def test_every_command_reads_back_through_the_server_decoder(fmt: str, command: c.Command) -> None:
    assert _round_trip(fmt, command) == command


def test_every_action_is_covered() -> None:
    assert {type(cmd) for cmd in COMMANDS} == {a.command for a in ACTIONS.values()}


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_empty_bulk_item_still_counts_as_an_item(fmt: str) -> None:
    decoded = _round_trip(fmt, c.AddContacts((c.ContactFields(),)))
    assert decoded == c.AddContacts((c.ContactFields(name=""),))


# Text an XML 1.0 document can carry (the server refuses the rest in both formats alike).
_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\ufffe\uffff").filter(
        lambda ch: ch in "\t\n\r" or ch >= " "
    ),
    max_size=30,
)
_OPTIONAL_TEXT = st.none() | _TEXT
_IDS = st.integers(min_value=1, max_value=2**62)


@given(
    fmt=st.sampled_from(FORMATS),
    fields=st.builds(
        c.ContactFields,
        name=_OPTIONAL_TEXT,
        surname=_OPTIONAL_TEXT,
        email=_OPTIONAL_TEXT,
        gsm=_OPTIONAL_TEXT,
        custom_fields=st.none()
        | st.lists(st.builds(FieldValue, _IDS, _TEXT), max_size=3).map(tuple),
        groups=st.none() | st.lists(_IDS, max_size=3, unique=True).map(tuple),
    ),
)
def test_any_contact_values_survive_the_wire(fmt: str, fields: c.ContactFields) -> None:
    assert _round_trip(fmt, c.EditContact(3, fields)) == c.EditContact(3, fields)


# -- responses ----------------------------------------------------------------------------


def _decoded(case_id: str) -> Any:
    case = CASES[case_id]
    envelope = read_envelope(case["canonical_success_response"].encode())
    assert envelope is not None and envelope.code == 200
    return decode_result(ACTIONS[case["endpoint"]].result, envelope.content)


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_every_documented_response_decodes(case_id: str) -> None:
    _decoded(case_id)


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_decoding_is_the_inverse_of_the_servers_encoding(case_id: str) -> None:
    """Decode a documented response, encode the result with the server's codecs: same body."""
    case = CASES[case_id]
    action = ACTIONS[case["endpoint"]]
    body = encode_success(case["format"], action, _decoded(case_id), case["generation"])
    canonical = case["canonical_success_response"].encode()
    comparable = xml_comparable if case["format"] == "xml" else json_comparable
    assert comparable(body) == comparable(canonical)


def test_documented_examples_decode_to_these_values() -> None:
    vip = Group(97489, "VIP Müşteriler", 1, parent=97101)
    assert _decoded("get-groups.xml") == (
        Group(97101, "Müşteriler", 2, children=(vip,)),
        Group(97102, "Tedarikçiler", 0),
    )
    assert _decoded("legacy.get-contact.xml") == Contact(
        1007,
        "Ayşe",
        "Yılmaz",
        "ayse@example.com",
        "+905321234567",
        (FieldValue(1, "27/09/2024"), FieldValue(2, "VIP")),
        (97101, 97489),
    )
    assert _decoded("legacy.add-contacts.json") == (BulkItemResult(200, 1007, "+905321234567"),)


def test_documented_templates_with_empty_values_are_read_leniently() -> None:
    """The pages' own samples: ``"code": ""`` templates, ``"count": "0"`` strings."""
    envelope = read_envelope(CASES["get-group.json"]["documented_response"].encode())
    assert envelope is not None and envelope.code == 200
    assert decode_result("group", envelope.content) == Group(
        97101, "Test 1", 1, children=(Group(97489, "Test 2", 2, parent=97101),)
    )


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (b'{"response":{"status":{"code":465,"message":"K"}}}', 465, "K"),
        (b'{"response":{"status":{"code":" 465 ","message":"K"}}}', 465, "K"),
        (b'\xef\xbb\xbf{"response":{"status":{"code":"200"}}}', 200, ""),
        (b"<response><status><code>463</code><message>G</message></status></response>", 463, "G"),
        (
            b"<?xml version='1.0'?>\n<response><status><code> 200 </code></status></response>",
            200,
            "",
        ),
        (
            b'<r:response xmlns:r="urn:x"><r:status><r:code>401</r:code></r:status></r:response>',
            401,
            "",
        ),
        (b'{"response":{"status":{"code":true}}}', None, ""),
        (b'{"response":{"status":"odd"}}', None, ""),
    ],
)
def test_status_codes_as_integers_or_numeric_strings(
    body: bytes, code: int | None, message: str
) -> None:
    envelope = read_envelope(body)
    assert envelope is not None
    assert (envelope.code, envelope.message) == (code, message)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"Bad Gateway",
        b"<html><body>502</body></html>",
        b'{"status":{"code":200}}',
        b"[1, 2]",
        b"<response><status>",
        b'<!DOCTYPE r [<!ENTITY e "x">]><response><status><code>&e;</code></status></response>',
    ],
)
def test_what_is_not_an_envelope(body: bytes) -> None:
    assert read_envelope(body) is None


def test_unknown_keys_and_odd_spellings_are_tolerated() -> None:
    body = (
        b'{"response":{"status":{"code":200},"extra":1,"contacts":{"contact":[{"ID":"7",'
        b'"name":"A","gsm":5321234567,"new_thing":{"x":1},"custom_fields":[{"id":"1","value":2}],'
        b'"groups":{"group":{"ID":"3"}}}]}}}'
    )
    envelope = read_envelope(body)
    assert envelope is not None
    assert decode_result("contacts", envelope.content) == (
        Contact(7, "A", gsm="5321234567", custom_fields=(FieldValue(1, "2"),), groups=(3,)),
    )


def test_deep_group_trees_decode_in_both_formats() -> None:
    depth = 300
    xml = "<group><id>1</id><name>g</name><count>0</count>"
    xml += "".join(
        f"<children><child><id>{i}</id><name>g</name><count>0</count>" for i in range(2, depth)
    )
    xml += "</child></children>" * (depth - 2) + "</group>"
    envelope = read_envelope(
        f"<response><status><code>200</code></status>{xml}</response>".encode()
    )
    assert envelope is not None
    group = decode_result("group", envelope.content)
    for _ in range(depth - 2):
        assert isinstance(group, Group)
        group = group.children[0]
    assert isinstance(group, Group) and group.id == depth - 1


@pytest.mark.parametrize(
    ("kind", "content"),
    [
        ("contact", {}),
        ("group", {"group": {"name": "no id"}}),
        ("contacts", {"contacts": [{"id": "seven"}]}),
        ("bulk", {"contacts": {"contact": [{"id": 1}]}}),
    ],
)
def test_payloads_missing_what_the_action_promises(kind: Any, content: dict[str, Any]) -> None:
    with pytest.raises(ShapeError):
        decode_result(kind, content)


def test_xml_requests_escape_and_use_cdata_like_the_vendor() -> None:
    body = encode_request("xml", c.AddGroup("a]]>b & <c>", None), "k", "h&").decode()
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?><request>')
    assert "<hash>h&amp;</hash>" in body
    assert "<name><![CDATA[a]]]]><![CDATA[>b & <c>]]></name>" in body
    assert set(string.whitespace) & set(body) == {" "}
