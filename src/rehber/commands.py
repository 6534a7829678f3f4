"""Typed requests: what a decoded envelope asks the backend to do.

The wire layer builds these leniently from any documented body shape; the backend validates
them. Conventions: ``None`` means "not given"; for edit operations :data:`MISSING` marks a field
that was absent, so that absent (keep) and empty (clear / top level) can be told apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal, TypeAlias

from rehber.codes import ServiceError
from rehber.types import FieldValue


class _Missing(Enum):
    MISSING = "MISSING"

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing.MISSING
Missing: TypeAlias = Literal[_Missing.MISSING]


@dataclass(slots=True)
class ContactFields:
    """Contact values from a request. ``None`` = absent; ``""`` = present and empty.

    ``groups``/``custom_fields``: ``None`` = absent; an empty tuple = present and empty.

    Not ``frozen`` as the other commands: the server decodes one per item of a bulk request,
    and a frozen dataclass's ``__init__`` (an ``object.__setattr__`` call per field) made
    add-contacts 8-14% slower. Treat it as read-only.
    """

    name: str | None = None
    surname: str | None = None
    email: str | None = None
    gsm: str | None = None
    custom_fields: tuple[FieldValue, ...] | None = None
    groups: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class GetGroups:
    pass


@dataclass(frozen=True, slots=True)
class GetGroup:
    id: int | None


@dataclass(frozen=True, slots=True)
class AddGroup:
    name: str | None
    parent: int | None = None


@dataclass(frozen=True, slots=True)
class EditGroup:
    id: int | None
    name: str | None
    # MISSING keeps the current parent; None moves the group to the top level.
    parent: int | Missing | None = MISSING


@dataclass(frozen=True, slots=True)
class DeleteGroup:
    id: int | None


@dataclass(frozen=True, slots=True)
class GetGroupContacts:
    id: int | None
    page: int | None = None
    row_count: int | None = None


@dataclass(frozen=True, slots=True)
class AddContact:
    contact: ContactFields


@dataclass(frozen=True, slots=True)
class EditContact:
    id: int | None
    changes: ContactFields


@dataclass(frozen=True, slots=True)
class DeleteContact:
    id: int | None


@dataclass(frozen=True, slots=True)
class GetContact:
    id: int | None


@dataclass(frozen=True, slots=True)
class SearchContacts:
    key: str | None
    page: int | None = None
    row_count: int | None = None


@dataclass(frozen=True, slots=True)
class SubscribeGroup:
    group_ids: tuple[int, ...]
    contact_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class UnsubscribeGroup:
    group_ids: tuple[int, ...]
    contact_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class AddContacts:
    # An item the wire layer could not read at all is carried as the error it earned, so that
    # the response still lists every item in request order.
    items: tuple[ContactFields | ServiceError, ...]


@dataclass(frozen=True, slots=True)
class DeleteContacts:
    ids: tuple[int, ...]


Command: TypeAlias = (
    GetGroups
    | GetGroup
    | AddGroup
    | EditGroup
    | DeleteGroup
    | GetGroupContacts
    | AddContact
    | EditContact
    | DeleteContact
    | GetContact
    | SearchContacts
    | SubscribeGroup
    | UnsubscribeGroup
    | AddContacts
    | DeleteContacts
)
