"""add-contacts XML is read straight from its elements (``read_add_contacts_xml``); every body
must give what the generic tree gives: the same credentials and command, or the same error."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rehber import commands as c
from rehber.codes import Code, ServiceError
from rehber.wire import Credentials, credentials, decode_command, read
from rehber.wire.actions import ACTIONS
from rehber.wire.requests import read_add_contacts_xml
from rehber.wire.tree import parse_xml

ADD_CONTACTS = ACTIONS["add-contacts"]
NS = "urn:x"


def _comparable(command: c.Command) -> Any:
    """Exceptions compare by identity: an item's error as its code and detail."""
    assert isinstance(command, c.AddContacts)
    return [
        ("error", item.code, item.detail) if isinstance(item, ServiceError) else item
        for item in command.items
    ]


def _outcome(read_body: Any, body: bytes) -> Any:
    try:
        creds, command = read_body(body)
    except ServiceError as exc:
        return ("refused", exc.code)
    try:
        return creds, _comparable(command())
    except ServiceError as exc:
        return creds, ("refused", exc.code)


def _generic(body: bytes) -> tuple[Credentials, Any]:
    tree = parse_xml(body)
    return credentials(tree), lambda: decode_command(ADD_CONTACTS, tree)


def _read(body: bytes) -> tuple[Credentials, Any]:
    return read("xml", ADD_CONTACTS, body)


def _same(body: bytes) -> Any:
    generic = _outcome(_generic, body)
    assert _outcome(_read, body) == generic
    return generic


# -- bodies built from random parts ------------------------------------------------------------

_texts = st.sampled_from(["", " ", "Ayşe", "0532 123 45 67", "ali@ornek.com", "12", "x<&>y", "a]]"])


def _leaf(tag: str) -> st.SearchStrategy[str]:
    return _texts.map(lambda text: f"<{tag}>{_escape(text)}</{tag}>")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_ids = st.sampled_from(["1", "7", "", "x", "-3", "0"])
_custom_field = st.tuples(_ids, _texts).map(
    lambda p: f"<custom_field><id>{p[0]}</id><value>{_escape(p[1])}</value></custom_field>"
)
_custom_fields = st.lists(_custom_field, max_size=3).map(
    lambda items: f"<custom_fields>{''.join(items)}</custom_fields>"
)
_groups = st.one_of(
    st.lists(_ids.map(lambda i: f"<group><id>{i}</id></group>"), max_size=3),
    st.lists(_ids.map(lambda i: f"<id>{i}</id>"), max_size=3),
).map(lambda items: f"<groups>{''.join(items)}</groups>")
_plain_child = st.one_of(
    *(_leaf(tag) for tag in ("name", "surname", "email", "gsm")), _custom_fields, _groups
)
_contact_child = st.one_of(
    _plain_child,
    _plain_child,
    _plain_child,
    st.sampled_from(
        [
            "<groups/>",
            "<custom_fields/>",
            "<note>x</note>",
            "<name><first>A</first></name>",
            f'<n:name xmlns:n="{NS}">Ns</n:name>',
            '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="x"/>',
        ]
    ),
)
_contact = st.one_of(
    st.lists(_contact_child, max_size=7).map(lambda kids: f"<contact>{''.join(kids)}</contact>"),
    st.sampled_from(["<contact/>", "<contact> </contact>", "<contact>text</contact>"]),
)
_contacts_child = st.one_of(
    *[_contact] * 8,
    st.sampled_from(["<other>1</other>", f'<n:contact xmlns:n="{NS}"><name>N</name></n:contact>']),
)
_contacts = st.one_of(
    st.lists(_contacts_child, max_size=6).map(lambda kids: f"<contacts>{''.join(kids)}</contacts>"),
    st.sampled_from(["<contacts/>", "<contacts>x</contacts>", f'<n:contacts xmlns:n="{NS}"/>']),
)
_authentication = st.sampled_from(
    [
        "<authentication><key>k</key><hash>h</hash></authentication>",
        "<authentication><key> k2 </key></authentication>",
        "",
    ]
)


@settings(max_examples=500, deadline=None)
@given(
    _authentication,
    st.one_of(*[_contacts.map(lambda x: [x])] * 3, st.lists(_contacts, max_size=2)),
    st.booleans(),
)
def test_any_body_reads_as_the_generic_tree_reads_it(
    authentication: str, contacts: list[str], contacts_first: bool
) -> None:
    parts = [*contacts, authentication] if contacts_first else [authentication, *contacts]
    _same(f"<request>{''.join(parts)}</request>".encode())


# -- the shapes the direct reading leaves to the generic tree ----------------------------------

AUTH = "<authentication><key>k</key><hash>h</hash></authentication>"


def _body(contacts: str) -> bytes:
    return f"<request>{AUTH}{contacts}</request>".encode()


def test_the_plain_shape_is_read_directly() -> None:
    body = _body(
        "<contacts><contact><name>Ayşe</name><gsm>0532 123 45 67</gsm>"
        "<custom_fields><custom_field><id>3</id><value>VIP</value></custom_field></custom_fields>"
        "<groups><group><id>9</id></group></groups></contact><contact/></contacts>"
    )
    tree, command = read_add_contacts_xml(body)
    assert tree == {"authentication": {"key": "k", "hash": "h"}}
    assert command is not None
    assert command.items == (
        c.ContactFields("Ayşe", None, None, "0532 123 45 67", (c.FieldValue(3, "VIP"),), (9,)),
        c.ContactFields(),
    )
    assert _same(body)[1] == list(command.items)


@pytest.mark.parametrize(
    "contacts",
    [
        "<contacts><other>1</other><contact><name>A</name></contact></contacts>",
        "<contacts><contact><name>A</name></contact></contacts><contacts/>",
        f'<n:contacts xmlns:n="{NS}"><contact><name>A</name></contact></n:contacts>',
        "<contacts/>",
    ],
)
def test_other_contacts_shapes_take_the_generic_way(contacts: str) -> None:
    body = _body(contacts)
    tree, command = read_add_contacts_xml(body)
    assert command is None
    assert tree == parse_xml(body)
    _same(body)


@pytest.mark.parametrize(
    ("child", "expected"),
    [
        *(
            (f"<{tag}>A</{tag}><{tag}>B</{tag}>", ("error", Code.VALIDATION))
            for tag in ("name", "surname", "email", "gsm")
        ),
        ("<groups><id>1</id></groups><groups><id>2</id></groups>", c.ContactFields(groups=(1, 2))),
        ("<name><first>A</first></name>", ("error", Code.VALIDATION)),
        (f'<n:name xmlns:n="{NS}">Ns</n:name>', c.ContactFields(name="Ns")),
        ("<groups/>", c.ContactFields(groups=())),
        ("<note><deep>1</deep></note><name>A</name>", c.ContactFields(name="A")),
    ],
)
def test_other_contact_shapes_read_as_the_generic_tree_reads_them(
    child: str, expected: Any
) -> None:
    _creds, items = _same(_body(f"<contacts><contact>{child}</contact></contacts>"))
    if isinstance(expected, tuple):
        assert items[0][:2] == expected
    else:
        assert items == [expected]


def test_xinclude_inside_a_contact_is_refused_either_way() -> None:
    xinclude = '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd"/>'
    for inside in (xinclude, f"<custom_fields>{xinclude}</custom_fields>"):
        body = _body(f"<contacts><contact><name>A</name>{inside}</contact></contacts>")
        assert _same(body) == ("refused", Code.BAD_REQUEST)
