"""Reads and writes of the address book, inside one transaction.

The repository never decides a business rule and never sees HTTP; it returns the plain values
of :mod:`rehber.types`. Every query is scoped by ``account_id``. Statements run on the driver's
cursor (see :mod:`rehber.storage.sql`); the schema itself is SQLAlchemy's (``tables.py``,
migrations).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from rehber.storage.anchors import MIN_OFFSET, STEP, PageAnchors
from rehber.storage.sql import Sql
from rehber.storage.statistics import InsertTally
from rehber.types import Account, ApiKey, Contact, CustomField, FieldValue, Group

# Ids outside this range cannot exist; filtering them avoids driver overflow errors.
MAX_ID = 2**63 - 1

# The columns a new contact's row fills, in the order ``insert_contacts`` gives them.
NEW_CONTACT_COLUMNS = (
    "account_id",
    "id",
    "name",
    "surname",
    "email",
    "gsm",
    "search_text",
    "search_pending",
)


@dataclass(slots=True)
class ContactRow:
    """Scalar values of a contact as stored (already validated and normalised).

    Read-only by convention, not ``frozen``: one is built per contact of a bulk write, and a
    frozen dataclass's ``__init__`` (one ``object.__setattr__`` call per field) made
    add-contacts about 10% slower.
    """

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


def _now() -> datetime:
    return datetime.now(UTC)


def _now_param(dialect: str) -> datetime | str:
    """SQLite has no timestamp type: store ISO text, as SQLAlchemy would."""
    now = _now()
    return now if dialect == "postgresql" else now.isoformat(sep=" ")


def _stamp(value: Any) -> str:
    """Timestamps come back as datetimes (PostgreSQL) or ISO strings (SQLite)."""
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, datetime) else str(value)


_ACCOUNT_COLUMNS = "a.id, a.name, a.wire_generation, a.duplicate_gsm"
# A contact with its custom fields (JSON array of [id, value]) and group ids (comma list) in one
# row, so a point read or a page is one statement instead of three.
_CONTACT_COLUMNS = {
    "sqlite": (
        "c.id, c.name, c.surname, c.email, c.gsm, "
        "(SELECT json_group_array(json_array(f.field_id, f.value)) FROM contact_fields f "
        " WHERE f.account_id = c.account_id AND f.contact_id = c.id), "
        "(SELECT group_concat(m.group_id) FROM memberships m "
        " WHERE m.account_id = c.account_id AND m.contact_id = c.id)"
    ),
    "postgresql": (
        "c.id, c.name, c.surname, c.email, c.gsm, "
        "(SELECT coalesce(json_agg(json_build_array(f.field_id, f.value)), '[]')::text "
        " FROM contact_fields f WHERE f.account_id = c.account_id AND f.contact_id = c.id), "
        "(SELECT string_agg(m.group_id::text, ',') FROM memberships m "
        " WHERE m.account_id = c.account_id AND m.contact_id = c.id)"
    ),
}


def _account(row: Sequence[Any]) -> Account:
    return Account(
        id=row[0], name=row[1], wire_generation=row[2] or "current", duplicate_gsm=row[3]
    )


def _group(row: Sequence[Any]) -> Group:
    """A group from ``(id, name, member_count, parent_id)``: Group's own field order."""
    return Group(*row)


def _contact(row: Sequence[Any]) -> Contact:
    contact_id, name, surname, email, gsm, fields, groups = row
    return Contact(
        contact_id,
        name,
        surname,
        email,
        gsm,
        # No custom fields: "[]" from either database (json_group_array, coalesce).
        tuple(FieldValue(f, v) for f, v in sorted(orjson.loads(fields)))
        if fields and fields != "[]"
        else (),
        tuple(sorted(map(int, groups.split(",")))) if groups else (),
    )


def _api_key(row: Sequence[Any]) -> ApiKey:
    return ApiKey(
        id=row[0],
        account_id=row[1],
        key=row[2],
        created_at=_stamp(row[3]),
        revoked_at=_stamp(row[4]) or None,
    )


class Repository:
    """Storage operations on one open transaction."""

    def __init__(
        self,
        connection: Any,
        dialect: str,
        anchors: PageAnchors | None = None,
        tally: InsertTally | None = None,
        sequences: dict[str, str] | None = None,
    ) -> None:
        """``connection`` is the driver's (sqlite3 or psycopg) inside an open transaction;
        ``sequences`` caches PostgreSQL's id sequence names for the store's lifetime."""
        self.dialect = dialect
        self.anchors = anchors
        self.sequences = {} if sequences is None else sequences
        self.sql = Sql(connection, dialect, tally)
        self._contact_columns = _CONTACT_COLUMNS[dialect]
        # Set by every method that writes accounts or keys: what authentication reads. The
        # store tells caches of credentials (service.accounts.KeyCache) after the commit.
        self.changed_credentials = False

    # -- accounts and keys -------------------------------------------------------------

    def create_account(self, name: str, *, wire_generation: str | None = None) -> Account:
        self.changed_credentials = True
        [row] = self.sql.rows(
            "INSERT INTO accounts (name, wire_generation, duplicate_gsm, created_at) "
            "VALUES (:name, :generation, 'allow', :now) "
            "RETURNING id, name, wire_generation, duplicate_gsm",
            {"name": name, "generation": wire_generation, "now": _now_param(self.dialect)},
        )
        return _account(row)

    def get_account(self, account_id: int) -> Account | None:
        if not 0 < account_id <= MAX_ID:
            return None
        row = self.sql.one(
            f"SELECT {_ACCOUNT_COLUMNS} FROM accounts a WHERE a.id = :id", {"id": account_id}
        )
        return _account(row) if row else None

    def list_accounts(self) -> list[Account]:
        return [
            _account(r)
            for r in self.sql.rows(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts a ORDER BY a.id")
        ]

    def update_account(self, account_id: int, **values: str | None) -> None:
        for column in values:
            if column not in ("wire_generation", "duplicate_gsm", "name"):
                raise ValueError(f"unknown account setting {column}")
        if values:
            self.changed_credentials = True
            assignments = ", ".join(f"{column} = :{column}" for column in values)
            self.sql.run(
                f"UPDATE accounts SET {assignments} WHERE id = :id", {**values, "id": account_id}
            )

    def add_key(self, account_id: int, key: str, hash_digest: str) -> ApiKey:
        self.changed_credentials = True
        [row] = self.sql.rows(
            "INSERT INTO api_keys (account_id, key, hash_digest, created_at) "
            "VALUES (:account, :key, :digest, :now) "
            "RETURNING id, account_id, key, created_at, revoked_at",
            {
                "account": account_id,
                "key": key,
                "digest": hash_digest,
                "now": _now_param(self.dialect),
            },
        )
        return _api_key(row)

    def key_exists(self, key: str) -> bool:
        return self.sql.one("SELECT 1 FROM api_keys WHERE key = :key", {"key": key}) is not None

    def find_key(self, key: str) -> KeyRecord | None:
        row = self.sql.one(
            f"SELECT {_ACCOUNT_COLUMNS}, k.hash_digest, k.revoked_at "
            "FROM api_keys k JOIN accounts a ON a.id = k.account_id WHERE k.key = :key",
            {"key": key},
        )
        if row is None:
            return None
        return KeyRecord(_account(row), row[4], row[5] is not None, row[2])

    def revoke_key(self, account_id: int, key: str) -> bool:
        self.changed_credentials = True
        changed = self.sql.run(
            "UPDATE api_keys SET revoked_at = :now "
            "WHERE account_id = :account AND key = :key AND revoked_at IS NULL",
            {"now": _now_param(self.dialect), "account": account_id, "key": key},
        )
        return changed > 0

    def list_keys(self, account_id: int) -> list[ApiKey]:
        rows = self.sql.rows(
            "SELECT id, account_id, key, created_at, revoked_at FROM api_keys "
            "WHERE account_id = :account ORDER BY id",
            {"account": account_id},
        )
        return [_api_key(r) for r in rows]

    # -- custom fields -----------------------------------------------------------------

    def create_field(self, account_id: int, name: str, field_id: int | None = None) -> CustomField:
        if field_id is None:
            new_id = self.sql.scalar(
                "INSERT INTO custom_fields (account_id, name) VALUES (:account, :name) "
                "RETURNING id",
                {"account": account_id, "name": name},
            )
        else:
            new_id = self.sql.scalar(
                "INSERT INTO custom_fields (account_id, id, name) VALUES (:account, :id, :name) "
                "RETURNING id",
                {"account": account_id, "id": field_id, "name": name},
            )
        return CustomField(id=int(new_id), name=name)

    def list_fields(self, account_id: int) -> list[CustomField]:
        rows = self.sql.rows(
            "SELECT id, name FROM custom_fields WHERE account_id = :account ORDER BY id",
            {"account": account_id},
        )
        return [CustomField(id=r[0], name=r[1]) for r in rows]

    def existing_field_ids(self, account_id: int, ids: Iterable[int]) -> set[int]:
        return self._existing("custom_fields", account_id, ids)

    # -- groups ------------------------------------------------------------------------

    def list_groups(self, account_id: int) -> list[Group]:
        """Every group of the account, flat (``parent`` set, ``children`` empty), by id."""
        rows = self.sql.rows(
            "SELECT id, name, member_count, parent_id FROM groups "
            "WHERE account_id = :account ORDER BY id",
            {"account": account_id},
        )
        return [_group(r) for r in rows]

    def group_subtree(self, account_id: int, group_id: int) -> list[Group]:
        """The group and all its descendants, flat, by id (empty if there is no such group)."""
        if not 0 < group_id <= MAX_ID:
            return []
        params = {"account": account_id, "id": group_id}
        # Most groups are one or two levels deep. The group and its children are two index
        # lookups, each child saying whether it has children of its own; only then does the
        # recursive query run (its work tables and sort cost 70% more for a two-level group).
        rows = self.sql.rows(
            "SELECT id, name, member_count, parent_id, FALSE FROM groups"
            " WHERE account_id = :account AND id = :id"
            " UNION ALL"
            " SELECT g.id, g.name, g.member_count, g.parent_id, EXISTS (SELECT 1 FROM groups c"
            " WHERE c.account_id = :account AND c.parent_id = g.id) FROM groups g"
            " WHERE g.account_id = :account AND g.parent_id = :id",
            params,
        )
        if not any(row[4] for row in rows):
            return [_group(row[:4]) for row in sorted(rows)]
        # The rows travel through the recursion itself: joining the ids back to ``groups``
        # afterwards made SQLite scan every group of the account (an automatic index on the
        # CTE), so a point read cost grew with the size of the account's tree.
        rows = self.sql.rows(
            "WITH RECURSIVE tree(id, name, member_count, parent_id) AS ("
            " SELECT id, name, member_count, parent_id FROM groups"
            " WHERE account_id = :account AND id = :id"
            " UNION ALL"
            " SELECT g.id, g.name, g.member_count, g.parent_id FROM groups g"
            " JOIN tree ON g.account_id = :account AND g.parent_id = tree.id"
            ") SELECT id, name, member_count, parent_id FROM tree ORDER BY id",
            params,
        )
        return [_group(r) for r in rows]

    def get_group(self, account_id: int, group_id: int) -> Group | None:
        if not 0 < group_id <= MAX_ID:
            return None
        row = self.sql.one(
            "SELECT id, name, member_count, parent_id FROM groups "
            "WHERE account_id = :account AND id = :id",
            {"account": account_id, "id": group_id},
        )
        return _group(row) if row else None

    def existing_group_ids(self, account_id: int, ids: Iterable[int]) -> set[int]:
        return self._existing("groups", account_id, ids)

    def insert_group(
        self, account_id: int, name: str, parent: int | None, group_id: int | None = None
    ) -> int:
        params = {"account": account_id, "name": name, "parent": parent, "id": group_id}
        if group_id is None:
            query = (
                "INSERT INTO groups (account_id, name, parent_id) "
                "VALUES (:account, :name, :parent) RETURNING id"
            )
        else:
            query = (
                "INSERT INTO groups (account_id, id, name, parent_id) "
                "VALUES (:account, :id, :name, :parent) RETURNING id"
            )
        return int(self.sql.scalar(query, params))

    def update_group(self, account_id: int, group_id: int, name: str, parent: int | None) -> None:
        self.sql.run(
            "UPDATE groups SET name = :name, parent_id = :parent "
            "WHERE account_id = :account AND id = :id",
            {"name": name, "parent": parent, "account": account_id, "id": group_id},
        )

    def lock_group_tree(self, account_id: int) -> None:
        """Serialise changes to the account's group tree until the transaction ends.

        PostgreSQL (READ COMMITTED): two concurrent moves (A under B, B under A) would each
        check the tree as it was and together make a cycle. The account row's lock orders
        them, and the second then sees the first. (It does not block inserts, whose foreign
        keys take only a key-share lock. SQLite runs one writer at a time.)
        """
        if self.dialect == "postgresql":
            self.sql.rows(
                "SELECT id FROM accounts WHERE id = :account FOR NO KEY UPDATE",
                {"account": account_id},
            )

    def ancestor_ids(self, account_id: int, group_id: int) -> list[int]:
        """``group_id`` and every group above it, nearest first."""
        rows = self.sql.rows(
            "WITH RECURSIVE up(id, parent_id, depth) AS ("
            " SELECT id, parent_id, 0 FROM groups WHERE account_id = :account AND id = :id"
            " UNION ALL"
            " SELECT g.id, g.parent_id, up.depth + 1 FROM groups g"
            " JOIN up ON g.account_id = :account AND g.id = up.parent_id"
            ") SELECT id FROM up ORDER BY depth",
            {"account": account_id, "id": group_id},
        )
        return [r[0] for r in rows]

    def delete_group(self, account_id: int, group_id: int) -> None:
        """Delete the group; sub-groups and memberships go with it (ON DELETE CASCADE)."""
        self.sql.run(
            "DELETE FROM groups WHERE account_id = :account AND id = :id",
            {"account": account_id, "id": group_id},
        )

    # -- contacts ----------------------------------------------------------------------

    def insert_contacts(
        self, account_id: int, rows: Sequence[ContactRow], ids: Sequence[int | None] | None = None
    ) -> list[int]:
        """Insert contacts in one batch; returns their new ids in input order.

        Ids are reserved first (the write lock is held on SQLite; PostgreSQL hands out sequence
        values), so the rows go in as one batch (``Sql.insert_rows``) instead of one round trip
        each. New contacts join the search backlog (``search_pending`` 1; migrations 0002, 0004).
        """
        if not rows:
            return []
        new_ids = self._reserve_contact_ids(len(rows))
        if ids is not None:
            new_ids = [
                given if given is not None else new for given, new in zip(ids, new_ids, strict=True)
            ]
        self.sql.insert_rows(
            "contacts",
            NEW_CONTACT_COLUMNS,
            [
                (account_id, new_id, r.name, r.surname, r.email, r.gsm, r.search_text, 1)
                for new_id, r in zip(new_ids, rows, strict=True)
            ],
        )
        return new_ids

    def _reserve_contact_ids(self, count: int) -> list[int]:
        if self.dialect == "postgresql":
            rows = self.sql.rows(
                "SELECT nextval(CAST(:sequence AS regclass)) FROM generate_series(1, :n)",
                {"sequence": self._sequence("contacts"), "n": count},
            )
            return [r[0] for r in rows]
        last = self.sql.scalar("SELECT seq FROM sqlite_sequence WHERE name = 'contacts'")
        if last is None:
            last = self.sql.scalar("SELECT coalesce(max(id), 0) FROM contacts")
        return list(range(last + 1, last + 1 + count))

    def _sequence(self, table: str) -> str:
        """The id sequence of ``table`` (PostgreSQL), looked up once per store: looked up in
        the statement, once per value it generated, it cost five times the values themselves
        (3.8 against 0.7 ms for 1,000 ids)."""
        name = self.sequences.get(table)
        if name is None:
            name = str(
                self.sql.scalar("SELECT pg_get_serial_sequence(:table, 'id')", {"table": table})
            )
            self.sequences[table] = name
        return name

    def update_contact(self, account_id: int, contact_id: int, row: ContactRow) -> None:
        self.sql.run(
            "UPDATE contacts SET name = :name, surname = :surname, email = :email, gsm = :gsm, "
            "search_text = :search WHERE account_id = :account AND id = :id",
            {
                "name": row.name,
                "surname": row.surname,
                "email": row.email,
                "gsm": row.gsm,
                "search": row.search_text,
                "account": account_id,
                "id": contact_id,
            },
        )

    def existing_contact_ids(self, account_id: int, ids: Iterable[int]) -> set[int]:
        return self._existing("contacts", account_id, ids)

    def find_contact_by_gsm(self, account_id: int, gsm: str) -> int | None:
        found = self.sql.scalar(
            "SELECT min(id) FROM contacts WHERE account_id = :account AND gsm = :gsm",
            {"account": account_id, "gsm": gsm},
        )
        return int(found) if found is not None else None

    def get_contacts(self, account_id: int, ids: Iterable[int]) -> list[Contact]:
        """Hydrated contacts (custom fields and groups) for ``ids``, ordered by id."""
        wanted = _valid_ids(ids)
        if not wanted:
            return []
        if len(wanted) == 1:
            rows = self.sql.rows(
                f"SELECT {self._contact_columns} FROM contacts c "
                "WHERE c.account_id = :account AND c.id = :id",
                {"account": account_id, "id": wanted[0]},
            )
        else:
            rows = self.sql.rows(
                f"SELECT {self._contact_columns} FROM contacts c "
                "WHERE c.account_id = :account AND c.id IN @ids ORDER BY c.id",
                {"account": account_id, "ids": wanted},
            )
        return [_contact(r) for r in rows]

    def contact_row(self, account_id: int, contact_id: int) -> ContactRow | None:
        if not 0 < contact_id <= MAX_ID:
            return None
        row = self.sql.one(
            "SELECT name, surname, email, gsm, search_text FROM contacts "
            "WHERE account_id = :account AND id = :id",
            {"account": account_id, "id": contact_id},
        )
        return ContactRow(*row) if row else None

    def delete_contacts(self, account_id: int, ids: Sequence[int]) -> None:
        """Delete contacts, first taking them out of their groups' member counts."""
        wanted = _valid_ids(ids)
        if not wanted:
            return
        params = {"account": account_id, "ids": wanted}
        if self.dialect == "postgresql":
            # Concurrent transactions (READ COMMITTED) must not slip memberships past the
            # counts: lock the contacts first, so a subscribe in flight (its INSERT holds a
            # key-share lock on the contact) commits before the count below or fails after
            # it; then count exactly the memberships this statement deletes, not ones a
            # concurrent unsubscribe is deleting. (SQLite runs one writer at a time.)
            self.sql.rows(
                "SELECT id FROM contacts WHERE account_id = :account AND id IN @ids "
                "ORDER BY id FOR UPDATE",
                params,
            )
            rows = self.sql.rows(
                "WITH gone AS (DELETE FROM memberships "
                "WHERE account_id = :account AND contact_id IN @ids RETURNING group_id) "
                "SELECT group_id, count(*) FROM gone GROUP BY group_id",
                params,
            )
        else:
            rows = self.sql.rows(
                "SELECT group_id, count(*) FROM memberships "
                "WHERE account_id = :account AND contact_id IN @ids GROUP BY group_id",
                params,
            )
        self._add_to_counts(account_id, {g: -n for g, n in rows})
        self.sql.run("DELETE FROM contacts WHERE account_id = :account AND id IN @ids", params)

    # -- custom-field values -----------------------------------------------------------

    def set_field_values(self, account_id: int, contact_id: int, values: Mapping[int, str]) -> None:
        """Upsert each ``field_id -> value``; an empty value removes the field."""
        if not values:
            return
        self.sql.run(
            "DELETE FROM contact_fields WHERE account_id = :account AND contact_id = :contact "
            "AND field_id IN @fields",
            {"account": account_id, "contact": contact_id, "fields": list(values)},
        )
        self.insert_field_values(
            account_id, [(contact_id, f, v) for f, v in values.items() if v != ""]
        )

    def insert_field_values(self, account_id: int, values: Sequence[tuple[int, int, str]]) -> None:
        """Insert ``(contact_id, field_id, value)`` rows for contacts that have none yet."""
        self.sql.insert_rows(
            "contact_fields",
            ("account_id", "contact_id", "field_id", "value"),
            [(account_id, c, f, v) for c, f, v in values],
        )

    # -- memberships -------------------------------------------------------------------

    def add_memberships(
        self, account_id: int, pairs: Iterable[tuple[int, int]], *, new_contacts: bool = False
    ) -> None:
        """Add ``(group_id, contact_id)`` pairs not already present; counts follow.

        ``new_contacts``: the contacts were inserted in this transaction, so none of the pairs
        can exist yet and the lookup is skipped.
        """
        wanted = sorted(set(pairs))
        if not wanted:
            return
        present = set() if new_contacts else self._present_pairs(account_id, wanted)
        new = [p for p in wanted if p not in present]
        if not new:
            return
        self.sql.insert_rows(
            "memberships",
            ("account_id", "group_id", "contact_id"),
            [(account_id, g, c) for g, c in new],
        )
        deltas: dict[int, int] = defaultdict(int)
        for g, _ in new:
            deltas[g] += 1
        self._add_to_counts(account_id, deltas)

    def remove_memberships(self, account_id: int, pairs: Iterable[tuple[int, int]]) -> None:
        """Remove the ``(group_id, contact_id)`` pairs that exist; counts follow."""
        deltas: dict[int, int] = {}
        for group_id, contact_ids in _by_group(pairs).items():
            deltas[group_id] = -self.sql.run(
                "DELETE FROM memberships WHERE account_id = :account AND group_id = :group "
                "AND contact_id IN @contacts",
                {"account": account_id, "group": group_id, "contacts": contact_ids},
            )
        self._add_to_counts(account_id, deltas)

    def group_ids_of(self, account_id: int, contact_id: int) -> list[int]:
        rows = self.sql.rows(
            "SELECT group_id FROM memberships WHERE account_id = :account "
            "AND contact_id = :contact ORDER BY group_id",
            {"account": account_id, "contact": contact_id},
        )
        return [r[0] for r in rows]

    def _present_pairs(
        self, account_id: int, pairs: Sequence[tuple[int, int]]
    ) -> set[tuple[int, int]]:
        present: set[tuple[int, int]] = set()
        for group_id, contact_ids in _by_group(pairs).items():
            rows = self.sql.rows(
                "SELECT contact_id FROM memberships WHERE account_id = :account "
                "AND group_id = :group AND contact_id IN @contacts",
                {"account": account_id, "group": group_id, "contacts": contact_ids},
            )
            present.update((group_id, r[0]) for r in rows)
        return present

    def _add_to_counts(self, account_id: int, deltas: Mapping[int, int]) -> None:
        for group_id, delta in sorted(deltas.items()):
            if delta:
                self.sql.run(
                    "UPDATE groups SET member_count = member_count + :delta, "
                    "member_version = member_version + 1 "
                    "WHERE account_id = :account AND id = :id",
                    {"delta": delta, "account": account_id, "id": group_id},
                )

    # -- pages -------------------------------------------------------------------------

    def group_contacts_page(
        self, account_id: int, group_id: int, limit: int, offset: int
    ) -> list[Contact]:
        """One page of a group's members, ascending contact id."""
        params = {"account": account_id, "group": group_id, "limit": limit, "offset": offset}
        start = ""
        if offset >= MIN_OFFSET and self.anchors is not None:
            anchor = self._anchor(account_id, group_id, offset // STEP)
            if anchor is None:
                return []  # past the end
            params["from"], params["offset"] = anchor, offset % STEP
            start = "AND contact_id >= :from "
        rows = self.sql.rows(
            f"SELECT {self._contact_columns} FROM ("
            " SELECT contact_id FROM memberships WHERE account_id = :account AND group_id = :group"
            f" {start}ORDER BY contact_id LIMIT :limit OFFSET :offset"
            ") p JOIN contacts c ON c.account_id = :account AND c.id = p.contact_id ORDER BY c.id",
            params,
        )
        return [_contact(r) for r in rows]

    def _anchor(self, account_id: int, group_id: int, index: int) -> int | None:
        """The contact id at position ``index * STEP`` of the group (None past the end)."""
        assert self.anchors is not None
        version = self.sql.scalar(
            "SELECT member_version FROM groups WHERE account_id = :account AND id = :group",
            {"account": account_id, "group": group_id},
        )
        known = self.anchors.get(account_id, group_id, version)
        while len(known) <= index:
            following = self.sql.scalar(
                "SELECT contact_id FROM memberships WHERE account_id = :account "
                "AND group_id = :group AND contact_id >= :from "
                "ORDER BY contact_id LIMIT 1 OFFSET :skip",
                {
                    "account": account_id,
                    "group": group_id,
                    "from": known[-1] if known else 0,
                    "skip": STEP if known else 0,
                },
            )
            if following is None:
                break
            known.append(following)
        self.anchors.put(account_id, group_id, version, known)
        return known[index] if index < len(known) else None

    def search_page(self, account_id: int, needle: str, limit: int, offset: int) -> list[Contact]:
        """Contacts whose ``search_text`` contains ``needle``, ascending id (index-backed)."""
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params: dict[str, Any] = {
            "account": account_id,
            "limit": limit,
            "offset": offset,
            "pattern": f"%{escaped}%",
        }
        like = "search_text LIKE :pattern ESCAPE '\\'"
        if self.dialect == "sqlite" and len(needle) >= 3:
            # FTS5 trigram: a quoted phrase matches exactly the rows containing the substring;
            # the backlog not yet in the index is scanned through its partial index.
            params["phrase"] = '"' + needle.replace('"', '""') + '"'
            match = (
                "c.id IN (SELECT rowid FROM contacts_fts WHERE contacts_fts MATCH :phrase "
                "UNION SELECT id FROM contacts INDEXED BY ix_contacts_search_pending "
                "WHERE search_pending = 1 "
                f"AND account_id = :account AND {like})"
            )
        elif self.dialect == "postgresql":
            # The partial trigram index holds the indexed contacts; the backlog is read through
            # its own partial index. Two arms, each naming its index's predicate: written as
            # one OR, the planner merges them and scans the table.
            match = (
                "c.id IN (SELECT id FROM contacts WHERE search_pending = 0 "
                f"AND account_id = :account AND {like} "
                "UNION ALL SELECT id FROM contacts WHERE search_pending = 1 "
                f"AND account_id = :account AND {like})"
            )
        else:
            match = f"c.{like}"
        rows = self.sql.rows(
            f"SELECT {self._contact_columns} FROM contacts c "
            f"WHERE c.account_id = :account AND {match} ORDER BY c.id LIMIT :limit OFFSET :offset",
            params,
        )
        return [_contact(r) for r in rows]

    def index_pending(self, limit: int) -> int:
        """Move up to ``limit`` of the oldest backlog contacts into the search index; returns
        how many."""
        if self.dialect == "postgresql":
            # Clearing the flag puts the rows into the partial trigram index. SKIP LOCKED: the
            # indexers of several workers take disjoint batches, and none waits for a request.
            # A locking CTE runs once (a locking IN-subquery may be rescanned past its LIMIT).
            return self.sql.run(
                "WITH batch AS (SELECT account_id, id FROM contacts WHERE search_pending = 1 "
                "ORDER BY id LIMIT :n FOR UPDATE SKIP LOCKED) "
                "UPDATE contacts c SET search_pending = 0 FROM batch "
                "WHERE c.account_id = batch.account_id AND c.id = batch.id",
                {"n": limit},
            )
        last = self.sql.scalar(
            "SELECT max(id) FROM (SELECT id FROM contacts WHERE search_pending = 1 "
            "ORDER BY id LIMIT :n)",
            {"n": limit},
        )
        if last is None:
            return 0
        # The text goes from table to index inside SQLite: one statement, no row through
        # Python (and the GIL given up once, see sql._values_insert).
        batch = "search_pending = 1 AND id <= :last"
        self.sql.run(
            "INSERT INTO contacts_fts (rowid, search_text) "
            f"SELECT id, search_text FROM contacts WHERE {batch}",
            {"last": last},
        )
        return self.sql.run(f"UPDATE contacts SET search_pending = 0 WHERE {batch}", {"last": last})

    def search_backlog(self) -> int:
        """Contacts stored but not yet in the search index."""
        return int(self.sql.scalar("SELECT count(*) FROM contacts WHERE search_pending = 1"))

    # -- helpers -----------------------------------------------------------------------

    def _existing(self, table: str, account_id: int, ids: Iterable[int]) -> set[int]:
        wanted = _valid_ids(ids)
        if not wanted:
            return set()
        rows = self.sql.rows(
            f"SELECT id FROM {table} WHERE account_id = :account AND id IN @ids",
            {"account": account_id, "ids": wanted},
        )
        return {r[0] for r in rows}

    def set_next_ids(self, **next_ids: int) -> None:
        """Make the next generated id of each named table (``groups=97101``) that value."""
        for table, value in next_ids.items():
            if table not in ("groups", "contacts", "custom_fields", "accounts", "api_keys"):
                raise ValueError(f"no id sequence for {table}")
            if self.dialect == "postgresql":
                self.sql.run(
                    "SELECT setval(pg_get_serial_sequence(:t, 'id'), :v, false)",
                    {"t": table, "v": value},
                )
            else:
                self.sql.run("DELETE FROM sqlite_sequence WHERE name = :t", {"t": table})
                self.sql.run(
                    "INSERT INTO sqlite_sequence (name, seq) VALUES (:t, :v)",
                    {"t": table, "v": value - 1},
                )

    # -- emulator resets (rehber.emulator) ---------------------------------------------

    def delete_account_data(self, account_id: int) -> None:
        """Every group, contact, custom field and membership of one account; the account and
        its keys stay."""
        for table in ("memberships", "contact_fields", "contacts", "groups", "custom_fields"):
            self.sql.run(
                f"DELETE FROM {table} WHERE account_id = :account", {"account": account_id}
            )

    def delete_all_accounts(self) -> None:
        """Every row of every account, accounts and keys included."""
        self.changed_credentials = True
        for table in (
            "memberships",
            "contact_fields",
            "contacts",
            "groups",
            "custom_fields",
            "api_keys",
            "accounts",
        ):
            self.sql.run(f"DELETE FROM {table}")


def _by_group(pairs: Iterable[tuple[int, int]]) -> dict[int, list[int]]:
    by_group: dict[int, list[int]] = defaultdict(list)
    for group_id, contact_id in sorted(set(pairs)):
        by_group[group_id].append(contact_id)
    return by_group
