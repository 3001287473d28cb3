"""Core business logic: sources (adapters), stores (db), schemas and queries (models)."""
