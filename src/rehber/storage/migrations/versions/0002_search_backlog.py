"""Search backlog: SQLite indexes new contacts for search after the write, not during it.

Trigram-indexing a contact costs about ten times what storing it does. New contacts are
stored with ``search_pending = 1`` and found by a scan of that (small, partially indexed)
backlog until the background indexer moves them into the FTS index — the pending-list design
PostgreSQL's GIN ``fastupdate`` uses. Rows written any other way keep being indexed at once
(until 0006, which sends them to the backlog too).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_FTS_DELETE = (
    "INSERT INTO contacts_fts(contacts_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text);"
)
_FTS_INSERT = "INSERT INTO contacts_fts(rowid, search_text) VALUES (new.id, new.search_text);"


def upgrade() -> None:
    op.add_column(
        "contacts",
        sa.Column("search_pending", sa.SmallInteger, nullable=False, server_default="0"),
    )
    if op.get_bind().dialect.name != "sqlite":
        return
    for trigger in ("contacts_fts_insert", "contacts_fts_delete", "contacts_fts_update"):
        op.execute(f"DROP TRIGGER {trigger}")
    op.execute(
        "CREATE TRIGGER contacts_fts_insert AFTER INSERT ON contacts "
        f"WHEN new.search_pending = 0 BEGIN {_FTS_INSERT} END"
    )
    op.execute(
        "CREATE TRIGGER contacts_fts_delete AFTER DELETE ON contacts "
        f"WHEN old.search_pending = 0 BEGIN {_FTS_DELETE} END"
    )
    op.execute(
        "CREATE TRIGGER contacts_fts_update AFTER UPDATE OF search_text ON contacts "
        "WHEN old.search_pending = 0 AND old.search_text IS NOT new.search_text "
        f"BEGIN {_FTS_DELETE} {_FTS_INSERT} END"
    )
    op.execute("CREATE INDEX ix_contacts_search_pending ON contacts (id) WHERE search_pending = 1")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP INDEX ix_contacts_search_pending")
        op.execute(
            "INSERT INTO contacts_fts(rowid, search_text) "
            "SELECT id, search_text FROM contacts WHERE search_pending = 1"
        )
        for trigger in ("contacts_fts_insert", "contacts_fts_delete", "contacts_fts_update"):
            op.execute(f"DROP TRIGGER {trigger}")
        op.execute(
            f"CREATE TRIGGER contacts_fts_insert AFTER INSERT ON contacts BEGIN {_FTS_INSERT} END"
        )
        op.execute(
            f"CREATE TRIGGER contacts_fts_delete AFTER DELETE ON contacts BEGIN {_FTS_DELETE} END"
        )
        op.execute(
            "CREATE TRIGGER contacts_fts_update AFTER UPDATE OF search_text ON contacts "
            "WHEN old.search_text IS NOT new.search_text "
            f"BEGIN {_FTS_DELETE} {_FTS_INSERT} END"
        )
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("search_pending")
