"""Stores: database engine, migrations, loaders, run records and the analytical queries."""
