"""Read response envelopes into typed results: the client's half of the response codecs.

The client talks to the real iletimerkezi API as well as to rehber, so it reads every shape the
vendor has documented (``reference.md`` §3/§4), whichever format it asked for:

* the format is sniffed from the body (``<`` XML, ``{`` JSON), so a proxy's or an error page's
  answer in the other format is still read when it carries a ``response``;
* XML is folded into the shapes JSON has (leaf -> text, element -> dict, repeated name -> list),
  with a parser that loads no DTD, expands no entity and touches no network; a body declaring a
  DOCTYPE is refused;
* ``status.code`` is an integer or a numeric string (the docs print both);
* lists come bare (current: ``"groups": [..]``) or wrapped (legacy: ``{"group": [..]}``, and
  every XML list); a contact's groups as ``[1, 2]``, ``{"id": [..]}`` or
  ``{"group": [{"id": ..}]}``; custom fields bare or under ``custom_field``; ids as integers or
  numeric strings (also under the upper-case ``"ID"`` one legacy page printed);
* unknown keys are ignored; missing text reads as ``""``.

:func:`read_envelope` answers ``None`` for a body that is not a vendor envelope at all; a payload
that lacks what its action promises raises :class:`ShapeError`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

import orjson
from lxml import etree

from rehber.types import BulkItemResult, Contact, FieldValue, Group
from rehber.wire.actions import Result, ResultKind

Node: TypeAlias = Any  # str | int | float | bool | None | dict[str, Node] | list[Node]

_BOM = b"\xef\xbb\xbf"
_INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*")
_FIRST_ELEMENT = re.compile(rb"<[^?!]")
_local = threading.local()


class ShapeError(ValueError):
    """A 200 response whose payload does not hold what the action answers with."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """A parsed ``response``: its status (``code`` ``None`` if unreadable) and its content."""

    code: int | None
    message: str
    content: dict[str, Node]


def read_envelope(body: bytes) -> Envelope | None:
    """The ``response`` object of ``body`` in either format, or ``None`` if there is none.

    >>> read_envelope(b'{"response": {"status": {"code": "465", "message": "m"}}}').code
    465
    """
    data = body[len(_BOM) :] if body.startswith(_BOM) else body
    start = data.lstrip()[:1]
    content = _xml_response(data) if start == b"<" else _json_response(data)
    if content is None:
        return None
    status = content.get("status")
    status = status if isinstance(status, dict) else {}
    message = status.get("message")
    return Envelope(_code(status.get("code")), message if isinstance(message, str) else "", content)


def decode_result(kind: ResultKind, content: dict[str, Node]) -> Result:
    """The typed result an action of result ``kind`` answered with (see ``actions.Result``)."""
    return _DECODERS[kind](content)


# -- parsing ------------------------------------------------------------------------------


def _json_response(data: bytes) -> dict[str, Node] | None:
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    response = document.get("response") if isinstance(document, dict) else None
    return response if isinstance(response, dict) else None


def _parser() -> etree.XMLParser:
    """One parser per thread (lxml parsers are not shared across threads)."""
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        # huge_tree: a deep group tree nests two elements per level, past libxml2's default
        # limit of 256; with no DTD and no entities that limit protects nothing here.
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=True,
            remove_comments=True,
            remove_pis=True,
        )
        _local.parser = parser
    return parser


def _xml_response(data: bytes) -> dict[str, Node] | None:
    first = _FIRST_ELEMENT.search(data)
    if first is None or b"<!DOCTYPE" in data[: first.start()].upper():
        return None  # a DTD is where entities live: refused before parsing
    try:
        root = etree.fromstring(data, _parser())
    except (etree.XMLSyntaxError, ValueError):
        return None
    if _local_name(root.tag) != "response":
        return None
    folded = _fold(root)
    return folded if isinstance(folded, dict) else {}


def _local_name(tag: object) -> str:
    name = tag if isinstance(tag, str) else ""
    return name.rpartition("}")[2]


def _fold(element: etree._Element) -> Node:
    """An element as JSON would have it: its text, or a dict of its children (repeats -> list)."""
    if len(element) == 0:
        return element.text or ""
    children: dict[str, Node] = {}
    for child in element:
        name = _local_name(child.tag)
        if not name:
            continue
        value = _fold(child)
        previous = children.get(name)
        if name not in children:
            children[name] = value
        elif isinstance(previous, list):
            previous.append(value)
        else:
            children[name] = [previous, value]
    return children


# -- values -------------------------------------------------------------------------------


def _code(node: Node) -> int | None:
    if isinstance(node, int) and not isinstance(node, bool):
        return node
    if isinstance(node, str) and _INTEGER.fullmatch(node):
        return int(node)
    return None


def _int(node: Node, what: str) -> int:
    number = _code(node)
    if number is None:
        raise ShapeError(f"{what} is not an integer: {node!r:.40}")
    return number


def _optional_int(node: Node) -> int | None:
    return None if _is_empty(node) else _int(node, "id")


def _text(node: Node) -> str:
    if isinstance(node, str):
        return node
    if isinstance(node, int) and not isinstance(node, bool):
        return str(node)  # a gsm sent as a number
    if _is_empty(node):
        return ""
    raise ShapeError(f"not text: {node!r:.40}")


def _is_empty(node: Node) -> bool:
    if isinstance(node, str):
        return not node.strip()
    return node is None or (isinstance(node, (list, dict)) and not node)


def _items(node: Node, *wrappers: str) -> list[Node]:
    """The entries of a list, bare or wrapped (``{"group": [...]}``, one XML child or several)."""
    if isinstance(node, dict):
        for wrapper in wrappers:
            if wrapper in node:
                node = node[wrapper]
                break
    if _is_empty(node):
        return []
    return node if isinstance(node, list) else [node]


def _object(node: Node, what: str) -> dict[str, Node]:
    if isinstance(node, list) and node:
        node = node[0]
    if not isinstance(node, dict):
        raise ShapeError(f"response has no {what}")
    return node


def _id(node: dict[str, Node]) -> Node:
    return node.get("id", node.get("ID"))


# -- results ------------------------------------------------------------------------------


def _group(node: Node, parent: int | None = None) -> Group:
    data = _object(node, "group")
    group_id = _int(_id(data), "group id")
    children = _items(data.get("children"), "child", "group")
    return Group(
        id=group_id,
        name=_text(data.get("name")),
        count=_optional_int(data.get("count")) or 0,
        parent=parent,
        children=tuple(_group(child, group_id) for child in children),
    )


def _id_list(node: Node) -> tuple[int, ...]:
    ids: list[int] = []
    for entry in _items(node, "group"):
        value = _id(entry) if isinstance(entry, dict) else entry
        for candidate in value if isinstance(value, list) else [value]:
            number = _optional_int(candidate)
            if number is not None:
                ids.append(number)
    return tuple(ids)


def _field_value(node: Node) -> FieldValue:
    data = _object(node, "custom_field")
    return FieldValue(_int(_id(data), "custom field id"), _text(data.get("value")))


def _contact(node: Node) -> Contact:
    data = _object(node, "contact")
    return Contact(
        id=_int(_id(data), "contact id"),
        name=_text(data.get("name")),
        surname=_text(data.get("surname")),
        email=_text(data.get("email")),
        gsm=_text(data.get("gsm")),
        custom_fields=tuple(
            _field_value(f) for f in _items(data.get("custom_fields"), "custom_field")
        ),
        groups=_id_list(data.get("groups")),
    )


def _bulk_item(node: Node) -> BulkItemResult:
    data = _object(node, "contact")
    status = data.get("status")
    # JSON nests {code, message} under "status"; the XML item carries them directly.
    code = _int((status if isinstance(status, dict) else data).get("code"), "item code")
    gsm = _text(data.get("gsm"))
    return BulkItemResult(code=code, id=_optional_int(_id(data)), gsm=gsm or None)


def _groups_result(content: dict[str, Node]) -> Result:
    return tuple(_group(g) for g in _items(content.get("groups"), "group"))


def _group_result(content: dict[str, Node]) -> Result:
    return _group(content.get("group"))


def _contacts_result(content: dict[str, Node]) -> Result:
    return tuple(_contact(c) for c in _items(content.get("contacts"), "contact"))


def _contact_result(content: dict[str, Node]) -> Result:
    return _contact(content.get("contact"))


def _bulk_result(content: dict[str, Node]) -> Result:
    return tuple(_bulk_item(i) for i in _items(content.get("contacts"), "contact"))


def _no_result(content: dict[str, Node]) -> Result:
    return None


_DECODERS: dict[ResultKind, Callable[[dict[str, Node]], Result]] = {
    "groups": _groups_result,
    "group": _group_result,
    # add-group / edit-group answer {id, name}: the rest of the Group keeps its defaults.
    "group_ref": _group_result,
    "contacts": _contacts_result,
    "contact": _contact_result,
    "bulk": _bulk_result,
    "none": _no_result,
}
