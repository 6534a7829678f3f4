"""Initial schema: accounts, keys, custom fields, groups, contacts, memberships, search index.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _is_postgres() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def _tenant_table(name: str, *columns: Any) -> None:
    """A table whose rows have a global ``id`` and belong to one account.

    PostgreSQL: identity ``id``, primary key ``(account_id, id)`` (Citus-distributable).
    SQLite: ``id INTEGER PRIMARY KEY AUTOINCREMENT`` (rowid, never reused) and a unique
    ``(account_id, id)`` that composite foreign keys can reference.
    """
    account_fk = sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE")
    if _is_postgres():
        op.create_table(
            name,
            sa.Column("account_id", BIG, nullable=False),
            sa.Column("id", BIG, sa.Identity(), nullable=False),
            *columns,
            sa.PrimaryKeyConstraint("account_id", "id"),
            account_fk,
        )
    else:
        op.create_table(
            name,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("account_id", BIG, nullable=False),
            *columns,
            sa.UniqueConstraint("account_id", "id", name=f"uq_{name}_account_id"),
            account_fk,
            sqlite_autoincrement=True,
        )


def _fk(cols: list[str], table: str, ref: list[str]) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(cols, [f"{table}.{c}" for c in ref], ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", BIG, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("wire_generation", sa.String(16), nullable=True),
        sa.Column("duplicate_gsm", sa.String(16), nullable=False, server_default="allow"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", BIG, primary_key=True, autoincrement=True),
        sa.Column("account_id", BIG, nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("hash_digest", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.UniqueConstraint("key", name="uq_api_keys_key"),
    )
    op.create_index("ix_api_keys_account", "api_keys", ["account_id"])

    _tenant_table("custom_fields", sa.Column("name", sa.String(255), nullable=False))
    _tenant_table(
        "groups",
        sa.Column("parent_id", BIG, nullable=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("member_count", BIG, nullable=False, server_default="0"),
        _fk(["account_id", "parent_id"], "groups", ["account_id", "id"]),
    )
    op.create_index("ix_groups_parent", "groups", ["account_id", "parent_id"])
    _tenant_table(
        "contacts",
        sa.Column("name", sa.String(255), nullable=False, server_default=""),
        sa.Column("surname", sa.String(255), nullable=False, server_default=""),
        sa.Column("email", sa.String(255), nullable=False, server_default=""),
        sa.Column("gsm", sa.String(32), nullable=False, server_default=""),
        sa.Column("search_text", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_contacts_gsm", "contacts", ["account_id", "gsm"])

    op.create_table(
        "contact_fields",
        sa.Column("account_id", BIG, nullable=False),
        sa.Column("contact_id", BIG, nullable=False),
        sa.Column("field_id", BIG, nullable=False),
        sa.Column("value", sa.String(1000), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "contact_id", "field_id"),
        _fk(["account_id", "contact_id"], "contacts", ["account_id", "id"]),
        _fk(["account_id", "field_id"], "custom_fields", ["account_id", "id"]),
    )
    op.create_index("ix_contact_fields_field", "contact_fields", ["account_id", "field_id"])
    op.create_table(
        "memberships",
        sa.Column("account_id", BIG, nullable=False),
        sa.Column("group_id", BIG, nullable=False),
        sa.Column("contact_id", BIG, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "group_id", "contact_id"),
        _fk(["account_id", "group_id"], "groups", ["account_id", "id"]),
        _fk(["account_id", "contact_id"], "contacts", ["account_id", "id"]),
    )
    op.create_index("ix_memberships_contact", "memberships", ["account_id", "contact_id"])

    if _is_postgres():
        _postgres_search_index()
    else:
        _sqlite_search_index()


def _postgres_search_index() -> None:
    # Serialise concurrent installs (parallel schemas share one database), and install into
    # "public" so that no schema's DROP ... CASCADE can take the extension away from another.
    op.execute("SELECT pg_advisory_xact_lock(724611)")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
    home = (
        op.get_bind()
        .exec_driver_sql(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'pg_trgm'"
        )
        .scalar_one()
    )
    op.execute(
        f'CREATE INDEX ix_contacts_search ON contacts USING gin (search_text "{home}".gin_trgm_ops)'
    )


def _sqlite_search_index() -> None:
    op.execute(
        "CREATE VIRTUAL TABLE contacts_fts USING fts5("
        "search_text, content='contacts', content_rowid='id', tokenize='trigram')"
    )
    op.execute(
        "CREATE TRIGGER contacts_fts_insert AFTER INSERT ON contacts BEGIN "
        "INSERT INTO contacts_fts(rowid, search_text) VALUES (new.id, new.search_text); END"
    )
    op.execute(
        "CREATE TRIGGER contacts_fts_delete AFTER DELETE ON contacts BEGIN "
        "INSERT INTO contacts_fts(contacts_fts, rowid, search_text) "
        "VALUES ('delete', old.id, old.search_text); END"
    )
    op.execute(
        "CREATE TRIGGER contacts_fts_update AFTER UPDATE OF search_text ON contacts "
        "WHEN old.search_text IS NOT new.search_text BEGIN "
        "INSERT INTO contacts_fts(contacts_fts, rowid, search_text) "
        "VALUES ('delete', old.id, old.search_text); "
        "INSERT INTO contacts_fts(rowid, search_text) VALUES (new.id, new.search_text); END"
    )


def downgrade() -> None:
    if not _is_postgres():
        op.execute("DROP TABLE IF EXISTS contacts_fts")
    for table in ("memberships", "contact_fields", "contacts", "groups", "custom_fields"):
        op.drop_table(table)
    op.drop_table("api_keys")
    op.drop_table("accounts")
