"""SEC EDGAR XBRL companyfacts: live and bulk access, and quarterly financials extraction."""
