"""Write response envelopes as XML (``/v1/<action>``).

Responses are built by joining strings rather than through an lxml tree: they are small, fixed
in shape and on the hot path. Free text (group name, contact name/surname/email) is written as
CDATA like the vendor's samples; everything else is escaped text. Ids and counts are ints and
need no escaping. The shapes follow ``examples.json`` (``canonical_success_response``): empty
lists are ``<custom_fields/>`` / ``<groups/>``, a group without sub-groups has no ``<children>``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rehber.codes import Code, message_for
from rehber.types import BulkItemResult, Contact, FieldValue, Group, WireGeneration
from rehber.wire._shared import legacy_shaped, walk_groups
from rehber.wire.actions import Action, Result, ResultKind

_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


def escape(value: str) -> str:
    """``value`` as XML character data; CR is a reference because parsers fold a raw one to LF."""
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def cdata(value: str) -> str:
    """``value`` as a CDATA section (``]]>`` split across two sections).

    A CR cannot be protected inside CDATA (parsers fold it to LF), so such text is escaped instead.
    """
    if "\r" in value:
        return escape(value)
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _code_message(code: int) -> str:
    return f"<code>{int(code)}</code><message>{escape(message_for(code))}</message>"


def _status(code: int) -> str:
    return f"<status>{_code_message(code)}</status>"


_OK_OPEN = f"{_DECLARATION}<response>{_status(Code.OK)}"
_CLOSE = "</response>"
_OK_ITEM_STATUS = _code_message(Code.OK)


def _list(tag: str, inner: str) -> str:
    """``<tag>inner</tag>``, or ``<tag/>`` when there is nothing inside."""
    return f"<{tag}>{inner}</{tag}>" if inner else f"<{tag}/>"


def _group_tree(roots: Sequence[Group]) -> str:
    """``group`` elements with their ``children/child`` sub-trees, in order, without recursion."""
    parts: list[str] = []
    for opening, group, depth in walk_groups(roots):
        tag = "group" if depth == 0 else "child"
        if opening:
            parts.append(
                f"<{tag}><id>{group.id}</id><name>{cdata(group.name)}</name>"
                f"<count>{group.count}</count>{'<children>' if group.children else ''}"
            )
        else:
            parts.append(f"{'</children>' if group.children else ''}</{tag}>")
    return "".join(parts)


def _custom_fields(fields: tuple[FieldValue, ...]) -> str:
    return _list(
        "custom_fields",
        "".join(
            f"<custom_field><id>{f.id}</id><value>{escape(f.value)}</value></custom_field>"
            for f in fields
        ),
    )


def _contact_groups(ids: tuple[int, ...], legacy: bool) -> str:
    pattern = "<group><id>{}</id></group>" if legacy else "<id>{}</id>"
    return _list("groups", "".join(pattern.format(i) for i in ids))


def _contact(contact: Contact, legacy: bool) -> str:
    return (
        f"<contact><id>{contact.id}</id><name>{cdata(contact.name)}</name>"
        f"<surname>{cdata(contact.surname)}</surname><email>{cdata(contact.email)}</email>"
        f"<gsm>{escape(contact.gsm)}</gsm>{_custom_fields(contact.custom_fields)}"
        f"{_contact_groups(contact.groups, legacy)}</contact>"
    )


def _bulk_item(item: BulkItemResult) -> str:
    if item.code == Code.OK:
        head = f"<id>{'' if item.id is None else item.id}</id><gsm>{escape(item.gsm or '')}</gsm>"
        return f"<contact>{head}{_OK_ITEM_STATUS}</contact>"
    return f"<contact><id/><gsm/>{_code_message(item.code)}</contact>"


def _groups_payload(groups: tuple[Group, ...], legacy: bool) -> str:
    # The legacy XML page showed the same shape as the current one.
    return _list("groups", _group_tree(groups))


def _group_payload(group: Group, legacy: bool) -> str:
    return _group_tree((group,))


def _group_ref_payload(group: Group, legacy: bool) -> str:
    return f"<group><id>{group.id}</id><name>{cdata(group.name)}</name></group>"


def _contacts_payload(contacts: tuple[Contact, ...], legacy: bool) -> str:
    return _list("contacts", "".join(_contact(c, legacy) for c in contacts))


def _bulk_payload(results: tuple[BulkItemResult, ...], legacy: bool) -> str:
    return _list("contacts", "".join(_bulk_item(item) for item in results))


def _no_payload(result: None, legacy: bool) -> str:
    return ""


_PAYLOADS: dict[ResultKind, Callable[[Any, bool], str]] = {
    "groups": _groups_payload,
    "group": _group_payload,
    "group_ref": _group_ref_payload,
    "contacts": _contacts_payload,
    "contact": _contact,
    "bulk": _bulk_payload,
    "none": _no_payload,
}


def encode_success(action: Action, result: Result, generation: WireGeneration) -> bytes:
    """The 200 envelope of ``action`` carrying ``result`` (see ``actions.Result`` per kind)."""
    payload = _PAYLOADS[action.result](result, legacy_shaped(action, generation))
    return f"{_OK_OPEN}{payload}{_CLOSE}".encode()


def encode_error(code: int) -> bytes:
    """The envelope of a failed request: ``status`` only."""
    return f"{_DECLARATION}<response>{_status(code)}{_CLOSE}".encode()
