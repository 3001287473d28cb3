"""Load state: per-table row fingerprints so the loader sends only changed rows.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "load_state",
        sa.Column("table_name", sa.Text(), nullable=False),
        sa.Column("hasher", sa.Text(), nullable=False),
        sa.Column("fingerprints", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("table_name", name="pk_load_state"),
    )


def downgrade() -> None:
    op.drop_table("load_state")
