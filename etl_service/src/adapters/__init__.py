"""Sources: Wikipedia, SEC EDGAR, FMP, prices, and the shared HTTP client."""
