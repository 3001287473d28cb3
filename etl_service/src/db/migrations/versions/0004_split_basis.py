"""Split basis: stock splits per company, EPS filing dates, and the share basis of each P/E.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TEXT, DOUBLE, DATE = sa.Text(), sa.Double(), sa.Date()


def upgrade() -> None:
    # The new columns come last in the canonical schemas too: stores keep the spec's order.
    op.create_table(
        "split_events",
        sa.Column("cik", TEXT, nullable=False),
        sa.Column("old_basis_before", DATE, nullable=False),
        sa.Column("new_basis_from", DATE, nullable=False),
        sa.Column("split_ratio", DOUBLE, nullable=False),
        sa.Column("split", TEXT, nullable=False),
        sa.Column("derivation", TEXT, nullable=False),
        sa.PrimaryKeyConstraint("cik", "new_basis_from", name="pk_split_events"),
    )
    with op.batch_alter_table("quarterly_reports") as batch:
        batch.add_column(sa.Column("eps_diluted_filed", DATE, nullable=True))
        batch.add_column(sa.Column("eps_diluted_ytd_filed", DATE, nullable=True))
    with op.batch_alter_table("prices_pe") as batch:
        batch.add_column(sa.Column("share_basis", TEXT, nullable=True))
        batch.add_column(sa.Column("split_factor", DOUBLE, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("prices_pe") as batch:
        batch.drop_column("split_factor")
        batch.drop_column("share_basis")
    with op.batch_alter_table("quarterly_reports") as batch:
        batch.drop_column("eps_diluted_ytd_filed")
        batch.drop_column("eps_diluted_filed")
    op.drop_table("split_events")
