"""The shared local Spark session, for the Spark part of the smoke test."""

from etl_service.tests.support.spark import spark_fixture  # noqa: F401
