"""Core business logic: sources (adapters), stores and queries (db), schemas (models)."""
