"""Cover "groups of a contact" lookups; version group memberships for page anchors.

``ix_memberships_contact`` becomes (account_id, contact_id, group_id).
Without statistics SQLite preferred the primary key (account_id, group_id, contact_id) for
"which groups is this contact in" because it is covering, scanning every membership of the
account per contact. Adding group_id makes the contact index covering and the obvious choice.

``groups.member_version`` counts membership changes, so cached page boundaries of a large group
(deep pages of get-group-contacts) are known to be current.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "groups", sa.Column("member_version", sa.BigInteger, nullable=False, server_default="0")
    )
    op.drop_index("ix_memberships_contact", table_name="memberships")
    op.create_index(
        "ix_memberships_contact", "memberships", ["account_id", "contact_id", "group_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_memberships_contact", table_name="memberships")
    op.create_index("ix_memberships_contact", "memberships", ["account_id", "contact_id"])
    with op.batch_alter_table("groups") as batch:
        batch.drop_column("member_version")
