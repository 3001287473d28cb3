"""Initial schema: reference tables, facts, quarantine and run records.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TEXT, BIGINT, DOUBLE, BOOL, DATE = sa.Text(), sa.BigInteger(), sa.Double(), sa.Boolean(), sa.Date()
TS, JSON = sa.DateTime(timezone=True), sa.JSON()


def _col(name, type_, nullable=True):
    return sa.Column(name, type_, nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "sub_industries",
        _col("sub_industry", TEXT, False),
        _col("sector", TEXT, False),
        sa.PrimaryKeyConstraint("sub_industry", name="pk_sub_industries"),
    )
    op.create_table(
        "companies",
        _col("ticker", TEXT, False),
        _col("name", TEXT, False),
        _col("cik", TEXT),
        _col("sector", TEXT, False),
        _col("sub_industry", TEXT, False),
        _col("headquarters", TEXT),
        _col("hq_city", TEXT),
        _col("hq_region", TEXT),
        _col("date_added", DATE),
        _col("year_founded", BIGINT),
        _col("founded_raw", TEXT),
        _col("aliases", TEXT),
        _col("source_revision", TEXT),
        sa.PrimaryKeyConstraint("ticker", name="pk_companies"),
    )
    op.create_table(
        "index_changes",
        _col("change_key", TEXT, False),
        _col("change_date", DATE, False),
        _col("added_ticker", TEXT),
        _col("added_name", TEXT),
        _col("removed_ticker", TEXT),
        _col("removed_name", TEXT),
        _col("reason", TEXT),
        sa.PrimaryKeyConstraint("change_key", name="pk_index_changes"),
    )
    op.create_table(
        "index_membership",
        _col("ticker", TEXT, False),
        _col("cik", TEXT),
        _col("valid_from", DATE, False),
        _col("valid_to", DATE),
        _col("derivation", TEXT, False),
        sa.PrimaryKeyConstraint("ticker", "valid_from", name="pk_index_membership"),
    )
    op.create_table(
        "quarterly_reports",
        _col("cik", TEXT, False),
        _col("fiscal_year", BIGINT, False),
        _col("fiscal_quarter", BIGINT, False),
        _col("period_start", DATE, False),
        _col("period_end", DATE, False),
        _col("revenue", BIGINT),
        _col("net_income", BIGINT),
        _col("eps_basic", DOUBLE),
        _col("eps_diluted", DOUBLE),
        _col("eps_diluted_ytd", DOUBLE),
        _col("profit_margin", DOUBLE),
        _col("revenue_concept", TEXT),
        _col("form", TEXT),
        _col("accession", TEXT),
        _col("filed", DATE),
        _col("derived", BOOL, False),
        _col("derivation", TEXT),
        sa.PrimaryKeyConstraint("cik", "period_end", name="pk_quarterly_reports"),
    )
    op.create_table(
        "prices_pe",
        _col("ticker", TEXT, False),
        _col("cik", TEXT),
        _col("period_end", DATE, False),
        _col("fiscal_year", BIGINT),
        _col("fiscal_quarter", BIGINT),
        _col("price_date", DATE),
        _col("closing_price", DOUBLE),
        _col("eps_ttm", DOUBLE),
        _col("eps_ttm_derivation", TEXT),
        _col("price_earnings_ratio", DOUBLE),
        _col("price_source", TEXT),
        _col("note", TEXT),
        sa.PrimaryKeyConstraint("ticker", "period_end", name="pk_prices_pe"),
    )
    op.create_table(
        "sector_aggregates",
        _col("level", TEXT, False),
        _col("name", TEXT, False),
        _col("quarter_end", DATE, False),
        _col("n_companies", BIGINT, False),
        _col("avg_revenue", DOUBLE),
        _col("avg_net_income", DOUBLE),
        _col("avg_eps_diluted", DOUBLE),
        _col("avg_profit_margin", DOUBLE),
        _col("avg_closing_price", DOUBLE),
        _col("avg_pe", DOUBLE),
        sa.PrimaryKeyConstraint("level", "name", "quarter_end", name="pk_sector_aggregates"),
    )
    op.create_table(
        "quarantine",
        _col("table_name", TEXT, False),
        _col("record_key", TEXT, False),
        _col("reason", TEXT, False),
        _col("first_run_id", TEXT, False),
        _col("source", TEXT),
        _col("record", JSON),
        sa.PrimaryKeyConstraint("table_name", "record_key", "reason", name="pk_quarantine"),
    )
    op.create_table(
        "pipeline_runs",
        _col("run_id", TEXT, False),
        _col("started_at", TS, False),
        _col("finished_at", TS),
        _col("status", TEXT, False),
        _col("engine", TEXT, False),
        _col("source", TEXT, False),
        _col("rows", JSON),
        _col("data_quality", JSON),
        _col("warnings", JSON),
        _col("error", TEXT),
        sa.PrimaryKeyConstraint("run_id", name="pk_pipeline_runs"),
    )
    op.create_index("ix_quarterly_reports_period_end", "quarterly_reports", ["period_end"])
    op.create_index("ix_prices_pe_period_end", "prices_pe", ["period_end"])
    op.create_index("ix_index_membership_cik", "index_membership", ["cik"])


def downgrade() -> None:
    op.drop_index("ix_index_membership_cik", "index_membership")
    op.drop_index("ix_prices_pe_period_end", "prices_pe")
    op.drop_index("ix_quarterly_reports_period_end", "quarterly_reports")
    for table in (
        "pipeline_runs",
        "quarantine",
        "sector_aggregates",
        "prices_pe",
        "quarterly_reports",
        "index_membership",
        "index_changes",
        "companies",
        "sub_industries",
    ):
        op.drop_table(table)
