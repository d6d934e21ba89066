"""full-text index for the library: FTS5 on SQLite, a generated tsvector on PostgreSQL

Revision ID: 53c5c4a21063
Revises: 3f6c2a9b1d47
Create Date: 2026-12-01 14:50:00.000000

"""

from alembic import op

from evidence.library import search_index

# revision identifiers, used by Alembic.
revision = "53c5c4a21063"
down_revision = "3f6c2a9b1d47"
branch_labels = None
depends_on = None


def upgrade():
    # The same DDL as db.create_all() runs; it indexes the items already stored. A later migration that
    # rebuilds evidence_item on SQLite (batch mode) must call search_index.drop before and create after.
    search_index.create(op.get_bind())


def downgrade():
    search_index.drop(op.get_bind())
