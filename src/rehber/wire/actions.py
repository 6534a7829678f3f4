"""The one registry of vendor actions: routing, docs, OpenAPI and the coverage table read it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

from rehber import commands as c
from rehber.types import BulkItemResult, Contact, Group

ResultKind = Literal["groups", "group", "group_ref", "contacts", "contact", "bulk", "none"]
Result: TypeAlias = (
    tuple[Group, ...] | Group | tuple[Contact, ...] | Contact | tuple[BulkItemResult, ...] | None
)


@dataclass(frozen=True, slots=True)
class Action:
    """One vendor action (``add-group``), served as XML at ``/v1/<name>`` and JSON at ``/json``."""

    name: str
    command: type[c.Command]
    result: ResultKind
    summary: str
    # Codes this action can answer with besides 200/400/401/404 (docs, OpenAPI, tests).
    errors: tuple[int, ...]
    # True for the four legacy-only paths (L1-L4) that the 2024-09 docs removed.
    legacy_only: bool = False

    @property
    def writes(self) -> bool:
        """Whether the action may change state (reads run in read transactions)."""
        return not self.name.startswith(("get-", "search-"))

    @property
    def handler(self) -> str:
        """Backend method name: ``add-group`` -> ``add_group``."""
        return self.name.replace("-", "_")


_ACTIONS = (
    Action("get-groups", c.GetGroups, "groups", "List the group tree", ()),
    Action("get-group", c.GetGroup, "group", "Show one group with its sub-groups", (422, 462, 463)),
    Action("add-group", c.AddGroup, "group_ref", "Create a group", (422, 461, 463)),
    Action("edit-group", c.EditGroup, "group_ref", "Rename or move a group", (422, 461, 462, 463)),
    Action(
        "delete-group", c.DeleteGroup, "none", "Delete a group and its sub-groups", (422, 462, 463)
    ),
    Action(
        "get-group-contacts",
        c.GetGroupContacts,
        "contacts",
        "List the contacts of a group, paged",
        (422, 462, 463, 464, 465),
    ),
    Action("add-contact", c.AddContact, "contact", "Add one contact", (422, 463, 466, 472, 473)),
    Action(
        "edit-contact", c.EditContact, "contact", "Edit one contact", (422, 463, 465, 466, 472, 473)
    ),
    Action("delete-contact", c.DeleteContact, "none", "Delete one contact", (422, 465)),
    Action("get-contact", c.GetContact, "contact", "Show one contact", (422, 465)),
    Action(
        "search-contacts",
        c.SearchContacts,
        "contacts",
        "Search contacts by name, surname, e-mail or number, paged",
        (422, 464, 465, 471),
    ),
    Action(
        "subscribe-group",
        c.SubscribeGroup,
        "none",
        "Add existing contacts to a group",
        (422, 462, 463, 465),
        legacy_only=True,
    ),
    Action(
        "unsubscribe-group",
        c.UnsubscribeGroup,
        "none",
        "Remove contacts from a group",
        (422, 462, 463, 465),
        legacy_only=True,
    ),
    Action(
        "add-contacts",
        c.AddContacts,
        "bulk",
        "Add up to 10,000 contacts, with a result per item",
        (422,),
        legacy_only=True,
    ),
    Action(
        "delete-contacts",
        c.DeleteContacts,
        "none",
        "Delete several contacts, all or nothing",
        (422, 465),
        legacy_only=True,
    ),
)

ACTIONS: dict[str, Action] = {a.name: a for a in _ACTIONS}
# The result kinds whose shape changes under ``wire_generation = legacy`` (C1, C6, C10, C11).
LEGACY_SHAPED: frozenset[str] = frozenset(
    {"get-groups", "get-group-contacts", "get-contact", "search-contacts"}
)
