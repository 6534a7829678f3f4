"""Read a normalized request tree (see :mod:`rehber.wire.tree`) into a typed command.

The vendor documented several shapes for the same request over the years, and clients in the
field send all of them, so every documented shape is accepted (``spec.md`` "Input tolerance",
``reference.md`` §3/§4). The wire layer only coerces types; business rules (required ids, name
length, paging limits, gsm validity) belong to the backend, which sees ``None`` for "not given".

Rules:

* **Integer fields** (ids, ``page``, ``rowCount``, ``parent``): an int (not a bool) or a numeric
  string (ASCII digits, surrounding whitespace and one sign allowed). ``""``, ``[]``, ``{}``,
  ``null``, absent and ``0`` mean "not given" (``None``). Anything else (a non-numeric string, a
  float, a bool, a non-empty object/list) is 422. Negative and huge integers pass through; the
  backend treats them as unknown ids. ``page`` and ``rowCount`` keep ``0`` and negatives, so the
  backend can answer 464 / 422 for them. JSON integers beyond 64 bits arrive from orjson as
  floats and are therefore 422; numeric strings of any length (up to Python's int-conversion
  limit) are read as ints.
* **edit-group ``parent``**: absent or ``null`` -> :data:`~rehber.commands.MISSING` (keep the
  current parent); ``""``, ``0``, ``[]``, ``{}`` -> ``None`` (move to the top level); else an int.
* **Text fields** (name, surname, email, gsm, search key, custom-field value): a string as is (no
  trimming here); an int -> its decimal string (a JSON gsm given as a number is common);
  ``null``, ``[]``, ``{}`` -> ``None`` (absent); a bool, float or non-empty object/list -> 422. A
  string with a character XML 1.0 cannot carry (C0 controls other than tab/LF/CR, U+FFFE,
  U+FFFF, lone surrogates) is 422, so that everything stored can be written back in both formats.
* **Id lists** (contact ``groups``, subscribe/unsubscribe ``contact`` and ``group``,
  delete-contacts ``contacts``): XML ``<groups><id/>…</groups>`` and
  ``<groups><group><id/></group>…</groups>``; JSON ``{"group": {"id": x}}``,
  ``{"group": [{"id": x}, …]}``, ``{"id": [x, y]}``, ``{"id": x}``, ``[x, y]``, ``[{"id": x}]``
  and a bare id. Ids that read as "not given" are dropped; duplicates are dropped, keeping the
  first occurrence's position. For a contact's ``groups``: ``null``/absent -> ``None`` (absent,
  kept on edit); present but empty (``""``, ``[]``, ``{}``, ``<groups/>``) -> ``()``.
* **custom_fields**: ``{"custom_field": {id, value}}``, ``{"custom_field": [...]}``, a plain list
  of ``{id, value}``, a single ``{id, value}``, XML repeated ``<custom_field>``. Each item needs an
  id (missing or empty -> 422); its value is text (missing/``null`` -> ``""``);
  ``custom_field_settings`` is ignored. Empty items are skipped. Absent/empty as for groups.
* **subscribe-group / unsubscribe-group**: ``contact`` and ``group`` directly under ``request``,
  each an id list (several group ids are allowed). Missing ids give empty tuples.
* **add-contacts**: ``contacts.contact`` as one object or a list (XML: repeated ``<contact>``),
  or ``"contacts": [...]``. An item that cannot be read (a 422 problem, or not an object) is
  carried as its :class:`~rehber.codes.ServiceError` at its position, so the response can still
  list every item; an empty item (``<contact/>``, also when it is the only one) is an empty
  contact (the backend answers 472).
* **delete-contacts**: ``contacts`` is an id list (``contacts/contact[]/id`` and the shapes above).
* A single-object operation element (``group``, ``contact``, ``search``) given as a list is read
  from its first element; a missing or non-object one reads as empty, giving ``None`` ids.
  Unknown keys and elements are ignored everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lxml import etree

from rehber import commands as c
from rehber.codes import Code, ServiceError
from rehber.types import FieldValue
from rehber.wire.actions import Action
from rehber.wire.tree import Node, element_children, local_name, xml_request

Tree = dict[str, Node]

_INTEGER = re.compile(r"[+-]?[0-9]+")
# Everything outside the XML 1.0 Char production.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _invalid(detail: str) -> ServiceError:
    return ServiceError(Code.VALIDATION, detail)


def _is_empty(node: Node) -> bool:
    """True for the values that stand for "nothing here" in either format."""
    if isinstance(node, str):
        return not node.strip()
    return node is None or (isinstance(node, (list, dict)) and not node)


def _integer(node: Node, *, keep_zero: bool = False) -> int | None:
    """An integer field; ``None`` when not given (``0`` too, unless ``keep_zero``)."""
    if isinstance(node, (bool, float)):
        raise _invalid(f"not an integer: {node!r}")
    if isinstance(node, int):
        number = node
    elif _is_empty(node):
        return None
    elif isinstance(node, str) and _INTEGER.fullmatch(digits := node.strip()):
        try:
            number = int(digits)
        except ValueError:  # more digits than Python converts (sys.int_info)
            raise _invalid("integer too long") from None
    else:
        raise _invalid(f"not an integer: {node!r:.40}")
    return number if number or keep_zero else None


def _text(node: Node) -> str | None:
    """A text field; ``None`` when absent (``null``, ``[]``, ``{}``)."""
    if isinstance(node, str):
        # A printable string holds no control character, surrogate or noncharacter, so only
        # the rest (with tabs, line breaks, ...) needs the full check.
        if not node.isprintable() and _NOT_XML_CHAR.search(node):
            raise _invalid("text holds a character XML cannot carry")
        return node
    if isinstance(node, int) and not isinstance(node, bool):
        return str(node)
    if node is None or (isinstance(node, (list, dict)) and not node):
        return None
    raise _invalid(f"not text: {node!r:.40}")


def _items(node: Node, wrapper: str) -> list[Node]:
    """The entries of a repeated element, whichever way it was written.

    ``{"<wrapper>": x}`` (XML's ``<groups><group>…</group></groups>``) holds the entries ``x``
    (a list) or the one entry ``x``, also when it is empty: a lone ``<contact/>`` is an empty
    contact, not none (``null`` and ``[]`` are none). Otherwise a list is its entries, an empty
    value has none, and any other value is one entry.
    """
    if isinstance(node, dict) and wrapper in node:
        entries = node[wrapper]
        if entries is None:
            return []
        return entries if isinstance(entries, list) else [entries]
    if _is_empty(node):
        return []
    return node if isinstance(node, list) else [node]


def _id_list(node: Node, wrapper: str) -> tuple[int, ...]:
    """Ids from any documented id-list shape (see module docstring), in order, deduplicated."""
    ids: dict[int, None] = {}
    for entry in _items(node, wrapper):
        value = entry.get("id") if isinstance(entry, dict) else entry
        for candidate in value if isinstance(value, list) else (value,):
            number = _integer(candidate)
            if number is not None:
                ids[number] = None
    return tuple(ids)


def _field_value(entry: Node) -> FieldValue:
    if not isinstance(entry, dict):
        raise _invalid("custom_field is not an object")
    field_id = _integer(entry.get("id"))
    if field_id is None:
        raise _invalid("custom_field without id")
    return FieldValue(field_id, _text(entry.get("value")) or "")


def _custom_fields(node: Node) -> tuple[FieldValue, ...]:
    return tuple(_field_value(e) for e in _items(node, "custom_field") if not _is_empty(e))


def _contact_fields(node: Tree) -> c.ContactFields:
    """The contact values of one ``contact`` object (absent keys stay ``None``)."""
    get = node.get
    return _fields(
        get("name"), get("surname"), get("email"), get("gsm"), get("custom_fields"), get("groups")
    )


def _fields(
    name: Node, surname: Node, email: Node, gsm: Node, custom_fields: Node, groups: Node
) -> c.ContactFields:
    """A contact's values from their nodes, ``None`` for the absent ones (positional, and
    nothing called for absent lists: this runs once per item of a bulk request)."""
    return c.ContactFields(
        _text(name),
        _text(surname),
        _text(email),
        _text(gsm),
        None if custom_fields is None else _custom_fields(custom_fields),
        None if groups is None else _id_list(groups, "group"),
    )


def _single(tree: Tree, name: str) -> Tree:
    """A single-object operation element; its first entry if a list, ``{}`` if unusable."""
    node = tree.get(name)
    if isinstance(node, list):
        node = node[0] if node else None
    return node if isinstance(node, dict) else {}


def _bulk_item(entry: Node) -> c.ContactFields | ServiceError:
    try:
        if isinstance(entry, dict) and entry:  # nearly every item: tested first
            return _contact_fields(entry)
        if _is_empty(entry):
            return c.ContactFields()
        return _invalid("contact is not an object")
    except ServiceError as error:
        return error


def _get_groups(tree: Tree) -> c.Command:
    return c.GetGroups()


def _get_group(tree: Tree) -> c.Command:
    return c.GetGroup(_integer(_single(tree, "group").get("id")))


def _add_group(tree: Tree) -> c.Command:
    group = _single(tree, "group")
    return c.AddGroup(_text(group.get("name")), _integer(group.get("parent")))


def _edit_group(tree: Tree) -> c.Command:
    group = _single(tree, "group")
    parent = group.get("parent")
    return c.EditGroup(
        _integer(group.get("id")),
        _text(group.get("name")),
        c.MISSING if parent is None else _integer(parent),
    )


def _delete_group(tree: Tree) -> c.Command:
    return c.DeleteGroup(_integer(_single(tree, "group").get("id")))


def _get_group_contacts(tree: Tree) -> c.Command:
    group = _single(tree, "group")
    return c.GetGroupContacts(
        _integer(group.get("id")),
        _integer(group.get("page"), keep_zero=True),
        _integer(group.get("rowCount"), keep_zero=True),
    )


def _add_contact(tree: Tree) -> c.Command:
    return c.AddContact(_contact_fields(_single(tree, "contact")))


def _edit_contact(tree: Tree) -> c.Command:
    contact = _single(tree, "contact")
    return c.EditContact(_integer(contact.get("id")), _contact_fields(contact))


def _delete_contact(tree: Tree) -> c.Command:
    return c.DeleteContact(_integer(_single(tree, "contact").get("id")))


def _get_contact(tree: Tree) -> c.Command:
    return c.GetContact(_integer(_single(tree, "contact").get("id")))


def _search_contacts(tree: Tree) -> c.Command:
    search = _single(tree, "search")
    return c.SearchContacts(
        _text(search.get("key")),
        _integer(search.get("page"), keep_zero=True),
        _integer(search.get("rowCount"), keep_zero=True),
    )


def _membership(
    command: type[c.SubscribeGroup] | type[c.UnsubscribeGroup],
) -> Callable[[Tree], c.Command]:
    """subscribe-group and unsubscribe-group read the same body (legacy, directly under request)."""

    def decode(tree: Tree) -> c.Command:
        return command(
            _id_list(tree.get("group"), "group"), _id_list(tree.get("contact"), "contact")
        )

    return decode


def _add_contacts(tree: Tree) -> c.Command:
    return c.AddContacts(tuple(_bulk_item(e) for e in _items(tree.get("contacts"), "contact")))


def _delete_contacts(tree: Tree) -> c.Command:
    return c.DeleteContacts(_id_list(tree.get("contacts"), "contact"))


# -- add-contacts in XML, read from the elements ---------------------------------------------
#
# A bulk body holds thousands of <contact> elements. Read straight into ContactFields instead of
# into the generic tree and out of it again, reading costs 2.1 instead of 2.85 µs a contact (a
# 1,000-contact body), and add-contacts XML over HTTP gained 15%. Only the plain shape is read
# this way; anything else goes the generic way, so both give the same command
# (tests/wire/test_xml_contacts.py compares them).


def read_add_contacts_xml(body: bytes) -> tuple[Tree, c.AddContacts | None]:
    """An add-contacts XML body as (the rest of the request, the command), or as (the whole
    request tree, ``None``) when its ``<contacts>`` is not one element of ``<contact>`` s."""
    root = xml_request(body)
    found = [e for e in root if isinstance(e.tag, str) and local_name(e.tag) == "contacts"]
    contacts = found[0] if len(found) == 1 else None
    if contacts is None or contacts.tag != "contacts" or not len(contacts):
        return element_children(root, 1), None
    items = []
    for contact in contacts:
        if contact.tag != "contact":
            return element_children(root, 1), None
        items.append(_xml_bulk_item(contact))
    root.remove(contacts)  # the rest (authentication, anything unknown) is read as ever
    return element_children(root, 1), c.AddContacts(tuple(items))


def _xml_bulk_item(contact: etree._Element) -> c.ContactFields | ServiceError:
    """One ``<contact>`` (depth 3 under ``<request>``) as ``_bulk_item`` reads its tree. Read
    here: the four scalars as text, at most one ``custom_fields`` and one ``groups``; any other
    child (repeated, namespaced, a scalar with children) sends the contact the generic way."""
    if not len(contact):
        return _bulk_item(contact.text or "")
    name = surname = email = gsm = None
    custom_fields = groups = None
    for child in contact:
        tag = child.tag
        if len(child):
            if tag == "custom_fields" and custom_fields is None:
                custom_fields = element_children(child, 4)
            elif tag == "groups" and groups is None:
                groups = element_children(child, 4)
            else:
                return _bulk_item(element_children(contact, 3))
        elif tag == "name" and name is None:
            name = child.text or ""
        elif tag == "surname" and surname is None:
            surname = child.text or ""
        elif tag == "email" and email is None:
            email = child.text or ""
        elif tag == "gsm" and gsm is None:
            gsm = child.text or ""
        else:
            return _bulk_item(element_children(contact, 3))
    try:
        return _fields(name, surname, email, gsm, custom_fields, groups)
    except ServiceError as error:
        return error


_DECODERS: dict[str, Callable[[Tree], c.Command]] = {
    "get-groups": _get_groups,
    "get-group": _get_group,
    "add-group": _add_group,
    "edit-group": _edit_group,
    "delete-group": _delete_group,
    "get-group-contacts": _get_group_contacts,
    "add-contact": _add_contact,
    "edit-contact": _edit_contact,
    "delete-contact": _delete_contact,
    "get-contact": _get_contact,
    "search-contacts": _search_contacts,
    "subscribe-group": _membership(c.SubscribeGroup),
    "unsubscribe-group": _membership(c.UnsubscribeGroup),
    "add-contacts": _add_contacts,
    "delete-contacts": _delete_contacts,
}


def decode_command(action: Action, tree: Tree) -> c.Command:
    """The typed command ``action`` asks for, read leniently from a parsed request tree.

    Raises :class:`~rehber.codes.ServiceError` 422 when a value has an unusable type.
    """
    return _DECODERS[action.name](tree)
