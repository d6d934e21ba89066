"""import layouts: which column of a council's file is which

Revision ID: acc0ce647592
Revises: 64d5613a930f
Create Date: 2026-12-01 11:43:23.607495

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "acc0ce647592"
down_revision = "64d5613a930f"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "import_layout",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("header_key", sa.String(length=64), nullable=False),
        sa.Column("header", sa.JSON(), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("comparators", sa.JSON(), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["app_user.id"], name=op.f("fk_import_layout_updated_by_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_layout")),
        sa.UniqueConstraint("kind", "header_key", name="uq_import_layout_kind_header"),
    )


def downgrade():
    op.drop_table("import_layout")
