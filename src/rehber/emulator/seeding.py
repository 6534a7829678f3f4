"""``POST /_rehber/seed``: an account's custom fields, group tree and contacts from a fixture.

The fixture is checked completely before the database is touched, then written in ONE
transaction: a fixture with a bad number in its last contact leaves nothing behind. Values
pass the same rules as the vendor API (trimmed names, E.164 numbers, valid e-mail), so a
seeded contact reads back exactly as one added through ``add-contact`` would.

Items are named by keys a test can look the new ids up by: a custom field by its ``ref`` or
name, a group by its ``ref`` or its path of names (``"Müşteriler/VIP"``), a contact by its
``ref``. Contacts refer to groups and fields by those keys, or by the id of something the
account already has.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rehber import commands as c
from rehber.codes import ServiceError
from rehber.emulator.checks import mapping, only_keys
from rehber.emulator.errors import ControlError, bad_input
from rehber.service.backend import clean_contact
from rehber.service.text import clean_field_value, clean_name
from rehber.storage.repository import ContactRow, Repository
from rehber.storage.store import Store

Ref = str | int  # a fixture key, or the id of an existing group or field

_TOP_KEYS = ("account_id", "custom_fields", "groups", "contacts")
_FIELD_KEYS = ("name", "ref")
_GROUP_KEYS = ("name", "ref", "children", "parent")
_CONTACT_KEYS = ("ref", "name", "surname", "email", "gsm", "custom_fields", "groups")


@dataclass(frozen=True, slots=True)
class FieldPlan:
    key: str
    name: str


@dataclass(frozen=True, slots=True)
class GroupPlan:
    key: str
    name: str
    parent_key: str | None  # a group earlier in the fixture
    parent_id: int | None  # an existing group of the account (top-level fixture items only)


@dataclass(frozen=True, slots=True)
class ContactPlan:
    ref: str | None
    row: ContactRow
    fields: dict[Ref, str]
    groups: tuple[Ref, ...]


@dataclass(frozen=True, slots=True)
class SeedPlan:
    fields: list[FieldPlan] = field(default_factory=list)
    groups: list[GroupPlan] = field(default_factory=list)
    contacts: list[ContactPlan] = field(default_factory=list)


def unprocessable(message: str) -> ControlError:
    return ControlError(422, message)


# -- checking the fixture (no database) -------------------------------------------------------


def plan_seed(fixture: Any) -> SeedPlan:
    """Check a whole fixture; 400 for its shape, 422 for values the vendor API would refuse."""
    data = mapping(fixture, "seed")
    only_keys(data, _TOP_KEYS, "seed")
    plan = SeedPlan()
    for i, item in enumerate(_list(data, "custom_fields", "seed")):
        plan.fields.append(_field(item, f"custom_fields[{i}]"))
    for i, item in enumerate(_list(data, "groups", "seed")):
        _groups(item, f"groups[{i}]", None, plan.groups, top_level=True)
    for i, item in enumerate(_list(data, "contacts", "seed")):
        plan.contacts.append(_contact(item, f"contacts[{i}]"))
    _unique([f.key for f in plan.fields], "custom field")
    _unique([g.key for g in plan.groups], "group")
    _unique([ct.ref for ct in plan.contacts if ct.ref is not None], "contact")
    return plan


def _list(data: Mapping[str, Any], key: str, where: str) -> Sequence[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad_input(f"{where}: '{key}' must be a list")
    return value


def _text(data: Mapping[str, Any], key: str, where: str) -> str | None:
    value = data.get(key)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # an unquoted YAML number such as a gsm
    raise bad_input(f"{where}: '{key}' must be a string")


def _checked(where: str, check: Any, *args: Any) -> Any:
    try:
        return check(*args)
    except ServiceError as exc:
        raise unprocessable(f"{where}: {exc}") from None


def _field(item: Any, where: str) -> FieldPlan:
    if isinstance(item, str):
        item = {"name": item}
    data = mapping(item, where)
    only_keys(data, _FIELD_KEYS, where)
    name = _checked(where, clean_name, _text(data, "name", where))
    if not name:
        raise unprocessable(f"{where}: a custom field needs a name")
    return FieldPlan(key=_text(data, "ref", where) or name, name=name)


def _groups(
    item: Any, where: str, parent: GroupPlan | None, out: list[GroupPlan], *, top_level: bool
) -> None:
    """Flatten a group and its ``children`` (parents before children) into ``out``."""
    data = mapping(item, where)
    only_keys(data, _GROUP_KEYS if top_level else _GROUP_KEYS[:-1], where)
    name = _checked(where, clean_name, _text(data, "name", where))
    if not name:
        raise unprocessable(f"{where}: a group needs a name")
    parent_id = data.get("parent")
    if parent_id is not None and (isinstance(parent_id, bool) or not isinstance(parent_id, int)):
        raise bad_input(f"{where}: 'parent' must be the id of an existing group")
    path = f"{parent.key}/{name}" if parent else name
    plan = GroupPlan(
        key=_text(data, "ref", where) or path,
        name=name,
        parent_key=parent.key if parent else None,
        parent_id=parent_id,
    )
    out.append(plan)
    for i, child in enumerate(_list(data, "children", where)):
        _groups(child, f"{where}.children[{i}]", plan, out, top_level=False)


def _contact(item: Any, where: str) -> ContactPlan:
    data = mapping(item, where)
    only_keys(data, _CONTACT_KEYS, where)
    fields = c.ContactFields(
        name=_text(data, "name", where),
        surname=_text(data, "surname", where),
        email=_text(data, "email", where),
        gsm=_text(data, "gsm", where),
    )
    cleaned = _checked(where, clean_contact, fields)
    values = mapping(data.get("custom_fields") or {}, f"{where}.custom_fields")
    checked_values: dict[Ref, str] = {}
    for ref in values:
        text = _text(values, ref, f"{where}.custom_fields")
        checked_values[ref] = _checked(where, clean_field_value, text or "")
    groups = data.get("groups") or []
    if not isinstance(groups, list) or not all(_is_ref(g) for g in groups):
        raise bad_input(f"{where}: 'groups' must be a list of group keys or ids")
    return ContactPlan(_text(data, "ref", where), cleaned.row, checked_values, tuple(groups))


def _is_ref(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _unique(keys: list[str], kind: str) -> None:
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            raise bad_input(f"two {kind}s have the key {key!r}: give one of them a distinct 'ref'")
        seen.add(key)


# -- writing it (one transaction) -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SeedResult:
    account_id: int
    fields: dict[str, int]
    groups: dict[str, int]
    contacts: dict[str, int]
    contact_ids: list[int]

    def as_json(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "custom_fields": self.fields,
            "groups": self.groups,
            "contacts": self.contacts,
            "contact_ids": self.contact_ids,
        }


def apply_seed(store: Store, account_id: int, plan: SeedPlan) -> SeedResult:
    """Write ``plan`` for the account in one transaction (nothing is written on any error)."""
    return store.write(lambda repo: _write(repo, account_id, plan))


def _write(repo: Repository, account_id: int, plan: SeedPlan) -> SeedResult:
    if repo.get_account(account_id) is None:
        raise ControlError(404, f"no account {account_id}")
    fields = {f.key: repo.create_field(account_id, f.name).id for f in plan.fields}
    groups: dict[str, int] = {}
    for g in plan.groups:
        if g.parent_id is not None and repo.get_group(account_id, g.parent_id) is None:
            raise unprocessable(f"group {g.key!r}: the account has no group {g.parent_id}")
        parent = groups[g.parent_key] if g.parent_key is not None else g.parent_id
        groups[g.key] = repo.insert_group(account_id, g.name, parent)
    field_of = _resolver(repo, account_id, fields, "custom field", plan)
    group_of = _resolver(repo, account_id, groups, "group", plan)
    ids = repo.insert_contacts(account_id, [ct.row for ct in plan.contacts])
    repo.insert_field_values(
        account_id,
        [
            (cid, field_of(ref), value)
            for cid, ct in zip(ids, plan.contacts, strict=True)
            for ref, value in ct.fields.items()
            if value
        ],
    )
    repo.add_memberships(
        account_id,
        [
            (group_of(ref), cid)
            for cid, ct in zip(ids, plan.contacts, strict=True)
            for ref in ct.groups
        ],
    )
    refs = {ct.ref: cid for cid, ct in zip(ids, plan.contacts, strict=True) if ct.ref is not None}
    return SeedResult(account_id, fields, groups, refs, ids)


def _resolver(
    repo: Repository, account_id: int, created: dict[str, int], kind: str, plan: SeedPlan
) -> Callable[[Ref], int]:
    """Map a contact's reference to an id: a fixture key first, else an existing id."""
    refs = {
        ref for ct in plan.contacts for ref in (ct.fields if kind == "custom field" else ct.groups)
    }
    existing_ids = {_as_id(r) for r in refs if r not in created and _as_id(r) is not None}
    lookup = repo.existing_field_ids if kind == "custom field" else repo.existing_group_ids
    known = lookup(account_id, {i for i in existing_ids if i is not None})
    resolved: dict[Ref, int] = {}
    for ref in refs:
        if isinstance(ref, str) and ref in created:
            resolved[ref] = created[ref]
        elif (as_id := _as_id(ref)) is not None and as_id in known:
            resolved[ref] = as_id
        else:
            raise unprocessable(f"no {kind} {ref!r} in the fixture or the account")
    return resolved.__getitem__


def _as_id(ref: Ref) -> int | None:
    if isinstance(ref, int):
        return ref
    return int(ref) if ref.isdigit() else None
