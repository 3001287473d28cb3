"""Filing cursors: how far each company's financials are up to date (incremental runs).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "filing_cursors",
        sa.Column("cik", sa.Text(), nullable=False),
        sa.Column("accession", sa.Text(), nullable=True),
        sa.Column("filed", sa.Date(), nullable=True),
        sa.Column("checked_through", sa.Date(), nullable=False),
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("cik", name="pk_filing_cursors"),
    )


def downgrade() -> None:
    op.drop_table("filing_cursors")
