"""the mapping index covers stance and item, for the evidence counts and statement pages

Revision ID: 5c1e8d2f4a90
Revises: 20af1beae35a
Create Date: 2026-11-23 15:20:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "5c1e8d2f4a90"
down_revision = "20af1beae35a"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("mapping", schema=None) as batch_op:
        batch_op.drop_index("ix_mapping_statement_category")
        batch_op.create_index(
            "ix_mapping_statement_category_stance", ["statement_id", "category_id", "stance", "item_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("mapping", schema=None) as batch_op:
        batch_op.drop_index("ix_mapping_statement_category_stance")
        batch_op.create_index("ix_mapping_statement_category", ["statement_id", "category_id"], unique=False)
