"""The Snowflake sink: curated tables through an internal stage, COPY INTO and MERGE."""

from etl_service.sinks.snowflake.sink import SnowflakeSink

__all__ = ["SnowflakeSink"]
