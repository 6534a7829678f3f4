"""Every resource method's vendor call as data (:class:`~rehber.client._base.Call`), built once.

The sync and async resources both describe their calls here, so argument handling and result
conversion exist once; only sending differs between them.
"""

from __future__ import annotations

import operator
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from itertools import islice
from typing import Any, TypeAlias

from rehber import commands as c
from rehber.client._base import Call
from rehber.types import BulkItemResult, Contact, FieldValue, Group
from rehber.wire.actions import Result
from rehber.wire.client_responses import ShapeError

#: What ``add_many`` accepts per contact: ``ContactFields`` or a mapping with the keyword
#: arguments of ``contacts.add`` (``name``, ``surname``, ``email``, ``gsm``, ``custom_fields``,
#: ``groups``).
NewContact: TypeAlias = c.ContactFields | Mapping[str, Any]
CustomFields: TypeAlias = Mapping[int, str] | Iterable[FieldValue]

MAX_PAGE_SIZE = 1000  # the server clamps rowCount to 1000 (spec.md, Paging)
MAX_BATCH_SIZE = 10_000  # add-contacts takes at most 10,000 contacts (spec.md)
_CONTACT_KEYS = frozenset({"name", "surname", "email", "gsm", "custom_fields", "groups"})


def _ident(value: int) -> int:
    """An id argument: any integer (``operator.index``), never a bool or a string."""
    if isinstance(value, bool):
        raise TypeError("an id must be an integer, not a bool")
    return operator.index(value)


def _ids(values: Iterable[int]) -> tuple[int, ...]:
    if isinstance(values, (str, bytes)):
        raise TypeError("ids must be an iterable of integers")
    return tuple(_ident(v) for v in values)


def check_page_size(page_size: int) -> int:
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    return page_size


def check_batch_size(batch_size: int) -> int:
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise ValueError(f"batch_size must be between 1 and {MAX_BATCH_SIZE}")
    return batch_size


# -- result conversion --------------------------------------------------------------------


def _group(result: Result) -> Group:
    if not isinstance(result, Group):
        raise ShapeError("expected a group")
    return result


def _groups(result: Result) -> list[Group]:
    if not isinstance(result, tuple) or not all(isinstance(g, Group) for g in result):
        raise ShapeError("expected a list of groups")
    return list(result)  # type: ignore[arg-type]


def _contact(result: Result) -> Contact:
    if not isinstance(result, Contact):
        raise ShapeError("expected a contact")
    return result


def _contacts(result: Result) -> tuple[Contact, ...]:
    if not isinstance(result, tuple) or not all(isinstance(x, Contact) for x in result):
        raise ShapeError("expected a list of contacts")
    return result  # type: ignore[return-value]


def _nothing(result: Result) -> None:
    return None


def _bulk(expected: int) -> Callable[[Result], tuple[BulkItemResult, ...]]:
    def convert(result: Result) -> tuple[BulkItemResult, ...]:
        if not isinstance(result, tuple) or not all(isinstance(x, BulkItemResult) for x in result):
            raise ShapeError("expected per-contact results")
        if len(result) != expected:
            raise ShapeError(f"{len(result)} results for {expected} contacts")
        return result  # type: ignore[return-value]

    return convert


# -- contact values -----------------------------------------------------------------------


def _field_values(fields: CustomFields) -> tuple[FieldValue, ...]:
    if isinstance(fields, Mapping):
        return tuple(FieldValue(_ident(k), str(v)) for k, v in fields.items())
    return tuple(fields)


def contact_fields(
    *,
    name: str | None = None,
    surname: str | None = None,
    email: str | None = None,
    gsm: str | None = None,
    custom_fields: CustomFields | None = None,
    groups: Iterable[int] | None = None,
) -> c.ContactFields:
    """The values of an add or edit; ``None`` means "not given"."""
    return c.ContactFields(
        name=name,
        surname=surname,
        email=email,
        gsm=gsm,
        custom_fields=None if custom_fields is None else _field_values(custom_fields),
        groups=None if groups is None else _ids(groups),
    )


def as_contact_fields(item: NewContact) -> c.ContactFields:
    """One ``add_many`` item as ``ContactFields``."""
    if isinstance(item, c.ContactFields):
        return item
    if not isinstance(item, Mapping):
        raise TypeError(f"a contact must be ContactFields or a mapping, not {type(item).__name__}")
    unknown = set(item) - _CONTACT_KEYS
    if unknown:
        raise TypeError(f"unknown contact keys: {', '.join(sorted(map(str, unknown)))}")
    return contact_fields(**item)


# -- groups -------------------------------------------------------------------------------


def list_groups() -> Call[list[Group]]:
    return Call(c.GetGroups(), _groups)


def get_group(group_id: int) -> Call[Group]:
    return Call(c.GetGroup(_ident(group_id)), _group)


def create_group(name: str, parent: int | None) -> Call[Group]:
    parent_id = None if parent is None else _ident(parent) or None
    return Call(c.AddGroup(name, parent_id), lambda r: replace(_group(r), parent=parent_id))


def edit_group(group_id: int, name: str, parent: int | c.Missing | None) -> Call[Group]:
    if parent is c.MISSING:
        return Call(c.EditGroup(_ident(group_id), name, c.MISSING), _group)
    parent_id = None if parent is None else _ident(parent) or None
    return Call(
        c.EditGroup(_ident(group_id), name, parent_id),
        lambda r: replace(_group(r), parent=parent_id),
    )


def delete_group(group_id: int) -> Call[None]:
    return Call(c.DeleteGroup(_ident(group_id)), _nothing)


def group_contacts_page(group_id: int, page: int, page_size: int) -> Call[tuple[Contact, ...]]:
    return Call(c.GetGroupContacts(_ident(group_id), page, page_size), _contacts)


def subscribe(group_id: int, contact_ids: Iterable[int]) -> Call[None]:
    return Call(c.SubscribeGroup((_ident(group_id),), _ids(contact_ids)), _nothing)


def unsubscribe(group_id: int, contact_ids: Iterable[int]) -> Call[None]:
    return Call(c.UnsubscribeGroup((_ident(group_id),), _ids(contact_ids)), _nothing)


# -- contacts -----------------------------------------------------------------------------


def add_contact(fields: c.ContactFields) -> Call[Contact]:
    return Call(c.AddContact(fields), _contact)


def edit_contact(contact_id: int, fields: c.ContactFields) -> Call[Contact]:
    return Call(c.EditContact(_ident(contact_id), fields), _contact)


def get_contact(contact_id: int) -> Call[Contact]:
    return Call(c.GetContact(_ident(contact_id)), _contact)


def delete_contact(contact_id: int) -> Call[None]:
    return Call(c.DeleteContact(_ident(contact_id)), _nothing)


def delete_contacts(contact_ids: Iterable[int]) -> Call[None]:
    return Call(c.DeleteContacts(_ids(contact_ids)), _nothing)


def search_page(key: str, page: int, page_size: int) -> Call[tuple[Contact, ...]]:
    return Call(c.SearchContacts(key, page, page_size), _contacts)


def add_contacts(batch: list[c.ContactFields]) -> Call[tuple[BulkItemResult, ...]]:
    return Call(c.AddContacts(tuple(batch)), _bulk(len(batch)))


def batches(contacts: Iterable[NewContact], size: int) -> Iterator[list[c.ContactFields]]:
    """``contacts`` in lists of ``size``, pulled from the iterable only as each is needed."""
    iterator = iter(contacts)
    while batch := [as_contact_fields(item) for item in islice(iterator, size)]:
        yield batch


async def async_batches(
    contacts: Iterable[NewContact] | AsyncIterable[NewContact], size: int
) -> AsyncIterator[list[c.ContactFields]]:
    """:func:`batches` for an iterable or an async iterable."""
    if not isinstance(contacts, AsyncIterable):
        for batch in batches(contacts, size):
            yield batch
        return
    pending: list[c.ContactFields] = []
    async for item in contacts:
        pending.append(as_contact_fields(item))
        if len(pending) == size:
            yield pending
            pending = []
    if pending:
        yield pending
