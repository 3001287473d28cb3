"""``etl-service ecs run-task`` on the moto server: the task definition starts with its
container, environment and secrets plus the overrides; ``--wait`` returns the exit code.

moto runs no container: a task moves to STOPPED as it is described, with exit code 0. The
test that needs another exit code sets it on moto's task, the one thing faked here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from etl_service.aws.ecs import start_task, wait_for_exit
from etl_service.cli import main
from etl_service.errors import ConfigError, EngineError, InputError
from etl_service.settings import EcsSettings
from etl_service.tests.support.services import MotoServer

pytestmark = pytest.mark.aws

SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:etl/database-AbCdEf"


@dataclass(frozen=True)
class Deployed:
    """A cluster and task definition like the Terraform stack's, and where to run them."""

    ecs: Any
    spec: EcsSettings


@pytest.fixture
def deployed(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Deployed:
    import boto3

    session = boto3.Session(
        aws_access_key_id=moto.access_key,
        aws_secret_access_key=moto.secret_key,
        region_name=moto.region,
    )
    ecs = session.client("ecs", endpoint_url=moto.endpoint_url)
    ec2 = session.client("ec2", endpoint_url=moto.endpoint_url)
    name = f"etl-{uuid.uuid4().hex[:8]}"
    ecs.create_cluster(clusterName=name)
    ecs.register_task_definition(
        family=name,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="1024",
        memory="4096",
        containerDefinitions=[
            {
                "name": "etl-service",
                "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/sp500-etl:0.1.0",
                "command": ["run"],
                "memory": 4096,
                "environment": [{"name": "ETL_LAKE_URI", "value": "s3://lake/lake"}],
                "secrets": [{"name": "ETL_DATABASE_URL", "valueFrom": SECRET_ARN}],
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": f"/ecs/{name}",
                        "awslogs-region": moto.region,
                        "awslogs-stream-prefix": "etl",
                    },
                },
            }
        ],
    )
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    spec = EcsSettings(cluster=name, task_definition=name, subnets=(subnet,), poll_s=0.01)
    environment = {
        "ETL_AWS_ENDPOINT_URL": moto.endpoint_url,
        "ETL_AWS_REGION": moto.region,
        "ETL_AWS_ACCESS_KEY_ID": moto.access_key,
        "ETL_AWS_SECRET_ACCESS_KEY": moto.secret_key,
        "ETL_ECS__CLUSTER": name,
        "ETL_ECS__TASK_DEFINITION": name,
        "ETL_ECS__SUBNETS": f'["{subnet}"]',
        "ETL_ECS__POLL_S": "0.01",
    }
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    return Deployed(ecs, spec)


def _only_task(deployed: Deployed) -> dict[str, Any]:
    [arn] = deployed.ecs.list_tasks(cluster=deployed.spec.cluster)["taskArns"]
    task: dict[str, Any] = deployed.ecs.describe_tasks(cluster=deployed.spec.cluster, tasks=[arn])[
        "tasks"
    ][0]
    return task


def test_run_task_starts_the_definition_with_overrides_and_waits_for_the_exit_code(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["ecs", "run-task", "--wait", "-e", "ETL_SOURCE=snapshot", "--", "run", "--allow-shrink"]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    task = _only_task(deployed)
    task_id = task["taskArn"].rsplit("/", 1)[1]
    cluster = deployed.spec.cluster
    assert f"started task {task_id} on cluster {cluster}" in out
    assert f"logs: CloudWatch log group /ecs/{cluster}, stream etl/etl-service/{task_id}" in out
    assert f"task {task_id} stopped: exit code 0" in out
    assert task["launchType"] == "FARGATE"
    assert task["lastStatus"] == "STOPPED"
    assert task["overrides"]["containerOverrides"] == [
        {
            "name": "etl-service",
            "command": ["run", "--allow-shrink"],
            "environment": [{"name": "ETL_SOURCE", "value": "snapshot"}],
        }
    ]
    definition = deployed.ecs.describe_task_definition(taskDefinition=task["taskDefinitionArn"])
    [container] = definition["taskDefinition"]["containerDefinitions"]
    assert container["name"] == "etl-service"
    assert container["environment"] == [{"name": "ETL_LAKE_URI", "value": "s3://lake/lake"}]
    assert container["secrets"] == [{"name": "ETL_DATABASE_URL", "valueFrom": SECRET_ARN}]
    [attachment] = task["attachments"]
    details = {d["name"]: d["value"] for d in attachment["details"]}
    assert details["subnetId"] == deployed.spec.subnets[0]


def test_without_wait_the_command_returns_once_the_task_started(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ecs", "run-task"]) == 0
    out = capsys.readouterr().out
    assert "stopped" not in out
    task = _only_task(deployed)
    assert task["overrides"]["containerOverrides"][0]["command"] == ["run"]


def test_the_exit_code_is_the_container_s(deployed: Deployed) -> None:
    from moto.ecs.models import ecs_backends

    task = start_task(deployed.ecs, deployed.spec, ["run"], {})
    backend = ecs_backends["123456789012"]["us-east-1"]
    backend.tasks[deployed.spec.cluster][task.arn].containers[0].exitCode = 6  # a quality gate
    ended = wait_for_exit(deployed.ecs, task, "etl-service", poll_s=0.01)
    assert ended.exit_code == 6


def test_waiting_past_the_timeout_leaves_the_task_running(deployed: Deployed) -> None:
    task = start_task(deployed.ecs, deployed.spec, ["run"], {})
    with pytest.raises(EngineError, match=r"is still \w+ after 1e-06s; it keeps running"):
        wait_for_exit(deployed.ecs, task, "etl-service", poll_s=0.01, timeout_s=1e-6)


@pytest.mark.parametrize(
    "override",
    ["ETL_SNOWFLAKE__PASSWORD=hunter22", "ETL_DATABASE_URL=postgresql://etl:hunter22@db/etl"],
)
def test_a_secret_is_never_an_override(
    deployed: Deployed, override: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ecs", "run-task", "-e", override]) == InputError.exit_code
    err = capsys.readouterr().err
    assert "hunter22" not in err
    assert "Secrets Manager" in err
    assert deployed.ecs.list_tasks(cluster=deployed.spec.cluster)["taskArns"] == []


def test_only_etl_settings_are_overrides(deployed: Deployed) -> None:
    with pytest.raises(InputError, match="only ETL_"):
        start_task(deployed.ecs, deployed.spec, ["run"], {"PATH": "/tmp"})


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"container": "nope"}, "ETL_ECS__CONTAINER='nope' is not a container"),
        ({"cluster": "nope"}, "ClusterNotFoundException"),
        ({"subnets": ()}, "ETL_ECS__SUBNETS is empty"),
    ],
)
def test_a_wrong_cluster_container_or_network_is_a_configuration_error(
    deployed: Deployed, setting: dict[str, Any], message: str
) -> None:
    spec = deployed.spec.model_copy(update=setting)
    with pytest.raises(ConfigError, match=message):
        start_task(deployed.ecs, spec, ["run"], {})
    assert deployed.ecs.list_tasks(cluster=deployed.spec.cluster)["taskArns"] == []
