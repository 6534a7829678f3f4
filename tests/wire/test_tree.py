"""Body -> normalized tree: XML folding, JSON envelope checks, credentials, hostile input."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from rehber.codes import Code, ServiceError
from rehber.wire import Credentials, credentials, parse
from rehber.wire.tree import parse_json, parse_xml

# --- XML normalization -------------------------------------------------------------------


def test_leaf_elements_become_text_and_parents_become_dicts() -> None:
    body = b"<request><group><id>5</id><name>Ali</name></group><flag>x</flag></request>"
    assert parse_xml(body) == {"group": {"id": "5", "name": "Ali"}, "flag": "x"}


def test_empty_forms_are_the_same_empty_text() -> None:
    body = b"<request><a/><b></b><c><![CDATA[]]></c></request>"
    assert parse_xml(body) == {"a": "", "b": "", "c": ""}


def test_cdata_and_escaped_text_read_the_same() -> None:
    body = (
        b"<request><a><![CDATA[<b>&amp; \xc5\x9f]]></a><b>&lt;b&gt;&amp;amp; &#351;</b></request>"
    )
    assert parse_xml(body) == {"a": "<b>&amp; ş", "b": "<b>&amp; ş"}


def test_repeated_names_become_lists_in_order() -> None:
    body = b"<request><g><id>1</id><x>a</x><id>2</id><id>3</id></g></request>"
    assert parse_xml(body) == {"g": {"id": ["1", "2", "3"], "x": "a"}}


def test_repeated_parents_become_a_list_of_dicts() -> None:
    body = b"<request><c><id>1</id></c><c><id>2</id></c><c/></request>"
    assert parse_xml(body) == {"c": [{"id": "1"}, {"id": "2"}, ""]}


def test_attributes_comments_and_pis_are_ignored() -> None:
    body = (
        b'<?xml version="1.0"?><!-- c --><request a="1"><!-- c --><?pi x?>'
        b'<n k="v">a<!-- inside -->b<?pi?>c</n></request>'
    )
    assert parse_xml(body) == {"n": "abc"}


def test_whitespace_between_elements_is_ignored_but_leaf_text_is_kept() -> None:
    body = b"<request>\n  <a>\n    <b> x </b>\n  </a>\n  <c>  </c>\n</request>"
    assert parse_xml(body) == {"a": {"b": " x "}, "c": "  "}


def test_text_mixed_with_elements_is_dropped() -> None:
    assert parse_xml(b"<request><a>t<b>1</b>u</a></request>") == {"a": {"b": "1"}}


def test_namespaces_are_dropped() -> None:
    body = b'<r:request xmlns:r="urn:x" xmlns="urn:y"><r:a>1</r:a><b>2</b></r:request>'
    assert parse_xml(body) == {"a": "1", "b": "2"}


def test_request_without_children_is_empty() -> None:
    assert parse_xml(b"<request/>") == {}
    assert parse_xml(b"<request>text</request>") == {}


@pytest.mark.parametrize(
    "prefix",
    [
        b"",
        b'<?xml version="1.0" encoding="UTF-8"?>\n',
        b"\xef\xbb\xbf",
        b'\xef\xbb\xbf<?xml version="1.0" encoding="utf-8"?>',
    ],
)
def test_optional_declaration_and_bom(prefix: bytes) -> None:
    assert parse_xml(prefix + "<request><a>ş</a></request>".encode()) == {"a": "ş"}


def test_body_is_utf8_whatever_the_declaration_says() -> None:
    body = '<?xml version="1.0" encoding="ISO-8859-9"?><request><a>ş</a></request>'.encode()
    assert parse_xml(body) == {"a": "ş"}


def test_carriage_return_reference_survives() -> None:
    assert parse_xml(b"<request><a>x&#13;y\r\nz</a></request>") == {"a": "x\ry\nz"}


def test_xinclude_is_refused_not_processed() -> None:
    body = (
        b'<request xmlns:xi="http://www.w3.org/2001/XInclude"><contact><name>'
        b'<xi:include href="file:///etc/passwd" parse="text"/></name></contact></request>'
    )
    with pytest.raises(ServiceError) as raised:
        parse_xml(body)
    assert raised.value.code == 400


# --- JSON --------------------------------------------------------------------------------


def test_json_returns_the_request_object() -> None:
    body = '{"request": {"a": [1, "ş", null, true, 1.5, {"b": {}}]}, "other": 1}'.encode()
    assert parse_json(body) == {"a": [1, "ş", None, True, 1.5, {"b": {}}]}


def test_json_bom_is_accepted() -> None:
    assert parse_json(b'\xef\xbb\xbf{"request": {"a": 1}}') == {"a": 1}


def test_facade_picks_the_parser_by_format() -> None:
    assert parse("xml", b"<request><a>1</a></request>") == {"a": "1"}
    assert parse("json", b'{"request": {"a": "1"}}') == {"a": "1"}


# --- credentials -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tree", "expected"),
    [
        ({"authentication": {"key": " k \n", "hash": "\th "}}, Credentials("k", "h")),
        ({"authentication": [{"key": "k", "hash": "h"}, {"key": "x"}]}, Credentials("k", "h")),
        ({"authentication": {"key": "k"}}, Credentials("k", "")),
        ({"authentication": {"key": 5, "hash": ["h"]}}, Credentials("", "")),
        ({"authentication": {"key": {"a": "k"}, "hash": None}}, Credentials("", "")),
        ({"authentication": "k"}, Credentials("", "")),
        ({"authentication": []}, Credentials("", "")),
        ({}, Credentials("", "")),
    ],
)
def test_credentials(tree: dict[str, Any], expected: Credentials) -> None:
    assert credentials(tree) == expected


def test_credentials_from_xml() -> None:
    auth = b"<authentication><key><![CDATA[ k ]]></key><hash>h</hash></authentication>"
    body = b"<request>" + auth + b"</request>"
    assert credentials(parse_xml(body)) == Credentials("k", "h")


# --- hostile and malformed bodies: always 400, nothing expanded or fetched ----------------

DEEP = 10_000
LOL = "".join(
    f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
).encode()
BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE request [<!ENTITY lol0 "lol">'
    + LOL
    + b"]><request><a>&lol9;</a></request>"
)
QUADRATIC = (
    b'<!DOCTYPE request [<!ENTITY a "'
    + b"a" * 50_000
    + b'">]><request><n>'
    + b"&a;" * 20_000
    + b"</n></request>"
)

HOSTILE_XML = {
    "empty": b"",
    "whitespace": b"  \n",
    "unclosed": b"<request><a></request>",
    "mismatched closing tag (doc typo)": b"<request><contact><id>1</id><contact></request>",
    "two roots": b"<request/><request/>",
    "text only": b"request",
    "wrong root": b"<response><a>1</a></response>",
    "json to xml endpoint": b'{"request": {}}',
    "plain doctype": b"<!DOCTYPE request><request/>",
    "doctype with system id": b'<!DOCTYPE request SYSTEM "http://127.0.0.1:9/x.dtd"><request/>',
    "internal entity": b'<!DOCTYPE request [<!ENTITY e "x">]><request><a>&e;</a></request>',
    "external entity": (
        b'<!DOCTYPE request [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b"<request><contact><name>&e;</name></contact></request>"
    ),
    "external parameter entity": (
        b'<!DOCTYPE request [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]><request/>'
    ),
    "billion laughs": BILLION_LAUGHS,
    "billion laughs in attribute": BILLION_LAUGHS.replace(
        b"<request><a>&lol9;</a>", b'<request><a b="&lol9;"/>'
    ),
    "quadratic blowup": QUADRATIC,
    "undeclared entity": b"<request><a>&e;</a></request>",
    "deep nesting": b"<request>" + b"<a>" * DEEP + b"</a>" * DEEP + b"</request>",
    "nesting past our own bound": b"<request>" + b"<a>" * 100 + b"</a>" * 100 + b"</request>",
    "invalid utf-8": b"<request><a>\xff\xfe</a></request>",
    "overlong utf-8": b"<request><a>\xc0\xaf</a></request>",
    "lone surrogate in utf-8": b"<request><a>\xed\xa0\x80</a></request>",
    "nul byte": b"<request><a>x\x00y</a></request>",
    "control character": b"<request><a>\x01</a></request>",
    "control character reference": b"<request><a>&#1;</a></request>",
    "utf-16 body": "<request><a>1</a></request>".encode("utf-16"),
    "declaration after whitespace": b'\n<?xml version="1.0"?><request/>',
}

HOSTILE_JSON = {
    "empty": b"",
    "unclosed": b'{"request": {',
    "trailing comma (doc typo)": b'{"request": {"a": 1},}',
    "single quotes": b"{'request': {}}",
    "xml to json endpoint": b"<request/>",
    "array root": b"[]",
    "string root": b'"request"',
    "no request key": b'{"req": {}}',
    "request is a list": b'{"request": []}',
    "request is a string": b'{"request": "x"}',
    "request is null": b'{"request": null}',
    "deep nesting": b'{"request": {"a": ' + b"[" * DEEP + b"]" * DEEP + b"}}",
    "deep objects": b'{"request": ' + b'{"a": ' * DEEP + b"{}" + b"}" * DEEP + b"}",
    "invalid utf-8": b'{"request": {"a": "\xff"}}',
    "lone surrogate escape": b'{"request": {"a": "\\ud800"}}',
    "nul byte": b'{"request": {"a": "x\x00y"}}',
    "NaN": b'{"request": {"a": NaN}}',
    "utf-16 body": '{"request": {}}'.encode("utf-16"),
    "two documents": b'{"request": {}}{"request": {}}',
}


def assert_bad_request(fmt: Any, body: bytes) -> None:
    with pytest.raises(ServiceError) as caught:
        parse(fmt, body)
    assert caught.value.code == Code.BAD_REQUEST


@pytest.mark.parametrize("name", sorted(HOSTILE_XML))
def test_hostile_xml_is_400(name: str) -> None:
    assert_bad_request("xml", HOSTILE_XML[name])


@pytest.mark.parametrize("name", sorted(HOSTILE_JSON))
def test_hostile_json_is_400(name: str) -> None:
    assert_bad_request("json", HOSTILE_JSON[name])


def test_reasonable_nesting_is_accepted() -> None:
    depth = 40
    body = b"<request>" + b"<a>" * depth + b"x" + b"</a>" * depth + b"</request>"
    node: Any = parse_xml(body)
    for _ in range(depth):
        node = node["a"]
    assert node == "x"


def test_escaped_control_characters_in_json_parse_and_are_left_to_the_decoder() -> None:
    # JSON can carry them; the request decoder refuses them as text (422), see test_requests.
    assert parse_json(orjson.dumps({"request": {"a": "\x00"}})) == {"a": "\x00"}
