"""etl_service: a trustworthy S&P 500 dataset, from a laptop to Spark, Glue and Snowflake."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("etl-service")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
