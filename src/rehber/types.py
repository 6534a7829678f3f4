"""Plain typed values of the address book, shared by every layer (no wire names, no SQL)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

WireGeneration = Literal["current", "legacy"]
DuplicateGsm = Literal["allow", "merge"]


@dataclass(frozen=True, slots=True)
class FieldValue:
    """One custom-field value on a contact (``id`` names an account-defined custom field)."""

    id: int
    value: str


@dataclass(frozen=True, slots=True)
class Contact:
    """A stored contact. Empty strings stand for values that were never given."""

    id: int
    name: str = ""
    surname: str = ""
    email: str = ""
    gsm: str = ""
    custom_fields: tuple[FieldValue, ...] = ()
    groups: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Group:
    """A group with its direct member ``count`` and, when asked for, its sub-tree."""

    id: int
    name: str
    count: int = 0
    parent: int | None = None
    children: tuple[Group, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class CustomField:
    """An account-defined custom field ("rehber alanı")."""

    id: int
    name: str


@dataclass(slots=True)
class BulkItemResult:
    """Outcome of one item of add-contacts: ``code`` 200 with the stored id and gsm, or an error.

    Not ``frozen``, unlike the other result types: one is built per item of a bulk request
    (see ``ContactFields``). Treat it as read-only.
    """

    code: int
    id: int | None = None
    gsm: str | None = None


@dataclass(frozen=True, slots=True)
class Account:
    """An authenticated tenant and the settings that shape its responses."""

    id: int
    name: str
    wire_generation: WireGeneration = "current"
    duplicate_gsm: DuplicateGsm = "allow"


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key as listed to operators (never the hash or secret)."""

    id: int
    account_id: int
    key: str
    created_at: str
    revoked_at: str | None = None
