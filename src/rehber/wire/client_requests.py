"""Write request envelopes from typed commands: the client's half of :mod:`rehber.wire.requests`.

Each command becomes one neutral tree (dicts, lists, ints, strings) rendered either as JSON
(``orjson``, literal UTF-8) or as XML, where a list is a repeated element. The shapes are the
vendor's documented request samples (``examples.json`` ``request_example``), choosing among the
documented variants the one that can say everything a command holds:

* a contact's ``groups``: ``{"id": [..]}`` in JSON (the edit-contact page's form; the add-contact
  page's ``{"group": {"id": x}}`` cannot hold two groups) and repeated ``<groups><id/>`` in XML;
  add-contacts, which only the legacy docs describe, uses the legacy ``groups/group/id`` nesting;
* ``custom_fields``: ``{"custom_field": [{id, value}, ..]}`` / repeated ``<custom_field>``;
* subscribe-group / unsubscribe-group: ``contact`` and ``group`` lists directly under
  ``request`` (the legacy JSON sample); in XML one ``<contact><id/></contact>`` per contact;
* edit-group ``parent``: absent (:data:`~rehber.commands.MISSING`) keeps the parent, ``None`` is
  sent as ``0`` (the edit page's "top level");
* free text (names, surname, e-mail) is CDATA in XML, like the vendor's samples.

``None`` fields are left out, so "not given" and "empty" (``""``, ``()``) stay distinct on the
wire exactly as :mod:`rehber.commands` defines them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, TypeAlias

import orjson

from rehber import commands as c
from rehber.types import FieldValue
from rehber.wire.xml_codec import cdata, escape

Format: TypeAlias = Literal["xml", "json"]
Out: TypeAlias = "str | int | dict[str, Out] | list[Out]"

_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
# Elements written as CDATA (free text the vendor's samples wrap that way).
_CDATA = frozenset({"name", "surname", "email"})


def encode_request(fmt: Format, command: c.Command, key: str, hash_value: str) -> bytes:
    """The request body for ``command`` in ``fmt``, authenticated as ``key`` / ``hash_value``.

    >>> encode_request("json", c.GetGroup(5), "k", "h")
    b'{"request":{"authentication":{"key":"k","hash":"h"},"group":{"id":5}}}'
    """
    request: dict[str, Out] = {"authentication": {"key": key, "hash": hash_value}}
    request.update(payload(command))
    if fmt == "json":
        return orjson.dumps({"request": request})
    parts = [_DECLARATION]
    _xml("request", request, parts)
    return "".join(parts).encode()


def payload(command: c.Command) -> dict[str, Out]:
    """The operation elements of ``command``: all of ``request`` but ``authentication``."""
    match command:
        case c.GetGroups():
            return {}
        case c.GetGroup(id=group_id) | c.DeleteGroup(id=group_id):
            return {"group": _ref(group_id)}
        case c.AddGroup(name=name, parent=parent):
            return {"group": _present(name=name, parent=parent)}
        case c.EditGroup(id=group_id, name=name, parent=parent):
            group = _present(id=group_id, name=name)
            if parent is not c.MISSING:
                group["parent"] = 0 if parent is None else parent
            return {"group": group}
        case c.GetGroupContacts(id=group_id, page=page, row_count=rows):
            return {"group": _present(id=group_id, page=page, rowCount=rows)}
        case c.SearchContacts(key=term, page=page, row_count=rows):
            return {"search": _present(key=term, page=page, rowCount=rows)}
        case c.AddContact(contact=fields):
            return {"contact": contact(fields)}
        case c.EditContact(id=contact_id, changes=fields):
            return {"contact": {**_ref(contact_id), **contact(fields)}}
        case c.GetContact(id=contact_id) | c.DeleteContact(id=contact_id):
            return {"contact": _ref(contact_id)}
        case (
            c.SubscribeGroup(group_ids=groups, contact_ids=contacts)
            | c.UnsubscribeGroup(group_ids=groups, contact_ids=contacts)
        ):
            return {"contact": _refs(contacts), "group": _refs(groups)}
        case c.AddContacts(items=items):
            # An empty item is sent as {"name": ""}: a lone empty <contact/> reads as no item
            # at all in XML, and the answer must still list one result per item.
            listed: list[Out] = [contact(_fields(i), legacy=True) or {"name": ""} for i in items]
            return {"contacts": {"contact": listed}}
        case c.DeleteContacts(ids=ids):
            return {"contacts": {"contact": _refs(ids)}}
    raise TypeError(f"not a command: {type(command).__name__}")


def contact(fields: c.ContactFields, *, legacy: bool = False) -> dict[str, Out]:
    """One ``contact`` object: the given values only (``None`` = not sent)."""
    out = _present(name=fields.name, surname=fields.surname, email=fields.email, gsm=fields.gsm)
    if fields.custom_fields is not None:
        out["custom_fields"] = {"custom_field": [_field(f) for f in fields.custom_fields]}
    if fields.groups is not None:
        ids: list[Out] = list(fields.groups)
        out["groups"] = {"group": [{"id": i} for i in fields.groups]} if legacy else {"id": ids}
    return out


def _fields(item: c.ContactFields | Exception) -> c.ContactFields:
    if isinstance(item, Exception):  # only the server's decoder carries unreadable items
        raise TypeError("add-contacts items must be ContactFields")
    return item


def _field(value: FieldValue) -> Out:
    return {"id": value.id, "value": value.value}


def _present(**values: str | int | None) -> dict[str, Out]:
    return {name: value for name, value in values.items() if value is not None}


def _ref(object_id: int | None) -> dict[str, Out]:
    return _present(id=object_id)


def _refs(ids: Iterable[int]) -> list[Out]:
    return [{"id": i} for i in ids]


def _xml(name: str, node: Out, parts: list[str]) -> None:
    """Append ``node`` as element(s) named ``name``; a list repeats the element."""
    if isinstance(node, list):
        for item in node:
            _xml(name, item, parts)
    elif isinstance(node, dict):
        parts.append(f"<{name}>")
        for child, value in node.items():
            _xml(child, value, parts)
        parts.append(f"</{name}>")
    elif isinstance(node, int):
        parts.append(f"<{name}>{node}</{name}>")
    else:
        text = cdata(node) if name in _CDATA else escape(node)
        parts.append(f"<{name}>{text}</{name}>")
