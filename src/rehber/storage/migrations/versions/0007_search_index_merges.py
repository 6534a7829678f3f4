"""SQLite: the search index merges its segments in larger steps (FTS5 ``automerge`` 8, not 4).

FTS5 writes each indexing batch as a new segment and, after every write, merges segments
whenever ``automerge`` of them sit on one level. With FTS5's default of 4, indexing a million
new contacts (2,000 per batch, as the background indexer does) took 39.7-48.9 s on a 2-core
machine; with 8, 33.1-34.3 s: a quarter less, while the longest batch stayed the same (361-433
against 366-379 ms; merging work still comes in bounded steps) and a 5-letter search on the
million stayed about 1 ms (median 0.74-0.91 against 0.99-1.00 ms). 16 was faster still
(26.7-29.5 s) but, with FTS5's ``crisismerge`` of 16, merged whole levels inside one batch
(3.4-4.1 s holding the write lock); with ``crisismerge`` raised to 64 it kept its batches
short and was no faster than 8 (31.9-35.2 s). The setting is stored in the index's own
configuration table, so it holds for every connection; PostgreSQL's trigram index is not
affected.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

AUTOMERGE = 8
_FTS5_DEFAULT_AUTOMERGE = 4


def upgrade() -> None:
    _set_automerge(AUTOMERGE)


def downgrade() -> None:
    _set_automerge(_FTS5_DEFAULT_AUTOMERGE)


def _set_automerge(value: int) -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"INSERT INTO contacts_fts(contacts_fts, rank) VALUES ('automerge', {value})")
