"""Talk to the vendor API the way a client does, in either format, and read replies uniformly.

``Reply`` exposes results in the current-generation JSON shape whatever the wire format, so
one test body can assert the same facts over XML and JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import orjson
from lxml import etree

Tree = Any


def xml_element(name: str, value: Any) -> str:
    """Render a dict/list/scalar as XML the way vendor samples nest elements."""
    if isinstance(value, list):
        return "".join(xml_element(name, v) for v in value)
    if isinstance(value, dict):
        inner = "".join(xml_element(k, v) for k, v in value.items())
        return f"<{name}>{inner}</{name}>"
    text = "" if value is None else escape(str(value))
    return f"<{name}>{text}</{name}>"


def envelope(fmt: str, key: str, hash_value: str, payload: dict[str, Any]) -> bytes:
    request = {"authentication": {"key": key, "hash": hash_value}, **payload}
    if fmt == "json":
        return orjson.dumps({"request": request})
    return ('<?xml version="1.0" encoding="UTF-8"?>' + xml_element("request", request)).encode()


def xml_tree(element: etree._Element) -> Tree:
    """Element -> its text, or a dict of its children (a repeated name becomes a list)."""
    children = list(element)
    if not children:
        return element.text or ""
    grouped: dict[str, list[Any]] = {}
    for child in children:
        grouped.setdefault(str(child.tag), []).append(xml_tree(child))
    return {k: v[0] if len(v) == 1 else v for k, v in grouped.items()}


def as_list(node: Tree) -> list[Any]:
    if node in ("", None):
        return []
    return node if isinstance(node, list) else [node]


def _int(value: Any) -> int:
    return int(value)


@dataclass
class Reply:
    fmt: str
    status: int
    body: bytes
    data: Tree  # the parsed ``response`` object

    @property
    def code(self) -> int:
        return int(self.data["status"]["code"])

    @property
    def message(self) -> str:
        return str(self.data["status"]["message"])

    def keys(self) -> set[str]:
        return set(self.data) if isinstance(self.data, dict) else set()

    # -- results in the current JSON shape ------------------------------------------------

    def contact(self) -> dict[str, Any]:
        return _contact(self.data["contact"], self.fmt)

    def contacts(self) -> list[dict[str, Any]]:
        node = self.data["contacts"]
        items = as_list(node["contact"]) if isinstance(node, dict) else node
        return [_contact(c, self.fmt) for c in items]

    def group(self) -> dict[str, Any]:
        return _group(self.data["group"], self.fmt)

    def groups(self) -> list[dict[str, Any]]:
        node = self.data["groups"]
        items = as_list(node.get("group")) if isinstance(node, dict) else as_list(node)
        return [_group(g, self.fmt) for g in items]

    def bulk(self) -> list[dict[str, Any]]:
        items = as_list(self.data["contacts"]["contact"])
        out = []
        for item in items:
            code = item["status"]["code"] if self.fmt == "json" else item["code"]
            out.append(
                {
                    "id": int(item["id"]) if item["id"] not in ("", None) else None,
                    "gsm": item["gsm"] or None,
                    "code": int(code),
                }
            )
        return out

    def contact_ids(self) -> list[int]:
        return [c["id"] for c in self.contacts()]


def _contact(node: Tree, fmt: str) -> dict[str, Any]:
    fields = node["custom_fields"]
    if isinstance(fields, dict):
        fields = as_list(fields.get("custom_field"))
    groups = node["groups"]
    if isinstance(groups, dict):
        groups = [
            g["id"] if isinstance(g, dict) else g for g in as_list(groups.get("group"))
        ] + as_list(groups.get("id"))
    return {
        "id": _int(node["id"]),
        "name": node["name"] or "",
        "surname": node["surname"] or "",
        "email": node["email"] or "",
        "gsm": node["gsm"] or "",
        "custom_fields": [
            {"id": _int(f["id"]), "value": f["value"] or ""} for f in as_list(fields)
        ],
        "groups": [_int(g) for g in as_list(groups)],
    }


def _group(node: Tree, fmt: str) -> dict[str, Any]:
    out: dict[str, Any] = {"id": _int(node["id"]), "name": node["name"]}
    if "count" in node:
        out["count"] = _int(node["count"])
    children = node.get("children")
    if children is not None:
        items = as_list(children.get("child")) if isinstance(children, dict) else as_list(children)
        out["children"] = [_group(c, fmt) for c in items]
    return out


class Api:
    """The vendor API for one account in one format, over a Starlette/httpx client."""

    def __init__(self, client: Any, key: str, hash_value: str, fmt: str) -> None:
        self.client = client
        self.key = key
        self.hash = hash_value
        self.fmt = fmt

    def path(self, action: str) -> str:
        return f"/v1/{action}/json" if self.fmt == "json" else f"/v1/{action}"

    def raw(self, action: str, body: bytes, path: str | None = None) -> Reply:
        response = self.client.post(path or self.path(action), content=body)
        return parse_reply(self.fmt, response.status_code, response.content)

    def call(self, action: str, payload: dict[str, Any] | None = None) -> Reply:
        return self.raw(action, envelope(self.fmt, self.key, self.hash, payload or {}))

    def ok(self, action: str, payload: dict[str, Any] | None = None) -> Reply:
        reply = self.call(action, payload)
        assert reply.status == 200, (action, reply.status, reply.body[:500])
        assert reply.code == 200
        return reply

    def as_other(self, key: str, hash_value: str) -> Api:
        return Api(self.client, key, hash_value, self.fmt)

    # -- shortcuts used by many tests -----------------------------------------------------

    def add_group(self, name: str, parent: int | None = None) -> int:
        group: dict[str, Any] = {"name": name}
        if parent is not None:
            group["parent"] = parent
        return int(self.ok("add-group", {"group": group}).group()["id"])

    def add_contact(self, **fields: Any) -> dict[str, Any]:
        groups = fields.pop("groups", None)
        if groups is not None:
            fields["groups"] = {"id": groups} if self.fmt == "xml" else groups
        return self.ok("add-contact", {"contact": fields}).contact()


def parse_reply(fmt: str, status: int, body: bytes) -> Reply:
    if fmt == "json":
        data = orjson.loads(body)["response"]
    else:
        root = etree.fromstring(body)
        assert root.tag == "response", body[:200]
        data = xml_tree(root)
    return Reply(fmt, status, body, data)
