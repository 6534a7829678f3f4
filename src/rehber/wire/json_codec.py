"""Write response envelopes as JSON (``/v1/<action>/json``).

The constant head of a success envelope is serialized once at import; each response then adds
one ``orjson.dumps`` of plain values (literal UTF-8, ``code`` an integer). Group trees are the
exception: they nest to any depth and orjson refuses more than 254 levels, so they are spliced
from per-group fragments over a flat walk. Shapes follow ``examples.json``: ``children`` is
omitted for a group without sub-groups; the legacy generation wraps lists
(``{"contact": [...]}``, ``{"group": [{"id": …}]}``, ``{"custom_field": [...]}``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson

from rehber.codes import Code, message_for
from rehber.types import BulkItemResult, Contact, Group, WireGeneration
from rehber.wire._shared import legacy_shaped, walk_groups
from rehber.wire.actions import Action, Result, ResultKind


def _status(code: int) -> dict[str, Any]:
    return {"code": int(code), "message": message_for(code)}


_OK_STATUS = _status(Code.OK)
# b'{"response":{"status":{…}' — the payload (if any) and b"}}" follow.
_OK_OPEN = orjson.dumps({"response": {"status": _OK_STATUS}})[:-2]
_CLOSE = b"}}"


# Each group level is two JSON levels (object, children list); orjson stops at 254 in all.
_DUMPS_MAX_GROUP_DEPTH = 100


def _group_tree(roots: Sequence[Group]) -> bytes:
    """Comma-separated group objects with nested ``children``, in order, without recursion.

    Trees of ordinary depth become nested dicts and one ``orjson.dumps``; deeper ones are
    spliced from per-group fragments. Both give the same bytes.
    """
    nested = _nested_groups(roots)
    if nested is None:
        return _spliced_group_tree(roots)
    return orjson.dumps(nested)[1:-1]


def _nested_groups(roots: Sequence[Group]) -> list[dict[str, Any]] | None:
    """The trees as nested dicts, or None when deeper than orjson can write."""
    top: list[dict[str, Any]] = []
    stack = [(group, top, 1) for group in reversed(roots)]
    while stack:
        group, siblings, depth = stack.pop()
        node: dict[str, Any] = {"id": group.id, "name": group.name, "count": group.count}
        siblings.append(node)
        if group.children:
            if depth >= _DUMPS_MAX_GROUP_DEPTH:
                return None
            kids: list[dict[str, Any]] = []
            node["children"] = kids
            stack.extend((child, kids, depth + 1) for child in reversed(group.children))
    return top


def _spliced_group_tree(roots: Sequence[Group]) -> bytes:
    parts: list[bytes] = []
    after_close = False
    for opening, group, _depth in walk_groups(roots):
        if opening:
            head = orjson.dumps({"id": group.id, "name": group.name, "count": group.count})[:-1]
            parts.append(b"," + head if after_close else head)
            if group.children:
                parts.append(b',"children":[')
        else:
            parts.append(b"]}" if group.children else b"}")
        after_close = not opening
    return b"".join(parts)


def _contact(contact: Contact, legacy: bool) -> dict[str, Any]:
    fields = [{"id": f.id, "value": f.value} for f in contact.custom_fields]
    return {
        "id": contact.id,
        "name": contact.name,
        "surname": contact.surname,
        "email": contact.email,
        "gsm": contact.gsm,
        "custom_fields": {"custom_field": fields} if legacy else fields,
        "groups": {"group": [{"id": i} for i in contact.groups]} if legacy else contact.groups,
    }


def _bulk_item(item: BulkItemResult) -> dict[str, Any]:
    if item.code == Code.OK:
        stored_id = "" if item.id is None else item.id
        return {"id": stored_id, "gsm": item.gsm or "", "status": _OK_STATUS}
    return {"id": "", "gsm": "", "status": _status(item.code)}


def _groups_payload(groups: tuple[Group, ...], legacy: bool) -> bytes:
    tree = b"[" + _group_tree(groups) + b"]"
    return b',"groups":{"group":' + tree + b"}" if legacy else b',"groups":' + tree


def _group_payload(group: Group, legacy: bool) -> bytes:
    return b',"group":' + _group_tree((group,))


def _group_ref_payload(group: Group, legacy: bool) -> bytes:
    return b',"group":' + orjson.dumps({"id": group.id, "name": group.name})


def _contacts_payload(contacts: tuple[Contact, ...], legacy: bool) -> bytes:
    listed = [_contact(c, legacy) for c in contacts]
    return b',"contacts":' + orjson.dumps({"contact": listed} if legacy else listed)


def _contact_payload(contact: Contact, legacy: bool) -> bytes:
    return b',"contact":' + orjson.dumps(_contact(contact, legacy))


def _bulk_payload(results: tuple[BulkItemResult, ...], legacy: bool) -> bytes:
    # add-contacts only ever existed in the legacy generation, so its one shape is wrapped.
    return b',"contacts":' + orjson.dumps({"contact": [_bulk_item(r) for r in results]})


def _no_payload(result: None, legacy: bool) -> bytes:
    return b""


_PAYLOADS: dict[ResultKind, Callable[[Any, bool], bytes]] = {
    "groups": _groups_payload,
    "group": _group_payload,
    "group_ref": _group_ref_payload,
    "contacts": _contacts_payload,
    "contact": _contact_payload,
    "bulk": _bulk_payload,
    "none": _no_payload,
}


def encode_success(action: Action, result: Result, generation: WireGeneration) -> bytes:
    """The 200 envelope of ``action`` carrying ``result`` (see ``actions.Result`` per kind)."""
    payload = _PAYLOADS[action.result](result, legacy_shaped(action, generation))
    return _OK_OPEN + payload + _CLOSE


def encode_error(code: int) -> bytes:
    """The envelope of a failed request: ``status`` only."""
    return orjson.dumps({"response": {"status": _status(code)}})
