"""Compare response bodies by meaning, not bytes (``examples.json``: "compare parsed structures").

``xml_comparable`` and ``json_comparable`` turn a body into plain nested values whose equality
is the equality that matters on the wire:

* XML: an element is ``(tag, value)`` — ``value`` is its text when it has no child elements,
  else the list of its children in document order (so order and repetition count). ``<x/>``,
  ``<x></x>`` and ``<x><![CDATA[]]></x>`` are all ``(x, "")``; whitespace-only text between
  elements, comments, PIs and the XML declaration are ignored. Non-whitespace text mixed with
  child elements is kept as ``("#text", text)`` entries; attributes, when present, add a third
  item ``dict``.
* JSON: the parsed value, except that booleans and floats become ``("bool", v)`` / ``("float",
  v)``, so that ``true``/``1``/``1.0`` do not compare equal to an integer the way Python's
  ``==`` would have them.
"""

from __future__ import annotations

from typing import Any

import orjson
from lxml import etree

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    remove_comments=True,
    remove_pis=True,
    huge_tree=True,  # our own output, possibly a deep group tree
)


def xml_comparable(body: bytes) -> Any:
    """``body`` (an XML document) as nested ``(tag, text | children[, attributes])`` tuples."""
    return _element(etree.fromstring(body, _PARSER))


def json_comparable(body: bytes) -> Any:
    """``body`` (a JSON document) as plain values, with bools and floats tagged by type."""
    return _tagged(orjson.loads(body))


def _element(element: etree._Element) -> Any:
    children = [child for child in element if isinstance(child.tag, str)]
    value: Any
    if children:
        value = []
        if (element.text or "").strip():
            value.append(("#text", element.text))
        for child in children:
            value.append(_element(child))
            if (child.tail or "").strip():
                value.append(("#text", child.tail))
    else:
        value = element.text or ""
    tag = str(element.tag)
    return (tag, value, dict(element.attrib)) if element.attrib else (tag, value)


def _tagged(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _tagged(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_tagged(item) for item in value]
    if isinstance(value, (bool, float)):
        return (type(value).__name__, value)
    return value
