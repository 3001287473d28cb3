"""Paths of the real price files used by the price tests."""

from __future__ import annotations

from pathlib import Path

import pytest

SNAPSHOT = Path(__file__).resolve().parents[2] / "snapshot" / "prices"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "prices"


@pytest.fixture
def stooq_dir() -> Path:
    """The snapshot's Stooq daily files (2009-01-02 … 2017-11-10, gzipped)."""
    return SNAPSHOT / "stooq_daily"


@pytest.fixture
def ishares_dir() -> Path:
    """The snapshot's 11 iShares IVV holdings files (gzipped)."""
    return SNAPSHOT / "ishares_ivv_holdings"
