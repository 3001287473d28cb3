"""Price sources (daily files, iShares holdings, FMP) behind one interface."""
