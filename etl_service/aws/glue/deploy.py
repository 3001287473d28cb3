"""Deploying the Glue job as code: the wheel and the script in S3, the job, its schedule.

``deploy`` creates what is missing and updates what differs, in place: a job (and a
trigger) is named, so a second deploy updates the same one and never adds another; one that
changes nothing says so. ``start_run`` and ``wait_for_run`` run the deployed job.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from etl_service.errors import ConfigError, EngineError, StoreUnavailableError
from etl_service.settings import Settings

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sts import STSClient

logger = logging.getLogger(__name__)

GLUE_VERSION = "5.0"
SCRIPT = Path(__file__).with_name("glue_job.py")
TERMINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "STOPPED", "TIMEOUT", "ERROR", "EXPIRED"})
DRIVER_MODULES = ("psycopg[binary]>=3.1",)
"""Installed next to the wheel: the driver-side PostgreSQL merge needs psycopg."""
_IGNORED = shutil.ignore_patterns(
    "__pycache__", "*.pyc", ".mypy_cache", ".ruff_cache", ".pytest_cache", "*.egg-info", "build"
)


@dataclass(frozen=True)
class GlueJob:
    """The intended job: where its files are, how it runs, and its default arguments."""

    name: str
    role: str
    script_location: str
    wheel_location: str
    temp_dir: str
    worker_type: str
    number_of_workers: int
    timeout_minutes: int
    arguments: Mapping[str, str] = field(default_factory=dict)
    """The job's own parameters (``--lake_uri`` ...), next to Glue's."""
    connections: tuple[str, ...] = ()
    schedule: str | None = None

    @property
    def trigger_name(self) -> str:
        return f"{self.name}-schedule"

    def default_arguments(self) -> dict[str, str]:
        """Glue's arguments for this job (Iceberg, bookmarks, insights, the wheel) and its own."""
        iceberg = " --conf ".join(
            [
                "spark.sql.extensions="
                "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
                "spark.sql.catalog.glue_catalog=org.apache.iceberg.spark.SparkCatalog",
                "spark.sql.catalog.glue_catalog.catalog-impl="
                "org.apache.iceberg.aws.glue.GlueCatalog",
                "spark.sql.catalog.glue_catalog.io-impl=org.apache.iceberg.aws.s3.S3FileIO",
                f"spark.sql.catalog.glue_catalog.warehouse={self.arguments.get('--lake_uri', '')}",
            ]
        )
        return {
            "--job-language": "python",
            "--additional-python-modules": ",".join([self.wheel_location, *DRIVER_MODULES]),
            "--datalake-formats": "iceberg",
            "--conf": iceberg,
            "--job-bookmark-option": "job-bookmark-enable",
            "--enable-job-insights": "true",
            "--enable-glue-datacatalog": "true",
            "--enable-continuous-cloudwatch-log": "true",
            "--TempDir": self.temp_dir,
            **self.arguments,
        }

    def definition(self) -> dict[str, Any]:
        """The fields of ``CreateJob`` (without the name) and ``UpdateJob``'s ``JobUpdate``."""
        fields: dict[str, Any] = {
            "Description": "S&P 500 ETL: the main job on AWS Glue (etl_service)",
            "Role": self.role,
            "ExecutionProperty": {"MaxConcurrentRuns": 1},
            "Command": {
                "Name": "glueetl",
                "ScriptLocation": self.script_location,
                "PythonVersion": "3",
            },
            "DefaultArguments": self.default_arguments(),
            "MaxRetries": 0,
            "Timeout": self.timeout_minutes,
            "GlueVersion": GLUE_VERSION,
            "WorkerType": self.worker_type,
            "NumberOfWorkers": self.number_of_workers,
        }
        if self.connections:
            fields["Connections"] = {"Connections": list(self.connections)}
        return fields


def project_root(start: Path = SCRIPT) -> Path:
    """The source checkout holding ``pyproject.toml`` above ``start``.

    Raises:
        ConfigError: etl_service is installed without its sources.
    """
    for folder in start.resolve().parents:
        if (folder / "pyproject.toml").is_file() and (folder / "etl_service").is_dir():
            return folder
    raise ConfigError(
        "building the wheel needs a source checkout of etl_service; pass --wheel PATH instead"
    )


def build_wheel(out_dir: Path, root: Path | None = None) -> Path:
    """Build the project's wheel into ``out_dir``, offline, from a copy of the sources.

    Raises:
        ConfigError: the build failed (its last line says why).
    """
    root = root or project_root()
    with tempfile.TemporaryDirectory(prefix="etl-wheel-") as tmp:
        source = Path(tmp) / "src"
        source.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(root / name, source / name)
        shutil.copytree(root / "etl_service", source / "etl_service", ignore=_IGNORED)
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
        command += ["--no-index", "--wheel-dir", str(out_dir), str(source)]
        # A fixed timestamp makes the same sources the same wheel, byte for byte.
        env = {**os.environ, "SOURCE_DATE_EPOCH": "315532800"}
        done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["pip wheel failed"])[-1]
            raise ConfigError(f"building the wheel failed: {last}")
    wheels = sorted(out_dir.glob("etl_service-*.whl"))
    if not wheels:
        raise ConfigError(f"building the wheel left no etl_service wheel in {out_dir}")
    return wheels[-1]


def _aws(what: str) -> Callable[[Exception], StoreUnavailableError]:
    return lambda exc: StoreUnavailableError(f"{what} failed: {exc}")


def _error_code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def deploy_job(glue: GlueClient, job: GlueJob) -> str | None:
    """Create the job, or update it in place when its definition differs.

    Returns:
        What changed (``created job …``, ``updated job …``), or None.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    wanted = job.definition()
    try:
        try:
            current = glue.get_job(JobName=job.name)["Job"]
        except ClientError as exc:
            if _error_code(exc) != "EntityNotFoundException":
                raise
            glue.create_job(Name=job.name, **wanted)
            return f"created job {job.name}"
        if all(current.get(k) == v for k, v in wanted.items()):
            return None
        glue.update_job(JobName=job.name, JobUpdate=wanted)  # type: ignore[arg-type]
    except (ClientError, BotoCoreError) as exc:
        raise _aws(f"deploying the Glue job {job.name}")(exc) from exc
    return f"updated job {job.name}"


def deploy_trigger(glue: GlueClient, job: GlueJob) -> str | None:
    """The job's schedule trigger as configured: created, updated, deleted, or left alone.

    Returns:
        What changed, or None.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    name = job.trigger_name
    actions = [{"JobName": job.name}]
    try:
        try:
            current: dict[str, Any] | None = dict(glue.get_trigger(Name=name)["Trigger"])
        except ClientError as exc:
            if _error_code(exc) != "EntityNotFoundException":
                raise
            current = None
        if job.schedule is None:
            if current is None:
                return None
            glue.delete_trigger(Name=name)
            return f"deleted trigger {name}"
        if current is None:
            glue.create_trigger(
                Name=name,
                Type="SCHEDULED",
                Schedule=job.schedule,
                Actions=actions,  # type: ignore[arg-type]
                StartOnCreation=True,
            )
            return f"created trigger {name} ({job.schedule})"
        if current.get("Schedule") == job.schedule and current.get("Actions") == actions:
            return None
        update = {"Schedule": job.schedule, "Actions": actions}
        glue.update_trigger(Name=name, TriggerUpdate=update)  # type: ignore[arg-type]
    except (ClientError, BotoCoreError) as exc:
        raise _aws(f"deploying the trigger {name}")(exc) from exc
    return f"updated trigger {name} ({job.schedule})"


def start_run(glue: GlueClient, job_name: str, arguments: Mapping[str, str] | None = None) -> str:
    """Start a run of ``job_name``; its run id."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        started = glue.start_job_run(JobName=job_name, Arguments=dict(arguments or {}))
    except (ClientError, BotoCoreError) as exc:
        raise _aws(f"starting {job_name}")(exc) from exc
    return started["JobRunId"]


def wait_for_run(
    glue: GlueClient,
    job_name: str,
    run_id: str,
    poll_s: float,
    on_state: Callable[[str], None] = lambda state: None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Follow a run until it ends; ``on_state`` hears each new state.

    Raises:
        EngineError: the run ended other than SUCCEEDED (its state and error message).
    """
    from botocore.exceptions import BotoCoreError, ClientError

    seen = None
    while True:
        try:
            run = dict(glue.get_job_run(JobName=job_name, RunId=run_id)["JobRun"])
        except (ClientError, BotoCoreError) as exc:
            raise _aws(f"reading run {run_id} of {job_name}")(exc) from exc
        state = str(run.get("JobRunState"))
        if state != seen:
            on_state(state)
            seen = state
        if state in TERMINAL_STATES:
            break
        sleep(poll_s)
    if state != "SUCCEEDED":
        detail = run.get("ErrorMessage") or "no error message"
        raise EngineError(f"Glue run {run_id} of {job_name} ended {state}: {detail}")
    return run


def artifacts_uri(settings: Settings) -> str:
    """Where the job's script, wheel and temporary files go: under the lake, in its bucket.

    Raises:
        ConfigError: the lake is not on S3.
    """
    if not settings.lake_uri.startswith("s3://"):
        raise ConfigError(f"a Glue job needs an s3:// lake (ETL_LAKE_URI), not {settings.lake_uri}")
    return f"{settings.lake_uri.rstrip('/')}/{settings.glue.artifacts_prefix.strip('/')}"


def job_from_settings(settings: Settings, role: str, wheel_name: str) -> GlueJob:
    """The job ``settings`` describe, running the wheel named ``wheel_name``."""
    base, glue = artifacts_uri(settings), settings.glue
    arguments = {
        "--lake_uri": settings.lake_uri,
        "--catalog_namespace": settings.catalog.namespace,
        "--source_mode": str(glue.source),
    }
    if glue.connection_name:
        arguments["--connection_name"] = glue.connection_name
    return GlueJob(
        name=glue.job_name,
        role=role,
        script_location=f"{base}/scripts/{SCRIPT.name}",
        wheel_location=f"{base}/wheels/{wheel_name}",
        temp_dir=f"{base}/temp/",
        worker_type=glue.worker_type,
        number_of_workers=glue.number_of_workers,
        timeout_minutes=glue.timeout_minutes,
        arguments=arguments,
        connections=(glue.connection_name,) if glue.connection_name else (),
        schedule=glue.schedule,
    )


def default_role(settings: Settings, sts: STSClient) -> str:
    """``ETL_GLUE__ROLE_ARN``, else ``arn:aws:iam::<account>:role/sp500-glue``."""
    if settings.glue.role_arn:
        return settings.glue.role_arn
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        account = sts.get_caller_identity()["Account"]
    except (ClientError, BotoCoreError) as exc:
        raise _aws("finding the AWS account (STS)")(exc) from exc
    return f"arn:aws:iam::{account}:role/sp500-glue"


def upload_if_changed(s3: S3Client, path: Path, uri: str) -> str | None:
    """Put ``path`` at ``uri`` unless the object there has the same SHA-256.

    Returns:
        ``uploaded …`` when it was put, else None.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    try:
        try:
            if s3.head_object(Bucket=bucket, Key=key)["Metadata"].get("sha256") == digest:
                return None
        except ClientError as exc:
            if _error_code(exc) not in {"404", "NoSuchKey", "NotFound"}:
                raise
        with path.open("rb") as body:
            s3.put_object(Bucket=bucket, Key=key, Body=body, Metadata={"sha256": digest})
    except (ClientError, BotoCoreError) as exc:
        raise _aws(f"uploading {path.name} to {uri}")(exc) from exc
    return f"uploaded {uri}"


def deploy(
    settings: Settings, wheel: Path | None = None, session: boto3.Session | None = None
) -> list[str]:
    """Upload the wheel (built here unless given) and the script, then bring the job and
    its trigger to what ``settings`` say.

    Returns:
        What changed, one phrase each; empty when all was as intended.
    """
    from etl_service.aws.session import boto3_session, client

    artifacts_uri(settings)  # an s3:// lake, before anything is built or asked
    session = session or boto3_session(settings)
    endpoint = settings.aws_endpoint_url
    role = default_role(settings, client(session, "sts", endpoint))
    s3, glue = client(session, "s3", endpoint), client(session, "glue", endpoint)
    with tempfile.TemporaryDirectory(prefix="etl-deploy-") as tmp:
        wheel = wheel or build_wheel(Path(tmp))
        job = job_from_settings(settings, role, wheel.name)
        changes = [
            upload_if_changed(s3, wheel, job.wheel_location),
            upload_if_changed(s3, SCRIPT, job.script_location),
        ]
    changes += [deploy_job(glue, job), deploy_trigger(glue, job)]
    return [change for change in changes if change]
