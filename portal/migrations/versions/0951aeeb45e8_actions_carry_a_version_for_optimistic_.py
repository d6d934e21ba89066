"""actions carry a version for optimistic locking: existing actions start at version 1

Revision ID: 0951aeeb45e8
Revises: 6ac9df06b9b5
Create Date: 2026-12-01 11:30:58.654208

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0951aeeb45e8"
down_revision = "6ac9df06b9b5"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))


def downgrade():
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.drop_column("version")
