"""The job's parameters as Glue passes them, and a Glue connection as the run's database."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl_service.aws.glue import local
from etl_service.aws.glue.api import load
from etl_service.aws.glue.glue_job import database_url, job_settings, resolve_arguments
from etl_service.aws.glue.local_run import jdbc_conf, job_arguments
from etl_service.errors import ConfigError
from etl_service.settings import GlueSettings, Settings, SourceMode

pytestmark = pytest.mark.unit

ARGV = [
    "glue_job.py",
    "--JOB_NAME",
    "sp500-etl-job",
    "--lake_uri",
    "s3://lake/sp500",
    "--catalog_namespace",
    "sp500",
    "--source_mode",
    "live",
    "--job-bookmark-option",
    "job-bookmark-enable",
    "--TempDir",
    "s3://lake/sp500/glue/temp/",
    "--enable-job-insights",
    "true",
]


class Connections:
    """A Glue context's ``extract_jdbc_conf`` over fixed connections."""

    def extract_jdbc_conf(self, name: str) -> dict[str, str]:
        assert name == "sp500-rds"
        return jdbc_conf("postgresql://etl:s%40cret@db.internal:5433/etl")


def test_arguments_resolve_as_glue_passes_them() -> None:
    args = resolve_arguments(load(), ARGV)
    assert args["JOB_NAME"] == "sp500-etl-job"
    assert (args["lake_uri"], args["catalog_namespace"], args["source_mode"]) == (
        "s3://lake/sp500",
        "sp500",
        "live",
    )
    assert args["job_bookmark_option"] == "job-bookmark-enable"
    assert args["TempDir"] == "s3://lake/sp500/glue/temp/"
    assert "connection_name" not in args


def test_a_missing_parameter_is_glues_argument_error() -> None:
    with pytest.raises(local.GlueArgumentError, match="--lake_uri"):
        resolve_arguments(load(), [a for a in ARGV if a not in {"--lake_uri", "s3://lake/sp500"}])


def test_the_connection_becomes_the_database_and_s3_the_glue_catalog() -> None:
    args = resolve_arguments(load(), [*ARGV, "--connection_name", "sp500-rds"])
    settings = job_settings(Settings(), args, Connections(), on_aws=True)
    assert settings.database_url_value == "postgresql://etl:s%40cret@db.internal:5433/etl"
    assert (settings.engine, settings.source) == ("glue", SourceMode.LIVE)
    assert (settings.catalog.type, settings.catalog.namespace) == ("glue", "sp500")
    assert settings.data_dir.name == "etl-service"
    assert settings.http.cache_dir == settings.data_dir / "cache" / "http"


def test_a_connection_that_is_not_postgresql_is_refused() -> None:
    with pytest.raises(ConfigError, match="'jdbc:mysql://h:3306/d' is not a PostgreSQL URL"):
        database_url({"url": "jdbc:mysql://h:3306/d", "user": "u", "password": "p"})


def test_an_invalid_source_mode_names_the_parameter() -> None:
    args = resolve_arguments(load(), [a if a != "live" else "later" for a in ARGV])
    with pytest.raises(ConfigError, match="--source_mode 'later'"):
        job_settings(Settings(), args, Connections(), on_aws=False)


def test_local_runs_pass_the_job_what_the_deployed_job_gets(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, glue=GlueSettings(connection_name="sp500-rds"))
    argv = job_arguments(settings)
    args = resolve_arguments(load(), argv)
    assert args["lake_uri"] == str(tmp_path / "lake")
    assert args["connection_name"] == "sp500-rds"
    assert args["TempDir"] == str(tmp_path.resolve() / "glue-temp")
