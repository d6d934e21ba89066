"""comparator series

A metric held one comparator (a name and a value, with no period). It now holds named series of
(period, value). Each stored comparator becomes a series of one point, at the period of the metric's
latest value: the comparator was given against the figure of the day, and reports already read it
against the latest value. A flat series (the value repeated at every period) would state comparator
figures for periods nobody gave. A metric with no values yet puts the point at the month its period
ends (or starts, or the item was created). A name with no value keeps its series, with no points.

Revision ID: 6ac9df06b9b5
Revises: acc0ce647592
Create Date: 2026-12-01 11:23:55.741139

"""

import math
from datetime import date

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "6ac9df06b9b5"
down_revision = "acc0ce647592"
branch_labels = None
depends_on = None

MEASURE = 1e12  # evidence.bounds.MEASURE: a value outside it was never a usable comparator

items = sa.table(
    "evidence_item",
    sa.column("id", sa.Integer),
    sa.column("period_start", sa.Date),
    sa.column("period_end", sa.Date),
    sa.column("created_at", sa.DateTime),
    sa.column("comparator_label", sa.String),
    sa.column("comparator_value", sa.Float),
)
metric_points = sa.table(
    "metric_point",
    sa.column("item_id", sa.Integer),
    sa.column("period", sa.Date),
    sa.column("label", sa.String),
    sa.column("value", sa.Float),
)
series_table = sa.table(
    "comparator_series", sa.column("id", sa.Integer), sa.column("item_id", sa.Integer), sa.column("name", sa.String)
)
points_table = sa.table(
    "comparator_point",
    sa.column("series_id", sa.Integer),
    sa.column("period", sa.Date),
    sa.column("label", sa.String),
    sa.column("value", sa.Float),
)


def upgrade():
    op.create_table(
        "comparator_series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["evidence_item.id"],
            name=op.f("fk_comparator_series_item_id_evidence_item"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comparator_series")),
        sa.UniqueConstraint("item_id", "name", name="uq_comparator_series_item_name"),
    )
    with op.batch_alter_table("comparator_series", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_comparator_series_item_id"), ["item_id"], unique=False)

    op.create_table(
        "comparator_point",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["comparator_series.id"],
            name=op.f("fk_comparator_point_series_id_comparator_series"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comparator_point")),
        sa.UniqueConstraint("series_id", "period", name="uq_comparator_point_series_period"),
    )
    with op.batch_alter_table("comparator_point", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_comparator_point_series_id"), ["series_id"], unique=False)

    _copy_comparators(op.get_bind())

    with op.batch_alter_table("evidence_item", schema=None) as batch_op:
        batch_op.drop_column("comparator_label")
        batch_op.drop_column("comparator_value")


def _usable(value) -> bool:
    return value is not None and math.isfinite(value) and abs(value) <= MEASURE


def _copy_comparators(bind) -> None:
    latest = {}  # item id -> (period, label) of its latest value
    for item_id, period, label in bind.execute(
        sa.select(metric_points.c.item_id, metric_points.c.period, metric_points.c.label).order_by(
            metric_points.c.item_id, metric_points.c.period
        )
    ):
        latest[item_id] = (period, label)
    rows = bind.execute(
        sa.select(items).where(sa.or_(items.c.comparator_label.is_not(None), items.c.comparator_value.is_not(None)))
    ).all()
    for row in rows:
        name = " ".join((row.comparator_label or "").split())[:100]
        value = row.comparator_value if _usable(row.comparator_value) else None
        if not name and value is None:
            continue
        series_id = bind.execute(
            series_table.insert().values(item_id=row.id, name=name or "Comparator").returning(series_table.c.id)
        ).scalar_one()
        if value is None:
            continue
        if row.id in latest:
            period, label = latest[row.id]
        else:
            when = row.period_end or row.period_start or (row.created_at.date() if row.created_at else date.today())
            period = date(when.year, when.month, 1)
            label = period.strftime("%b %Y")
        bind.execute(points_table.insert().values(series_id=series_id, period=period, label=label, value=value))


def downgrade():
    with op.batch_alter_table("evidence_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("comparator_label", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("comparator_value", sa.Float(), nullable=True))

    # The one comparator the old schema holds: each metric's first series, at its latest value.
    bind = op.get_bind()
    kept = set()
    for series_id, item_id, name in bind.execute(
        sa.select(series_table.c.id, series_table.c.item_id, series_table.c.name).order_by(series_table.c.id)
    ):
        if item_id in kept:
            continue
        kept.add(item_id)
        value = bind.execute(
            sa.select(points_table.c.value)
            .where(points_table.c.series_id == series_id)
            .order_by(points_table.c.period.desc())
            .limit(1)
        ).scalar()
        bind.execute(items.update().where(items.c.id == item_id).values(comparator_label=name, comparator_value=value))

    with op.batch_alter_table("comparator_point", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comparator_point_series_id"))
    op.drop_table("comparator_point")
    with op.batch_alter_table("comparator_series", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comparator_series_item_id"))
    op.drop_table("comparator_series")
