"""The lake_formation pipeline's entry point and settings, offline."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from etl_service.errors import ConfigError
from etl_service.pipelines.lake_formation_pipeline import PySparkLakeFormationETL
from etl_service.settings import CatalogSettings, LakeFormationSettings, Settings
from etl_service.tests.support.env import child_env

pytestmark = pytest.mark.unit


def _s3(**extra: object) -> Settings:
    return Settings(
        lake_uri="s3://lake/sp500",
        catalog=CatalogSettings(type="glue"),
        **extra,  # type: ignore[arg-type]
    )


def test_the_options_are_documented() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "etl_service.pipelines.lake_formation_pipeline", "--help"],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    text = " ".join(done.stdout.split())
    for option in (
        "--source",
        "--spark-mode",
        "--dry-run-governance",
        "--skip-governance",
        "--governance-config",
    ):
        assert option in text
    assert "Lake Formation governance" in text


def test_governance_commits_right_after_the_lake_on_spark() -> None:
    settings = PySparkLakeFormationETL.configure(_s3(sinks=("snowflake", "lake", "database")))
    assert settings.engine == "spark"
    assert settings.sinks == ("snowflake", "lake_formation", "lake", "database")
    skipped = _s3(lake_formation=LakeFormationSettings(governance="skip"))
    assert PySparkLakeFormationETL.configure(skipped).sinks == ("lake", "database")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (Settings(catalog=CatalogSettings(type="glue")), "needs an s3:// lake"),
        (Settings(lake_uri="s3://lake/sp500"), "ETL_CATALOG__TYPE=glue"),
        (_s3(sinks=("database",)), "needs the lake sink"),
    ],
)
def test_it_refuses_a_lake_lake_formation_cannot_govern(settings: Settings, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        PySparkLakeFormationETL.configure(settings)


def test_dry_run_and_skip_exclude_each_other(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "etl_service.pipelines.lake_formation_pipeline",
            "--dry-run-governance",
            "--skip-governance",
        ],
        env=child_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "exclude each other" in done.stderr
