"""New contacts join the search backlog by default; SQLite drops its FTS insert trigger.

Migration 0002 kept an ``AFTER INSERT`` trigger that indexed rows stored with
``search_pending = 0``, the column's default, so that rows written outside rehber were indexed
at once. rehber itself always stores ``1``, yet SQLite runs the trigger's program for every
inserted row to find its ``WHEN`` false: a quarter of the cost of storing a contact (236,000
to 270,000 rows/s with it, 329,000 to 350,000 without, into the migrated table).

The default becomes ``1`` instead, so a row written any other way joins the backlog: searches
find it at once (they scan the backlog) and the indexer moves it into the index with the next
batch. On SQLite the default is changed by editing the table's ``CREATE TABLE`` text, the
procedure SQLite documents for changing a default ("Making Other Kinds Of Table Schema
Changes", lang_altertable.html): a default lives in the schema text only, never in stored
rows, so no row is rewritten and the upgrade takes the same time for any table size.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import re

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The column as SQLite keeps it in the schema text (migration 0002 added it).
_PENDING = re.compile(r"\bsearch_pending SMALLINT DEFAULT '[01]' NOT NULL")
_FTS_INSERT_TRIGGER = (
    "CREATE TRIGGER contacts_fts_insert AFTER INSERT ON contacts "
    "WHEN new.search_pending = 0 BEGIN "
    "INSERT INTO contacts_fts(rowid, search_text) VALUES (new.id, new.search_text); END"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER contacts_fts_insert")
    _set_pending_default(1)


def downgrade() -> None:
    _set_pending_default(0)
    if op.get_bind().dialect.name == "sqlite":
        op.execute(_FTS_INSERT_TRIGGER)


def _set_pending_default(value: int) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.execute(f"ALTER TABLE contacts ALTER COLUMN search_pending SET DEFAULT {value}")
        return
    table = "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'contacts'"
    created = bind.exec_driver_sql(table).scalar_one()
    edited, found = _PENDING.subn(f"search_pending SMALLINT DEFAULT '{value}' NOT NULL", created)
    if found != 1:
        raise RuntimeError(f"contacts.search_pending not found in the schema text: {created!r}")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        bind.exec_driver_sql(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'contacts'",
            (edited,),
        )
        # Every connection re-reads the schema when its version changes.
        bind.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    # The edited text, parsed again: the column and its new default, or the upgrade fails.
    columns = bind.exec_driver_sql("PRAGMA table_info(contacts)").all()
    defaults = [c[4] for c in columns if c[1] == "search_pending"]
    if defaults != [f"'{value}'"]:
        raise RuntimeError(f"contacts.search_pending default after the edit: {defaults}")
