"""Financial Modeling Prep (optional, needs an API key)."""
