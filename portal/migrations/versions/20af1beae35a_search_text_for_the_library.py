"""search text for the library

Revision ID: 20af1beae35a
Revises: 7d883944494b
Create Date: 2026-11-23 14:44:07.671214

"""

import logging

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "20af1beae35a"
down_revision = "7d883944494b"
branch_labels = None
depends_on = None

INDEX = "ix_evidence_item_search_text_trgm"
FIELDS = ("title", "summary", "source", "quote_text")
BATCH = 1000
log = logging.getLogger("alembic.runtime.migration")

items = sa.table("evidence_item", sa.column("id", sa.Integer), sa.column("search_text", sa.Text),
                 *(sa.column(name, sa.Text) for name in FIELDS))  # fmt: skip


def upgrade():
    with op.batch_alter_table("evidence_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_text", sa.Text(), server_default="", nullable=False))

    # Fill the column for the items already stored, as the application's save event would.
    bind = op.get_bind()
    last_id = 0
    while True:
        rows = bind.execute(
            sa.select(items.c.id, *(items.c[name] for name in FIELDS))
            .where(items.c.id > last_id)
            .order_by(items.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        bind.execute(
            items.update().where(items.c.id == sa.bindparam("item_id")).values(search_text=sa.bindparam("text")),
            [{"item_id": row.id, "text": "\n".join((v or "") for v in row[1:]).lower()} for row in rows],
        )
        last_id = rows[-1].id

    if bind.dialect.name == "postgresql" and _trigrams_available(bind):
        op.create_index(
            INDEX,
            "evidence_item",
            ["search_text"],
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        )


def _trigrams_available(bind) -> bool:
    """Create pg_trgm if it is missing; without the right to, search still works, by scanning."""
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        return True
    except sa.exc.DBAPIError as exc:
        log.warning("pg_trgm could not be created (%s); the library's search will scan instead", exc.orig)
        return False


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {INDEX}")
    with op.batch_alter_table("evidence_item", schema=None) as batch_op:
        batch_op.drop_column("search_text")
