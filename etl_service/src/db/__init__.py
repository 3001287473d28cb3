"""Stores: database engine, migrations, loaders and run records."""
