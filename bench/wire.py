"""The vendor envelopes, built from one nested mapping for both formats.

A payload such as ``{"contacts": {"contact": [{...}, {...}]}}`` becomes the JSON body
``{"request": {"authentication": ..., "contacts": ...}}`` or the XML body
``<request><authentication>...</authentication><contacts><contact>...</contact>...``: a list
repeats its element, exactly as the vendor documents both forms.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from lxml import etree

Format = Literal["json", "xml"]
FORMATS: tuple[Format, Format] = ("json", "xml")
CONTENT_TYPES: dict[Format, str] = {"json": "application/json", "xml": "application/xml"}


@dataclass(frozen=True, slots=True)
class Credentials:
    key: str
    hash: str

    def authentication(self) -> dict[str, str]:
        return {"key": self.key, "hash": self.hash}


def path(action: str, fmt: Format) -> str:
    return f"/v1/{action}/json" if fmt == "json" else f"/v1/{action}"


def encode(fmt: Format, credentials: Credentials, payload: Mapping[str, Any]) -> bytes:
    """One request body, on one line (the wrk scripts read one body per line)."""
    request = {"authentication": credentials.authentication(), **payload}
    if fmt == "json":
        return orjson.dumps({"request": request})
    root = etree.Element("request")
    _fill(root, request)
    return etree.tostring(root, encoding="UTF-8")


def _fill(parent: etree._Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for tag, child in value.items():
            for item in child if isinstance(child, list) else [child]:
                _fill(etree.SubElement(parent, tag), item)
    else:
        parent.text = str(value)


def count(fmt: Format, body: bytes, plural: str, singular: str) -> int:
    """How many items a response lists (``contacts``/``contact``): current JSON shapes give a
    plain list (legacy ones wrap it in ``{singular: [...]}``); XML repeats ``<singular>``."""
    if fmt == "json":
        found = orjson.loads(body)["response"].get(plural) or []
        if isinstance(found, Mapping):
            found = found.get(singular) or []
        return len(found)
    return len(etree.fromstring(body).findall(f"{plural}/{singular}"))


def stored_ids(fmt: Format, body: bytes) -> list[int]:
    """Ids of the items an add-contacts response reports stored (item status 200), in order.
    add-contacts has only the legacy shape: ``contacts.contact[]`` in both formats."""
    if fmt == "json":
        listed = orjson.loads(body)["response"]["contacts"]["contact"]
        return [int(item["id"]) for item in listed if int(item["status"]["code"]) == 200]
    root = etree.fromstring(body)
    return [
        int(item.findtext("id") or 0)
        for item in root.iterfind("contacts/contact")
        if item.findtext("code") == "200"
    ]


def accepted(fmt: Format, body: bytes) -> int:
    """How many items of an add-contacts response were stored (item status 200).

    For XML one XPath count instead of :func:`stored_ids`' per-item lookups: the bulk senders
    share the machine with the server, and the lookups cost them 5.4 ms per 1,000-item
    response against 1.1 ms for the count.
    """
    if fmt == "json":
        return len(stored_ids(fmt, body))
    return int(etree.fromstring(body).xpath("count(contacts/contact[code='200'])"))


def created_id(fmt: Format, body: bytes, element: str) -> int:
    """The id of the object an add-* call created (``response.<element>.id``)."""
    if fmt == "json":
        return int(orjson.loads(body)["response"][element]["id"])
    return int(etree.fromstring(body).findtext(f"{element}/id") or 0)
