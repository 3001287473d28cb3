"""Survivorship-free history: former members, and a count beside each sector average.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COUNTS = (
    "n_revenue",
    "n_net_income",
    "n_eps_diluted",
    "n_profit_margin",
    "n_closing_price",
    "n_pe",
)


def upgrade() -> None:
    op.create_table(
        "former_members",
        sa.Column("ticker", sa.Text(), nullable=False),
        sa.Column("removed", sa.Date(), nullable=False),
        sa.Column("cik", sa.Text(), nullable=True),
        sa.Column("cik_method", sa.Text(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("sector", sa.Text(), nullable=True),
        sa.Column("sub_industry", sa.Text(), nullable=True),
        sa.Column("first_added", sa.Date(), nullable=True),
        sa.Column("attributes_source", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("ticker", "removed", name="pk_former_members"),
    )
    # Earlier aggregates have no counts; the next run recomputes every row.
    op.execute("DELETE FROM sector_aggregates")
    with op.batch_alter_table("sector_aggregates") as batch:
        for name in COUNTS:
            batch.add_column(sa.Column(name, sa.BigInteger(), nullable=False, server_default="0"))
    with op.batch_alter_table("sector_aggregates") as batch:
        for name in COUNTS:
            batch.alter_column(name, server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("sector_aggregates") as batch:
        for name in COUNTS:
            batch.drop_column(name)
    op.drop_table("former_members")
