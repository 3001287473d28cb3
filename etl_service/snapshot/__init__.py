"""The offline snapshot bundled with the package (see each folder's README for attribution)."""

from __future__ import annotations

from pathlib import Path

SNAPSHOT_DIR = Path(__file__).resolve().parent
WIKIPEDIA_PAGE = SNAPSHOT_DIR / "wikipedia" / "sp500_2024-10-09_rev1250356709.html.gz"
SEC_COMPANYFACTS = SNAPSHOT_DIR / "sec"
STOOQ_DAILY = SNAPSHOT_DIR / "prices" / "stooq_daily"
ISHARES_HOLDINGS = SNAPSHOT_DIR / "prices" / "ishares_ivv_holdings"
MEMBER_LISTS = SNAPSHOT_DIR / "constituents" / "lists"
REFERENCE_SPANS = SNAPSHOT_DIR / "constituents" / "sp500_ticker_start_end.csv.gz"
