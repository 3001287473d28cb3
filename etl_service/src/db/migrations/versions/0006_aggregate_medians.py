"""Medians beside the means in sector_aggregates.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

MEDIANS = (
    "median_revenue",
    "median_net_income",
    "median_eps_diluted",
    "median_profit_margin",
    "median_closing_price",
    "median_pe",
)


def upgrade() -> None:
    with op.batch_alter_table("sector_aggregates") as batch:
        for name in MEDIANS:
            batch.add_column(sa.Column(name, sa.Double(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sector_aggregates") as batch:
        for name in reversed(MEDIANS):
            batch.drop_column(name)
