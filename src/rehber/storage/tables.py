"""Table definitions (SQLAlchemy Core). Queries use these; the Alembic migrations create them.

Every table carries ``account_id`` and every key and foreign key includes it, so the schema can
be distributed by account (Citus) without change and a row of one account can never reference a
row of another. On PostgreSQL the primary keys are ``(account_id, id)``; on SQLite ``id`` is the
rowid (needed by the FTS5 index) with a unique ``(account_id, id)`` beside it.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# BIGINT on PostgreSQL; on SQLite only the exact type INTEGER makes ``id`` the rowid.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("wire_generation", sa.String(16), nullable=True),
    sa.Column("duplicate_gsm", sa.String(16), nullable=False, server_default="allow"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("key", sa.String(128), nullable=False, unique=True),
    # sha256 of the lower-cased expected hash: the hash itself is never stored.
    sa.Column("hash_digest", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
)

custom_fields = sa.Table(
    "custom_fields",
    metadata,
    sa.Column("account_id", Id, primary_key=True),
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(255), nullable=False),
)

groups = sa.Table(
    "groups",
    metadata,
    sa.Column("account_id", Id, primary_key=True),
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("parent_id", sa.BigInteger, nullable=True),
    sa.Column("name", sa.String(255), nullable=False),
    # Direct members, kept in step with ``memberships`` inside every write transaction.
    sa.Column("member_count", sa.BigInteger, nullable=False, server_default="0"),
    # Bumped on every membership change: keys the cache of deep-page boundaries.
    sa.Column("member_version", sa.BigInteger, nullable=False, server_default="0"),
)

contacts = sa.Table(
    "contacts",
    metadata,
    sa.Column("account_id", Id, primary_key=True),
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(255), nullable=False, server_default=""),
    sa.Column("surname", sa.String(255), nullable=False, server_default=""),
    sa.Column("email", sa.String(255), nullable=False, server_default=""),
    sa.Column("gsm", sa.String(32), nullable=False, server_default=""),
    # Folded text the search index covers; built by the service layer.
    sa.Column("search_text", sa.Text, nullable=False, server_default=""),
    # 1 while the contact waits for the background search indexer (migrations 0002, 0006).
    sa.Column("search_pending", sa.SmallInteger, nullable=False, server_default="1"),
)

contact_fields = sa.Table(
    "contact_fields",
    metadata,
    sa.Column("account_id", Id, primary_key=True),
    sa.Column("contact_id", sa.BigInteger, primary_key=True),
    sa.Column("field_id", sa.BigInteger, primary_key=True),
    sa.Column("value", sa.String(1000), nullable=False),
)

memberships = sa.Table(
    "memberships",
    metadata,
    sa.Column("account_id", Id, primary_key=True),
    sa.Column("group_id", sa.BigInteger, primary_key=True),
    sa.Column("contact_id", sa.BigInteger, primary_key=True),
)
