"""Turn an XML or JSON request body into one normalized tree, so one interpreter reads both.

The tree is the *content* of the root ``request`` object: a ``dict`` whose values are
:data:`Node` s. XML is folded into the same shapes JSON already has:

* an element without child elements becomes its text (CDATA or escaped; ``<x/>`` = ``""``);
* an element with child elements becomes a ``dict``; a child name that repeats becomes a
  ``list`` of its values in document order;
* attributes, comments, processing instructions and whitespace-only text between elements are
  ignored; a namespace prefix is dropped (``{ns}request`` reads as ``request``).

Parsing is defensive because the body comes from the network: no DTD is loaded, no entity is
expanded, nothing is fetched, XInclude elements are refused, and depth is bounded (libxml2
stops at 256 levels without ``huge_tree``, orjson at 1024, and this module at
:data:`MAX_DEPTH` for XML). A document that declares a DOCTYPE (the only place entities can
be declared) is refused. Every failure is :class:`~rehber.codes.ServiceError` with code 400.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TypeAlias

import orjson
from lxml import etree

from rehber.codes import Code, ServiceError

Node: TypeAlias = "str | int | float | bool | dict[str, Node] | list[Node] | None"

# Real requests are at most 7 levels deep (request/contacts/contact/custom_fields/...); 64
# leaves room for clients that wrap things oddly while keeping recursion shallow.
MAX_DEPTH = 64

_BOM = b"\xef\xbb\xbf"
# XInclude is never processed; an include element is refused rather than silently dropped.
_XINCLUDE = "{http://www.w3.org/2001/XInclude}"
_local = threading.local()


@dataclass(frozen=True, slots=True)
class Credentials:
    """The ``authentication`` pair of a request, stripped; ``""`` when missing or not text."""

    key: str
    hash: str


def _bad_request(detail: str) -> ServiceError:
    return ServiceError(Code.BAD_REQUEST, detail)


def _parser() -> etree.XMLParser:
    """One parser per thread: lxml parser objects must not be used by two threads at once."""
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        # encoding="utf-8" overrides any encoding the declaration names: the wire is UTF-8, and
        # invalid UTF-8 then fails in libxml2 instead of being read as another charset.
        parser = etree.XMLParser(
            encoding="utf-8",
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        _local.parser = parser
    return parser


def parse_xml(body: bytes) -> dict[str, Node]:
    """Parse an XML request body (``<request>…</request>``) into the content of ``request``."""
    return element_children(xml_request(body), 1)


def xml_request(body: bytes) -> etree._Element:
    """The ``<request>`` element of an XML body, parsed under the rules above."""
    try:
        root = etree.fromstring(body, _parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise _bad_request(f"XML: {exc}") from None
    if root.getroottree().docinfo.internalDTD is not None:
        raise _bad_request("XML: DOCTYPE declarations are not accepted")
    if local_name(root.tag) != "request":
        raise _bad_request("XML: root element is not <request>")
    return root


def parse_json(body: bytes) -> dict[str, Node]:
    """Parse a JSON request body (``{"request": {…}}``) into the content of ``request``."""
    data = memoryview(body)[len(_BOM) :] if body.startswith(_BOM) else body
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise _bad_request(f"JSON: {exc}") from None
    request = document.get("request") if isinstance(document, dict) else None
    if not isinstance(request, dict):
        raise _bad_request('JSON: body is not {"request": {...}}')
    return request


def credentials(tree: dict[str, Node]) -> Credentials:
    """The ``authentication/key`` and ``authentication/hash`` of a parsed request."""
    auth = tree.get("authentication")
    if isinstance(auth, list):
        auth = auth[0] if auth else None
    if not isinstance(auth, dict):
        return Credentials("", "")
    return Credentials(_stripped(auth.get("key")), _stripped(auth.get("hash")))


def _stripped(value: Node) -> str:
    return value.strip() if isinstance(value, str) else ""


def local_name(tag: str) -> str:
    """The local name of an element (namespaces carry no meaning in this API)."""
    return tag.rpartition("}")[2] if tag[0] == "{" else tag


def element_children(element: etree._Element, depth: int) -> dict[str, Node]:
    """The child elements of ``element`` by name; repeated names collect into a list.

    An element without child elements is its text. This loop runs once per element of a
    request (ten per contact of a bulk add), so the common case is kept inline.
    """
    if depth > MAX_DEPTH:
        raise _bad_request("XML: nested too deeply")
    children: dict[str, Node] = {}
    for child in element:
        tag = child.tag
        if type(tag) is not str:
            # Comments and PIs are removed by the parser; an entity reference cannot occur
            # without a DOCTYPE, which is refused, so anything else is a surprise.
            raise _bad_request("XML: unexpected node")
        if tag[0] == "{":
            if tag.startswith(_XINCLUDE):
                raise _bad_request("XML: XInclude is not accepted")
            tag = local_name(tag)
        value: Node = element_children(child, depth + 1) if len(child) else (child.text or "")
        previous = children.get(tag)
        if previous is None:
            children[tag] = value
        elif isinstance(previous, list):
            previous.append(value)
        else:
            children[tag] = [previous, value]
    return children
