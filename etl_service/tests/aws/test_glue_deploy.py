"""Deploying and starting the Glue job against the moto server: the definition read back
field by field, the script and the wheel in S3, a second deploy in place, a run started.

moto 5.2 implements CreateJob, GetJob, StartJobRun, CreateTrigger and GetTrigger but not
UpdateJob or UpdateTrigger; the ``moto_updates`` fixture adds those two to the in-process
server (replacing the given fields, as AWS documents), and only those.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest

from etl_service.aws.glue.deploy import SCRIPT, build_wheel, deploy, start_run, wait_for_run
from etl_service.aws.session import boto3_session, client
from etl_service.cli import main
from etl_service.errors import ConfigError, EngineError
from etl_service.settings import GlueSettings, Settings
from etl_service.tests.conftest import require
from etl_service.tests.support.services import MotoServer

pytestmark = pytest.mark.aws

ACCOUNT = "123456789012"  # moto's account


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project wheel, built once (offline, from a copy of the sources)."""
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture
def moto_updates(monkeypatch: pytest.MonkeyPatch) -> None:
    """UpdateJob and UpdateTrigger on the in-process moto server (moto lacks both)."""
    from moto.core.responses import ActionResult
    from moto.core.utils import camelcase_to_underscores, utcnow
    from moto.glue.responses import GlueResponse
    from moto.glue.utils import Action

    def update_job(self: Any) -> Any:
        job = self.glue_backend.get_job(self._get_param("JobName"))
        for key, value in self._get_param("JobUpdate").items():
            setattr(job, camelcase_to_underscores(key), value)
        job.last_modified_on = utcnow()
        return ActionResult({"JobName": job.name})

    def update_trigger(self: Any) -> Any:
        trigger = self.glue_backend.get_trigger(self._get_param("Name"))
        update = self._get_param("TriggerUpdate")
        trigger.schedule = update.get("Schedule", trigger.schedule)
        trigger.actions = [Action(a) for a in update.get("Actions", [])] or trigger.actions
        return ActionResult({"Trigger": trigger.as_dict()})

    monkeypatch.setattr(GlueResponse, "update_job", update_job, raising=False)
    monkeypatch.setattr(GlueResponse, "update_trigger", update_trigger, raising=False)


@pytest.fixture
def aws_settings(moto: MotoServer) -> Settings:
    """Settings on a fresh bucket and job name on the moto server."""
    bucket = f"lake-{uuid.uuid4().hex[:8]}"
    settings = moto.settings(
        lake_uri=f"s3://{bucket}/sp500",
        glue=GlueSettings(
            job_name=f"sp500-etl-job-{uuid.uuid4().hex[:6]}",
            schedule="cron(0 6 * * ? *)",
            connection_name="sp500-rds",
            poll_s=0.01,
        ),
    )
    s3 = client(boto3_session(settings), "s3", moto.endpoint_url)
    s3.create_bucket(Bucket=bucket)
    return settings


def _glue(settings: Settings) -> Any:
    return client(boto3_session(settings), "glue", settings.aws_endpoint_url)


def test_the_wheel_holds_the_package_and_the_job_script(wheel: Path) -> None:
    assert wheel.name == "etl_service-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read("etl_service-0.1.0.dist-info/METADATA").decode()
    assert "etl_service/aws/glue/glue_job.py" in names
    assert "etl_service/src/transforms/sql/prices_pe.sql" in names
    assert "Name: etl-service" in metadata


def test_deploy_creates_the_job_as_defined_with_its_files_in_s3(
    aws_settings: Settings, wheel: Path
) -> None:
    name, lake = aws_settings.glue.job_name, aws_settings.lake_uri
    bucket = lake.removeprefix("s3://").split("/")[0]
    base = f"{lake}/glue"

    changes = deploy(aws_settings, wheel)

    assert changes == [
        f"uploaded {base}/wheels/{wheel.name}",
        f"uploaded {base}/scripts/glue_job.py",
        f"created job {name}",
        f"created trigger {name}-schedule (cron(0 6 * * ? *))",
    ]
    job = _glue(aws_settings).get_job(JobName=name)["Job"]
    assert job["Role"] == f"arn:aws:iam::{ACCOUNT}:role/sp500-glue"
    assert job["Command"] == {
        "Name": "glueetl",
        "ScriptLocation": f"{base}/scripts/glue_job.py",
        "PythonVersion": "3",
    }
    assert (job["GlueVersion"], job["WorkerType"], job["NumberOfWorkers"]) == ("5.0", "G.1X", 2)
    assert (job["Timeout"], job["MaxRetries"]) == (120, 0)
    assert job["ExecutionProperty"] == {"MaxConcurrentRuns": 1}
    assert job["Connections"] == {"Connections": ["sp500-rds"]}
    arguments = job["DefaultArguments"]
    assert arguments.pop("--conf").startswith(
        "spark.sql.extensions=org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"
        " --conf spark.sql.catalog.glue_catalog=org.apache.iceberg.spark.SparkCatalog"
    )
    assert arguments == {
        "--job-language": "python",
        "--additional-python-modules": f"{base}/wheels/{wheel.name},psycopg[binary]>=3.1",
        "--datalake-formats": "iceberg",
        "--job-bookmark-option": "job-bookmark-enable",
        "--enable-job-insights": "true",
        "--enable-glue-datacatalog": "true",
        "--enable-continuous-cloudwatch-log": "true",
        "--TempDir": f"{base}/temp/",
        "--lake_uri": lake,
        "--catalog_namespace": "sp500",
        "--source_mode": "auto",
        "--connection_name": "sp500-rds",
    }
    s3 = client(boto3_session(aws_settings), "s3", aws_settings.aws_endpoint_url)
    script = s3.get_object(Bucket=bucket, Key="sp500/glue/scripts/glue_job.py")["Body"].read()
    assert script == SCRIPT.read_bytes()
    stored = s3.get_object(Bucket=bucket, Key=f"sp500/glue/wheels/{wheel.name}")["Body"].read()
    assert stored == wheel.read_bytes()
    trigger = _glue(aws_settings).get_trigger(Name=f"{name}-schedule")["Trigger"]
    assert (trigger["Type"], trigger["Schedule"]) == ("SCHEDULED", "cron(0 6 * * ? *)")
    assert trigger["Actions"] == [{"JobName": name}]


def test_a_second_deploy_updates_in_place_and_a_third_changes_nothing(
    aws_settings: Settings, wheel: Path, moto_updates: None
) -> None:
    name = aws_settings.glue.job_name
    deploy(aws_settings, wheel)
    glue = _glue(aws_settings)
    created = glue.get_job(JobName=name)["Job"]["CreatedOn"]
    changed = aws_settings.model_copy(
        update={
            "glue": aws_settings.glue.model_copy(
                update={"number_of_workers": 5, "schedule": "cron(30 7 * * ? *)"}
            )
        }
    )

    assert deploy(changed, wheel) == [
        f"updated job {name}",
        f"updated trigger {name}-schedule (cron(30 7 * * ? *))",
    ]
    assert deploy(changed, wheel) == []

    jobs = [job for job in glue.get_jobs()["Jobs"] if job["Name"] == name]
    assert len(jobs) == 1
    assert jobs[0]["NumberOfWorkers"] == 5
    assert jobs[0]["CreatedOn"] == created
    triggers = glue.get_triggers()["Triggers"]
    assert [t["Schedule"] for t in triggers if t["Name"] == f"{name}-schedule"] == [
        "cron(30 7 * * ? *)"
    ]


def test_a_configured_role_is_used_as_is(aws_settings: Settings, wheel: Path) -> None:
    role = "arn:aws:iam::111122223333:role/etl-glue"
    settings = aws_settings.model_copy(
        update={"glue": aws_settings.glue.model_copy(update={"role_arn": role})}
    )
    deploy(settings, wheel)
    assert _glue(settings).get_job(JobName=settings.glue.job_name)["Job"]["Role"] == role


def test_start_returns_a_run_id_and_follows_the_run_to_its_end(
    aws_settings: Settings, wheel: Path
) -> None:
    deploy(aws_settings, wheel)
    glue, name = _glue(aws_settings), aws_settings.glue.job_name
    run_id = start_run(glue, name)
    assert run_id.startswith("jr_")
    states: list[str] = []
    run = wait_for_run(glue, name, run_id, 0.01, on_state=states.append, sleep=lambda s: None)
    assert states[-1] == "SUCCEEDED"
    assert run["JobName"] == name


def test_a_run_that_fails_is_an_engine_error_naming_its_state(
    aws_settings: Settings, wheel: Path
) -> None:
    class Failing:
        def get_job_run(self, **_: Any) -> dict[str, Any]:
            return {"JobRun": {"JobRunState": "FAILED", "ErrorMessage": "out of memory"}}

    with pytest.raises(EngineError, match="run jr_1 of job ended FAILED: out of memory"):
        wait_for_run(Failing(), "job", "jr_1", 0.01)  # type: ignore[arg-type]


def test_cli_deploy_then_start_wait(
    aws_settings: Settings,
    wheel: Path,
    moto: MotoServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = {
        "ETL_AWS_ENDPOINT_URL": moto.endpoint_url,
        "ETL_AWS_REGION": moto.region,
        "ETL_AWS_ACCESS_KEY_ID": moto.access_key,
        "ETL_AWS_SECRET_ACCESS_KEY": moto.secret_key,
        "ETL_LAKE_URI": aws_settings.lake_uri,
        "ETL_GLUE__JOB_NAME": aws_settings.glue.job_name,
        "ETL_GLUE__POLL_S": "0.01",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert main(["glue", "deploy", "--wheel", str(wheel)]) == 0
    assert main(["glue", "deploy", "--wheel", str(wheel)]) == 0
    assert main(["glue", "start", "--wait"]) == 0
    out = capsys.readouterr().out.splitlines()
    name = aws_settings.glue.job_name
    assert f"changed: created job {name}" in out
    assert f"nothing to change: {name} is deployed as intended" in out
    started = [line for line in out if line.startswith(f"started {name} run jr_")]
    assert len(started) == 1
    run_id = started[0].rsplit(" ", 1)[-1]
    assert f"{run_id}: SUCCEEDED" in out
    assert out[-1].startswith(f"{run_id} succeeded in ")


def test_aws_cli_starts_the_deployed_job(
    aws_settings: Settings, wheel: Path, moto: MotoServer, tmp_path: Path
) -> None:
    require(shutil.which("aws") is not None, "the aws CLI (aws glue start-job-run)")
    deploy(aws_settings, wheel)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "AWS_ACCESS_KEY_ID": moto.access_key,
        "AWS_SECRET_ACCESS_KEY": moto.secret_key,
        "AWS_DEFAULT_REGION": moto.region,
    }
    command = ["aws", "glue", "start-job-run", "--job-name", aws_settings.glue.job_name]
    command += ["--endpoint-url", moto.endpoint_url, "--output", "json"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["JobRunId"].startswith("jr_")


def test_a_local_lake_cannot_host_a_glue_job(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"needs an s3:// lake \(ETL_LAKE_URI\)"):
        deploy(Settings(data_dir=tmp_path), tmp_path / "none.whl")
