"""server-side sessions, so that signing out ends a session wherever its cookies were copied

Revision ID: 64b9f19035ed
Revises: 5c1e8d2f4a90
Create Date: 2026-12-01 08:05:57.934538

Sessions signed in before this revision carry a user id where a session token is now expected, so
they find no session and their users sign in again once.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "64b9f19035ed"
down_revision = "5c1e8d2f4a90"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "user_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], name=op.f("fk_user_session_user_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_session_token_hash")),
    )
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_session_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_session_user_id"))
    op.drop_table("user_session")
