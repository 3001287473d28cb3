"""``python -m etl_service.pipelines.lake_formation_pipeline --source snapshot`` on the moto
server: Spark curates into an S3 lake in Glue, equal to the standard pipeline's tables,
and the lake is governed when the run ends. One run for the module (Spark is slow here).

moto enforces no Lake Formation permission, so what is shown is that the governance is in
place (tags on the new tables, the configured grants), not that it restricts anyone.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from etl_service.cli import main
from etl_service.cli.module_entry import governance_main
from etl_service.pipelines.compose import build_lake
from etl_service.settings import CatalogSettings, Settings
from etl_service.src.models.schemas import CURATED_TABLES, Zone
from etl_service.src.transforms.sql_runner import sort_by_key
from etl_service.tests.aws.lake_formation_support import aws_env, aws_like_lf_tags
from etl_service.tests.pipelines.conftest import snapshot_settings
from etl_service.tests.spark.conftest import assert_same_table
from etl_service.tests.support.env import child_env
from etl_service.tests.support.services import MotoServer
from etl_service.tests.support.spark import require_spark

pytestmark = [pytest.mark.aws, pytest.mark.spark]

MODULE = "etl_service.pipelines.lake_formation_pipeline"


@dataclass
class Run:
    """The governed run: its settings, exit code and output."""

    settings: Settings
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture(scope="module")
def governed_run(moto: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    require_spark()
    tag = uuid.uuid4().hex[:8]
    local = snapshot_settings(tmp_path_factory.mktemp("lake_formation"))
    settings = moto.settings(
        **local.model_dump(include={"data_dir", "database_url", "source", "http"}),
        lake_uri=f"s3://lake-{tag}/sp500",
        catalog=CatalogSettings(type="glue", namespace=f"sp500_{tag}"),
    )
    env = child_env(settings) | aws_env(settings) | {"SPARK_LOCAL_IP": "127.0.0.1"}
    with aws_like_lf_tags(), pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            if key.startswith("ETL_"):
                patch.setenv(key, value)
        assert main(["lake", "setup"]) == 0
        done = subprocess.run(
            [sys.executable, "-m", MODULE, "--source", "snapshot", "--spark-mode", "local[2]"],
            env=env,
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
        )
        yield Run(settings, done.returncode, done.stdout, done.stderr)


def test_the_curated_iceberg_tables_in_glue_equal_the_standard_pipelines(
    governed_run: Run, loaded: Settings
) -> None:
    assert governed_run.returncode == 0, governed_run.stderr[-3000:]
    on_s3, standard = build_lake(governed_run.settings), build_lake(loaded)
    listed = {name for _ns, name in on_s3.catalog.list_tables(on_s3.namespace)}
    assert listed == {spec.name for spec in CURATED_TABLES}
    for spec in CURATED_TABLES:
        expected = sort_by_key(spec, standard.read(Zone.CURATED, spec.name))
        actual = sort_by_key(spec, on_s3.read(Zone.CURATED, spec.name))
        assert actual.num_rows > 0, spec.name
        assert_same_table(spec.name, expected, actual)


def test_the_run_governs_the_lake_it_wrote(
    governed_run: Run, moto: MotoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert governed_run.returncode == 0, governed_run.stderr[-3000:]
    settings = governed_run.settings
    namespace = settings.catalog.namespace
    assert f"Lake Formation governance of {namespace}, {namespace}_processed:" in (
        " ".join(governed_run.stdout.split())
    )
    from etl_service.aws.session import boto3_session, client

    lakeformation = client(boto3_session(settings), "lakeformation", moto.endpoint_url)
    location = "arn:aws:s3:::" + settings.lake_uri.removeprefix("s3://")
    assert lakeformation.describe_resource(ResourceArn=location)["ResourceInfo"]["RoleArn"]
    for spec in CURATED_TABLES:
        resource: Any = {"Table": {"DatabaseName": namespace, "Name": spec.name}}
        tags = lakeformation.get_resource_lf_tags(Resource=resource)["LFTagsOnTable"]
        assert {t["TagKey"]: t["TagValues"] for t in tags} == {
            "domain": ["sp500"],
            "sensitivity": ["public"],
        }, spec.name
    companies: Any = {
        "DatabaseName": namespace,
        "Name": "companies",
        "ColumnNames": ["ticker", "founded_raw", "headquarters", "source_revision"],
    }
    columns = lakeformation.get_resource_lf_tags(Resource={"TableWithColumns": companies})
    assert sorted(c["Name"] for c in columns["LFTagsOnColumns"]) == [
        "founded_raw",
        "headquarters",
        "source_revision",
    ]
    with aws_like_lf_tags(), pytest.MonkeyPatch.context() as patch:
        for key, value in aws_env(settings).items():
            patch.setenv(key, value)
        capsys.readouterr()
        assert governance_main("setup", []) == 0
    assert capsys.readouterr().out.splitlines() == ["0 changes"]
