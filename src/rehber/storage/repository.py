"""Reads and writes of the address book, inside one transaction (a ``Connection``).

The repository never decides a business rule and never sees HTTP; it returns the plain values
of :mod:`rehber.types`. Every query is scoped by ``account_id``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from rehber.storage.tables import (
    accounts,
    api_keys,
    contact_fields,
    contacts,
    custom_fields,
    groups,
    memberships,
)
from rehber.types import Account, ApiKey, Contact, CustomField, FieldValue, Group

# Ids outside this range cannot exist; filtering them avoids driver overflow errors.
MAX_ID = 2**63 - 1
_CHUNK = 900  # bound parameters per IN list, well under every backend's limit


@dataclass(frozen=True, slots=True)
class ContactRow:
    """Scalar values of a contact as stored (already validated and normalised)."""

    name: str
    surname: str
    email: str
    gsm: str
    search_text: str


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """What authentication needs to know about a presented key."""

    account: Account
    hash_digest: str
    revoked: bool
    # The account's own wire_generation setting; None means "the server's default".
    generation_setting: str | None


def _valid_ids(ids: Iterable[int]) -> list[int]:
    return sorted({i for i in ids if 0 < i <= MAX_ID})


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _now() -> datetime:
    return datetime.now(UTC)


def _account(row: Any) -> Account:
    return Account(
        id=row.id,
        name=row.name,
        wire_generation=row.wire_generation or "current",
        duplicate_gsm=row.duplicate_gsm,
    )


class Repository:
    """Storage operations on one open transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name

    # -- accounts and keys -------------------------------------------------------------

    def create_account(self, name: str, *, wire_generation: str | None = None) -> Account:
        row = self.conn.execute(
            sa.insert(accounts)
            .values(name=name, wire_generation=wire_generation, created_at=_now())
            .returning(accounts)
        ).one()
        return _account(row)

    def get_account(self, account_id: int) -> Account | None:
        if not 0 < account_id <= MAX_ID:
            return None
        row = self.conn.execute(sa.select(accounts).where(accounts.c.id == account_id)).first()
        return _account(row) if row else None

    def list_accounts(self) -> list[Account]:
        rows = self.conn.execute(sa.select(accounts).order_by(accounts.c.id))
        return [_account(r) for r in rows]

    def update_account(self, account_id: int, **values: str | None) -> None:
        self.conn.execute(sa.update(accounts).where(accounts.c.id == account_id).values(**values))

    def add_key(self, account_id: int, key: str, hash_digest: str) -> ApiKey:
        row = self.conn.execute(
            sa.insert(api_keys)
            .values(account_id=account_id, key=key, hash_digest=hash_digest, created_at=_now())
            .returning(api_keys)
        ).one()
        return _api_key(row)

    def key_exists(self, key: str) -> bool:
        return (
            self.conn.execute(sa.select(api_keys.c.id).where(api_keys.c.key == key)).first()
            is not None
        )

    def find_key(self, key: str) -> KeyRecord | None:
        row = self.conn.execute(
            sa.select(accounts, api_keys.c.hash_digest, api_keys.c.revoked_at)
            .join(api_keys, api_keys.c.account_id == accounts.c.id)
            .where(api_keys.c.key == key)
        ).first()
        if row is None:
            return None
        return KeyRecord(
            _account(row), row.hash_digest, row.revoked_at is not None, row.wire_generation
        )

    def revoke_key(self, account_id: int, key: str) -> bool:
        result = self.conn.execute(
            sa.update(api_keys)
            .where(
                api_keys.c.account_id == account_id,
                api_keys.c.key == key,
                api_keys.c.revoked_at.is_(None),
            )
            .values(revoked_at=_now())
        )
        return bool(result.rowcount)

    def list_keys(self, account_id: int) -> list[ApiKey]:
        rows = self.conn.execute(
            sa.select(api_keys).where(api_keys.c.account_id == account_id).order_by(api_keys.c.id)
        )
        return [_api_key(r) for r in rows]

    # -- custom fields -----------------------------------------------------------------

    def create_field(self, account_id: int, name: str, field_id: int | None = None) -> CustomField:
        values: dict[str, Any] = {"account_id": account_id, "name": name}
        if field_id is not None:
            values["id"] = field_id
        row = self.conn.execute(
            sa.insert(custom_fields).values(**values).returning(custom_fields.c.id)
        ).one()
        return CustomField(id=row.id, name=name)

    def list_fields(self, account_id: int) -> list[CustomField]:
        rows = self.conn.execute(
            sa.select(custom_fields.c.id, custom_fields.c.name)
            .where(custom_fields.c.account_id == account_id)
            .order_by(custom_fields.c.id)
        )
        return [CustomField(id=r.id, name=r.name) for r in rows]

    def existing_field_ids(self, account_id: int, ids: Iterable[int]) -> set[int]:
        return self._existing(custom_fields.c.id, custom_fields.c.account_id, account_id, ids)

    # -- groups ------------------------------------------------------------------------

    def list_groups(self, account_id: int) -> list[Group]:
        """Every group of the account, flat (``parent`` set, ``children`` empty), by id."""
        rows = self.conn.execute(
            sa.select(groups.c.id, groups.c.name, groups.c.member_count, groups.c.parent_id)
            .where(groups.c.account_id == account_id)
            .order_by(groups.c.id)
        )
        return [Group(id=r.id, name=r.name, count=r.member_count, parent=r.parent_id) for r in rows]

    def get_group(self, account_id: int, group_id: int) -> Group | None:
        if not 0 < group_id <= MAX_ID:
            return None
        r = self.conn.execute(
            sa.select(groups.c.id, groups.c.name, groups.c.member_count, groups.c.parent_id).where(
                groups.c.account_id == account_id, groups.c.id == group_id
            )
        ).first()
        return Group(id=r.id, name=r.name, count=r.member_count, parent=r.parent_id) if r else None

    def existing_group_ids(self, account_id: int, ids: Iterable[int]) -> set[int]:
        return self._existing(groups.c.id, groups.c.account_id, account_id, ids)

    def insert_group(
        self, account_id: int, name: str, parent: int | None, group_id: int | None = None
    ) -> int:
        values: dict[str, Any] = {"account_id": account_id, "name": name, "parent_id": parent}
        if group_id is not None:
            values["id"] = group_id
        return int(
            self.conn.execute(
                sa.insert(groups).values(**values).returning(groups.c.id)
            ).scalar_one()
        )

    def update_group(self, account_id: int, group_id: int, name: str, parent: int | None) -> None:
        self.conn.execute(
            sa.update(groups)
            .where(groups.c.account_id == account_id, groups.c.id == group_id)
            .values(name=name, parent_id=parent)
        )

    def ancestor_ids(self, account_id: int, group_id: int) -> list[int]:
        """``group_id`` and every group above it, nearest first."""
        up = (
            sa.select(groups.c.id, groups.c.parent_id)
            .where(groups.c.account_id == account_id, groups.c.id == group_id)
            .cte("up", recursive=True)
        )
        up = up.union_all(
            sa.select(groups.c.id, groups.c.parent_id).join(
                up, sa.and_(groups.c.account_id == account_id, groups.c.id == up.c.parent_id)
            )
        )
        return [r.id for r in self.conn.execute(sa.select(up.c.id))]

    def delete_group(self, account_id: int, group_id: int) -> None:
        """Delete the group; sub-groups and memberships go with it (ON DELETE CASCADE)."""
        self.conn.execute(
            sa.delete(groups).where(groups.c.account_id == account_id, groups.c.id == group_id)
        )

    # -- contacts ----------------------------------------------------------------------

    def insert_contacts(
        self, account_id: int, rows: Sequence[ContactRow], ids: Sequence[int | None] | None = None
    ) -> list[int]:
        """Insert contacts in one statement batch; returns their new ids in input order."""
        if not rows:
            return []
        params = [
            {
                "account_id": account_id,
                "name": r.name,
                "surname": r.surname,
                "email": r.email,
                "gsm": r.gsm,
                "search_text": r.search_text,
            }
            for r in rows
        ]
        if ids is not None:
            for p, explicit in zip(params, ids, strict=True):
                if explicit is not None:
                    p["id"] = explicit
        stmt = sa.insert(contacts).returning(contacts.c.id, sort_by_parameter_order=True)
        return [r.id for r in self.conn.execute(stmt, params)]

    def update_contact(self, account_id: int, contact_id: int, row: ContactRow) -> None:
        self.conn.execute(
            sa.update(contacts)
            .where(contacts.c.account_id == account_id, contacts.c.id == contact_id)
            .values(
                name=row.name,
                surname=row.surname,
                email=row.email,
                gsm=row.gsm,
                search_text=row.search_text,
            )
        )

    def existing_contact_ids(self, account_id: int, ids: Iterable[int]) -> set[int]:
        return self._existing(contacts.c.id, contacts.c.account_id, account_id, ids)

    def find_contact_by_gsm(self, account_id: int, gsm: str) -> int | None:
        row = self.conn.execute(
            sa.select(sa.func.min(contacts.c.id)).where(
                contacts.c.account_id == account_id, contacts.c.gsm == gsm
            )
        ).first()
        return row[0] if row and row[0] is not None else None

    def get_contacts(self, account_id: int, ids: Iterable[int]) -> list[Contact]:
        """Hydrated contacts (custom fields and groups) for ``ids``, ordered by id."""
        wanted = _valid_ids(ids)
        if not wanted:
            return []
        scalars: list[Any] = []
        for chunk in _chunks(wanted):
            scalars.extend(
                self.conn.execute(
                    sa.select(
                        contacts.c.id,
                        contacts.c.name,
                        contacts.c.surname,
                        contacts.c.email,
                        contacts.c.gsm,
                    ).where(contacts.c.account_id == account_id, contacts.c.id.in_(chunk))
                )
            )
        scalars.sort(key=lambda r: r.id)
        return self._hydrate(account_id, scalars)

    def contact_row(self, account_id: int, contact_id: int) -> ContactRow | None:
        if not 0 < contact_id <= MAX_ID:
            return None
        r = self.conn.execute(
            sa.select(contacts).where(
                contacts.c.account_id == account_id, contacts.c.id == contact_id
            )
        ).first()
        return ContactRow(r.name, r.surname, r.email, r.gsm, r.search_text) if r else None

    def delete_contacts(self, account_id: int, ids: Sequence[int]) -> None:
        """Delete contacts, first taking them out of their groups' member counts."""
        wanted = _valid_ids(ids)
        for chunk in _chunks(wanted):
            self._adjust_counts_for_removal(account_id, chunk)
            self.conn.execute(
                sa.delete(contacts).where(
                    contacts.c.account_id == account_id, contacts.c.id.in_(chunk)
                )
            )

    def _adjust_counts_for_removal(self, account_id: int, contact_ids: Sequence[int]) -> None:
        rows = self.conn.execute(
            sa.select(memberships.c.group_id, sa.func.count().label("n"))
            .where(
                memberships.c.account_id == account_id, memberships.c.contact_id.in_(contact_ids)
            )
            .group_by(memberships.c.group_id)
        ).all()
        self._add_to_counts(account_id, {r.group_id: -r.n for r in rows})

    # -- custom-field values -----------------------------------------------------------

    def set_field_values(self, account_id: int, contact_id: int, values: Mapping[int, str]) -> None:
        """Upsert each ``field_id -> value``; an empty value removes the field."""
        if not values:
            return
        self.conn.execute(
            sa.delete(contact_fields).where(
                contact_fields.c.account_id == account_id,
                contact_fields.c.contact_id == contact_id,
                contact_fields.c.field_id.in_(list(values)),
            )
        )
        self.insert_field_values(
            account_id, [(contact_id, f, v) for f, v in values.items() if v != ""]
        )

    def insert_field_values(self, account_id: int, values: Sequence[tuple[int, int, str]]) -> None:
        """Insert ``(contact_id, field_id, value)`` rows for contacts that have none yet."""
        if values:
            self.conn.execute(
                sa.insert(contact_fields),
                [
                    {"account_id": account_id, "contact_id": c, "field_id": f, "value": v}
                    for c, f, v in values
                ],
            )

    # -- memberships -------------------------------------------------------------------

    def add_memberships(self, account_id: int, pairs: Iterable[tuple[int, int]]) -> None:
        """Add ``(group_id, contact_id)`` pairs not already present; counts follow."""
        wanted = sorted(set(pairs))
        if not wanted:
            return
        present = self._present_pairs(account_id, wanted)
        new = [p for p in wanted if p not in present]
        if not new:
            return
        self.conn.execute(
            sa.insert(memberships),
            [{"account_id": account_id, "group_id": g, "contact_id": c} for g, c in new],
        )
        deltas: dict[int, int] = defaultdict(int)
        for g, _ in new:
            deltas[g] += 1
        self._add_to_counts(account_id, deltas)

    def remove_memberships(self, account_id: int, pairs: Iterable[tuple[int, int]]) -> None:
        """Remove the ``(group_id, contact_id)`` pairs that exist; counts follow."""
        wanted = sorted(set(pairs))
        if not wanted:
            return
        by_group: dict[int, list[int]] = defaultdict(list)
        for g, c in wanted:
            by_group[g].append(c)
        deltas: dict[int, int] = {}
        for g, contact_ids in by_group.items():
            removed = 0
            for chunk in _chunks(contact_ids):
                result = self.conn.execute(
                    sa.delete(memberships).where(
                        memberships.c.account_id == account_id,
                        memberships.c.group_id == g,
                        memberships.c.contact_id.in_(chunk),
                    )
                )
                removed += result.rowcount
            deltas[g] = -removed
        self._add_to_counts(account_id, deltas)

    def group_ids_of(self, account_id: int, contact_id: int) -> list[int]:
        rows = self.conn.execute(
            sa.select(memberships.c.group_id)
            .where(memberships.c.account_id == account_id, memberships.c.contact_id == contact_id)
            .order_by(memberships.c.group_id)
        )
        return [r.group_id for r in rows]

    def _present_pairs(
        self, account_id: int, pairs: Sequence[tuple[int, int]]
    ) -> set[tuple[int, int]]:
        by_group: dict[int, list[int]] = defaultdict(list)
        for g, c in pairs:
            by_group[g].append(c)
        present: set[tuple[int, int]] = set()
        for g, contact_ids in by_group.items():
            for chunk in _chunks(contact_ids):
                rows = self.conn.execute(
                    sa.select(memberships.c.contact_id).where(
                        memberships.c.account_id == account_id,
                        memberships.c.group_id == g,
                        memberships.c.contact_id.in_(chunk),
                    )
                )
                present.update((g, r.contact_id) for r in rows)
        return present

    def _add_to_counts(self, account_id: int, deltas: Mapping[int, int]) -> None:
        for group_id, delta in sorted(deltas.items()):
            if delta:
                self.conn.execute(
                    sa.update(groups)
                    .where(groups.c.account_id == account_id, groups.c.id == group_id)
                    .values(member_count=groups.c.member_count + delta)
                )

    # -- pages -------------------------------------------------------------------------

    def group_contacts_page(
        self, account_id: int, group_id: int, limit: int, offset: int
    ) -> list[Contact]:
        """One page of a group's members, ascending contact id."""
        page = (
            sa.select(memberships.c.contact_id)
            .where(memberships.c.account_id == account_id, memberships.c.group_id == group_id)
            .order_by(memberships.c.contact_id)
            .limit(limit)
            .offset(offset)
            .subquery()
        )
        return self._contacts_for(account_id, page)

    def search_page(self, account_id: int, needle: str, limit: int, offset: int) -> list[Contact]:
        """Contacts whose ``search_text`` contains ``needle``, ascending id (index-backed)."""
        match = self._search_condition(needle)
        page = (
            sa.select(contacts.c.id.label("contact_id"))
            .where(contacts.c.account_id == account_id, match)
            .order_by(contacts.c.id)
            .limit(limit)
            .offset(offset)
            .subquery()
        )
        return self._contacts_for(account_id, page)

    def _search_condition(self, needle: str) -> sa.ColumnElement[bool]:
        pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        if self.dialect == "sqlite" and len(needle) >= 3:
            # FTS5 trigram: a quoted phrase matches exactly the rows containing the substring.
            phrase = '"' + needle.replace('"', '""') + '"'
            fts = sa.text("SELECT rowid FROM contacts_fts WHERE contacts_fts MATCH :phrase")
            return contacts.c.id.in_(fts.bindparams(phrase=phrase).columns(sa.column("rowid")))
        return contacts.c.search_text.like(pattern, escape="\\")

    def _contacts_for(self, account_id: int, page: sa.Subquery) -> list[Contact]:
        rows = self.conn.execute(
            sa.select(
                contacts.c.id, contacts.c.name, contacts.c.surname, contacts.c.email, contacts.c.gsm
            )
            .join_from(
                page,
                contacts,
                sa.and_(contacts.c.account_id == account_id, contacts.c.id == page.c.contact_id),
            )
            .order_by(contacts.c.id)
        ).all()
        return self._hydrate(account_id, rows)

    def _hydrate(self, account_id: int, rows: Sequence[Any]) -> list[Contact]:
        if not rows:
            return []
        ids = [r.id for r in rows]
        fields: dict[int, list[FieldValue]] = defaultdict(list)
        member_of: dict[int, list[int]] = defaultdict(list)
        for chunk in _chunks(ids):
            for f in self.conn.execute(
                sa.select(
                    contact_fields.c.contact_id, contact_fields.c.field_id, contact_fields.c.value
                )
                .where(
                    contact_fields.c.account_id == account_id,
                    contact_fields.c.contact_id.in_(chunk),
                )
                .order_by(contact_fields.c.contact_id, contact_fields.c.field_id)
            ):
                fields[f.contact_id].append(FieldValue(f.field_id, f.value))
            for m in self.conn.execute(
                sa.select(memberships.c.contact_id, memberships.c.group_id)
                .where(memberships.c.account_id == account_id, memberships.c.contact_id.in_(chunk))
                .order_by(memberships.c.contact_id, memberships.c.group_id)
            ):
                member_of[m.contact_id].append(m.group_id)
        return [
            Contact(
                id=r.id,
                name=r.name,
                surname=r.surname,
                email=r.email,
                gsm=r.gsm,
                custom_fields=tuple(fields.get(r.id, ())),
                groups=tuple(member_of.get(r.id, ())),
            )
            for r in rows
        ]

    # -- helpers -----------------------------------------------------------------------

    def _existing(
        self,
        id_col: sa.Column[Any],
        account_col: sa.Column[Any],
        account_id: int,
        ids: Iterable[int],
    ) -> set[int]:
        found: set[int] = set()
        for chunk in _chunks(_valid_ids(ids)):
            rows = self.conn.execute(
                sa.select(id_col).where(account_col == account_id, id_col.in_(chunk))
            )
            found.update(r[0] for r in rows)
        return found

    def set_next_ids(self, **next_ids: int) -> None:
        """Make the next generated id of each named table (``groups=97101``) that value."""
        for table, value in next_ids.items():
            if self.dialect == "postgresql":
                self.conn.execute(
                    sa.text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :v, false)"),
                    {"t": table, "v": value},
                )
            else:
                self.conn.execute(
                    sa.text("DELETE FROM sqlite_sequence WHERE name = :t"), {"t": table}
                )
                self.conn.execute(
                    sa.text("INSERT INTO sqlite_sequence(name, seq) VALUES (:t, :v)"),
                    {"t": table, "v": value - 1},
                )


def _api_key(row: Any) -> ApiKey:
    return ApiKey(
        id=row.id,
        account_id=row.account_id,
        key=row.key,
        created_at=row.created_at.isoformat() if row.created_at else "",
        revoked_at=row.revoked_at.isoformat() if row.revoked_at else None,
    )
