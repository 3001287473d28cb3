"""iShares IVV holdings: previous-day dating, share classes, 2009 quirks, rejected rows."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pyarrow.compute as pc
import pytest

from etl_service.errors import SchemaError
from etl_service.src.adapters.prices.files import read_prices
from etl_service.src.adapters.prices.ishares import IsharesHoldings, price_date

pytestmark = pytest.mark.unit


def _rows(ishares_dir: Path, ticker: str) -> list[tuple[date, float]]:
    table = IsharesHoldings.from_folder(ishares_dir).closes([ticker]).table
    return [(r["date"], r["close"]) for r in table.to_pylist()]


def test_aapl_carries_the_previous_trading_days_close(ishares_dir: Path) -> None:
    # The prices are the `price` column of each file; PROVENANCE.md §4b names their close days.
    assert _rows(ishares_dir, "AAPL") == [
        (date(2009, 9, 30), 185.37),  # `AAPL*` on the Mexican exchange, month-end file
        (date(2024, 3, 28), 171.48),  # file 2024-04-01; 2024-03-29 was Good Friday
        (date(2024, 6, 28), 210.62),
        (date(2024, 9, 30), 233.00),
        (date(2024, 12, 31), 250.42),  # file 2025-01-02
        (date(2025, 3, 31), 222.13),
        (date(2025, 6, 30), 205.17),
        (date(2025, 9, 30), 254.63),
        (date(2025, 12, 31), 271.86),
        (date(2026, 3, 31), 253.79),
        (date(2026, 6, 30), 294.38),
    ]


def test_share_classes_without_separator_map_to_canonical_tickers(ishares_dir: Path) -> None:
    assert _rows(ishares_dir, "BRK.B")[0] == (date(2024, 3, 28), 420.52)
    assert _rows(ishares_dir, "BF.B")[0] == (date(2009, 9, 30), 48.22)
    assert _rows(ishares_dir, "BRKB") == []


def test_every_file_is_read_and_each_rejection_has_a_reason(ishares_dir: Path) -> None:
    extracted = IsharesHoldings.from_folder(ishares_dir).closes()
    assert extracted.table.num_rows == 5480
    assert len(extracted.rejected) == 98
    per_file = Counter(Path(r.source or "").name for r in extracted.rejected)
    assert per_file["ivv_holdings_20090930.csv.gz"] == 53
    assert per_file["ivv_holdings_20240401.csv.gz"] == 4  # XTSLA, USD, UBFUT, ESM4
    reasons = [r.reason.split(": ", 1)[1] for r in extracted.rejected]
    assert "asset class 'Futures' is not an equity (ESM4)" in reasons
    assert "asset class 'Money Market' is not an equity (XTSLA)" in reasons
    assert "listed on 'Deutsche Boerse Xetra', not a US exchange: 'GEC' is not a US ticker" in (
        reasons
    )
    assert "symbol 'MIL.' is not a ticker" in reasons
    assert "no listing venue given for 'PCP'" in reasons
    # The 2026 HOLX contingent value right (no market, 0.01) must not become HOLX's price.
    assert any("'NO MARKET (E.G. UNLISTED)'" in r and "'HOLX'" in r for r in reasons)
    merck = [r for r in extracted.rejected if r.record_key == "MRK|2009-09-30"]
    assert sorted(r.record["line"] for r in merck) == [30, 42]
    mrk = extracted.table.filter(pc.equal(extracted.table["ticker"], "MRK"))
    assert mrk["date"].to_pylist()[0] == date(2024, 3, 28)
    assert date(2009, 9, 30) not in mrk["date"].to_pylist()


def test_layout_is_detected_and_the_same_day_in_two_files_is_rejected(
    ishares_dir: Path, tmp_path: Path
) -> None:
    for name in ("ivv_holdings_20250401.csv.gz", "ivv_holdings_20250401b.csv.gz"):
        (tmp_path / name).write_bytes((ishares_dir / "ivv_holdings_20250401.csv.gz").read_bytes())
    extracted = read_prices(tmp_path, ["AAPL"])
    assert extracted.table.num_rows == 0
    assert [r.reason.rsplit(": ", 1)[1] for r in extracted.rejected][-1] == (
        "duplicate date 2025-03-31 for AAPL"
    )


def test_price_date_rule_and_missing_columns(tmp_path: Path) -> None:
    assert price_date(date(2009, 9, 30)) == date(2009, 9, 30)
    assert price_date(date(2025, 4, 1)) == date(2025, 3, 31)
    bad = tmp_path / "h.csv"
    bad.write_text('"symbol","price","date"\n"AAPL",1,2025-04-01\n')
    with pytest.raises(SchemaError):
        IsharesHoldings([bad]).closes()
