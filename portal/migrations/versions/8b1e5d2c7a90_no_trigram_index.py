"""no trigram index: the library's search and the gaps' candidates use the full-text index

Revision ID: 8b1e5d2c7a90
Revises: 3f2a9c41d7e0
Create Date: 2026-12-01 18:20:00

"""

import logging

import sqlalchemy as sa
from alembic import op

revision = "8b1e5d2c7a90"
down_revision = "3f2a9c41d7e0"
branch_labels = None
depends_on = None

INDEX = "ix_evidence_item_search_text_trgm"
log = logging.getLogger("alembic.runtime.migration")


def upgrade():
    # Nothing searches with LIKE any more, and a trigram index costs every write to an item's text.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {INDEX}")


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as exc:
        log.warning("pg_trgm could not be created (%s); the trigram index is not made again", exc.orig)
        return
    op.create_index(
        INDEX, "evidence_item", ["search_text"], postgresql_using="gin", postgresql_ops={"search_text": "gin_trgm_ops"}
    )
