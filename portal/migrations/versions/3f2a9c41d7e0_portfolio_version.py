"""the portfolio's version, which keys the figures kept between writes

Revision ID: 3f2a9c41d7e0
Revises: 53c5c4a21063
Create Date: 2026-12-01 14:35:00

"""

import sqlalchemy as sa
from alembic import op

revision = "3f2a9c41d7e0"
down_revision = "53c5c4a21063"
branch_labels = None
depends_on = None


def upgrade():
    # The row itself is made by the first write (with a new epoch), so an upgraded database needs none here.
    op.create_table(
        "portfolio_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("epoch", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portfolio_version")),
    )


def downgrade():
    op.drop_table("portfolio_version")
